"""Connectivity of the conducting phase: which clusters can carry a macroscopic flux.

Two voxels are connected when they share a face and both conduct (the finite-volume
conductance between them is then positive). In a periodic cell a cluster carries flux
only if it *wraps around* the cell: following it from one copy of the cell one arrives
in another copy. A cluster that does not wrap (an island, even one cut by the cell
boundary) has the exact cell solution ``chi_j = -y_j + const`` and zero flux, so it is
removed from the linear system (it would otherwise add a null space per island).

The winding vectors of a cluster (integer numbers of cell periods gained along closed
paths) span the directions in which it conducts; the effective tensor has its range in
the span of all winding vectors (a flux normal to that span would have to cross an
impermeable slab of the tiled medium).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._kernels import first_voxel_of_label

__all__ = ["PeriodicClusters", "periodic_clusters", "spanning_clusters"]


def _face_structure(ndim: int) -> np.ndarray:
    return ndimage.generate_binary_structure(ndim, 1)


@dataclass(frozen=True)
class PeriodicClusters:
    """Clusters of the conducting phase in a periodic cell.

    Attributes
    ----------
    kept : bool array
        Voxels of the clusters that wrap around the cell (carry flux).
    anchors : int array
        Flat index of one voxel per kept cluster (its value is pinned: the periodic
        cell problem determines ``chi`` up to one constant per cluster).
    windings : (k, ndim) int array
        Winding vectors found (cell periods along each array axis).
    n_clusters : int
        Number of periodic clusters (islands included).
    n_kept : int
        Number of wrapping clusters.

    Examples
    --------
    A horizontal channel that wraps around the cell (kept) and an island (dropped):

    >>> import numpy as np
    >>> conducting = np.zeros((4, 6), bool)
    >>> conducting[1, :] = True
    >>> conducting[3, 1:3] = True
    >>> clusters = periodic_clusters(conducting)
    >>> clusters.n_clusters, clusters.n_kept, clusters.anchors
    (2, 1, array([6]))
    >>> clusters.conducting_directions([0.4, 0.6])      # conducts along axis 1 only
    array([[0., 1.]])
    """

    kept: np.ndarray
    anchors: np.ndarray
    windings: np.ndarray
    n_clusters: int
    n_kept: int

    def conducting_directions(self, lengths) -> np.ndarray:
        """Orthonormal basis (rows) of the span of the winding vectors in physical space."""
        if len(self.windings) == 0:
            return np.zeros((0, len(lengths)))
        vecs = self.windings * np.asarray(lengths, dtype=float)
        _, s, vt = np.linalg.svd(vecs, full_matrices=False)
        rank = int(np.sum(s > 1e-9 * s.max()))
        return vt[:rank]


def periodic_clusters(conducting: np.ndarray) -> PeriodicClusters:
    """Label the conducting voxels of a periodic cell and find the clusters that wrap.

    Face-connected clusters are merged across the periodic boundary while the cell offset
    (winding) of every merge is tracked; a cluster that reaches its own copy in another
    cell wraps around and carries flux, any other (an island, even one cut by the
    boundary) does not.

    Parameters
    ----------
    conducting : bool array, 2D or 3D
        Voxels with a positive diffusivity.

    Returns
    -------
    PeriodicClusters
        Kept voxels, one anchor per kept cluster, winding vectors.

    Examples
    --------
    A channel along x (axis 1) wraps around the cell; the short piece below it does not:

    >>> import numpy as np
    >>> from rhizoscale.homogenization import periodic_clusters
    >>> conducting = np.zeros((4, 6), bool)
    >>> conducting[1, :] = True
    >>> conducting[3, 1:3] = True
    >>> clusters = periodic_clusters(conducting)
    >>> clusters.n_clusters, clusters.n_kept, int(clusters.kept.sum())
    (2, 1, 6)
    """
    conducting = np.asarray(conducting, dtype=bool)
    ndim = conducting.ndim
    labels, n = ndimage.label(conducting, structure=_face_structure(ndim))
    # edges across the periodic boundary: last slab -> first slab along each axis, offset +e_a
    edges = []
    for a in range(ndim):
        last = np.take(labels, -1, axis=a).ravel()
        first = np.take(labels, 0, axis=a).ravel()
        both = (last > 0) & (first > 0)
        if not both.any():
            continue
        pairs = np.unique(np.stack([last[both], first[both]], axis=1), axis=0)
        for u, v in pairs:
            edges.append((int(u), int(v), a))
    adjacency: dict[int, list[tuple[int, np.ndarray]]] = {}
    for u, v, a in edges:
        off = np.zeros(ndim, dtype=np.int64)
        off[a] = 1
        adjacency.setdefault(u, []).append((v, off))
        adjacency.setdefault(v, []).append((u, -off))

    root = np.arange(n + 1)  # merged cluster of each label (itself when not on the boundary)
    position: dict[int, np.ndarray] = {}
    windings = []
    wraps: set[int] = set()
    for start in adjacency:
        if start in position:
            continue
        position[start] = np.zeros(ndim, dtype=np.int64)
        stack = [start]
        while stack:
            u = stack.pop()
            root[u] = start
            for v, off in adjacency[u]:
                expected = position[u] + off
                if v not in position:
                    position[v] = expected
                    stack.append(v)
                else:
                    w = expected - position[v]
                    if np.any(w != 0):
                        windings.append(w)
                        wraps.add(start)
    n_clusters = int(len(np.unique(root[1:]))) if n else 0
    keep_label = np.zeros(n + 1, dtype=bool)
    if wraps:
        keep_label[1:] = np.isin(root[1:], np.fromiter(wraps, dtype=np.int64))
    kept = keep_label[labels]
    first = first_voxel_of_label(labels, n)
    anchors = np.array(sorted(int(first[r]) for r in wraps), dtype=np.int64)
    wind = np.array(windings, dtype=np.int64).reshape(-1, ndim)
    if len(wind):
        wind = np.unique(wind * np.where(wind[:, :1] < 0, -1, 1), axis=0)
    return PeriodicClusters(kept=kept, anchors=anchors, windings=wind,
                            n_clusters=n_clusters, n_kept=len(wraps))


def spanning_clusters(conducting: np.ndarray, axis: int) -> np.ndarray:
    """Voxels of the clusters that touch both faces normal to ``axis`` (no periodicity).

    These carry the flux of the fixed-concentration / no-flux-sides problem along ``axis``;
    every other cluster has a constant concentration and no flux.

    Parameters
    ----------
    conducting : bool array, 2D or 3D
        Voxels with a positive diffusivity.
    axis : int
        Array axis of the imposed gradient.

    Returns
    -------
    bool array
        The voxels of the spanning clusters (same shape).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.homogenization import spanning_clusters
    >>> conducting = np.zeros((4, 6), bool)
    >>> conducting[1, :] = True
    >>> int(spanning_clusters(conducting, axis=1).sum()), int(spanning_clusters(conducting, axis=0).sum())
    (6, 0)
    """
    conducting = np.asarray(conducting, dtype=bool)
    labels, n = ndimage.label(conducting, structure=_face_structure(conducting.ndim))
    low = np.unique(np.take(labels, 0, axis=axis))
    high = np.unique(np.take(labels, -1, axis=axis))
    both = np.intersect1d(low[low > 0], high[high > 0])
    keep = np.zeros(n + 1, dtype=bool)
    keep[both] = True
    return keep[labels]
