"""Released mass of moving point and line sources, exactly (the mass-balance oracle)."""

from __future__ import annotations

import math

import numba
import numpy as np

from .green import RootPaths
from .parameters import ExudateParameters

__all__ = ["released_mass"]


@numba.njit(cache=True)
def _exp_integrals(a, b, T, kr):
    """``int_a^b E dt`` and ``int_a^b (t - a) E dt`` with ``E = exp(-kr (T - t))`` (stable for small kr)."""
    d = b - a
    eb = math.exp(-kr * (T - b))
    x = kr * d
    if x < 1e-4:
        i0 = eb * d * (1.0 - x / 2.0 + x * x / 6.0)
        i1 = eb * d * d * (0.5 - x / 6.0 + x * x / 24.0)
    else:
        em = -math.expm1(-x)
        i0 = eb * d * em / x
        i1 = eb * d * d * (x - em) / (x * x)
    return i0, i1


@numba.njit(cache=True)
def _line_release_kernel(ptr, ptime, parc, T, l_rel, keep, kr):
    """``sum_roots int min(S(t), l) exp(-kr (T - t)) dt`` exactly (S piecewise linear in t)."""
    total = 0.0
    for r in range(ptr.shape[0] - 1):
        i0, i1 = ptr[r], ptr[r + 1]
        if i1 - i0 < 2 or parc[i1 - 1] <= 0.0:
            continue
        tm = ptime[i0:i1]
        arc = parc[i0:i1]
        n = tm.shape[0]
        t_end = T if keep else min(tm[n - 1], T)
        for j in range(n):
            # piece j: [tm[j], tm[j+1]] (the last piece: constant length after the root stopped)
            ta = tm[j]
            tb = tm[j + 1] if j < n - 1 else t_end
            sa = arc[j]
            sb = arc[j + 1] if j < n - 1 else arc[n - 1]
            a = max(ta, tm[0])
            b = min(tb, t_end)
            if b <= a or tb <= ta:
                continue
            slope = (sb - sa) / (tb - ta)
            s_at_a = sa + slope * (a - ta)
            s_at_b = sa + slope * (b - ta)
            # split where S crosses l
            cuts = [a, b]
            if (s_at_a - l_rel) * (s_at_b - l_rel) < 0.0:
                cuts = [a, a + (l_rel - s_at_a) / slope, b]
            for k in range(len(cuts) - 1):
                u, v = cuts[k], cuts[k + 1]
                if v <= u:
                    continue
                su = s_at_a + slope * (u - a)
                sv = s_at_a + slope * (v - a)
                e0, e1 = _exp_integrals(u, v, T, kr)
                if 0.5 * (su + sv) >= l_rel:
                    total += l_rel * e0
                else:
                    total += su * e0 + slope * e1
    return total


def released_mass(paths: RootPaths, T: float, params: ExudateParameters, decay: bool = True) -> float:
    """Mass released up to ``T`` [ug], decayed to ``T`` when ``decay`` (exact, closed form).

    Point source: ``sum Q int exp(-k'(T - t)) dt`` over each root's growth period.
    Line source: ``Q int min(S(t), l) exp(-k'(T - t)) dt`` with the tip's arc length
    ``S(t)`` piecewise linear in time, integrated piece by piece in closed form.

    Parameters
    ----------
    paths : RootPaths
        Tip paths (:func:`~rhizoscale.rhizodeposition.root_paths`).
    T : float
        Time [d].
    params : ExudateParameters
        Release rate ``Q`` and decay (``k/R`` acts on the total mass).
    decay : bool
        Subtract the mass that decayed before ``T``.

    Returns
    -------
    float
        Mass [ug].

    Examples
    --------
    A tip releases 33.38 ug d-1 for 10 days:

    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, released_mass, root_paths, straight_root_system
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> paths = root_paths(straight_root_system(0.5, 10.0))
    >>> [round(float(released_mass(paths, 10.0, mucilage, decay=d)), 2) for d in (False, True)]
    [333.8, 134.92]
    """
    kr = params.decay_retarded if decay else 0.0
    if params.release == "line":
        return float(params.Q * _line_release_kernel(paths.ptr, paths.time, paths.arc, float(T),
                                                     params.release_length, params.stopped_roots == "continue", kr))
    total = 0.0
    for i in range(paths.n_roots):
        tm, _, arc = paths.root(i)
        if len(tm) < 2 or arc[-1] <= 0:
            continue
        t0, t1 = tm[0], min(tm[-1], T)
        if t1 <= t0:
            continue
        total += params.Q * (t1 - t0 if kr == 0 else (np.exp(-kr * (T - t1)) - np.exp(-kr * (T - t0))) / kr)
    return float(total)


def nearest_root_location(paths: RootPaths, point) -> tuple[int, float, np.ndarray, float]:
    """The point on the root axes nearest to ``point`` [cm] (projection on the path segments).

    Parameters
    ----------
    paths : RootPaths
        Tip paths (:func:`~rhizoscale.rhizodeposition.root_paths`).
    point : (3,) array_like
        ``(x, y, z)`` [cm].

    Returns
    -------
    root : int
        Index of the root.
    arc : float
        Arc length of the location from the root's base [cm].
    axis_point : (3,) ndarray
        The location on the axis [cm].
    distance : float
        Distance from ``point`` to the axis [cm].

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import root_paths, straight_root_system
    >>> paths = root_paths(straight_root_system(0.5, 10.0))     # along -z from the origin
    >>> root, arc, axis, d = nearest_root_location(paths, [0.3, 0.0, -1.25])
    >>> root, round(arc, 12), axis.round(12).tolist(), round(d, 12)
    (0, 1.25, [0.0, 0.0, -1.25], 0.3)
    """
    x = np.asarray(point, float).reshape(3)
    # segments between consecutive path nodes of the same root
    same = np.ones(max(len(paths.time) - 1, 0), bool)
    same[paths.ptr[1:-1] - 1] = False
    seg = np.flatnonzero(same)
    if seg.size == 0:
        raise ValueError("the root system has no root segments")
    a, b = paths.pos[seg], paths.pos[seg + 1]
    ab = b - a
    L2 = np.einsum("ij,ij->i", ab, ab)
    u = np.clip(np.einsum("ij,ij->i", x - a, ab) / np.where(L2 > 0, L2, 1.0), 0.0, 1.0)
    proj = a + u[:, None] * ab
    d = np.linalg.norm(x - proj, axis=1)
    k = int(np.argmin(d))
    root = int(np.searchsorted(paths.ptr, seg[k], side="right") - 1)
    arc = float(paths.arc[seg[k]] + u[k] * (paths.arc[seg[k] + 1] - paths.arc[seg[k]]))
    return root, arc, proj[k], float(d[k])


def surface_flux_at(paths: RootPaths, root: int, arc: float, times, params: ExudateParameters,
                    radius: float) -> np.ndarray:
    """Exudation flux density through the root surface at one location versus time
    [ug cm-2 d-1] (a line source: ``Q / (2 pi r)`` while the location lies in the release zone).

    The line source releases ``Q`` [ug cm-1 d-1] per cm of the last ``min(S(t), l)`` cm
    behind the tip (``S(t)``: the tip's arc length, ``l``: ``release_length``), while the
    root grows (``stopped_roots: stop``) or for ever (``continue``); spread over the root
    surface (radius ``r``) this is ``Q / (2 pi r)`` at a location of arc ``s`` once the
    tip has passed it and while ``S(t) - s <= l``. Decay acts in the soil, not here.

    Parameters
    ----------
    paths : RootPaths
        Tip paths.
    root : int
        Root index (:func:`nearest_root_location`).
    arc : float
        Arc length of the location from the root's base [cm].
    times : array_like
        Times [d].
    params : ExudateParameters
        A line source (``release: line``).
    radius : float
        Root radius at the location [cm].

    Returns
    -------
    ndarray
        Flux density [ug cm-2 d-1] at ``times``.

    Raises
    ------
    InputError
        For a point source (released at the tip only: no surface flux at a fixed location).

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1: moving line sources).

    Examples
    --------
    Citrate (5 cm release zone) behind a tip moving 1 cm d-1: a location 2 cm from the
    base releases from day 2 to day 7.

    >>> import numpy as np
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters, root_paths, straight_root_system
    >>> citrate = load_parameter_set(ExudateParameters, "citrate")
    >>> f = surface_flux_at(root_paths(straight_root_system(1.0, 10.0)), 0, 2.0, [1.5, 2.5, 6.5, 7.5], citrate, 0.05)
    >>> (f / (citrate.Q / (2 * np.pi * 0.05))).tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    from ..errors import InputError
    if params.release != "line":
        raise InputError(f"{params.name}: a point source releases at the tip only; a surface flux "
                         "at a fixed location needs a line source", field="release")
    if not radius > 0:
        raise InputError("the root radius at the location must be > 0 cm", field="radius")
    t_nodes, _, arcs = paths.root(root)
    t = np.asarray(times, float)
    t_pass = float(np.interp(arc, arcs, t_nodes))            # when the tip passed the location
    tip = np.interp(t, t_nodes, arcs)                        # the tip's arc length S(t)
    end = t_nodes[-1] if params.stopped_roots == "stop" else np.inf
    on = (t >= t_pass) & (tip - arc <= params.release_length + 1e-12) & (t <= end)
    return np.where(on, params.Q / (2.0 * np.pi * radius), 0.0)
