"""A drying liquid bridge between two particles: quasi-static mass removal and rupture.

Two spheres (3D) or discs (2D) of radius ``R`` face each other along ``x`` with a gap
``d`` (surface to surface). A pendular bridge is placed between them and relaxed; then,
stage after stage, a fraction of the liquid's mass is removed (the populations of the
liquid nodes are scaled down, at unchanged velocity) and the state relaxed again
(quasi-static drying). After each stage the bridge is *connected* when one liquid cluster
(``rho > (rho_g + rho_l)/2``, :func:`scipy.ndimage.label`) touches both particles. The
rupture volume is the bridge volume of the last connected stage; Lian et al. (1993)
predict that a bridge of volume ``V`` ruptures at the gap

    d_rup / R = (1 + theta / 2) (V / R^3)^(1/3)        (theta in radians),

so at the fixed gap ``d`` the bridge should rupture at ``V_rup = R^3 (d/R / (1 + theta/2))^3``.

References
----------
Lian, G., Thornton, C., & Adams, M. J. (1993). A theoretical study of the liquid bridge
forces between two rigid spherical bodies. J. Colloid Interface Sci., 161, 138–147.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy import ndimage

from ..errors import InputError

__all__ = ["two_particles", "bridge_clusters", "grain_liquid", "lian_rupture_distance", "lian_rupture_volume",
           "BridgeStage", "DryingBridgeResult", "DryingBridgeModel", "bridge_model",
           "dry_liquid_bridge"]


def two_particles(radius: float, gap: float, ndim: int = 3, margin: int = 6) -> np.ndarray:
    """Labels of two particles (1: left, 2: right) of ``radius`` [nodes] with a surface gap
    ``gap`` [nodes] along ``x``, centred in a box with ``margin`` nodes of fluid around."""
    if radius < 3 or gap <= 0:
        raise InputError("radius must be >= 3 nodes and gap > 0", field="geometry")
    nx = int(math.ceil(4 * radius + gap + 2 * margin))
    ny = int(math.ceil(2 * radius + 2 * margin))
    shape = (ny, ny, nx) if ndim == 3 else (ny, nx)
    g = np.indices(shape).astype(float) + 0.5
    cx1 = nx / 2 - gap / 2 - radius
    cx2 = nx / 2 + gap / 2 + radius
    lateral = sum((g[a] - shape[a] / 2) ** 2 for a in range(ndim - 1))
    labels = np.zeros(shape, np.int32)
    labels[lateral + (g[-1] - cx1) ** 2 <= radius**2] = 1
    labels[lateral + (g[-1] - cx2) ** 2 <= radius**2] = 2
    return labels


def _initial_bridge(labels, volume):
    """Pore nodes within distance ``a`` of the particles' axis, between the centres;
    ``a`` chosen so that the bridge holds ``volume`` nodes."""
    ndim = labels.ndim
    shape = labels.shape
    g = np.indices(shape).astype(float) + 0.5
    lateral = np.sqrt(sum((g[a] - shape[a] / 2) ** 2 for a in range(ndim - 1)))
    x = g[-1]
    xs = np.flatnonzero((labels == 1).any(axis=tuple(range(ndim - 1))))
    xe = np.flatnonzero((labels == 2).any(axis=tuple(range(ndim - 1))))
    c1, c2 = 0.5 * (xs.min() + xs.max() + 1), 0.5 * (xe.min() + xe.max() + 1)
    between = (labels == 0) & (x > c1) & (x < c2)
    lo, hi = 0.0, float(shape[0])
    for _ in range(40):
        a = 0.5 * (lo + hi)
        if (between & (lateral <= a)).sum() < volume:
            lo = a
        else:
            hi = a
    return between & (lateral <= hi)


def bridge_clusters(rho, labels, rho_gas: float, rho_liquid: float):
    """Liquid clusters touching particle 1 and particle 2.

    Returns ``(connected, bridge_mask)``: whether one cluster touches both, and the
    nodes of the cluster(s) touching both (or touching particle 1 when none does).
    """
    level = 0.5 * (rho_gas + rho_liquid)
    liquid = np.nan_to_num(np.asarray(rho, dtype=float), nan=0.0) > level
    lab, n = ndimage.label(liquid)
    near1 = ndimage.binary_dilation(labels == 1) & liquid
    near2 = ndimage.binary_dilation(labels == 2) & liquid
    l1 = set(np.unique(lab[near1])) - {0}
    l2 = set(np.unique(lab[near2])) - {0}
    both = sorted(l1 & l2)
    if both:
        return True, np.isin(lab, both)
    return False, np.isin(lab, sorted(l1)) if l1 else np.zeros_like(liquid)


def grain_liquid(rho, labels, rho_gas: float, rho_liquid: float) -> tuple[float, float]:
    """Liquid volume [nodes] of the clusters touching particle 1 and particle 2 (a cluster
    touching both counts for both): after a rupture, the liquid left on each grain."""
    level = 0.5 * (rho_gas + rho_liquid)
    liquid = np.nan_to_num(np.asarray(rho, dtype=float), nan=0.0) > level
    lab, _ = ndimage.label(liquid)
    out = []
    for grain in (1, 2):
        ids = sorted(set(np.unique(lab[ndimage.binary_dilation(labels == grain) & liquid])) - {0})
        out.append(float(np.isin(lab, ids).sum()) if ids else 0.0)
    return out[0], out[1]


def lian_rupture_distance(volume: float, theta: float) -> float:
    """Lian et al. (1993): ``d_rup = (1 + theta/2) V^(1/3)`` (``V``, ``d`` scaled by the
    particle radius; ``theta`` the contact angle [rad])."""
    return (1.0 + 0.5 * theta) * volume ** (1.0 / 3.0)


def lian_rupture_volume(distance: float, theta: float) -> float:
    """The bridge volume (scaled by ``R^3``) that ruptures at gap ``distance`` (scaled by R)."""
    return (distance / (1.0 + 0.5 * theta)) ** 3


@dataclass
class BridgeStage:
    step: int
    volume: float          # bridge nodes (rho > mid-level) [nodes]
    mass: float            # total fluid mass [lattice]
    connected: bool
    removal: float = 0.0   # share of the liquid's excess mass removed before this stage [-]
    left: float = 0.0      # liquid on particle 1 [nodes] (= volume while connected)
    right: float = 0.0     # liquid on particle 2 [nodes]
    retried: bool = False  # a split undone: the run went back to the previous stage


@dataclass
class DryingBridgeResult:
    radius: float
    gap: float
    ndim: int
    stages: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)     # density fields at some stages
    rupture_volume: float = math.nan                   # [nodes]
    ruptured: bool = False
    #: liquid left on both grains just after the split [nodes] (nan: no split with liquid)
    split_volume: float = math.nan

    @property
    def split_with_liquid(self) -> bool:
        """The bridge split with liquid left on *both* particles (a rupture, not an
        evaporation)."""
        cut = self.stages[-1] if self.stages else None
        return bool(self.ruptured and cut is not None and not cut.connected
                    and cut.left > 0 and cut.right > 0 and math.isfinite(self.rupture_volume))

    def rupture_bracket(self) -> tuple[float, float]:
        """(smaller, larger) of the liquid volume on both grains just after the split and
        the bridge volume of the last connected stage [nodes]: the rupture volume as far
        as the stages resolve it (the two differ by the last removal and by how the
        mid-density level counts interface nodes of one bridge and of two caps)."""
        return (min(self.split_volume, self.rupture_volume),
                max(self.split_volume, self.rupture_volume))

    def scaled_rupture_volume(self) -> float:
        return self.rupture_volume / self.radius**3

    def lian_distance(self, theta: float) -> float:
        """Lian's rupture gap [nodes] for the measured rupture volume."""
        return self.radius * lian_rupture_distance(self.scaled_rupture_volume(), theta)


#: the largest factor by which one hold may raise the liquid's excess mass [-]
HOLD_MAX = 1.5


class DryingBridgeModel:
    """Quasi-static drying of a liquid bridge, one stage per step (a Model of the contract).

    Model time counts drying *stages* (dimensionless). The step to stage 1 relaxes the
    placed bridge for ``first_relax`` lattice steps and measures it; every later step
    removes the share ``removal`` of the liquid's excess mass from the liquid nodes,
    relaxes ``relax_steps`` lattice steps and measures again. A measured stage whose
    bridge no longer connects the particles ends the drying: :attr:`done` turns True (a
    :class:`~rhizoscale.simulation.Simulation` then stops) and the rupture volume is the
    bridge volume of the last connected stage.

    Parameters
    ----------
    lbm : TwoPhaseLBM
        The fluid model, holding the placed bridge (:func:`_initial_bridge` densities).
    labels : int array
        Geometry from :func:`two_particles` (1: left, 2: right particle).
    rho_gas, rho_liquid : float
        Coexistence densities [lattice]; their mean is the liquid level.
    removal : float
        Share of the liquid's excess mass removed per stage [-], in (0, 1).
    relax_steps, first_relax : int
        Lattice steps of relaxation after each removal / after placing the bridge.
    snapshot_every : int
        Keep the density field of every ``snapshot_every``-th stage (and the ruptured one).
    radius, gap : float
        Particle radius and surface gap [nodes], for the result.
    refine : int
        Times a split is undone to close in on the rupture: the split stage is recorded
        (``retried``), the state of the last connected stage restored, and drying goes on
        from there with half the removal per stage. Each refinement halves the bracket
        between the last connected volume and the next stage's.
    hold_every : int
        When > 0, the liquid's excess mass is held at the stage's target (the settled
        bridge's after its first ``hold_every`` steps, then ``1 - removal`` of the previous target) every
        ``hold_every`` lattice steps of relaxation: a bridge of fixed volume. Without it the total mass is fixed
        and the dense lattice vapour (density ratio ~10-20, against ~1e5 for water) takes
        up a bridge whose Laplace pressure rises as it shrinks: small bridges evaporate
        before they split.

    Attributes
    ----------
    time : float
        Stages measured so far [-].
    done : bool
        The bridge ruptured (no further stage is run).

    Examples
    --------
    >>> from rhizoscale.porescale import CarnahanStarlingEOS, TwoPhaseLBM
    >>> from rhizoscale.porescale.wetting import coexistence
    >>> from rhizoscale.simulation import Simulation
    >>> eos = CarnahanStarlingEOS(0.8); rg, rl = coexistence(eos, "edm")
    >>> lab = two_particles(6, 3, ndim=2, margin=4)
    >>> rho = np.where(_initial_bridge(lab, 40), rl, rg)
    >>> lbm = TwoPhaseLBM(lab, rho, eos, wall_density=0.15, forcing="edm")
    >>> model = DryingBridgeModel(lbm, lab, rho_gas=rg, rho_liquid=rl, removal=0.5,
    ...                           relax_steps=100, first_relax=200)
    >>> _ = Simulation(model, stop_time=10, dt=1).run()
    >>> model.done, model.time < 10, model.result().stages[0].connected
    (True, True, True)
    """

    def __init__(self, lbm, labels, *, rho_gas: float, rho_liquid: float, removal: float = 0.1,
                 relax_steps: int = 600, first_relax: int = 1500, snapshot_every: int = 1,
                 radius: float = math.nan, gap: float = math.nan, refine: int = 0,
                 hold_every: int = 0):
        if not 0 < removal < 1:
            raise InputError("removal must be in (0, 1)", field="removal")
        if int(refine) != refine or refine < 0:
            raise InputError(f"refine must be a whole number >= 0, got {refine}", field="refine")
        self.refine_left = int(refine)
        if int(hold_every) != hold_every or hold_every < 0:
            raise InputError(f"hold_every must be a whole number >= 0, got {hold_every}",
                             field="hold_every")
        self.hold_every = int(hold_every)
        self.target = math.nan             # liquid excess mass held (hold_every)
        self._saved = None                 # lbm state of the last connected stage (refine)
        self.lbm = lbm
        self.labels = np.asarray(labels)
        self.rho_gas, self.rho_liquid = float(rho_gas), float(rho_liquid)
        self.removal = float(removal)
        self.relax_steps, self.first_relax = int(relax_steps), int(first_relax)
        self.snapshot_every = int(snapshot_every)
        self.radius, self.gap = float(radius), float(gap)
        self.time = 0.0
        self.done = False
        self.stages: list[BridgeStage] = []
        self.snapshots: list = []          # (lattice step, float32 density field)

    @property
    def level(self) -> float:
        """Liquid level: the mid-density [lattice]."""
        return 0.5 * (self.rho_gas + self.rho_liquid)

    def liquid_excess(self) -> float:
        """The liquid's excess mass: ``sum (rho - rho_gas)`` over the nodes above the
        liquid level [lattice density x nodes]."""
        rho = np.nan_to_num(self.lbm.density(), nan=0.0)
        return float(np.where(rho > self.level, rho - self.rho_gas, 0.0).sum())

    def _scale_liquid(self, share: float = None, target: float = None) -> None:
        """Scale the liquid's excess mass by ``share``, or to ``target``, spread over all
        liquid nodes in proportion to their excess (not at the neck), at unchanged
        velocity."""
        rho = np.nan_to_num(self.lbm.density(), nan=0.0)
        liquid = rho > self.level
        excess = np.where(liquid, rho - self.rho_gas, 0.0)
        if share is None:
            total = excess.sum()
            if total <= 0:
                return
            # the hold replaces what the walls' adsorbed layers and the vapour took over
            # hold_every steps (tens of % while the first layers form, a few % later); a
            # liquid that collapses is not blown up in one hold
            share = min(target / total, HOLD_MAX)
        factor = np.where(liquid, 1.0 - (1.0 - share) * excess / np.where(liquid, rho, 1.0), 1.0)
        self.lbm.scale_populations(factor)

    def _remove(self) -> None:
        """Remove ``removal`` of the liquid's excess mass from the liquid nodes."""
        if self.hold_every:
            self.target *= 1.0 - self.removal
            self._scale_liquid(target=self.target)
        else:
            self._scale_liquid(share=1.0 - self.removal)

    def _relax(self, steps: int) -> None:
        """``steps`` lattice steps; with ``hold_every``, the liquid's excess mass is put
        back to the stage's target every ``hold_every`` steps (the vapour's share of the
        mass follows the interface curvature but cannot drain the liquid: a bridge of
        fixed volume, as in Lian et al.'s quasi-static theory)."""
        if not self.hold_every:
            self.lbm.step(steps)
            return
        done = 0
        while done < steps:
            n = min(self.hold_every, steps - done)
            self.lbm.step(n)
            done += n
            self._scale_liquid(target=self.target)

    def _stage(self) -> None:
        """One stage: (remove,) relax, measure; undo a split while ``refine`` allows."""
        removed = 0.0
        if self.stages:
            if self.refine_left > 0:
                self._saved = {**self.lbm.checkpoint_state(), "target": self.target}
            self._remove()
            removed = self.removal
            self._relax(self.relax_steps)
        else:
            if self.hold_every:
                # the placed (sharp) bridge forms its interfaces at fixed mass for
                # hold_every steps; its liquid excess then is the target held from there on
                first = min(self.hold_every, self.first_relax)
                self.lbm.step(first)
                self.target = self.liquid_excess()
                if self.first_relax > first:
                    self._relax(self.first_relax - first)
            else:
                self.lbm.step(self.first_relax)
        rho = self.lbm.density()
        connected, mask = bridge_clusters(rho, self.labels, self.rho_gas, self.rho_liquid)
        left, right = ((float(mask.sum()),) * 2 if connected else
                       grain_liquid(rho, self.labels, self.rho_gas, self.rho_liquid))
        n = len(self.stages)
        retry = (not connected and self._saved is not None and self.refine_left > 0
                 and any(s.connected for s in self.stages))
        self.stages.append(BridgeStage(int(self.lbm.iteration), float(mask.sum()),
                                       self.lbm.mass(), connected, removed, left, right, retry))
        if n % self.snapshot_every == 0 or not connected:
            self.snapshots.append((int(self.lbm.iteration), rho.astype(np.float32)))
        if retry:
            self.lbm.restore_state(self._saved)
            self.target = float(self._saved["target"])
            self.removal *= 0.5
            self.refine_left -= 1
        self.done = not connected and not retry
        self.time = float(len(self.stages))

    def advance_to(self, t: float) -> None:
        """Run stages until ``t`` stages are measured or the bridge ruptured."""
        while not self.done and self.time < round(t):
            self._stage()

    def step(self, dt: float = 1) -> None:
        """Run ``dt`` more stages (fewer when the bridge ruptures)."""
        self.advance_to(self.time + dt)

    def result(self) -> "DryingBridgeResult":
        """The stages, snapshots and rupture volume so far."""
        res = DryingBridgeResult(self.radius, self.gap, self.labels.ndim, list(self.stages),
                                 list(self.snapshots))
        res.ruptured = self.done
        connected = [s.volume for s in self.stages if s.connected]
        if self.done and connected:
            res.rupture_volume = connected[-1]
            cut = self.stages[-1]
            if cut.left > 0 and cut.right > 0:
                res.split_volume = cut.left + cut.right
        return res

    # ------------------------------------------------------------------ state
    def checkpoint_state(self) -> dict:
        shape = self.labels.shape
        return {"lbm": self.lbm.checkpoint_state(), "time": self.time, "done": self.done,
                "stage_step": np.array([s.step for s in self.stages], dtype=np.int64),
                "stage_volume": np.array([s.volume for s in self.stages], dtype=np.float64),
                "stage_mass": np.array([s.mass for s in self.stages], dtype=np.float64),
                "stage_connected": np.array([s.connected for s in self.stages], dtype=bool),
                "stage_removal": np.array([s.removal for s in self.stages], dtype=np.float64),
                "stage_left": np.array([s.left for s in self.stages], dtype=np.float64),
                "stage_right": np.array([s.right for s in self.stages], dtype=np.float64),
                "stage_retried": np.array([s.retried for s in self.stages], dtype=bool),
                "removal": self.removal, "refine_left": self.refine_left, "target": self.target,
                "saved": ({} if self._saved is None else
                          {k: (v.copy() if isinstance(v, np.ndarray) else v)
                           for k, v in self._saved.items()}),
                "snapshot_step": np.array([s for s, _ in self.snapshots], dtype=np.int64),
                "snapshot_density": (np.stack([r for _, r in self.snapshots]) if self.snapshots
                                     else np.zeros((0,) + shape, np.float32))}

    def restore_state(self, state: dict) -> None:
        self.lbm.restore_state(state["lbm"])
        self.time = float(state["time"])
        self.done = bool(state["done"])
        self.stages = [BridgeStage(int(a), float(b), float(c), bool(d), float(e), float(f),
                                   float(g), bool(h)) for a, b, c, d, e, f, g, h in zip(
            state["stage_step"], state["stage_volume"], state["stage_mass"],
            state["stage_connected"], state["stage_removal"], state["stage_left"],
            state["stage_right"], state["stage_retried"])]
        self.removal = float(state["removal"])
        self.refine_left = int(state["refine_left"])
        self.target = float(state["target"])
        saved = state.get("saved")           # absent when empty (flattened checkpoints)
        self._saved = ({k: (np.array(v) if isinstance(v, np.ndarray) else v)
                        for k, v in saved.items()} if saved else None)
        self.snapshots = [(int(s), np.array(r, dtype=np.float32)) for s, r in zip(
            state["snapshot_step"], state["snapshot_density"])]

    def state(self) -> xr.Dataset:
        """The fluid state (:meth:`TwoPhaseLBM.state`, lattice units) and the stage record."""
        ds = self.lbm.state()
        n = len(self.stages)
        ds["bridge_volume"] = ("stage", np.array([s.volume for s in self.stages], dtype=float),
                               {"units": "lattice nodes", "long_name": "bridge volume (nodes "
                                "above the mid-density touching both particles)"})
        ds["connected"] = ("stage", np.array([s.connected for s in self.stages], dtype=np.int8),
                           {"units": "1", "long_name": "1 while the bridge connects the particles"})
        for name, attr, text in (("liquid_left", "left", "particle 1"),
                                 ("liquid_right", "right", "particle 2")):
            ds[name] = ("stage", np.array([getattr(s, attr) for s in self.stages], dtype=float),
                        {"units": "lattice nodes", "long_name": f"liquid touching {text}"})
        ds["retried"] = ("stage", np.array([s.retried for s in self.stages], dtype=np.int8),
                         {"units": "1", "long_name": "1: a split undone to refine the removal"})
        ds = ds.assign_coords(stage=("stage", np.arange(1, n + 1), {"units": "1"}),
                              lattice_step=("stage", np.array([s.step for s in self.stages],
                                                              dtype=np.int64), {"units": "1"}),
                              time=((), self.time, {"units": "1", "long_name": "drying stages"}))
        return ds


def dry_liquid_bridge(model_factory, labels, *, initial_volume: float, rho_gas: float,
                      rho_liquid: float, removal: float = 0.1, relax_steps: int = 600,
                      first_relax: int = 1500, max_stages: int = 40, snapshot_every: int = 1,
                      radius: float = math.nan, gap: float = math.nan,
                      refine: int = 0, hold_every: int = 0) -> DryingBridgeResult:
    """Dry a bridge stage by stage until it ruptures (a :class:`DryingBridgeModel` run by a
    :class:`~rhizoscale.simulation.Simulation`; case studies drive the model themselves to
    get checkpoints).

    Parameters
    ----------
    model_factory : callable
        ``model_factory(labels, rho) -> TwoPhaseLBM`` (wetting, EOS and forcing chosen there).
    labels : int array
        Geometry from :func:`two_particles`.
    initial_volume : float
        Bridge volume placed at the start [nodes].
    rho_gas, rho_liquid : float
        Coexistence densities (start values and the liquid level).
    removal : float
        Fraction of the liquid mass removed per stage [-].
    relax_steps, first_relax : int
        Lattice steps of relaxation after each removal / after placing the bridge.
    max_stages : int
        Most stages measured.
    refine : int
        Splits undone to close in on the rupture (:class:`DryingBridgeModel`).
    hold_every : int
        Lattice steps between resets of the liquid's excess mass to the stage's target
        (0: total mass fixed instead; :class:`DryingBridgeModel`).

    Returns
    -------
    DryingBridgeResult
    """
    from ..simulation import Simulation
    model = bridge_model(model_factory, labels, initial_volume=initial_volume, rho_gas=rho_gas,
                         rho_liquid=rho_liquid, removal=removal, relax_steps=relax_steps,
                         first_relax=first_relax, snapshot_every=snapshot_every, radius=radius,
                         gap=gap, refine=refine, hold_every=hold_every)
    Simulation(model, stop_time=max_stages, dt=1, name="drying bridge").run()
    return model.result()


def bridge_model(model_factory, labels, *, initial_volume: float, rho_gas: float,
                 rho_liquid: float, **kw) -> DryingBridgeModel:
    """A :class:`DryingBridgeModel` with a bridge of ``initial_volume`` [nodes] placed
    between the particles (liquid at ``rho_liquid`` in gas at ``rho_gas``); ``kw`` go to
    the model (``removal``, ``relax_steps``, ``first_relax``, ``snapshot_every``,
    ``radius``, ``gap``, ``refine``, ``hold_every``)."""
    if not 0 < kw.get("removal", 0.1) < 1:
        raise InputError("removal must be in (0, 1)", field="removal")
    bridge = _initial_bridge(labels, initial_volume)
    rho0 = np.where(bridge, rho_liquid, rho_gas)
    return DryingBridgeModel(model_factory(labels, rho0), labels, rho_gas=rho_gas,
                             rho_liquid=rho_liquid, **kw)
