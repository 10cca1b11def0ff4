"""A drying 2D bridge with a mucilage network between parallel cylinders (a 2D medium).

A 2D pore image is the cross-section of a medium of parallel cylinders (see
:mod:`rhizoscale.mucilage.cylinders`). Its pendular bridge is the same at every position along the
cylinders, so the network is simulated in a **periodic slab**: the z axis (along the
cylinders) has period ``L``, bonds, tethers and bead pairs use minimum images, the cell
lists wrap along z (:mod:`._kernels`, ``space = [L, 1]``). Beads adhere to and are kept
out of the cylinders by their distance to the axis line; the capillary pull comes from
the exact 2D bridge (two circular arcs, Princen 1970; :func:`.cylinders.cylinder_bridge`),
whose cross-section is the toroidal meridian of :mod:`.bridge` — the kernels' meniscus
with the out-of-plane coordinate dropped.

Drying is :class:`~.drying.MucilageBridgeModel`'s step (evaporate, shrink, update the
bridge, relax, check the connection) with the 2D bridge: its liquid is the slab's free
water plus the wet beads, per unit length ``A = V / L``; it ruptures at the pinch,
``A <= A_rup(S)`` (:func:`.cylinders.cylinder_rupture_area`), and its free water returns
to the cylinders' films. At zero mucilage the connection is lost exactly where the 2D
water bridge ruptures.

**The slab length.** ``L`` must exceed twice the longest bond before it breaks
(``(1 + break_strain)`` bond lengths), so that every bond has one minimum image: 12 µm
with the shipped set. The network's reach at 3 mg g⁻¹ (R = 120 µm, four seeds) is
0.382 ± 0.022 R at 8 bond lengths, 0.383 ± 0.012 at 12, 0.397 ± 0.005 at 16 and
0.398 ± 0.009 at 24 (mean ± sd): it settles from 16 bond lengths on, the default
:data:`DEFAULT_PERIOD_BONDS` (48 µm with the shipped set; tested against 24). Near the
percolation concentration a periodic slab is a finite sample of the network, as any
simulated network is (docs/cs4-mucilage-network.md).

Units: µm, s, µN, pg; areas µm² per unit length, volumes µm³ in the slab.

References
----------
Princen, H. M. (1970). Capillary phenomena in assemblies of parallel cylinders: III.
Liquid columns between horizontal parallel cylinders. J. Colloid Interface Sci. 34, 171–184.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .bridge import meniscus_distance
from .cylinders import cylinder_bridge, cylinder_rupture_area
from .drying import MucilageBridgeModel, mucilage_properties
from .network import Meniscus

__all__ = ["CylinderBridgeModel", "DEFAULT_PERIOD_BONDS"]

#: default slab length along the cylinders, in bond lengths
DEFAULT_PERIOD_BONDS = 16.0


class CylinderBridgeModel(MucilageBridgeModel):
    """A 2D liquid bridge between two parallel cylinders drying with a mucilage network in it.

    The cylinders (radius ``particle_radius``) lie along z at ``x = ±(R + S/2)``; the
    network lives in the slab ``0 <= z < period`` (periodic).

    Parameters
    ----------
    concentration : float
        Mucilage concentration [mg g-1], >= 0.
    liquid_area : float
        Initial liquid per unit length of cylinder [µm²] (water plus polymer).
    separation : float
        Gap between the cylinder surfaces [µm] (> 0).
    params : MucilageNetworkParameters
    evaporation_rate : float
        Water removed from the slab per second [µm³ s-1].
    period : float, optional
        Slab length [µm]; default :data:`DEFAULT_PERIOD_BONDS` bond lengths.
    relax_steps, seed
        As :class:`~.drying.MucilageBridgeModel`.
    criterion : {"sheet", "path"}
        When the network connects the cylinders (:meth:`network_spans`): a joining cluster
        that wraps the period (a sheet along the cylinders, the 2D medium's bridge), or any
        joining path.

    Example
    -------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> from rhizoscale.mucilage.cylinders import cylinder_rupture_area
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> m = CylinderBridgeModel(0.0, 30.0, 10.0, p, evaporation_rate=240.0)   # water only, 48 um slab
    >>> round(cylinder_rupture_area(10.0, 100.0), 2)                          # the pinch at this gap [um2]
    20.88
    >>> m.advance_to(1.0); m.connected, round(m.liquid_volume() / m.period, 3)
    (True, 25.0)
    >>> m.advance_to(2.0); m.connected, round(float(m.films.sum()) / m.period, 3)   # below the pinch: to the films
    (False, 20.0)
    """

    def __init__(self, concentration: float, liquid_area: float, separation: float, params, *,
                 evaporation_rate: float, period: float | None = None, relax_steps: int = 100, seed: int = 1,
                 criterion: str = "sheet"):
        p = params
        if criterion not in ("sheet", "path"):
            raise InputError(f"criterion must be 'sheet' or 'path', got {criterion!r}", field="criterion")
        self.criterion = criterion
        if not (math.isfinite(concentration) and concentration >= 0):
            raise InputError(f"mucilage concentration must be >= 0 mg/g, got {concentration}", field="concentration")
        if not (separation > 0):
            raise InputError(f"cylinders overlap or touch (separation {separation} um must be > 0)",
                             field="separation")
        period = DEFAULT_PERIOD_BONDS * p.bond_length if period is None else float(period)
        longest = (1 + min(p.break_strain, p.fene_max_strain)) * p.bond_length
        if not period > 2 * longest:
            raise InputError(f"period {period:g} um must exceed twice the longest bond ({longest:g} um) for "
                             "minimum images", field="period")
        self.params = p
        self.period = period
        self.concentration = float(concentration)
        self.radius = float(p.particle_radius)
        self.contact_angle = float(p.contact_angle)
        self.separation = float(separation)
        self.evaporation_rate = float(evaporation_rate)
        self.relax_steps = int(relax_steps)
        h = self.radius + 0.5 * self.separation
        self.centres = np.array([[-h, 0.0, 0.0], [h, 0.0, 0.0]])
        self.pradius = np.full(2, self.radius)
        props = mucilage_properties(self.concentration, p)
        self.surface_tension = props["surface_tension"]
        self.viscosity = props["viscosity"]
        a_rup = cylinder_rupture_area(self.separation, self.radius, self.contact_angle)
        if not liquid_area > a_rup:
            raise InputError(f"liquid area {liquid_area:g} um2 at or below the rupture area {a_rup:.4g} um2 at "
                             "this separation", field="liquid_area")
        bridge = cylinder_bridge(liquid_area, self.separation, self.radius, self.contact_angle,
                                 self.surface_tension)
        volume = liquid_area * period
        c = self.concentration * 1e-3
        water0 = volume / (1.0 + c / p.polymer_density)
        polymer = c * water0
        n = int(round(polymer / p.polymer_per_bead))
        self._bridge = bridge
        pos = self._sample_liquid(bridge, n, np.random.default_rng(seed))
        cell = np.floor((pos - pos.min(axis=0, initial=0.0)) / p.bond_length).astype(np.int64) if n else pos
        pos = pos[np.lexsort((cell[:, 0], cell[:, 1], cell[:, 2]))] if n else pos
        self._start_network(pos, water0, polymer, props, volume, period=period, cylinders=True)
        self.rupture_area = a_rup
        self.rupture_volume_lian = a_rup * period        # the slab's liquid at rupture [µm3] (2D pinch)

    # ------------------------------------------------------------------ geometry
    def _surface_distance(self, points) -> np.ndarray:
        """Signed distance to the 2D bridge's arcs [µm] (negative in the liquid), in the cross-section."""
        flat = np.array(points, float).reshape(-1, 3)
        flat[:, 2] = 0.0
        return meniscus_distance(flat, self._bridge, self.centres)[0]

    def _sample_liquid(self, bridge, n, rng):
        """``n`` points uniform in the slab's liquid (cross-section box symmetric about the mid-plane)."""
        if n == 0:
            return np.zeros((0, 3))
        lo = np.array([-bridge.half_length, -(bridge.r1 + bridge.r2), 0.0])
        hi = np.array([bridge.half_length, bridge.r1 + bridge.r2, self.period])
        out, count = [], 0
        while count < n:
            trial = rng.uniform(lo, hi, (max(4 * n, 1024), 3))
            s = self._surface_distance(trial)
            outside = np.all(np.hypot(trial[:, None, 0] - self.centres[None, :, 0], trial[:, None, 1])
                             > self.radius, axis=1)
            keep = trial[(s < 0) & outside]
            out.append(keep)
            count += len(keep)
        return np.concatenate(out)[:n]

    def meniscus(self) -> Meniscus:
        if not self.bridge_intact:
            return Meniscus.none()
        b = self._bridge
        return Meniscus((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), b.r1, b.r2, b.half_length, self.surface_tension)

    # ------------------------------------------------------------------ stepping
    def _update_bridge(self) -> None:
        if not self.bridge_intact:
            return
        area = self.liquid_volume() / self.period
        if area <= self.rupture_area:
            self.bridge_intact = False
            self.bridge_rupture[:] = (self.time, area * self.period)
            half = 0.5 * self.free_water
            self.films += np.array([half, self.free_water - half])
            self.free_water = 0.0
            self.wet[:] = 0
            return
        self._bridge = cylinder_bridge(area, self.separation, self.radius, self.contact_angle, self.surface_tension)

    def _relax(self) -> None:
        super()._relax()
        if self.network.n and self.relax_steps and self.bridge_intact:
            self.wet = (self._surface_distance(self.network.pos) < 0).astype(np.uint8)

    def network_spans(self) -> bool:
        """Whether a cluster of intact bonds between hydrated beads joins the two cylinders
        **and wraps the period** along them.

        A 2D medium's bridge is the same at every position along the cylinders: a mucilage
        bridge in it is a sheet along their whole length, not a filament at one place. In
        the periodic slab that is a cluster that joins both cylinders and is itself infinite
        along z (it wraps the period); a cluster that joins them without wrapping is a
        filament at one place along the cylinders, and in a longer slab such filaments
        occur somewhere at any gap the network reaches at all (the reach would grow with
        the slab). Wrapping is detected on the two-sheet cover of the bond graph (each bead
        twice, a bond through the boundary ``z = 0`` joins the sheets): a cluster wraps when
        a bead and its copy are joined (an odd winding; ``criterion = "path"`` drops the
        wrapping condition).
        """
        if self.criterion == "path":
            return super().network_spans()
        net = self.network
        if net.n == 0:
            return False
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        hyd = self.hydrated()
        use = net.bond_alive.astype(bool) & hyd[net.bond_i] & hyd[net.bond_j]
        i, j = net.bond_i[use], net.bond_j[use]
        z = np.mod(net.pos[:, 2], self.period)
        cross = (np.abs(z[j] - z[i]) > 0.5 * self.period).astype(np.int64)   # the bond's minimum image crosses z = 0
        n = net.n
        rows = np.concatenate([i, i + n])
        cols = np.concatenate([j + n * cross, j + n * (1 - cross)])
        g = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(2 * n, 2 * n))
        _, comp = connected_components(g, directed=False)
        wraps = comp[:n] == comp[n:]
        t = net.tether_alive.astype(bool) & hyd[net.tether_bead] & wraps[net.tether_bead]
        a = set(comp[net.tether_bead[t & (net.tether_particle == 0)]].tolist())
        b = set(comp[net.tether_bead[t & (net.tether_particle == 1)]].tolist())
        return bool(a & b)

    def capillary_force(self) -> float:
        """Capillary force of the 2D bridge on the slab's length of cylinder [µN]."""
        return self._bridge.force * self.period if self.bridge_intact else 0.0

    def observables(self) -> dict:
        out = super().observables()
        out["capillary_force"] = self.capillary_force()
        return out

    def _restore_bridge(self, s: dict) -> None:
        self._bridge = cylinder_bridge(float(np.asarray(s["bridge"], float)[0]), self.separation, self.radius,
                                       self.contact_angle, self.surface_tension)
