"""VTK output for ParaView, through pyevtk (binary XML VTK files).

* Root systems become ``.vtu`` files of poly-line cells (one per root, starting at its
  branching point) with point data ``creation_time`` [d] and ``radius`` [cm] and cell data
  ``order``, ``type``, ``root_id``; ParaView's *Tube* filter with *radius* gives 3D roots.
* Fields on regular grids and voxel images become ``.vti`` image data with cell data.

Files are written to a temporary name and renamed, like every rhizoscale output.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_root_system_vtk", "write_image_vtk"]


def _atomic_pyevtk(path: Path, suffix: str, writer) -> Path:
    """pyevtk appends the suffix itself: write under a temporary stem, then rename."""
    path = Path(path)
    if path.suffix != suffix:
        path = path.with_suffix(suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    written = Path(tmp + suffix)
    try:
        writer(tmp)
        os.replace(written, path)
    finally:
        if written.exists():
            written.unlink()
    return path


def write_root_system_vtk(root_system, path: str | Path) -> Path:
    """Write a root system as VTK poly-lines (``.vtu``) for ParaView.

    One poly-line per root (starting at its branching node) with point data ``time``
    (creation time, d) and ``radius`` (cm).

    Parameters
    ----------
    root_system : RootSystem
        The roots.
    path : path-like
        Output file; the suffix becomes ``.vtu``.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.io.vtk import write_root_system_vtk
    >>> from rhizoscale.plant import grow_root_system
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_root_system_vtk(grow_root_system("vicia_faba", 5), Path(tmp) / "roots").name)
    roots.vtu
    """
    from pyevtk.hl import polyLinesToVTK

    rs = root_system
    xs, ts, rads, counts = [], [], [], []
    for i in range(rs.n_roots):
        idx = rs.root_nodes(i)
        if rs.root_parent_node[i] >= 0:
            idx = np.concatenate([[rs.root_parent_node[i]], idx])
        xs.append(rs.nodes[idx])
        ts.append(rs.node_time[idx])
        rads.append(rs.node_radius[idx])
        counts.append(len(idx))
    pts = np.concatenate(xs) if xs else np.zeros((0, 3))

    def writer(stem):
        polyLinesToVTK(
            stem,
            np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1]),
            np.ascontiguousarray(pts[:, 2]),
            pointsPerLine=np.asarray(counts, dtype=np.int64),
            cellData={"order": rs.root_order.astype(np.float64),
                      "type": rs.root_type.astype(np.float64),
                      "root_id": np.arange(rs.n_roots, dtype=np.float64)},
            pointData={"creation_time": np.concatenate(ts).astype(np.float64),
                       "radius": np.concatenate(rads).astype(np.float64)},
        )

    return _atomic_pyevtk(Path(path), ".vtu", writer)


def write_image_vtk(fields, path: str | Path, *, origin=None, spacing=None) -> Path:
    """Write cell data on a regular grid (``.vti``) for ParaView.

    Parameters
    ----------
    fields : xarray.Dataset, xarray.DataArray or dict of arrays
        Arrays indexed ``[z, y, x]`` (3D) or ``[y, x]`` (2D). For xarray input, ``origin``
        and ``spacing`` come from the ``x``/``y``/``z`` cell-centre coordinates; variables
        with a ``time`` dimension are written at their last time.
    path : path-like
        Output file; the suffix becomes ``.vti``.
    origin, spacing : sequence of floats, optional
        Lower corner and cell size in (x, y, z) order [cm] (for dict input).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale import RegularGrid, RootSystem, root_length_density
    >>> from rhizoscale.io.vtk import write_image_vtk
    >>> from rhizoscale.plant import grow_root_system
    >>> grid = RegularGrid.from_resolution((-5, -5, -15), (5, 5, 0), 1.0)
    >>> rld = root_length_density(grow_root_system("vicia_faba", 7), grid)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_image_vtk(rld, Path(tmp) / "rld.vti").name)
    rld.vti
    """
    from pyevtk.hl import imageToVTK

    try:
        import xarray as xr
    except ImportError:  # pragma: no cover
        xr = None
    arrays: dict[str, np.ndarray] = {}
    if xr is not None and isinstance(fields, (xr.DataArray, xr.Dataset)):
        ds = fields.to_dataset(name=fields.name or "field") if isinstance(fields, xr.DataArray) else fields
        axes = [a for a in ("x", "y", "z") if a in ds.coords]
        org, spc = [], []
        for a in axes:
            c = np.asarray(ds[a].values, dtype=float)
            h = float(c[1] - c[0]) if len(c) > 1 else 1.0
            org.append(float(c[0] - h / 2))
            spc.append(h)
        origin = origin if origin is not None else tuple(org)
        spacing = spacing if spacing is not None else tuple(spc)
        for name, var in ds.data_vars.items():
            if "time" in var.dims:
                var = var.isel(time=-1)
            dims = tuple(d for d in ("z", "y", "x") if d in var.dims)
            if len(dims) != var.ndim:
                continue
            arrays[str(name)] = np.asarray(var.transpose(*dims).values)
    else:
        arrays = {k: np.asarray(v) for k, v in dict(fields).items()}
    if not arrays:
        raise ValueError("no field to write")
    cell = {}
    for name, a in arrays.items():
        if a.ndim == 2:
            a = a[None]
        if a.dtype == bool:
            a = a.astype(np.uint8)
        if a.dtype.kind == "i" and a.dtype.itemsize > 4:
            a = a.astype(np.int32)
        # pyevtk wants (nx, ny, nz) with x fastest: the transpose of a C-ordered [z, y, x] array
        cell[name] = np.asfortranarray(a.transpose(2, 1, 0))
    origin = tuple(float(v) for v in (origin or (0, 0, 0))) + (0.0,) * (3 - len(origin or (0, 0, 0)))
    spacing = tuple(float(v) for v in (spacing or (1, 1, 1))) + (1.0,) * (3 - len(spacing or (1, 1, 1)))

    def writer(stem):
        imageToVTK(stem, origin=origin[:3], spacing=spacing[:3], cellData=cell)

    return _atomic_pyevtk(Path(path), ".vti", writer)
