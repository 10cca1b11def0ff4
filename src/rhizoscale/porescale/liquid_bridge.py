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
from scipy import ndimage

from ..errors import InputError

__all__ = ["two_particles", "bridge_clusters", "lian_rupture_distance", "lian_rupture_volume",
           "BridgeStage", "DryingBridgeResult", "dry_liquid_bridge"]


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


@dataclass
class DryingBridgeResult:
    radius: float
    gap: float
    ndim: int
    stages: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)     # density fields at some stages
    rupture_volume: float = math.nan                   # [nodes]
    ruptured: bool = False

    def scaled_rupture_volume(self) -> float:
        return self.rupture_volume / self.radius**3

    def lian_distance(self, theta: float) -> float:
        """Lian's rupture gap [nodes] for the measured rupture volume."""
        return self.radius * lian_rupture_distance(self.scaled_rupture_volume(), theta)


def dry_liquid_bridge(model_factory, labels, *, initial_volume: float, rho_gas: float,
                      rho_liquid: float, removal: float = 0.1, relax_steps: int = 600,
                      first_relax: int = 1500, max_stages: int = 40, snapshot_every: int = 1,
                      radius: float = math.nan, gap: float = math.nan) -> DryingBridgeResult:
    """Dry a bridge stage by stage until it ruptures.

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

    Returns
    -------
    DryingBridgeResult
    """
    if not 0 < removal < 1:
        raise InputError("removal must be in (0, 1)", field="removal")
    bridge = _initial_bridge(labels, initial_volume)
    rho0 = np.where(bridge, rho_liquid, rho_gas)
    model = model_factory(labels, rho0)
    res = DryingBridgeResult(radius, gap, labels.ndim)
    model.step(first_relax)
    last_connected = None
    for stage in range(max_stages):
        rho = model.density()
        connected, mask = bridge_clusters(rho, labels, rho_gas, rho_liquid)
        vol = float(mask.sum())
        res.stages.append(BridgeStage(int(model.iteration), vol, model.mass(), connected))
        if stage % snapshot_every == 0 or not connected:
            res.snapshots.append((int(model.iteration), rho.astype(np.float32)))
        if not connected:
            res.ruptured = True
            break
        last_connected = vol
        # remove a fraction of the liquid's excess mass from the liquid nodes
        level = 0.5 * (rho_gas + rho_liquid)
        liquid = np.nan_to_num(rho, nan=0.0) > level
        excess = np.where(liquid, np.nan_to_num(rho) - rho_gas, 0.0)
        factor = np.where(liquid, 1.0 - removal * excess / np.where(liquid, rho, 1.0), 1.0)
        model.scale_populations(factor)
        model.step(relax_steps)
    res.rupture_volume = last_connected if (res.ruptured and last_connected is not None) \
        else math.nan
    return res
