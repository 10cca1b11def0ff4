"""Regular grids shared by every case study, and root length density on them.

A :class:`RegularGrid` is a box divided into equal cells. Arrays on it are indexed
``[iz, iy, ix]`` and become :class:`xarray.DataArray` fields with dimensions
``("z", "y", "x")`` and cell-centre coordinates in cm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr

from ..errors import InputError, ResourceError

__all__ = [
    "RegularGrid",
    "segment_cell_lengths",
    "root_length_density",
    "half_mean_interroot_distance",
]


@dataclass(frozen=True)
class RegularGrid:
    """A box ``[lower, upper]`` (cm, x-y-z order) divided into ``shape`` cells (z, y, x order).

    Parameters
    ----------
    lower, upper : sequence of 3 floats
        Corners of the box [cm], in (x, y, z) order.
    shape : sequence of 3 ints
        Number of cells along (z, y, x), the array index order.

    Raises
    ------
    InputError
        Not three values each, ``upper <= lower`` on an axis, or a shape below 1.

    See Also
    --------
    RegularGrid.from_resolution : the box and a cell size instead of a shape.

    Examples
    --------
    >>> from rhizoscale import RegularGrid
    >>> grid = RegularGrid.from_resolution((-10, -10, -45), (10, 10, 0), 1.0)
    >>> grid.shape, grid.cell_volume
    ((45, 20, 20), 1.0)
    >>> grid.centers("z")[:3]
    array([-44.5, -43.5, -42.5])
    >>> grid.field(name="rld", units="cm cm-3").dims
    ('z', 'y', 'x')
    """

    lower: tuple[float, float, float]
    upper: tuple[float, float, float]
    shape: tuple[int, int, int]

    def __post_init__(self):
        lower = tuple(float(v) for v in self.lower)
        upper = tuple(float(v) for v in self.upper)
        shape = tuple(int(v) for v in self.shape)
        if len(lower) != 3 or len(upper) != 3 or len(shape) != 3:
            raise InputError("a grid needs 3 lower, 3 upper values and a 3D shape", source="grid")
        if not all(np.isfinite(lower + upper)) or any(u <= lo for lo, u in zip(lower, upper)):
            raise InputError(f"upper corner {upper} must exceed lower corner {lower}", source="grid")
        if any(n < 1 for n in shape):
            raise InputError(f"grid shape {shape} must be positive", source="grid", field="shape")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "shape", shape)

    @classmethod
    def from_resolution(cls, lower, upper, resolution) -> "RegularGrid":
        """Grid with cells of (about) ``resolution`` cm; the box is kept, cells adjusted.

        ``resolution`` is one number or three (x, y, z).
        """
        lower = np.asarray(lower, float)
        upper = np.asarray(upper, float)
        res = np.broadcast_to(np.asarray(resolution, float), (3,))
        if np.any(~np.isfinite(res)) or np.any(res <= 0):
            raise InputError(f"resolution must be positive, got {resolution}", source="grid",
                             field="resolution")
        n = np.maximum(1, np.round((upper - lower) / res).astype(int))
        return cls(tuple(lower), tuple(upper), (int(n[2]), int(n[1]), int(n[0])))

    # geometry -----------------------------------------------------------
    @property
    def spacing(self) -> np.ndarray:
        """Cell size [cm] in (x, y, z) order."""
        nz, ny, nx = self.shape
        return (np.asarray(self.upper) - np.asarray(self.lower)) / np.array([nx, ny, nz])

    @property
    def cell_volume(self) -> float:
        """Volume of one cell [cm^3]."""
        return float(np.prod(self.spacing))

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.shape))

    def centers(self, axis: str) -> np.ndarray:
        """Cell-centre coordinates [cm] along ``"x"``, ``"y"`` or ``"z"``."""
        k = "xyz".index(axis)
        n = self.shape[2 - k]
        h = self.spacing[k]
        return self.lower[k] + h * (np.arange(n) + 0.5)

    def edges(self, axis: str) -> np.ndarray:
        """Cell-face coordinates [cm] along an axis."""
        k = "xyz".index(axis)
        n = self.shape[2 - k]
        return np.linspace(self.lower[k], self.upper[k], n + 1)

    def coords(self) -> dict[str, xr.DataArray]:
        """xarray coordinates (z, y, x) with units."""
        return {
            a: xr.DataArray(self.centers(a), dims=(a,), attrs={"units": "cm", "long_name": f"{a} (cell centre)"})
            for a in ("z", "y", "x")
        }

    def field(self, values=None, *, name: str = "field", units: str = "1",
              long_name: str | None = None, dtype=np.float64) -> xr.DataArray:
        """A DataArray on this grid (zeros when ``values`` is None)."""
        if values is None:
            values = np.zeros(self.shape, dtype=dtype)
        values = np.asarray(values)
        if values.shape != self.shape:
            raise InputError(f"field shape {values.shape} does not match grid {self.shape}", field=name)
        return xr.DataArray(values, dims=("z", "y", "x"), coords=self.coords(), name=name,
                            attrs={"units": units, "long_name": long_name or name})

    def cell_index(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index of each point (x, y, z) and a mask of the points inside the box."""
        p = np.atleast_2d(np.asarray(points, float))
        rel = (p - np.asarray(self.lower)) / self.spacing
        ijk = np.floor(rel).astype(np.int64)  # (ix, iy, iz)
        n = np.array([self.shape[2], self.shape[1], self.shape[0]])
        # points exactly on the upper face belong to the last cell
        on_upper = np.isclose(p, np.asarray(self.upper))
        ijk = np.where(on_upper, n - 1, ijk)
        inside = np.all((ijk >= 0) & (ijk < n), axis=1)
        flat = np.where(inside, (ijk[:, 2] * n[1] + ijk[:, 1]) * n[0] + ijk[:, 0], -1)
        return flat, inside

    def memory_estimate(self, n_fields: int = 1, itemsize: int = 8) -> int:
        """Bytes needed for ``n_fields`` arrays on this grid."""
        return self.n_cells * n_fields * itemsize

    def check_memory(self, n_fields: int, limit_bytes: float, what: str = "this computation") -> None:
        """Refuse (with the estimate and a suggestion) if the arrays would not fit."""
        need = self.memory_estimate(n_fields)
        if need > limit_bytes:
            raise ResourceError(
                f"{what} needs about {need / 2**30:.1f} GiB for {n_fields} field(s) of "
                f"{self.n_cells:,} cells, more than the {limit_bytes / 2**30:.1f} GiB allowed; "
                "use a coarser resolution or a smaller domain"
            )


@numba.njit(cache=True)
def _segment_cell_lengths_kernel(a, b, lower, spacing, nx, ny, nz, out_seg, out_cell, out_len):
    """Cut each segment at the grid planes; emit (segment, cell, length) triples."""
    k = 0
    ts = np.empty(nx + ny + nz + 8)
    for s in range(a.shape[0]):
        d0 = b[s, 0] - a[s, 0]
        d1 = b[s, 1] - a[s, 1]
        d2 = b[s, 2] - a[s, 2]
        seg_len = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        if seg_len == 0.0:
            continue
        m = 0
        ts[m] = 0.0
        m += 1
        ts[m] = 1.0
        m += 1
        for ax in range(3):
            n = nx if ax == 0 else (ny if ax == 1 else nz)
            p0 = (a[s, ax] - lower[ax]) / spacing[ax]
            p1 = (b[s, ax] - lower[ax]) / spacing[ax]
            if p1 == p0:
                continue
            lo = min(p0, p1)
            hi = max(p0, p1)
            i0 = max(int(np.floor(lo)) + 1, 0)
            i1 = min(int(np.ceil(hi)) - 1, n)
            for i in range(i0, i1 + 1):
                t = (i - p0) / (p1 - p0)
                if 0.0 < t < 1.0:
                    if m >= ts.shape[0]:
                        break
                    ts[m] = t
                    m += 1
        tt = np.sort(ts[:m])
        for j in range(m - 1):
            dt = tt[j + 1] - tt[j]
            if dt <= 0.0:
                continue
            tm = 0.5 * (tt[j] + tt[j + 1])
            ix = int(np.floor((a[s, 0] + tm * d0 - lower[0]) / spacing[0]))
            iy = int(np.floor((a[s, 1] + tm * d1 - lower[1]) / spacing[1]))
            iz = int(np.floor((a[s, 2] + tm * d2 - lower[2]) / spacing[2]))
            if ix < 0 or iy < 0 or iz < 0 or ix >= nx or iy >= ny or iz >= nz:
                continue
            if k >= out_seg.shape[0]:
                return -1
            out_seg[k] = s
            out_cell[k] = (iz * ny + iy) * nx + ix
            out_len[k] = dt * seg_len
            k += 1
    return k


def segment_cell_lengths(grid: RegularGrid, a: np.ndarray, b: np.ndarray):
    """Exact length of every segment inside every cell it crosses.

    Each segment from ``a[i]`` to ``b[i]`` (cm) is cut where it crosses a grid plane, so
    the pieces add up to the segment's length inside the box (parts outside are dropped).

    Parameters
    ----------
    grid : RegularGrid
        The cells.
    a, b : (n, 3) float arrays
        Start and end points of the segments [cm], (x, y, z).

    Returns
    -------
    seg, cell, length : arrays
        Segment index, flat cell index (C order of ``grid.shape``) and length [cm] of each piece.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid, segment_cell_lengths
    >>> grid = RegularGrid((0, 0, 0), (2, 1, 1), (1, 1, 2))     # two 1 cm cells along x
    >>> seg, cell, length = segment_cell_lengths(grid, np.array([[0.5, 0.5, 0.5]]),
    ...                                          np.array([[1.5, 0.5, 0.5]]))
    >>> cell.tolist(), length.tolist()
    ([0, 1], [0.5, 0.5])
    """
    a = np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.ascontiguousarray(b, dtype=np.float64).reshape(-1, 3)
    nz, ny, nx = grid.shape
    lower = np.asarray(grid.lower, dtype=np.float64)
    spacing = np.asarray(grid.spacing, dtype=np.float64)
    # upper bound of pieces per segment: cells crossed along each axis + 1
    span = np.abs(b - a) / spacing
    cap = int(np.sum(np.ceil(span).sum(axis=1) + 3)) + 16
    seg = np.empty(cap, dtype=np.int64)
    cell = np.empty(cap, dtype=np.int64)
    length = np.empty(cap, dtype=np.float64)
    k = _segment_cell_lengths_kernel(a, b, lower, spacing, nx, ny, nz, seg, cell, length)
    if k < 0:  # pragma: no cover - the capacity above is an upper bound
        raise RuntimeError("segment_cell_lengths: capacity exceeded")
    return seg[:k], cell[:k], length[:k]


def root_length_density(root_system, grid: RegularGrid, t: float | None = None,
                        by_order: bool = False) -> xr.DataArray:
    """Root length density [cm cm^-3] on a grid, from exact segment-cell intersections.

    Parameters
    ----------
    root_system : RootSystem
        The roots (cm).
    grid : RegularGrid
        The cells; root length outside the box is not counted.
    t : float, optional
        Time [d] at which to take the root system (default: its age).
    by_order : bool
        If True, an extra leading dimension ``order`` splits the density by root order.

    Returns
    -------
    xarray.DataArray
        ``root_length_density`` [cm cm^-3] with dimensions ``(z, y, x)`` (or
        ``(order, z, y, x)``), cell-centre coordinates in cm and the time in
        ``attrs["time_d"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import RegularGrid, RootSystem, root_length_density
    >>> root = RootSystem.from_polylines([np.array([[0.5, 0.5, 0.0], [0.5, 0.5, -2.0]])],
    ...                                  [np.array([0.0, 2.0])], 0.05)
    >>> grid = RegularGrid((0, 0, -2), (1, 1, 0), (2, 1, 1))    # two 1 cm3 cells
    >>> root_length_density(root, grid).values.ravel().tolist()  # cm of root per cm3
    [1.0, 1.0]
    >>> root_length_density(root, grid, t=1.0).values.ravel().tolist()  # at day 1
    [0.0, 1.0]
    """
    rs = root_system if t is None else root_system.at(t)
    s = rs.segments
    seg, cell, length = segment_cell_lengths(grid, rs.nodes[s[:, 0]], rs.nodes[s[:, 1]])
    vol = grid.cell_volume
    if not by_order:
        rld = np.bincount(cell, weights=length, minlength=grid.n_cells).reshape(grid.shape) / vol
        da = grid.field(rld, name="root_length_density", units="cm cm-3", long_name="root length density")
    else:
        order = rs.root_order[rs.segment_root][seg]
        n_ord = int(rs.root_order.max(initial=0)) + 1
        flat = order * grid.n_cells + cell
        rld = np.bincount(flat, weights=length, minlength=n_ord * grid.n_cells)
        rld = rld.reshape((n_ord,) + grid.shape) / vol
        da = xr.DataArray(rld, dims=("order", "z", "y", "x"),
                          coords={"order": np.arange(n_ord), **grid.coords()},
                          name="root_length_density",
                          attrs={"units": "cm cm-3", "long_name": "root length density by order"})
    da.attrs["time_d"] = rs.time
    return da


def half_mean_interroot_distance(rld):
    """Half the mean distance between roots, ``r1 = 1 / sqrt(pi * RLD)`` [cm].

    The outer radius of the soil cylinder that each root draws from when roots are
    spread evenly (Barber 1995, Soil Nutrient Bioavailability, ch. 5). Infinite where
    the root length density is zero.

    Parameters
    ----------
    rld : array or DataArray
        Root length density [cm cm^-3].

    Returns
    -------
    array or DataArray
        ``r1`` [cm], same shape (a DataArray gets ``units`` and ``long_name``).

    References
    ----------
    Barber, S. A. (1995). Soil Nutrient Bioavailability: A Mechanistic Approach, 2nd ed.
    Wiley, New York, ch. 5.

    Examples
    --------
    >>> from rhizoscale import half_mean_interroot_distance
    >>> round(float(half_mean_interroot_distance(1.0)), 4)     # 1 cm of root per cm3
    0.5642
    """
    with np.errstate(divide="ignore"):
        out = 1.0 / np.sqrt(np.pi * rld)
    if isinstance(out, xr.DataArray):
        out = out.rename("half_mean_interroot_distance")
        out.attrs = {"units": "cm", "long_name": "half mean inter-root distance r1"}
    return out
