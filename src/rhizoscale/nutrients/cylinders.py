"""The soil around a root segment on a 3D grid: cylinder volumes and rings.

The coupling of the per-segment rhizosphere models to the 3D soil needs three
operators that depend on the segment and a radius but **not** on the 3D cell size
(so that refining the 3D grid refines the answer rather than changing the model):

* :func:`cylinder_cell_weights` — the share of the cylinder of radius ``R`` around a
  segment that lies in each cell (the soil "within R" of the segment; used for the
  soil a rhizosphere model stands for, ``R = r1``, and for where the root-surface
  fluxes enter the soil, ``R = r0``, the root's own cross-section);
* :func:`ring_interpolation_weights` — trilinear interpolation of a cell-centred field
  averaged over the cylinder surface at distance ``R`` (the outer boundary value of a
  rhizosphere model, ``R = r1``);
* :func:`support_outer_radius` — ``r1 = 1/sqrt(pi RLD)`` with the root length density
  taken over a fixed averaging grid (the "support"), not over the 3D cells.

Both weight functions sample the cylinder with points spaced at most half the
smallest cell size (so each cell's share converges as the sampling is refined with
the grid) and return, per segment, weights that sum to exactly 1. Points beyond a
wall of the box are mirrored back into it: for no-flux walls the field outside is
the mirror image of the field inside (method of images), and mirroring keeps every
source inside the box, so mass is conserved exactly.

Units: cm.
"""

from __future__ import annotations

import numpy as np

from ..errors import ResourceError
from ..core.grid import RegularGrid, segment_cell_lengths

__all__ = ["cylinder_cell_weights", "ring_interpolation_weights", "support_outer_radius"]

_GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def _perpendicular_basis(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (m, 3) perpendicular to the unit directions ``t`` and to each other."""
    e = np.zeros_like(t)
    e[np.arange(len(t)), np.argmin(np.abs(t), axis=1)] = 1.0
    u = np.cross(t, e)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u, np.cross(t, u)


def _mirror_into(grid: RegularGrid, p: np.ndarray) -> np.ndarray:
    """Reflect points at the walls of the box (repeatedly, then clip round-off)."""
    lo = np.asarray(grid.lower)
    hi = np.asarray(grid.upper)
    span = hi - lo
    # fold with period 2*span: x -> lo + |((x - lo) mod 2 span) - ...| mirror image
    q = np.mod(p - lo, 2.0 * span)
    q = np.where(q > span, 2.0 * span - q, q)
    return np.clip(lo + q, lo, hi)


#: memory per sample point while weights are formed (coordinates, indices, weights) [bytes]
POINT_BYTES = 120
#: largest sample set formed at once [bytes]
MAX_SAMPLE_BYTES = 4 * 2**30


def _sample_counts(grid: RegularGrid, lengths, radius, per_area: bool):
    s = 0.5 * float(np.min(grid.spacing))  # sample spacing: half the smallest cell
    n_ax = np.maximum(1, np.ceil(lengths / s)).astype(np.int64)
    if per_area:
        n_cs = np.maximum(1, np.ceil(np.pi * radius**2 / s**2)).astype(np.int64)
    else:
        n_cs = np.maximum(8, np.ceil(2.0 * np.pi * radius / s)).astype(np.int64)
    return n_ax, n_cs


def _points(a, b, radius, n_ax, n_cs, disk: bool):
    """Sample points of each segment's cylinder (disk) or cylinder surface (ring).

    Returns the segment index of each point and the points (P, 3). Axial positions
    are the midpoints of ``n_ax`` equal pieces; cross-sections use a Vogel spiral
    (equal-area, quasi-uniform) for disks or equally spaced angles for rings.
    """
    m = len(a)
    per_seg = n_ax * n_cs
    total = int(per_seg.sum())
    if total * POINT_BYTES > MAX_SAMPLE_BYTES:
        raise ResourceError(
            f"sampling the soil around {m} root segments needs {total:,} points "
            f"(~{total * POINT_BYTES / 2**30:.1f} GiB, limit {MAX_SAMPLE_BYTES / 2**30:.0f} GiB): the 3D cells are "
            "very small against r1; use a coarser 3D grid (resolution_cm) or a smaller rld_support_cm")
    seg = np.repeat(np.arange(m), per_seg)
    start = np.cumsum(per_seg) - per_seg
    j = np.arange(per_seg.sum()) - np.repeat(start, per_seg)
    ncs = n_cs[seg]
    i_ax = j // ncs
    k = j % ncs
    d = b - a
    length = np.linalg.norm(d, axis=1)
    t = d / np.where(length > 0, length, 1.0)[:, None]
    t[length == 0] = (0.0, 0.0, 1.0)
    u, v = _perpendicular_basis(t)
    frac = (i_ax + 0.5) / n_ax[seg]
    if disk:
        rho = radius[seg] * np.sqrt((k + 0.5) / ncs)
        phi = k * _GOLDEN_ANGLE
    else:
        rho = radius[seg]
        phi = 2.0 * np.pi * (k + 0.5) / ncs
    p = (a[seg] + frac[:, None] * d[seg]
         + (rho * np.cos(phi))[:, None] * u[seg] + (rho * np.sin(phi))[:, None] * v[seg])
    return seg, p


def _aggregate(seg, cell, w, m, n_cells):
    """Sum weights per (segment, cell) and normalise each segment's weights to 1."""
    key = seg.astype(np.int64) * n_cells + cell
    uniq, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=w)
    s = uniq // n_cells
    c = uniq % n_cells
    norm = np.bincount(s, weights=wsum, minlength=m)
    return s, c, wsum / norm[s]


def cylinder_cell_weights(grid: RegularGrid, a, b, radius):
    """Share of the cylinder of radius ``radius`` around each segment in each cell.

    Parameters
    ----------
    grid : RegularGrid
        The 3D soil grid [cm].
    a, b : (m, 3) arrays
        Segment end points [cm].
    radius : (m,) array
        Cylinder radius [cm].

    Returns
    -------
    seg, cell, weight : arrays
        Sparse (segment, cell, share) triplets; the shares of each segment sum to 1.
        Parts of the cylinder beyond a wall are mirrored back into the box.

    Examples
    --------
    A cylinder of radius 0.3 cm whose axis is 0.1 cm from the plane x = 1 cm: the
    share beyond the plane approaches the circular segment's area fraction
    ``(t - sin t) / (2 pi)``, ``t = 2 acos(1/3)``, 0.292:

    >>> import numpy as np
    >>> from rhizoscale.core.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((0, 0, 0), (2, 2, 1), 0.1)     # [cm]
    >>> a, b = np.array([[0.9, 0.5, 0.0]]), np.array([[0.9, 0.5, 1.0]])    # a vertical segment
    >>> x = np.broadcast_to(grid.centers("x"), grid.shape).ravel()          # cell centres [cm]
    >>> seg, cell, weight = cylinder_cell_weights(grid, a, b, [0.3])
    >>> round(float(weight.sum()), 12), round(float(weight[x[cell] > 1.0].sum()), 3)
    (1.0, 0.281)
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    radius = np.asarray(radius, float)
    n_ax, n_cs = _sample_counts(grid, np.linalg.norm(b - a, axis=1), radius, per_area=True)
    seg, p = _points(a, b, radius, n_ax, n_cs, disk=True)
    cell, _ = grid.cell_index(_mirror_into(grid, p))
    return _aggregate(seg, cell, np.ones(len(seg)) / (n_ax * n_cs)[seg], len(a), grid.n_cells)


def ring_interpolation_weights(grid: RegularGrid, a, b, radius):
    """Weights that average a cell-centred field over the cylinder surface at ``radius``.

    The field is interpolated trilinearly between cell centres (constant beyond the
    outermost centres, as for a no-flux wall) at points spread over the surface of the
    cylinder of radius ``radius`` around each segment, and averaged.

    Parameters
    ----------
    grid : RegularGrid
        The 3D soil grid [cm].
    a, b : (m, 3) arrays
        Segment end points [cm].
    radius : (m,) array
        Radius of the cylinder surface [cm].

    Returns
    -------
    seg, cell, weight : arrays
        Sparse triplets; ``value[seg] = sum(weight * field[cell])``; the weights of each
        segment sum to 1.

    Examples
    --------
    The mean of a linear field over a circle is its value on the axis:

    >>> import numpy as np
    >>> from rhizoscale.core.grid import RegularGrid
    >>> grid = RegularGrid.from_resolution((0, 0, 0), (2, 2, 1), 0.1)     # [cm]
    >>> a, b = np.array([[0.9, 0.5, 0.0]]), np.array([[0.9, 0.5, 1.0]])    # a vertical segment
    >>> x = np.broadcast_to(grid.centers("x"), grid.shape).ravel()          # cell centres [cm]
    >>> seg, cell, weight = ring_interpolation_weights(grid, a, b, [0.3])
    >>> np.bincount(seg, weight * x[cell])            # mean of x over the ring [cm]
    array([0.9])
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    radius = np.asarray(radius, float)
    n_ax, n_cs = _sample_counts(grid, np.linalg.norm(b - a, axis=1), radius, per_area=False)
    seg, p = _points(a, b, radius, n_ax, n_cs, disk=False)
    p = _mirror_into(grid, p)
    nz, ny, nx = grid.shape
    n_xyz = np.array([nx, ny, nz])
    f = (p - np.asarray(grid.lower)) / grid.spacing - 0.5
    f = np.clip(f, 0.0, n_xyz - 1)
    i0 = np.minimum(np.floor(f).astype(np.int64), np.maximum(n_xyz - 2, 0))
    w1 = f - i0
    i1 = np.minimum(i0 + 1, n_xyz - 1)
    base_w = 1.0 / (n_ax * n_cs)[seg]
    segs, cells, ws = [], [], []
    for corner in range(8):  # the 8 corners of the interpolation cube (fixed, not per segment)
        pick = [(corner >> axis) & 1 for axis in range(3)]
        idx = [np.where(pick[ax], i1[:, ax], i0[:, ax]) for ax in range(3)]
        w = base_w.copy()
        for ax in range(3):
            w *= np.where(pick[ax], w1[:, ax], 1.0 - w1[:, ax])
        segs.append(seg)
        cells.append((idx[2] * ny + idx[1]) * nx + idx[0])
        ws.append(w)
    seg = np.concatenate(segs)
    cell = np.concatenate(cells)
    w = np.concatenate(ws)
    keep = w > 0
    return _aggregate(seg[keep], cell[keep], w[keep], len(a), grid.n_cells)


def support_outer_radius(support: RegularGrid, a, b, r0, *, min_factor: float = 3.0,
                         max_radius: float | None = None):
    """Half the mean inter-root distance from the root length density over a fixed support.

    ``r1 = 1/sqrt(pi RLD)`` where RLD is the root length of the given segments per
    volume of the ``support`` grid's cells, averaged over the support cells each
    segment crosses (weighted by its length in them), and floored at
    ``min_factor * r0`` and capped at ``max_radius``. The support is a fixed averaging volume (a physical
    parameter: the scale over which roots count as neighbours), independent of the
    3D grid the soil is solved on.

    Parameters
    ----------
    support : RegularGrid
        Averaging grid (cells of the support size) [cm].
    a, b : (m, 3) arrays
        End points of the active segments [cm].
    r0 : (m,) array
        Root radii [cm].
    min_factor : float
        Floor of ``r1 / r0``.
    max_radius : float, optional
        Cap of ``r1`` [cm] (a short tip alone in a support cell would otherwise get a
        cylinder far wider than the support itself).

    Returns
    -------
    (m,) array
        Outer radii [cm].

    References
    ----------
    Barber, S. A. (1995). Soil Nutrient Bioavailability (2nd ed.), ch. 5. Wiley.

    Examples
    --------
    1.6 cm of root in one 8 cm3 support cell: RLD = 0.2 cm cm-3, ``r1 = 1/sqrt(pi RLD)``:

    >>> import numpy as np
    >>> from rhizoscale.core.grid import RegularGrid
    >>> support = RegularGrid.from_resolution((0, 0, 0), (2, 2, 2), 2.0)
    >>> support_outer_radius(support, [[0.5, 0.5, 0.2]], [[0.5, 0.5, 1.8]], [0.02])
    array([1.26156626])
    >>> round(float(1 / np.sqrt(np.pi * 0.2)), 8)
    1.26156626
    """
    m = len(a)
    if m == 0:
        return np.zeros(0)
    ps, pc, pl = segment_cell_lengths(support, np.asarray(a, float), np.asarray(b, float))
    rld = np.bincount(pc, weights=pl, minlength=support.n_cells) / support.cell_volume
    inside = np.bincount(ps, weights=pl, minlength=m)
    mean_rld = np.bincount(ps, weights=pl * rld[pc], minlength=m) / np.where(inside > 0, inside, 1.0)
    r1 = 1.0 / np.sqrt(np.pi * np.maximum(mean_rld, 1e-300))
    if max_radius is not None:
        r1 = np.minimum(r1, max_radius)
    return np.maximum(r1, min_factor * np.asarray(r0, float))
