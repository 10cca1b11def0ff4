"""Geometric transforms of labelled images: crop and coarsen (majority vote)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..core.image import Image

__all__ = ["crop", "coarsen"]


def crop(image: Image, lower: Sequence[int], upper: Sequence[int]) -> Image:
    """The voxels ``lower[a] <= i_a < upper[a]`` along every axis (array order z, y, x).

    Parameters
    ----------
    image : Image
        A labelled image.
    lower, upper : sequence of int
        Voxel index bounds per array axis (upper exclusive).

    Returns
    -------
    Image
        The sub-image (same voxel size and phases; the box is recorded in its metadata).

    Raises
    ------
    InputError
        An empty or out-of-range box.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.transform import coarsen, crop
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> crop(image, [0, 2], [3, 4])
    Image(3 x 2 voxels of 0.1 x 0.1 cm, phases ['air', 'soil', 'root'])
    """
    lower = np.asarray(lower, int)
    upper = np.asarray(upper, int)
    if lower.size != image.ndim or upper.size != image.ndim:
        raise InputError(f"crop needs {image.ndim} lower and upper indices", source="crop")
    if np.any(lower < 0) or np.any(upper > image.shape) or np.any(upper <= lower):
        raise InputError(f"crop box {lower.tolist()}..{upper.tolist()} is empty or outside the "
                         f"image {image.shape}", source="crop")
    sl = tuple(slice(a, b) for a, b in zip(lower, upper))
    return Image(image.labels[sl].copy(), image.voxel_size, image.phases,
                 {**image.metadata, "crop": [lower.tolist(), upper.tolist()]})


def coarsen(image: Image, factor: int | Sequence[int], priority: Sequence[str] | None = None) -> Image:
    """Merge blocks of ``factor`` voxels into one by majority vote.

    Each coarse voxel takes the most frequent label of its block. **Ties** are broken by
    ``priority`` (phase names, earliest wins), by default the phase-table order, so that
    the outcome never depends on label values; pass e.g. ``priority=["root", "hair"]`` to
    keep thin structures such as root hairs from vanishing in a tie. Trailing voxels that
    do not fill a block are dropped (crop first to choose which).

    Parameters
    ----------
    image : Image
        A labelled image.
    factor : int or one int per axis
        Block size (>= 1).
    priority : sequence of phase names, optional
        Tie-breaking order; phases not listed follow in phase-table order.

    Returns
    -------
    Image
        Voxels ``factor`` times larger.

    Raises
    ------
    InputError
        A factor below 1 or larger than the image, or an unknown phase in ``priority``.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> from rhizoscale.image.transform import coarsen, crop
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> coarse = coarsen(image, 2)             # the last row does not fill a block: dropped
    >>> coarse.labels, coarse.voxel_size
    (array([[0, 1]]), (0.2, 0.2))
    """
    f = np.broadcast_to(np.asarray(factor, int), (image.ndim,))
    if np.any(f < 1):
        raise InputError(f"coarsening factor must be >= 1, got {factor}", source="coarsen")
    new_shape = tuple(int(n // k) for n, k in zip(image.shape, f))
    if min(new_shape) < 1:
        raise InputError(f"factor {f.tolist()} is larger than the image {image.shape}", source="coarsen")
    order = list(priority or [])
    for p in image.phases:
        if p.name not in order:
            order.append(p.name)
    by_name = {p.name: p for p in image.phases}
    unknown = [n for n in order if n not in by_name]
    if unknown:
        raise InputError(f"unknown phases in priority: {unknown}", source="coarsen", field="priority")
    labels = image.labels[tuple(slice(0, n * k) for n, k in zip(new_shape, f))]
    # block view: (n0, k0, n1, k1, ...) -> counts per phase
    blocks = labels.reshape(sum(((n, k) for n, k in zip(new_shape, f)), ()))
    axes = tuple(range(1, 2 * image.ndim, 2))
    best = np.zeros(new_shape, dtype=labels.dtype)
    best_count = np.full(new_shape, -1, dtype=np.int64)
    for name in order:  # strict '>' keeps the earlier (higher-priority) phase in a tie
        lab = by_name[name].label
        count = np.count_nonzero(blocks == lab, axis=axes)
        win = count > best_count
        best[win] = lab
        best_count[win] = count[win]
    vs = tuple(v * k for v, k in zip(image.voxel_size, f))
    return Image(best, vs, image.phases, {**image.metadata, "coarsened_by": f.tolist()})
