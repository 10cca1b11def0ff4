"""VTK output for ParaView: zlib-compressed XML VTK files, written by hand.

* Root systems become ``.vtp`` poly data: one poly-line cell per root, starting at its
  branching point, with point data ``creation_time`` [d] and ``radius`` [cm] and cell
  data ``order``, ``type``, ``root_id``; ParaView's *Tube* filter with *radius* gives 3D
  roots.
* Fields on regular grids and voxel images become ``.vti`` image data with cell data.
* Point sets (individual bacteria of case study 5) become ``.vtp`` poly data with one
  vertex cell per point and point data (ParaView's *Glyph* filter draws them).

Why by hand: pyevtk (1.7) and the other small pip writers we checked write only
uncompressed binary data, and a CS1 field on a 1 mm grid was 432 MB that way. The XML
format with appended, zlib-compressed data (the layout VTK's own ``vtkXMLWriter`` uses
with ``vtkZLibDataCompressor``) is short to write: after a ``_`` marker each array is a
header of UInt64 ``[number of blocks, block size, size of the last partial block (0 if
none), compressed size of each block]`` followed by the compressed blocks. Smooth fields
(concentrations decaying to zero away from the roots) shrink many times.

Files are written to a temporary name and renamed, like every rhizoscale output.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from .atomic import atomic_path

__all__ = ["write_root_system_vtk", "write_image_vtk", "write_points_vtk", "read_vtk_arrays"]

#: uncompressed bytes per compressed block (VTK's readers take any block size)
BLOCK_SIZE = 1 << 20

_VTK_TYPES = {
    np.dtype(np.int8): "Int8", np.dtype(np.uint8): "UInt8",
    np.dtype(np.int16): "Int16", np.dtype(np.uint16): "UInt16",
    np.dtype(np.int32): "Int32", np.dtype(np.uint32): "UInt32",
    np.dtype(np.int64): "Int64", np.dtype(np.uint64): "UInt64",
    np.dtype(np.float32): "Float32", np.dtype(np.float64): "Float64",
}
_NUMPY_TYPES = {v: k for k, v in _VTK_TYPES.items()}


def _vtk_array(a: np.ndarray) -> np.ndarray:
    """A little-endian, C-contiguous array of a type VTK knows (bool -> uint8)."""
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.uint8)
    if a.dtype.kind == "f" and a.dtype.itemsize not in (4, 8):
        a = a.astype(np.float64)
    if a.dtype.kind not in "fiu":
        raise ValueError(f"cannot write an array of type {a.dtype} to VTK")
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))


def _compressed(a: np.ndarray, level: int) -> bytes:
    """One array in VTK's zlib-compressed appended layout (header + blocks)."""
    raw = memoryview(a.reshape(-1)).cast("B")        # 1D: an empty (0, 3) array casts too
    total = raw.nbytes
    starts = range(0, total, BLOCK_SIZE)
    if len(starts) > 2 and (os.cpu_count() or 1) > 1:
        # zlib releases the GIL: blocks are compressed on threads, the bytes are the same
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(min(len(starts), os.cpu_count() or 1)) as pool:
            blocks = list(pool.map(lambda i: zlib.compress(raw[i:i + BLOCK_SIZE], level), starts))
    else:
        blocks = [zlib.compress(raw[i:i + BLOCK_SIZE], level) for i in starts]
    header = np.array([len(blocks), BLOCK_SIZE, total % BLOCK_SIZE] + [len(b) for b in blocks], dtype="<u8")
    return header.tobytes() + b"".join(blocks)


class _XMLWriter:
    """Collects the XML of one VTK file and its appended, compressed arrays."""

    def __init__(self, level: int):
        self.level = level
        self.blobs: list[bytes] = []
        self.offset = 0

    def data_array(self, name: str, a: np.ndarray, components: int = 1) -> str:
        a = _vtk_array(a)
        blob = _compressed(a, self.level)
        tag = (f'<DataArray type="{_VTK_TYPES[a.dtype.newbyteorder("=")]}" Name={quoteattr(name)} '
               f'NumberOfComponents="{components}" format="appended" offset="{self.offset}"/>')
        self.blobs.append(blob)
        self.offset += len(blob)
        return tag

    def write(self, path: Path, kind: str, body: str) -> Path:
        head = (f'<?xml version="1.0"?>\n<VTKFile type="{kind}" version="1.0" byte_order="LittleEndian" '
                f'header_type="UInt64" compressor="vtkZLibDataCompressor">\n{body}\n'
                '  <AppendedData encoding="raw">\n   _')
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(head.encode("utf-8"))
                for blob in self.blobs:
                    fh.write(blob)
                fh.write(b"\n  </AppendedData>\n</VTKFile>\n")
        return path


def _with_suffix(path, suffix: str) -> Path:
    path = Path(path)
    if path.suffix != suffix:
        path = path.with_suffix(suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_root_system_vtk(root_system, path: str | Path, *, level: int = 6) -> Path:
    """Write a root system as VTK poly-lines (``.vtp`` poly data) for ParaView.

    One poly-line per root (starting at its branching node) with point data ``time``
    (creation time, d) and ``radius`` (cm).

    Parameters
    ----------
    root_system : RootSystem
        The roots.
    path : path-like
        Output file; the suffix becomes ``.vtp``.
    level : int
        zlib compression level (1 fastest, 9 smallest).

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
    roots.vtp
    """
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
    pts = np.concatenate(xs).astype(np.float64) if xs else np.zeros((0, 3))
    n_pts, n_lines = len(pts), len(counts)
    w = _XMLWriter(level)
    cell = [w.data_array(name, a) for name, a in (
        ("order", rs.root_order.astype(np.int32)), ("type", rs.root_type.astype(np.int32)),
        ("root_id", np.arange(rs.n_roots, dtype=np.int32)))]
    point = [w.data_array(name, np.concatenate(a).astype(np.float64) if a else np.zeros(0))
             for name, a in (("creation_time", ts), ("radius", rads))]
    points = w.data_array("Points", pts, components=3)
    # XML VTK files (version 1.0) store the end of each cell in "offsets"
    conn = w.data_array("connectivity", np.arange(n_pts, dtype=np.int64))
    offs = w.data_array("offsets", np.cumsum(np.asarray(counts, dtype=np.int64)))
    body = (
        "  <PolyData>\n"
        f'    <Piece NumberOfPoints="{n_pts}" NumberOfVerts="0" NumberOfLines="{n_lines}" '
        'NumberOfStrips="0" NumberOfPolys="0">\n'
        '      <PointData Scalars="radius">\n        ' + "\n        ".join(point) + "\n      </PointData>\n"
        "      <CellData>\n        " + "\n        ".join(cell) + "\n      </CellData>\n"
        f"      <Points>\n        {points}\n      </Points>\n"
        f"      <Lines>\n        {conn}\n        {offs}\n      </Lines>\n"
        "    </Piece>\n  </PolyData>")
    return w.write(_with_suffix(path, ".vtp"), "PolyData", body)


def write_points_vtk(points, point_data: dict, path: str | Path, *, level: int = 6) -> Path:
    """Write points with point data as VTK vertices (``.vtp`` poly data) for ParaView.

    Parameters
    ----------
    points : (n, 3) array
        Coordinates ``x, y, z`` (the caller's length unit).
    point_data : dict of str -> (n,) array
        One value per point (numbers or bools; strings are not VTK data: pass codes).
    path : path-like
        Output file; the suffix becomes ``.vtp``.
    level : int
        zlib compression level (1 fastest, 9 smallest).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> pts = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_points_vtk(pts, {"mass": np.array([30.0, 40.0])}, Path(tmp) / "cells")
    ...     arrays = read_vtk_arrays(path)
    >>> path.name, arrays["mass"].tolist(), arrays["Points"][1].tolist()
    ('cells.vtp', [30.0, 40.0], [1.0, 2.0, 3.0])
    """
    pts = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
    n = len(pts)
    w = _XMLWriter(level)
    tags = []
    for name, a in point_data.items():
        a = np.asarray(a)
        if a.shape != (n,):
            raise ValueError(f"point data {name!r} has shape {a.shape}, expected ({n},)")
        tags.append(w.data_array(name, a))
    points_tag = w.data_array("Points", pts, components=3)
    conn = w.data_array("connectivity", np.arange(n, dtype=np.int64))
    offs = w.data_array("offsets", np.arange(1, n + 1, dtype=np.int64))
    first = next(iter(point_data), None)
    scalars = f" Scalars={quoteattr(first)}" if first is not None else ""
    body = (
        "  <PolyData>\n"
        f'    <Piece NumberOfPoints="{n}" NumberOfVerts="{n}" NumberOfLines="0" '
        'NumberOfStrips="0" NumberOfPolys="0">\n'
        f"      <PointData{scalars}>\n        " + "\n        ".join(tags) + "\n      </PointData>\n"
        f"      <Points>\n        {points_tag}\n      </Points>\n"
        f"      <Verts>\n        {conn}\n        {offs}\n      </Verts>\n"
        "    </Piece>\n  </PolyData>")
    return w.write(_with_suffix(path, ".vtp"), "PolyData", body)


def write_image_vtk(fields, path: str | Path, *, origin=None, spacing=None, level: int = 6) -> Path:
    """Write cell data on a regular grid (``.vti``, zlib-compressed) for ParaView.

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
    level : int
        zlib compression level (1 fastest, 9 smallest).

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
    import xarray as xr

    arrays: dict[str, np.ndarray] = {}
    if isinstance(fields, (xr.DataArray, xr.Dataset)):
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
    shape = None
    for name, a in arrays.items():
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise ValueError(f"field {name!r} has {a.ndim} dimensions; expected [z, y, x] or [y, x]")
        if shape is not None and a.shape != shape:
            raise ValueError(f"field {name!r} has shape {a.shape}, others {shape}")
        shape = a.shape
        if a.dtype.kind == "i" and a.dtype.itemsize > 4:
            a = a.astype(np.int32)
        arrays[name] = a
    origin = tuple(float(v) for v in (origin or (0, 0, 0))) + (0.0,) * (3 - len(origin or (0, 0, 0)))
    spacing = tuple(float(v) for v in (spacing or (1, 1, 1))) + (1.0,) * (3 - len(spacing or (1, 1, 1)))
    nz, ny, nx = shape
    extent = f"0 {nx} 0 {ny} 0 {nz}"
    w = _XMLWriter(level)
    # a C-ordered [z, y, x] array already has x fastest, VTK's order for image data
    tags = [w.data_array(name, a) for name, a in arrays.items()]
    body = (
        f'  <ImageData WholeExtent="{extent}" Origin="{" ".join(repr(v) for v in origin[:3])}" '
        f'Spacing="{" ".join(repr(v) for v in spacing[:3])}">\n'
        f'    <Piece Extent="{extent}">\n'
        f'      <CellData Scalars={quoteattr(next(iter(arrays)))}>\n        '
        + "\n        ".join(tags) + "\n      </CellData>\n    </Piece>\n  </ImageData>")
    return w.write(_with_suffix(path, ".vti"), "ImageData", body)


def read_vtk_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read back the arrays of a VTK file written by this module (flat, in file order).

    Only the layout written here is understood (XML, appended raw data, UInt64 headers,
    zlib-compressed); it is meant for tests and quick checks, ParaView reads the files.
    Image data come back reshaped to ``[z, y, x]``; ``"Points"`` to ``(n, 3)``.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.vti`` or ``.vtp`` file written by :func:`write_image_vtk` or
        :func:`write_root_system_vtk`.

    Returns
    -------
    dict of str to numpy.ndarray
        Every data array by name (units as written).

    Raises
    ------
    ValueError
        For files of another layout.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_image_vtk({"c": np.arange(6.0).reshape(1, 2, 3)}, Path(tmp) / "c",
    ...                            spacing=(0.1, 0.1, 0.1))
    ...     arrays = read_vtk_arrays(path)
    >>> path.name, arrays["c"]
    ('c.vti', array([[[0., 1., 2.],
            [3., 4., 5.]]]))
    """
    import xml.etree.ElementTree as ET

    data = Path(path).read_bytes()
    start = data.index(b"<AppendedData")
    start = data.index(b"_", start) + 1
    end = data.rindex(b"</AppendedData>")
    xml = data[:start - 1].decode("utf-8") + "</AppendedData></VTKFile>"
    top = ET.fromstring(xml)
    if top.get("header_type") != "UInt64" or top.get("compressor") != "vtkZLibDataCompressor":
        raise ValueError("not a file written by rhizoscale.io.vtk")
    blob = data[start:end]
    shape = None
    image = top.find("ImageData")
    if image is not None:
        e = [int(v) for v in image.get("WholeExtent").split()]
        shape = (e[5] - e[4], e[3] - e[2], e[1] - e[0])
    out = {}
    for el in top.iter("DataArray"):
        off = int(el.get("offset"))
        nb = int(np.frombuffer(blob, "<u8", 1, off)[0])
        head = np.frombuffer(blob, "<u8", 3 + nb, off)
        pos = off + 8 * (3 + nb)
        raw = []
        for size in head[3:]:
            raw.append(zlib.decompress(blob[pos:pos + int(size)]))
            pos += int(size)
        a = np.frombuffer(b"".join(raw), dtype=_NUMPY_TYPES[el.get("type")].newbyteorder("<"))
        ncomp = int(el.get("NumberOfComponents", "1"))
        if ncomp > 1:
            a = a.reshape(-1, ncomp)
        elif shape is not None:
            a = a.reshape(shape)
        out[el.get("Name")] = a
    return out
