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
