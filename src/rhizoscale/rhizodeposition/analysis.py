"""Hotspots of rhizodeposits: volume, overlap between roots, duration.

A *hotspot* is soil where the liquid concentration exceeds a threshold (Landl et al.
2021). Thresholds given per dry soil mass are converted with
:func:`~rhizoscale.rhizodeposition.parameters.threshold_to_liquid`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["hotspot_volume", "overlap_share", "hotspot_duration_update"]


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
