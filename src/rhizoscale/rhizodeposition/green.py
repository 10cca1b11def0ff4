"""Green's function of retarded, decaying diffusion and exact integrals over root tips.

Transport of a rhizodeposit in the liquid phase (Landl et al. 2021)::

    theta R dc/dt = theta D lap(c) - theta k c + q(x, t),   c(x, 0) = 0, infinite soil.

Total mass moves with ``D' = D / R`` and decays at ``k' = k / R``. An instantaneous unit
mass released at the origin at time 0, spread initially over an isotropic Gaussian of
standard deviation ``w`` (the *source width*; ``w = 0`` is the exact point release), gives::

    G(x, tau) = exp(-k' tau) / (theta R) * (2 pi s^2)^(-3/2) * exp(-|x|^2 / (2 s^2)),
    s^2 = w^2 + 2 D' tau.

A moving point source (mucilage) releases ``Q`` per day at the tip while the root grows;
a moving line source (citrate) releases ``Q`` per day and cm along the last ``l`` cm of
the root behind the tip. The field is the time (and arc-length) integral of ``G`` over
these releases, superposed over roots. This module evaluates those integrals *at points*
by adaptive quadrature; it is slow and exact and is the specification the grid fields in
:mod:`rhizoscale.rhizodeposition.field` are tested against.

References
----------
Carslaw H.S., Jaeger J.C. (1959) Conduction of Heat in Solids, 2nd ed., §10.7 (moving
point source). Landl M., Phalempin M., Schlüter S., Vetterlein D., Vanderborght J.,
Kroener E., Schnepf A. (2021) Modeling the impact of rhizosphere bulk density and
mucilage gradients on root water uptake / rhizodeposition, Front. Plant Sci. (case-study
model implemented in CPlantBox ``ExudationModel``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

from ..errors import InputError
from .parameters import ExudateParameters

__all__ = [
    "green_function",
    "peclet_number",
    "steady_state_moving_point_source",
    "RootPaths",
    "root_paths",
    "concentration_at",
]


def green_function(x, tau, params: ExudateParameters):
    """Concentration [ug cm-3 per ug] at distance vector(s) ``x`` a time ``tau`` after a unit release.

    ``G = exp(-k' tau) / (theta R) (2 pi s^2)^(-3/2) exp(-|x|^2 / (2 s^2))`` with
    ``s^2 = w^2 + 2 D' tau``, ``D' = D/R``, ``k' = k/R`` and ``w`` the source width.

    Parameters
    ----------
    x : (..., 3) array
        Position relative to the release point [cm].
    tau : float or array
        Time since release [d], > 0 (or >= 0 when ``params.source_width > 0``).
    params : ExudateParameters
        Transport parameters (``D``, ``theta``, ``R``, ``k``, ``source_width``).

    Returns
    -------
    float or ndarray
        Liquid-phase concentration per unit released mass [ug cm-3 ug-1] (shape of
        ``x`` without its last axis, broadcast with ``tau``).

    References
    ----------
    Carslaw, H. S., & Jaeger, J. C. (1959). Conduction of Heat in Solids, 2nd ed.
    Oxford University Press, §10.2.

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, green_function
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> round(float(green_function([0.0, 0.0, 0.0], 1.0, mucilage)), 1)   # at the release point, 1 d later
    1790.5
    """
    x = np.asarray(x, float)
    tau = np.asarray(tau, float)
    s2 = params.source_width ** 2 + 2.0 * params.diffusivity_retarded * tau
    r2 = np.sum(x * x, axis=-1)
    return (np.exp(-params.decay_retarded * tau - r2 / (2 * s2))
            / ((2 * np.pi * s2) ** 1.5 * params.theta * params.R))


def peclet_number(velocity, radius, diffusivity):
    """Rhizosphere Péclet number ``Pe = v r / D`` [1].

    Parameters
    ----------
    velocity : float or array
        Root elongation rate [cm d-1].
    radius : float or array
        Length scale, the rhizosphere or root radius [cm].
    diffusivity : float or array
        Effective diffusion coefficient [cm2 d-1].

    Returns
    -------
    float or ndarray
        Péclet number [1]: advection by the moving tip over diffusion.

    References
    ----------
    Landl, M., et al. (2021), Front. Plant Sci.: r = 1 mm, v = 2 cm d-1 gives 192.68 with
    D = 1.038e-3 cm2 d-1 (mucilage) and 1.17 with D = 0.171 cm2 d-1 (citrate); the
    paper's labels are swapped (see DESIGN §2).

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import peclet_number
    >>> round(float(peclet_number(2.0, 0.1, 1.038e-3)), 2), round(float(peclet_number(2.0, 0.1, 0.171)), 2)
    (192.68, 1.17)
    """
    return np.asarray(velocity) * np.asarray(radius) / np.asarray(diffusivity)


def steady_state_moving_point_source(xi, rho, velocity, params: ExudateParameters):
    """Steady concentration [ug cm-3] around a point source moving on a straight line.

    In the frame of the tip (moving at ``velocity`` along +xi), after a long time:
    ``c = Q / (4 pi theta D s) exp(-u xi - s sqrt(u^2 + k/D))``, ``u = R v / (2 D)``,
    ``s = sqrt(xi^2 + rho^2)``. ``params.source_width`` is ignored (exact point source).

    Parameters
    ----------
    xi : float or array
        Coordinate along the direction of motion, relative to the tip [cm] (< 0 behind it).
    rho : float or array
        Distance from the line of motion [cm].
    velocity : float
        Tip speed [cm d-1].
    params : ExudateParameters
        Release rate ``Q`` [ug d-1] and transport parameters.

    Returns
    -------
    float or ndarray
        Liquid-phase concentration [ug cm-3] (broadcast shape of ``xi`` and ``rho``).

    References
    ----------
    Carslaw, H. S., & Jaeger, J. C. (1959). Conduction of Heat in Solids, 2nd ed., §10.7,
    eq. (4), with retardation and first-order decay.

    Examples
    --------
    1 cm behind a tip moving at 0.5 cm d-1, 0.5 mm from its path:

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, steady_state_moving_point_source
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> round(float(steady_state_moving_point_source(-1.0, 0.05, 0.5, mucilage)), 1)
    4055.2
    """
    xi = np.asarray(xi, float)
    s = np.sqrt(xi ** 2 + np.asarray(rho, float) ** 2)
    u = params.R * velocity / (2 * params.D)
    return (params.Q / (4 * np.pi * params.theta * params.D * s)
            * np.exp(-u * xi - s * np.sqrt(u * u + params.k / params.D)))


@dataclass(frozen=True)
class RootPaths:
    """Tip paths of all roots, flattened for kernels.

    Root ``i`` has path nodes ``ptr[i]:ptr[i+1]`` with times ``time`` [d] (non-decreasing),
    positions ``pos`` [cm] and cumulative arc length ``arc`` [cm] from the root's base.
    Made by :func:`root_paths`; every function that takes a root system also takes this.

    Parameters
    ----------
    ptr : (R + 1,) int array
        Offsets of each root's path nodes.
    time : (N,) float array
        Time the tip passed each path node [d].
    pos : (N, 3) float array
        Path node positions [cm].
    arc : (N,) float array
        Arc length from the root's base [cm].
    age : float
        Age of the root system [d] (the latest time a field can be asked for).

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import straight_root_system
    >>> paths = root_paths(straight_root_system(0.5, 10.0))   # 0.5 cm d-1 for 10 d
    >>> paths.n_roots, paths.ptr, paths.age
    (1, array([ 0, 51]), 10.0)
    >>> paths.time[:3], paths.arc[:3]                        # [d], [cm]
    (array([0. , 0.2, 0.4]), array([0. , 0.1, 0.2]))
    """

    ptr: np.ndarray
    time: np.ndarray
    pos: np.ndarray
    arc: np.ndarray
    age: float

    @property
    def n_roots(self) -> int:
        return len(self.ptr) - 1

    def root(self, i):
        sl = slice(self.ptr[i], self.ptr[i + 1])
        return self.time[sl], self.pos[sl], self.arc[sl]


def root_paths(root_system) -> RootPaths:
    """Tip path of every root of a :class:`~rhizoscale.plant.RootSystem` (see :class:`RootPaths`).

    Roots with a single node or zero length release nothing and get a one-node path.
    Computing the paths once saves time when fields of several exudates are wanted.

    Parameters
    ----------
    root_system : RootSystem
        A timed root system (node creation times give the tip's path in time).

    Returns
    -------
    RootPaths

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import root_paths, straight_root_system
    >>> paths = root_paths(straight_root_system(0.5, 10.0))   # 5 cm in 10 d
    >>> paths.n_roots, paths.age, float(paths.arc[-1])
    (1, 10.0, 5.0)
    """
    ptr, times, pos, arc = [0], [], [], []
    for i in range(root_system.n_roots):
        t, p = root_system.tip_path(i)
        t = np.maximum.accumulate(np.asarray(t, float))
        a = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
        times.append(t)
        pos.append(p)
        arc.append(a)
        ptr.append(ptr[-1] + len(t))
    if not times:
        return RootPaths(np.zeros(1, np.int64), np.zeros(0), np.zeros((0, 3)), np.zeros(0),
                         float(root_system.time))
    return RootPaths(np.asarray(ptr, np.int64), np.concatenate(times), np.concatenate(pos),
                     np.concatenate(arc), float(root_system.time))


def _release_end(t_nodes, params, T):
    """Last release time of a root up to ``T`` (growing stops at its last node time)."""
    if params.release == "point" or params.stopped_roots == "stop":
        return min(t_nodes[-1], T)
    return T


def _position(t, t_nodes, pos):
    return np.array([np.interp(t, t_nodes, pos[:, k]) for k in range(3)])


def _point_source_integrand(t, x, T, t_nodes, pos, params):
    tau = T - t
    return params.Q * green_function(x - _position(t, t_nodes, pos), tau, params)


def _line_source_integrand(t, x, T, t_nodes, pos, arc, params):
    """Arc-length integral (closed form per straight segment) of the release at time ``t``."""
    tau = T - t
    s_tip = np.interp(t, t_nodes, arc)
    s_rear = max(0.0, s_tip - params.release_length)
    if s_tip <= s_rear:
        return 0.0
    s2 = params.source_width ** 2 + 2 * params.diffusivity_retarded * tau
    sig = np.sqrt(s2)
    a0, a1 = arc[:-1], arc[1:]
    lo, hi = np.maximum(a0, s_rear), np.minimum(a1, s_tip)
    use = (hi > lo) & (a1 > a0)
    if not np.any(use):
        return 0.0
    a0, lo, hi = a0[use], lo[use], hi[use]
    p0 = pos[:-1][use]
    e = (pos[1:][use] - p0) / (arc[1:][use] - a0)[:, None]
    rel = x - p0
    up = np.einsum("ij,ij->i", rel, e)
    d2 = np.maximum(np.einsum("ij,ij->i", rel, rel) - up * up, 0.0)
    q = np.sqrt(2) * sig
    total = np.sum(np.exp(-d2 / (2 * s2)) * np.sqrt(np.pi / 2) * sig
                   * (special.erf((hi - a0 - up) / q) - special.erf((lo - a0 - up) / q)))
    return (params.Q * total * np.exp(-params.decay_retarded * tau)
            / ((2 * np.pi * s2) ** 1.5 * params.theta * params.R))


def concentration_at(root_system, points, T: float, params: ExudateParameters, *,
                     epsrel: float = 1e-9, roots=None) -> np.ndarray:
    """Exact liquid concentration [ug cm-3] at points, by adaptive quadrature.

    Integrates the Green's function over each tip's path in time (point source), or over
    time and the release zone (line source; the arc-length integral is done in closed
    form per straight segment). Slow; meant as the reference for tests and for a few
    probe points.

    Parameters
    ----------
    root_system : RootSystem or RootPaths
        The growing root system.
    points : (n, 3) array
        Where to evaluate [cm].
    T : float
        Time [d]; must not exceed the root system's age.
    params : ExudateParameters
        Release and transport parameters of the exudate.
    epsrel : float
        Relative tolerance of each quadrature.
    roots : sequence of int, optional
        Only these roots (default: all).

    Returns
    -------
    (n,) ndarray
        Liquid-phase concentration [ug cm-3] at each point.

    Raises
    ------
    InputError
        ``T`` beyond the root system's age.

    Warns
    -----
    RuntimeWarning
        When QUADPACK reached its limits and the estimated relative error exceeds
        ``max(10 epsrel, 1e-6)``.

    References
    ----------
    Carslaw & Jaeger (1959), §10.7; Landl et al. (2021).

    Examples
    --------
    Far behind the tip of a root that grew straight at 0.5 cm d-1 for 10 days the field
    equals the steady moving-source solution:

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import (ExudateParameters, concentration_at,
    ...                                         steady_state_moving_point_source, straight_root_system)
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> root = straight_root_system(0.5, 10.0)             # tip at z = -5 cm on day 10
    >>> c = concentration_at(root, [[0.05, 0.0, -4.0]], 10.0, mucilage, epsrel=1e-6)
    >>> round(float(c[0]), 1), round(float(steady_state_moving_point_source(-1.0, 0.05, 0.5, mucilage)), 1)
    (4055.2, 4055.2)
    """
    paths = root_system if isinstance(root_system, RootPaths) else root_paths(root_system)
    if T > paths.age + 1e-12:
        raise InputError(f"time {T} d is beyond the root system's age {paths.age} d", field="T")
    pts = np.atleast_2d(np.asarray(points, float))
    out = np.zeros(len(pts))
    worst = 0.0
    roots = range(paths.n_roots) if roots is None else roots
    for i in roots:
        t_nodes, pos, arc = paths.root(i)
        if len(t_nodes) < 2 or arc[-1] <= 0:
            continue
        t0, t1 = t_nodes[0], _release_end(t_nodes, params, T)
        if t1 <= t0:
            continue
        brk = list(t_nodes[(t_nodes > t0) & (t_nodes < t1)])
        if params.release == "line":
            # the rear of the zone passes the path nodes at these times
            rear_times = np.interp(arc + params.release_length, arc, t_nodes, right=np.inf)
            brk += list(rear_times[(rear_times > t0) & (rear_times < t1)])
        edges = np.unique(np.concatenate([[t0], np.asarray(brk, float), [t1]]))
        for n, x in enumerate(pts):
            acc = acc_err = 0.0
            flagged = False
            for a, b in zip(edges[:-1], edges[1:]):
                if b <= a:
                    continue
                if params.release == "point":
                    f = _point_source_integrand
                    args = (x, T, t_nodes, pos, params)
                    # closest approach of the tip to x in this interval: a hard spot for quad
                    pa, pb = _position(a, t_nodes, pos), _position(b, t_nodes, pos)
                    d = pb - pa
                    frac = np.clip((x - pa) @ d / max(d @ d, 1e-300), 0, 1)
                    inner = [a + frac * (b - a)] if 0 < frac < 1 else None
                else:
                    f = _line_source_integrand
                    args = (x, T, t_nodes, pos, arc, params)
                    inner = None
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", integrate.IntegrationWarning)
                    val, err = integrate.quad(f, a, b, args=args, points=inner, limit=400,
                                              epsabs=0.0, epsrel=epsrel)
                if caught:
                    flagged = True
                acc += val
                acc_err += err
            if flagged and acc != 0.0:
                worst = max(worst, acc_err / abs(acc))
            out[n] += acc
    if worst > 0:
        # QUADPACK's warnings (subdivision limit, round-off) are kept inside; the result is
        # still good when its error estimate, relative to the point's value, is small
        level = worst / epsrel
        if worst > max(10 * epsrel, 1e-6):
            warnings.warn(f"concentration_at: adaptive quadrature reached its limits; largest estimated "
                          f"relative error of an interval {worst:.2e} ({level:.0f} x epsrel)",
                          RuntimeWarning, stacklevel=2)
    return out
