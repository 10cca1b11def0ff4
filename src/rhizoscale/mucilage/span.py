"""The widest neck a drying mucilage bridge keeps spanned, from the bead–spring network.

The diffusivity chain places mucilage as bridges across open necks
(:mod:`rhizoscale.mucilage.placement`); how wide a neck a bridge can span is what this module asks the
network model (:class:`rhizoscale.mucilage.drying.MucilageBridgeModel`). The question, stated once:

    A pendular bridge of liquid volume ``V0 = v R³`` (mucilage concentration ``c``)
    forms between two equal grains of radius ``R`` at a surface gap ``S`` and dries at
    fixed gap. Does the liquid (bridge, or network of hydrated beads) still connect
    the grains when the pore's water has fallen to ``q`` times its initial water?

The **spanning gap** ``S*(c)`` is the widest gap for which the answer is yes; the
chain uses ``S*(c) / R`` per neck, scaled to the pair's radius
``R_ij = 2 r_i r_j / (r_i + r_j)`` (Derjaguin's radius of two unequal spheres).

* At zero mucilage the bridge ruptures where Lian et al. (1993) say, so
  ``S*(0) = (1 + θ/2) (q v)^(1/3) R`` — Lian's rupture distance of the water left
  (tested against this closed form).
* With mucilage the network can keep the grains connected after the water bridge has
  ruptured, up to the widest gap the *wet* bridge spanned, Lian's distance of ``V0``:
  ``S*(c) <= (1 + θ/2) v^(1/3) R`` (a bridge that never formed cannot be kept).

How: gaps on a grid ``S_k = k S_max / n`` (``k = 1..n``, the top one just inside the
pendular range) are dried one after the other until one loses the connection; the gap
between the last connected and the first disconnected grid point is then bisected (the
network is random: connection is not strictly monotone in the gap near the percolation
concentration, so the first loss on the grid counts). One drying run per gap; the
result is cached per parameter set, concentration and settings (:func:`network_span`),
so a table over many necks costs one search per concentration. Units: µm, s.

References
----------
Derjaguin, B. (1934). Untersuchungen über die Reibung und Adhäsion, IV. Kolloid-Zeitschrift
69, 155–164.
Lian, G., Thornton, C., Adams, M. J. (1993). A theoretical study of the liquid bridge forces
between two rigid spherical bodies. J. Colloid Interface Sci. 161, 138–147.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["BridgeSpan", "cylinder_span", "cylinder_network_span", "network_span", "pair_radius", "span_bead_steps",
           "span_seconds"]


@dataclass(frozen=True)
class BridgeSpan:
    """Result of :func:`network_span` (lengths in µm).

    Attributes
    ----------
    concentration : float
        Mucilage concentration [mg g-1].
    radius : float
        Grain radius of the runs [µm].
    gap : float
        Spanning gap ``S*`` [µm] (the widest gap still connected at the water left).
    gap_ratio : float
        ``S* / R`` [1], what the placement scales to each neck's pair radius.
    lian_gap_ratio : float
        Lian's rupture distance of the water left over ``R``, ``(1 + θ/2)(q v)^(1/3)`` [1]
        (the water-only value).
    wet_gap_ratio : float
        Lian's rupture distance of the initial liquid over ``R`` (the upper bound) [1].
    gaps, connected : tuple
        The gaps dried [µm] and whether each stayed connected (grid, then bisection; for
        ``cylinders`` those of the sphere search).
    geometry : str
        ``"spheres"`` (3D grains: the network search itself), ``"cylinders"`` (a 2D
        medium: the network run between parallel cylinders, :func:`cylinder_network_span`)
        or ``"cylinders-transfer"`` (the sphere search's share carried over,
        :func:`cylinder_span`); for both cylinder kinds ``lian_gap_ratio`` and
        ``wet_gap_ratio`` are the 2D bridge's rupture distances (:mod:`.cylinders`).
    sphere : BridgeSpan or None
        For ``cylinders-transfer``: the sphere search the reach is transferred from.
    area_ratio : float
        For cylinders: the wet 2D bridge's area over ``R²`` [1] (NaN for spheres).
    """

    concentration: float
    radius: float
    gap: float
    gap_ratio: float
    lian_gap_ratio: float
    wet_gap_ratio: float
    gaps: tuple
    connected: tuple
    geometry: str = "spheres"
    sphere: "BridgeSpan | None" = None
    area_ratio: float = math.nan

    @property
    def retained(self) -> float:
        """Where the reach lies between the water-left and the wet bridge's rupture distances,
        ``(S* - S_q) / (S_wet - S_q)`` [1]: 0 the water bridge alone, 1 the whole wet bridge
        kept (negative: the network holds water the bridge needed)."""
        return (self.gap_ratio - self.lian_gap_ratio) / (self.wet_gap_ratio - self.lian_gap_ratio)

    def summary(self) -> dict:
        """Plain-number summary (for ``summary.json`` and table attributes)."""
        out = {"geometry": self.geometry, "concentration_mg_per_g": self.concentration,
               "grain_radius_um": self.radius, "spanning_gap_um": self.gap, "gap_over_radius": self.gap_ratio,
               "water_only_gap_over_radius": self.lian_gap_ratio, "wet_bridge_gap_over_radius": self.wet_gap_ratio,
               "retained": self.retained, "runs": len(self.gaps)}
        if math.isfinite(self.area_ratio):
            out["bridge_area_over_radius_squared"] = self.area_ratio
        if self.sphere is not None:
            out["spheres"] = self.sphere.summary()
        return out


def pair_radius(r_i, r_j):
    """Derjaguin radius ``2 r_i r_j / (r_i + r_j)`` of two grains (equal grains: their radius).

    >>> float(pair_radius(2.0, 2.0)), float(pair_radius(1.0, 3.0))
    (2.0, 1.5)
    """
    r_i, r_j = np.asarray(r_i, float), np.asarray(r_j, float)
    return 2 * r_i * r_j / (r_i + r_j)


def network_span(concentration: float, params, *, radius: float | None = None, volume_ratio: float = 0.02,
                 water_left: float = 0.25, drying_steps: int = 20, relax_steps: int = 20, grid: int = 10,
                 bisections: int = 4, seed: int = 1, geometry: str = "spheres",
                 period_bonds: float | None = None) -> BridgeSpan:
    """The widest gap a drying bridge at ``concentration`` keeps connected (module docs).

    Parameters
    ----------
    concentration : float
        Mucilage concentration [mg dry mucilage per g water], >= 0.
    params : MucilageNetworkParameters
        The network's parameter set (``mucilage_network``).
    radius : float, optional
        Grain radius of the runs [µm] (default the set's ``particle_radius``); the network's
        beads have absolute sizes, so run it at the grains' size.
    volume_ratio : float
        Initial bridge liquid over ``R³`` [1] (``v``).
    water_left : float
        Share of the initial water left when the connection is checked [1] (``q``).
    drying_steps, relax_steps : int
        Drying steps from the initial water to ``q`` of it; overdamped steps per drying step.
    grid, bisections : int
        Gaps on the grid; bisection steps after the first loss.
    seed : int
        Seed of the bead placement (every gap uses it).
    geometry : {"spheres", "cylinders", "cylinders-transfer"}
        Grains of a 3D medium; parallel cylinders of a 2D medium, the network run between
        them (:func:`cylinder_network_span`); or the older transfer of the sphere search's
        retained share to the 2D bridge (:func:`cylinder_span`, kept for comparison).
    period_bonds : float
        ``cylinders``: the periodic slab's length along the cylinders in bond lengths.

    Returns
    -------
    BridgeSpan

    Raises
    ------
    InputError
        A setting out of range (``0 < q < 1``, a volume above the pendular range, ...).

    Examples
    --------
    Water only reduces to Lian's rupture distance of the water left (to the bisection):

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> s = network_span(0.0, p, volume_ratio=0.005)
    >>> round(s.lian_gap_ratio, 4), abs(s.gap_ratio - s.lian_gap_ratio) < 0.01 * s.wet_gap_ratio
    (0.1077, True)
    """
    if not (math.isfinite(concentration) and concentration >= 0):
        raise InputError(f"mucilage concentration must be >= 0 mg/g, got {concentration}", field="concentration")
    if not 0 < water_left < 1:
        raise InputError(f"water_left must lie in (0, 1), got {water_left}", field="water_left")
    if not volume_ratio > 0:
        raise InputError(f"volume_ratio must be > 0, got {volume_ratio}", field="volume_ratio")
    for name, value in (("drying_steps", drying_steps), ("grid", grid)):
        if int(value) < 1:
            raise InputError(f"{name} must be >= 1, got {value}", field=name)
    r = float(params.particle_radius if radius is None else radius)
    if not r > 0:
        raise InputError(f"grain radius must be > 0 um, got {radius}", field="radius")
    if geometry not in ("spheres", "cylinders", "cylinders-transfer"):
        raise InputError(f"geometry must be 'spheres', 'cylinders' or 'cylinders-transfer', got {geometry!r}",
                         field="geometry")
    if geometry == "cylinders":
        from .cylinder_drying import DEFAULT_PERIOD_BONDS
        pb = DEFAULT_PERIOD_BONDS if period_bonds is None else float(period_bonds)
        return _cylinder_search(params.model_dump_json(), type(params), float(concentration), r,
                                float(volume_ratio), float(water_left), int(drying_steps), int(relax_steps), int(grid),
                                int(bisections), int(seed), pb, "sheet")
    sphere = _span(params.model_dump_json(), type(params), float(concentration), r, float(volume_ratio),
                   float(water_left), int(drying_steps), int(relax_steps), int(grid), int(bisections), int(seed))
    if geometry == "spheres":
        return sphere
    return cylinder_span(sphere, float(volume_ratio), float(water_left), float(params.contact_angle))


def cylinder_span(sphere: BridgeSpan, volume_ratio: float, water_left: float, contact_angle: float) -> BridgeSpan:
    """The reach of a drying bridge between parallel cylinders (a 2D medium), from a sphere search.

    The 2D bridge is the one at the Laplace suction of the sphere search's wet bridge
    (:func:`rhizoscale.mucilage.cylinders.equal_suction_area`, area ``a R²`` per unit length);
    its water-only reach is the exact 2D rupture distance of the water left,
    ``S_q = S_rup(q a R²)``, and the widest reach the wet 2D bridge's, ``S_wet = S_rup(a R²)``
    (:func:`rhizoscale.mucilage.cylinders.cylinder_rupture_distance`). The network's effect is
    carried over as its retained share ``rho`` of that range in the sphere search
    (:attr:`BridgeSpan.retained`): ``S* = S_q + rho (S_wet - S_q)``. So at zero mucilage the
    reach is the 2D closed form (to the sphere search's resolution), and a network that keeps
    the whole wet bridge between spheres keeps the whole 2D bridge. The network itself is not
    run between cylinders: the transfer of ``rho`` is the approximation. Superseded by
    :func:`cylinder_network_span` (the network run between the cylinders), which the chain
    uses; kept as ``geometry="cylinders-transfer"`` for comparison (documented fallback).

    Parameters
    ----------
    sphere : BridgeSpan
        A sphere search (:func:`network_span`).
    volume_ratio, water_left : float
        Its wet bridge volume over ``R³`` and the share of water left [1].
    contact_angle : float
        [rad].

    Returns
    -------
    BridgeSpan
        ``geometry="cylinders"``, ``sphere`` the search.

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> s = network_span(0.0, p, volume_ratio=0.005, geometry="cylinders-transfer")
    >>> round(s.lian_gap_ratio, 4), round(s.wet_gap_ratio, 4), abs(s.retained) < 0.05    # 0: bisection resolution
    (0.1156, 0.2349, True)
    """
    from .cylinders import cylinder_rupture_distance, equal_suction_area
    if sphere.geometry != "spheres":
        raise InputError("cylinder_span takes a sphere search", field="sphere")
    a = equal_suction_area(volume_ratio, contact_angle)
    wet = cylinder_rupture_distance(a, 1.0, contact_angle)
    water = cylinder_rupture_distance(water_left * a, 1.0, contact_angle)
    ratio = water + sphere.retained * (wet - water)
    return BridgeSpan(sphere.concentration, sphere.radius, ratio * sphere.radius, ratio, water, wet,
                      sphere.gaps, sphere.connected, geometry="cylinders-transfer", sphere=sphere, area_ratio=a)


#: overdamped bead-steps per CPU-second of the network kernels (docs/cs4-mucilage-network.md:
#: 5.2 M s-1 on one quiet thread, 5.1 M per CPU-second under load)
BEAD_STEPS_PER_SECOND = 5.0e6


def span_bead_steps(concentration: float, params, *, radius: float, volume_ratio: float = 0.02,
                    drying_steps: int = 20, relax_steps: int = 20, grid: int = 10, bisections: int = 4,
                    geometry: str = "spheres", period_bonds: float | None = None) -> tuple:
    """Beads of one search run and the bead-steps of a whole search, at most (before running).

    ``n = c V / (1 + c / rho_p) / m_bead`` beads in the wet bridge ``V = v R³`` (``c`` in g g-1);
    between cylinders (``geometry="cylinders"``) ``V = a R² L``, the wet 2D bridge's area
    (:func:`~.cylinders.equal_suction_area`) times the slab length ``L`` (``period_bonds``
    bond lengths);
    at most ``grid + bisections`` drying runs of ``drying_steps x relax_steps`` overdamped steps
    (a run stops at its first disconnected step, and at and above the network's percolation
    the grid is all connected and no bisection runs: an upper bound).

    Returns
    -------
    (beads, bead_steps) : (float, float)

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> beads, steps = span_bead_steps(3.0, p, radius=120.0)
    >>> round(beads), f"{steps:.2e}"
    (2069, '1.16e+07')
    """
    c = float(concentration) * 1e-3
    if geometry == "cylinders":
        from .cylinder_drying import DEFAULT_PERIOD_BONDS
        from .cylinders import equal_suction_area
        pb = DEFAULT_PERIOD_BONDS if period_bonds is None else float(period_bonds)
        volume = equal_suction_area(float(volume_ratio), float(params.contact_angle)) * float(radius) ** 2 \
            * pb * params.bond_length
    else:
        volume = float(volume_ratio) * float(radius) ** 3
    beads = c * volume / (1 + c / params.polymer_density) / params.polymer_per_bead
    runs = int(grid) + int(bisections)
    return beads, beads * int(drying_steps) * int(relax_steps) * runs


def span_seconds(concentration: float, params, *, radius: float, threads: int = 1, **settings) -> float:
    """Estimated CPU-bound time of one :func:`network_span` search [s], at most.

    :func:`span_bead_steps` over :data:`BEAD_STEPS_PER_SECOND` per thread (the kernels
    scale to about 2 threads); bond lists, connectivity checks and a shared machine add to
    it. ``settings``: the search's ``geometry``, ``period_bonds``, ``volume_ratio``,
    ``drying_steps``, ``relax_steps``, ``grid``, ``bisections``.

    Examples
    --------
    2.4 M beads (50 mg/g, grains of 0.5 mm): most of an hour on one thread.

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> beads, _ = span_bead_steps(50.0, p, radius=500.0)
    >>> round(beads / 1e6, 2), round(span_seconds(50.0, p, radius=500.0) / 3600, 1)
    (2.42, 0.8)
    """
    _, steps = span_bead_steps(concentration, params, radius=radius, **settings)
    return steps / (BEAD_STEPS_PER_SECOND * max(1, min(int(threads), 2)))


@functools.lru_cache(maxsize=256)
def _span(params_json, cls, c, r, v, q, steps, relax, grid, bisections, seed) -> BridgeSpan:
    from .bridge import largest_toroidal_volume, lian_rupture_distance
    p = cls.model_validate_json(params_json).with_overrides({"particle_radius": r}, source="network_span")
    theta = float(p.contact_angle)
    v0 = v * r ** 3
    s_wet = float(lian_rupture_distance(v0, r, theta))
    s_lian = float(lian_rupture_distance(q * v0, r, theta))
    if v0 > largest_toroidal_volume(1e-3 * s_wet, r, theta):
        raise InputError(f"volume_ratio {v:g} is above the pendular range of the toroidal bridge",
                         field="volume_ratio")
    lo, done = _grid_bisect(lambda gap: _stays_connected(c, gap, v0, q, p, steps, relax, seed),
                            s_wet * (1 - 1e-6), grid, bisections)
    gaps = tuple(sorted(done))
    return BridgeSpan(c, r, lo, lo / r, s_lian / r, s_wet / r, gaps, tuple(done[g] for g in gaps))


def _grid_bisect(stays_connected, top, grid, bisections):
    """Widest connected gap: the grid ``top k / grid`` up to the first loss, then bisection.
    Returns ``(widest connected gap, {gap: connected})``."""
    done: dict[float, bool] = {}

    def connected(gap: float) -> bool:
        if gap not in done:
            done[gap] = stays_connected(gap)
        return done[gap]

    lo, hi = 0.0, None
    for k in range(1, grid + 1):
        gap = top * k / grid
        if connected(gap):
            lo = gap
        else:
            hi = gap
            break
    if hi is not None:
        for _ in range(bisections):
            mid = 0.5 * (lo + hi)
            if connected(mid):
                lo = mid
            else:
                hi = mid
    return lo, done


def cylinder_network_span(concentration: float, params, *, radius: float | None = None, volume_ratio: float = 0.02,
                          water_left: float = 0.25, drying_steps: int = 20, relax_steps: int = 20, grid: int = 10,
                          bisections: int = 4, seed: int = 1, period_bonds: float | None = None,
                          criterion: str = "sheet") -> BridgeSpan:
    """The widest gap a drying 2D bridge between parallel cylinders keeps connected.

    The question of :func:`network_span`, asked of the network between cylinders
    (:class:`~.cylinder_drying.CylinderBridgeModel`, a periodic slab along them): the wet
    2D bridge is the one at the Laplace suction of the 3D reference bridge ``v R³`` at
    contact (area ``a R²`` per unit length, :func:`~.cylinders.equal_suction_area`); it dries
    at fixed gap to ``q`` of its water; gaps on a grid up to the wet bridge's rupture
    distance ``S_rup(a R²)`` (the pinch), then bisection. At zero mucilage the answer is the
    2D water bridge's rupture distance of the water left, ``S_rup(q a R²)`` (the closed form
    lies in the search's last bracket; tested). Same arguments as :func:`network_span`;
    ``criterion``: ``"sheet"`` (the chain's: a joining cluster that wraps the slab's period,
    :meth:`~.cylinder_drying.CylinderBridgeModel.network_spans`) or ``"path"`` (any joining
    path, for comparison).

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> s = cylinder_network_span(0.0, p, volume_ratio=0.005)
    >>> round(s.lian_gap_ratio, 4), round(s.wet_gap_ratio, 4), abs(s.retained) < 0.05
    (0.1156, 0.2349, True)
    """
    if criterion not in ("sheet", "path"):
        raise InputError(f"criterion must be 'sheet' or 'path', got {criterion!r}", field="criterion")
    if criterion == "sheet":
        return network_span(concentration, params, radius=radius, volume_ratio=volume_ratio, water_left=water_left,
                            drying_steps=drying_steps, relax_steps=relax_steps, grid=grid, bisections=bisections,
                            seed=seed, geometry="cylinders", period_bonds=period_bonds)
    from .cylinder_drying import DEFAULT_PERIOD_BONDS
    r = float(params.particle_radius if radius is None else radius)
    return _cylinder_search(params.model_dump_json(), type(params), float(concentration), r, float(volume_ratio),
                            float(water_left), int(drying_steps), int(relax_steps), int(grid), int(bisections),
                            int(seed), DEFAULT_PERIOD_BONDS if period_bonds is None else float(period_bonds),
                            criterion)


@functools.lru_cache(maxsize=256)
def _cylinder_search(params_json, cls, c, r, v, q, steps, relax, grid, bisections, seed, period_bonds,
                     criterion) -> BridgeSpan:
    from .cylinders import cylinder_rupture_distance, equal_suction_area
    p = cls.model_validate_json(params_json).with_overrides({"particle_radius": r}, source="network_span")
    theta = float(p.contact_angle)
    a = equal_suction_area(v, theta)
    area0 = a * r * r
    s_wet = cylinder_rupture_distance(area0, r, theta)
    s_q = cylinder_rupture_distance(q * area0, r, theta)
    period = period_bonds * p.bond_length

    def stays(gap: float) -> bool:
        from .cylinder_drying import CylinderBridgeModel
        water0 = area0 * period / (1 + c * 1e-3 / p.polymer_density)
        model = CylinderBridgeModel(c, area0, gap, p, evaporation_rate=(1 - q) * water0 / steps, period=period,
                                    relax_steps=relax, seed=seed, criterion=criterion)
        for k in range(1, steps + 1):     # over drying steps (tens): each step runs the network kernels
            model.advance_to(float(k))
            if not model.connected:
                return False
        return True

    lo, done = _grid_bisect(stays, s_wet * (1 - 1e-6), grid, bisections)
    gaps = tuple(sorted(done))
    return BridgeSpan(c, r, lo, lo / r, s_q / r, s_wet / r, gaps, tuple(done[g] for g in gaps),
                      geometry="cylinders", area_ratio=a)


def _stays_connected(c, gap, v0, q, p, steps, relax, seed) -> bool:
    """Dry a bridge of liquid ``v0`` at ``gap`` to ``q`` of its water; connected at the end?"""
    from .drying import MucilageBridgeModel
    water0 = v0 / (1 + c * 1e-3 / p.polymer_density)
    model = MucilageBridgeModel(c, v0, gap, p, evaporation_rate=(1 - q) * water0 / steps,
                                relax_steps=relax, seed=seed)
    for k in range(1, steps + 1):     # over drying steps (tens): each step runs the network kernels
        model.advance_to(float(k))
        if not model.connected:
            return False
    return True
