"""Releases cut into particles: the quadrature of the Green's-function integral.

Mass released before an output time ``T`` is cut into particles (position, mass, mean
release time, root), so that each is spread with its exact voxel-averaged Gaussian kernel
(:mod:`.deposition`); see :mod:`.field` for the error bounds of the cuts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .green import RootPaths
from .parameters import ExudateParameters

__all__ = ["FieldDiscretisation"]

_GL = 1.0 / math.sqrt(3.0)   # 2-point Gauss-Legendre nodes at +-1/sqrt(3)


@dataclass(frozen=True)
class FieldDiscretisation:
    """Accuracy knobs of the grid fields (see the module docstring for the error bounds).

    The defaults give a relative error of about 0.3 % (variance spread within an age
    chunk) and below 1e-3 (particle spacing); tests check 0.5 % against the exact
    steady state and adaptive quadrature.

    Attributes
    ----------
    spacing : float
        Particle spacing in units of the smallest kernel width of their chunk.
    age_ratio : float
        Largest growth factor of the kernel variance within one age chunk.
    youngest_age : float
        Age [d] below which releases form one chunk.
    n_sigma : float
        Kernel cut-off in standard deviations per axis.

    Examples
    --------
    >>> from rhizoscale.rhizodeposition import FieldDiscretisation
    >>> FieldDiscretisation(age_ratio=1.05)      # finer age chunks: more particles, smaller error
    FieldDiscretisation(spacing=1.0, age_ratio=1.05, youngest_age=1e-05, n_sigma=6.0)
    """

    spacing: float = 1.0
    age_ratio: float = 1.125
    youngest_age: float = 1e-5
    n_sigma: float = 6.0


@numba.njit(cache=True)
def _lerp_sorted(x, xp, fp, first):
    """Linear interpolation in ascending ``xp`` with ``xp[0] < x < xp[-1]``; where ``xp``
    repeats a value (a tip that stood still), ``first`` picks the first such node."""
    lo, hi = 0, xp.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] < x or (not first and xp[mid] == x):
            lo = mid
        else:
            hi = mid
    d = xp[hi] - xp[lo]
    if d <= 0.0:
        return fp[hi]
    return fp[lo] + (fp[hi] - fp[lo]) * (x - xp[lo]) / d


@numba.njit(cache=True)
def _interp(x, xp, fp):
    """``np.interp`` for one point (constant beyond the ends)."""
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    return _lerp_sorted(x, xp, fp, False)


@numba.njit(cache=True)
def _inv_arc(s, arc, tm):
    """First time the tip reached arc length ``s`` (inf if never)."""
    n = arc.shape[0]
    if s > arc[n - 1]:
        return np.inf
    if s <= arc[0]:
        return tm[0]
    return _lerp_sorted(s, arc, tm, True)


@numba.njit(cache=True)
def _push(buf, n, x, y, z, m, t, r):
    if n < buf.shape[0]:
        buf[n, 0] = x
        buf[n, 1] = y
        buf[n, 2] = z
        buf[n, 3] = m
        buf[n, 4] = t
        buf[n, 5] = r
    return n + 1


@numba.njit(cache=True)
def _particles_kernel(ptr, ptime, ppos, parc, T, t_lo, t_hi, line, Q, l_rel, keep_line, w2, Dr,
                      age_edges, spacing, kr, buf):
    """Fill ``buf`` rows (x, y, z, mass, release time, root); return the count (may exceed size)."""
    n = 0
    n_edges = age_edges.shape[0]
    for r in range(ptr.shape[0] - 1):
        i0, i1 = ptr[r], ptr[r + 1]
        if i1 - i0 < 2:
            continue
        tm = ptime[i0:i1]
        pos = ppos[i0:i1]
        arc = parc[i0:i1]
        if arc[arc.shape[0] - 1] <= 0.0:
            continue
        t_start = tm[0]
        t_stop = tm[tm.shape[0] - 1]
        t_end = min(t_stop, T) if (not line or not keep_line) else T
        lo = max(t_start, t_lo)
        hi = min(t_end, t_hi)
        if hi <= lo:
            continue
        # chunk edges: release times T - age_edges within [lo, hi] (and node times for points)
        for e in range(n_edges - 1):
            a = max(lo, T - age_edges[e + 1])
            b = min(hi, T - age_edges[e])
            if b <= a:
                continue
            s_min2 = w2 + 2.0 * Dr * (T - b)
            sig_min = math.sqrt(s_min2) if s_min2 > 0 else 1e-300
            step = spacing * sig_min
            if not line:
                # split at node times, then by path length
                k = 0
                while k < tm.shape[0] - 1:
                    ta = max(a, tm[k])
                    tb = min(b, tm[k + 1])
                    k += 1
                    if tb <= ta:
                        continue
                    d = 0.0
                    for c in range(3):
                        pa = _interp(ta, tm, pos[:, c])
                        pb = _interp(tb, tm, pos[:, c])
                        d += (pb - pa) ** 2
                    npiece = max(1, int(math.ceil(math.sqrt(d) / step)))
                    h = (tb - ta) / npiece
                    for p in range(npiece):
                        mid = ta + (p + 0.5) * h
                        for g in range(2):
                            tg = mid + (g * 2 - 1) * _GL * 0.5 * h
                            n = _push(buf, n, _interp(tg, tm, pos[:, 0]), _interp(tg, tm, pos[:, 1]),
                                      _interp(tg, tm, pos[:, 2]), Q * 0.5 * h, tg, r)
            else:
                # release zone swept during [a, b]: arcs [S(a) - l, S(b)]
                sa = _interp(a, tm, arc)
                sb = _interp(b, tm, arc)
                s_lo = max(0.0, sa - l_rel)
                s_hi = sb
                if s_hi <= s_lo:
                    continue
                # breakpoints: path nodes, the zone ends and the nodes shifted by l
                m = 0
                bp = np.empty(2 * arc.shape[0] + 4)
                bp[m] = s_lo
                m += 1
                bp[m] = s_hi
                m += 1
                for q in (sa, sb - l_rel, sa - l_rel):
                    if s_lo < q < s_hi:
                        bp[m] = q
                        m += 1
                for j in range(arc.shape[0]):
                    if s_lo < arc[j] < s_hi:
                        bp[m] = arc[j]
                        m += 1
                    q = arc[j] - l_rel
                    if s_lo < q < s_hi:
                        bp[m] = q
                        m += 1
                bps = np.sort(bp[:m])
                s_final = arc[arc.shape[0] - 1]
                for j in range(m - 1):
                    u0, u1 = bps[j], bps[j + 1]
                    if u1 <= u0:
                        continue
                    npiece = max(1, int(math.ceil((u1 - u0) / step)))
                    h = (u1 - u0) / npiece
                    for p in range(npiece):
                        mid = u0 + (p + 0.5) * h
                        for g in range(2):
                            sg = mid + (g * 2 - 1) * _GL * 0.5 * h
                            t_in = max(a, _inv_arc(sg, arc, tm))
                            if sg + l_rel > s_final:
                                t_out = b if keep_line else min(b, t_stop)
                            else:
                                t_out = min(b, _inv_arc(sg + l_rel, arc, tm))
                            if t_out <= t_in:
                                continue
                            x = _interp(sg, arc, pos[:, 0])
                            y = _interp(sg, arc, pos[:, 1])
                            z = _interp(sg, arc, pos[:, 2])
                            # exact mean of the decay factor over the release interval
                            half = 0.5 * kr * (t_out - t_in)
                            f = math.sinh(half) / half if half > 1e-8 else 1.0
                            n = _push(buf, n, x, y, z, Q * 0.5 * h * (t_out - t_in) * f, 0.5 * (t_in + t_out), r)
    return n


def _age_edges(T: float, params: ExudateParameters, disc: FieldDiscretisation) -> np.ndarray:
    w2, Dr = params.source_width ** 2, params.diffusivity_retarded
    edges = [0.0, min(disc.youngest_age, T)]
    if w2 > 0:
        # with a source width the kernel barely changes at first: the first chunk may be longer
        edges[1] = max(edges[1], min(T, (disc.age_ratio - 1) * w2 / (2 * Dr)))
    while edges[-1] < T:
        tau = edges[-1]
        s2 = w2 + 2 * Dr * tau
        edges.append(min(T, tau + (disc.age_ratio - 1) * s2 / (2 * Dr)))
    return np.asarray(edges + [np.inf])


def _particles(paths: RootPaths, T, params, disc, t_lo=-np.inf, t_hi=np.inf) -> np.ndarray:
    age_edges = _age_edges(T, params, disc)
    size = 4096
    while True:
        buf = np.empty((size, 6))
        n = _particles_kernel(paths.ptr, paths.time, paths.pos, paths.arc, float(T), float(t_lo),
                              float(t_hi), params.release == "line", params.Q, params.release_length,
                              params.stopped_roots == "continue", params.source_width ** 2,
                              params.diffusivity_retarded, age_edges, disc.spacing,
                              params.decay_retarded, buf)
        if n <= size:
            return buf[:n]
        size = n
