"""Hotspots of rhizodeposits: volume, overlap between roots, duration.

A *hotspot* is soil where the liquid concentration exceeds a threshold (Landl et al.
2021). Thresholds given per dry soil mass are converted with
:func:`~rhizoscale.rhizodeposition.parameters.threshold_to_liquid`.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["hotspot_volume", "overlap_share", "hotspot_duration_update", "hotspot_statistics"]


def hotspot_volume(concentration, threshold: float, cell_volume: float) -> float:
    """Volume [cm3] of soil where ``concentration > threshold`` [ug cm-3].

    Parameters
    ----------
    concentration : array
        Voxel-averaged liquid concentration [ug cm-3].
    threshold : float
        Hotspot threshold as a liquid concentration [ug cm-3] (see
        :attr:`ExudateParameters.threshold_liquid
        <rhizoscale.rhizodeposition.ExudateParameters.threshold_liquid>`).
    cell_volume : float
        Volume of one voxel [cm3].

    Returns
    -------
    float
        Hotspot volume [cm3].

    References
    ----------
    Landl, M., et al. (2021), Front. Plant Sci. (hotspot definition).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.rhizodeposition import hotspot_volume
    >>> hotspot_volume(np.array([0.0, 1500.0, 2000.0]), 1298.0, cell_volume=1e-3)
    0.002
    """
    return float(np.count_nonzero(np.asarray(concentration) > threshold) * cell_volume)


def overlap_share(concentration, single_root_max, threshold: float) -> float:
    """Share of the hotspot volume that exists only because roots overlap [1].

    A voxel counts when the total concentration exceeds the threshold but no single root
    alone does (``single_root_max <= threshold``). The per-voxel maximum over roots does
    not depend on the order of the roots. NaN when there is no hotspot.

    Parameters
    ----------
    concentration : array
        Liquid concentration of all roots together [ug cm-3].
    single_root_max : array
        Largest concentration any single root produces alone in each voxel [ug cm-3]
        (:attr:`FieldSnapshot.single_root_max`).
    threshold : float
        Hotspot threshold [ug cm-3].

    Returns
    -------
    float
        Overlap share [1], NaN without hotspot.

    References
    ----------
    Landl et al. (2021): more than 50 % for citrate, about 10 % for mucilage.

    Examples
    --------
    Two hot voxels, of which one is hot only because two roots add up:

    >>> import numpy as np
    >>> from rhizoscale.rhizodeposition import overlap_share
    >>> overlap_share(np.array([2.0, 2.0, 0.5]), np.array([1.5, 0.5, 0.5]), threshold=1.0)
    0.5
    """
    c = np.asarray(concentration)
    hot = c > threshold
    n_hot = np.count_nonzero(hot)
    if n_hot == 0:
        return float("nan")
    only_overlap = hot & (np.asarray(single_root_max) <= threshold)
    return float(np.count_nonzero(only_overlap) / n_hot)


def hotspot_duration_update(duration, concentration, threshold: float, dt: float):
    """Add ``dt`` days to every voxel above the threshold (in place); returns ``duration``.

    Called once per output time with the output interval, it accumulates the number of
    days each voxel spent above the threshold (sampled at the output times).

    Parameters
    ----------
    duration : float array
        Days above the threshold so far [d]; updated in place.
    concentration : array
        Liquid concentration at this output time [ug cm-3], same shape.
    threshold : float
        Hotspot threshold [ug cm-3].
    dt : float
        Output interval [d].

    Returns
    -------
    ndarray
        ``duration``.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.rhizodeposition import hotspot_duration_update
    >>> days_hot = np.zeros(3)
    >>> for c in ([0.0, 2.0, 2.0], [0.0, 0.5, 2.0]):           # two daily outputs
    ...     _ = hotspot_duration_update(days_hot, np.array(c), 1.0, dt=1.0)
    >>> days_hot
    array([0., 1., 2.])
    """
    duration += (np.asarray(concentration) > threshold) * dt
    return duration


@numba.njit(parallel=True, cache=True)
def _hotspot_pass(c, threshold, dt, update, duration):
    """One pass over the grid: count of voxels above ``threshold``, the largest value, and
    ``duration += dt`` where above (float64 sum rounded to the duration's dtype, as NumPy's
    in-place add does) when ``update``. Threads own z slabs; the count and the maximum are exact whatever
    the thread count."""
    nz = c.shape[0]
    counts = np.zeros(nz, np.int64)
    peaks = np.full(nz, -np.inf)
    for a in numba.prange(nz):
        n = 0
        v = -np.inf
        for b in range(c.shape[1]):
            for k in range(c.shape[2]):
                x = c[a, b, k]
                if x > v or x != x:          # NaN propagates like ndarray.max
                    v = x
                if x > threshold:
                    n += 1
                    if update:
                        duration[a, b, k] = np.float64(duration[a, b, k]) + dt
        counts[a] = n
        peaks[a] = v
    peak = -np.inf
    for a in range(nz):
        if peaks[a] > peak or peaks[a] != peaks[a]:
            peak = peaks[a]
    return counts.sum(), peak


def hotspot_statistics(concentration, threshold: float, cell_volume: float, duration=None, dt: float = 0.0,
                       hot_single_root_max=None, hot_single_root_exceeds=None):
    """The per-output-time hotspot figures in one pass over the grid (what a CS1 run records).

    Equal to :func:`hotspot_volume`, ``concentration.max()``, :func:`hotspot_duration_update`
    (when ``duration`` is given) and :func:`overlap_share`, which are its specification
    (tests compare), without the full-grid temporaries: ``hot_single_root_max`` holds the
    single-root maxima at the voxels above ``threshold`` only (any order;
    :attr:`FieldSnapshot.hot_single_root_max
    <rhizoscale.rhizodeposition.field.FieldSnapshot.hot_single_root_max>`).

    Parameters
    ----------
    concentration : float64 array (z, y, x)
        Voxel-averaged liquid concentration [ug cm-3].
    threshold : float
        Hotspot threshold [ug cm-3].
    cell_volume : float
        Volume of one voxel [cm3].
    duration : float array, optional
        Days above the threshold so far [d], same shape; ``dt`` is added where above (in place).
    dt : float
        Output interval [d].
    hot_single_root_max : 1D array, optional
        Largest single-root concentration at each voxel above ``threshold`` [ug cm-3].
    hot_single_root_exceeds : 1D bool array, optional
        Instead of the maxima: whether one root alone exceeds ``threshold`` there
        (``hot_single_root_max > threshold``).

    Returns
    -------
    dict
        ``hotspot_volume`` [cm3], ``max_concentration`` [ug cm-3] and ``overlap_share``
        [1] (NaN without hotspot or without ``hot_single_root_max`` / ``hot_single_root_exceeds``).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.rhizodeposition import hotspot_statistics
    >>> c = np.array([[[0.0, 2.0, 2.0, 0.5]]])
    >>> days_hot = np.zeros(c.shape, np.float32)
    >>> stats = hotspot_statistics(c, 1.0, 1e-3, days_hot, dt=1.0, hot_single_root_max=[1.5, 0.5])
    >>> stats["hotspot_volume"], stats["max_concentration"], stats["overlap_share"], days_hot.ravel().tolist()
    (0.002, 2.0, 0.5, [0.0, 1.0, 1.0, 0.0])
    """
    c = np.asarray(concentration)
    fast = (c.ndim == 3 and c.dtype == np.float64 and c.size > 0 and c.flags.c_contiguous
            and (duration is None or (isinstance(duration, np.ndarray) and duration.shape == c.shape
                                      and duration.flags.c_contiguous and duration.flags.writeable)))
    if fast:
        update = duration is not None
        n_hot, peak = _hotspot_pass(c, float(threshold), float(dt), update,
                                    duration if update else np.zeros((1, 1, 1), np.float32))
        n_hot, peak = int(n_hot), float(peak)
    else:                       # the specification, for other layouts and types
        if duration is not None:
            hotspot_duration_update(duration, c, threshold, dt)
        n_hot = int(np.count_nonzero(c > threshold))
        peak = float(c.max())
    share = float("nan")
    if hot_single_root_max is not None and n_hot > 0:
        m = np.asarray(hot_single_root_max)
        if len(m) != n_hot:
            raise ValueError(f"{len(m)} single-root maxima for {n_hot} voxels above the threshold")
        share = float(np.count_nonzero(m <= threshold) / n_hot)
    elif hot_single_root_exceeds is not None and n_hot > 0:
        e = np.asarray(hot_single_root_exceeds, bool)
        if len(e) != n_hot:
            raise ValueError(f"{len(e)} single-root flags for {n_hot} voxels above the threshold")
        share = float(np.count_nonzero(~e) / n_hot)
    return {"hotspot_volume": float(n_hot * cell_volume), "max_concentration": peak, "overlap_share": share}
