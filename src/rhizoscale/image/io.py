"""Reading and writing segmented images: TIFF (multi-page or a folder of slices), NumPy,
raw binary, and VTK image data for ParaView. Writers are atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from ..core.image import Image, Phase

__all__ = ["read_labels", "read_image", "image_shape", "write_tiff", "write_vtk_image"]


def _check_labels(arr: np.ndarray, source, ndim: int | None = None, field: str | None = None) -> np.ndarray:
    if arr.ndim not in (2, 3):
        raise InputError(f"expected a 2D or 3D labelled image, got shape {arr.shape}", source=source,
                         field=field)
    if ndim is not None and arr.ndim != ndim:
        axes = "(z, y, x)" if ndim == 3 else "(y, x)"
        raise InputError(f"expected a {ndim}D image {axes}, got a {arr.ndim}D image of shape {arr.shape}"
                         + ("; a 2D image is one slice: give a stack of slices (a multi-page TIFF, a "
                            "folder of slices, or a 3D .npy)" if ndim == 3 else ""),
                         source=source, field=field)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InputError("image contains non-finite values (NaN/inf)", source=source, field=field)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"expected numeric labels, got values of type {arr.dtype}", source=source,
                         field=field)
    return arr


def read_labels(path, *, shape: Sequence[int] | None = None, dtype=None, offset: int = 0,
                order: str = "C", ndim: int | None = None, field: str | None = None) -> np.ndarray:
    """Read a labelled voxel array from a file or a folder of TIFF slices.

    Parameters
    ----------
    path : path-like
        ``.tif``/``.tiff`` (multi-page = z stack), a folder of ``.tif`` slices (sorted by
        name), ``.npy``, or a raw binary file (any other suffix; needs ``shape`` and
        ``dtype``).
    shape, dtype : raw files only
        Array shape (z, y, x) and NumPy dtype (e.g. ``"uint8"``, ``"<u2"``).
    offset : int
        Header bytes to skip in a raw file.
    order : {"C", "F"}
        Memory order of a raw file (``"F"`` when x varies slowest).
    ndim : {2, 3}, optional
        Dimension the caller needs; another one raises :class:`InputError`.
    field : str, optional
        Where the path came from (e.g. ``"images.with_hairs"`` in a scenario file), named in
        error messages.

    Returns
    -------
    ndarray
        The 2D or 3D label array as stored.

    Raises
    ------
    InputError
        Missing file, unreadable file, a raw file whose size does not match, not 2D/3D, or
        non-finite values.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from rhizoscale.image.io import read_labels
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "sample.raw"
    ...     np.arange(24, dtype=np.uint8).tofile(path)
    ...     labels = read_labels(path, shape=(2, 3, 4), dtype="uint8")
    >>> labels.shape, labels[1, 2, 3]
    ((2, 3, 4), np.uint8(23))
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", source=path, field=field)
    try:
        if path.is_dir():
            import tifffile
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
            if not files:
                raise InputError("folder holds no .tif slices", source=path, field=field)
            arr = np.stack([tifffile.imread(f) for f in files])
        elif path.suffix.lower() in (".tif", ".tiff"):
            arr = _read_tiff(path)
        elif path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            if shape is None or dtype is None:
                raise InputError("a raw image needs 'shape' and 'dtype'", source=path, field="shape")
            dt = np.dtype(dtype)
            count = int(np.prod(shape))
            need = offset + count * dt.itemsize
            size = path.stat().st_size
            if size != need:
                raise InputError(f"file has {size} bytes but shape {tuple(shape)} of {dt} with "
                                 f"offset {offset} needs {need}", source=path, field="shape")
            arr = np.fromfile(path, dtype=dt, count=count, offset=offset).reshape(shape, order=order)
    except InputError:
        raise
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read image: {err}", source=path, field=field) from None
    return _check_labels(np.asarray(arr), path, ndim, field)


def image_shape(path, *, shape: Sequence[int] | None = None) -> tuple[int, ...] | None:
    """The shape of the labels :func:`read_labels` would read, from the file headers only
    (for memory estimates before reading); None when it cannot be told.

    ``shape``: the shape given for a raw file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TIFF file, a folder of 2D TIFF slices, a ``.npy`` file or a raw file.
    shape : sequence of int, optional
        The shape given for a raw file (returned as is).

    Returns
    -------
    tuple of int or None
        Voxels per array axis, e.g. (z, y, x).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     tif = write_tiff(np.zeros((2, 5, 6), np.uint8), Path(tmp) / "labels.tif")
    ...     print(image_shape(tif), image_shape(Path(tmp) / "labels.raw", shape=(4, 4, 4)))
    (2, 5, 6) (4, 4, 4)
    """
    path = Path(path)
    try:
        if path.is_dir():
            import tifffile
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
            if not files:
                return None
            with tifffile.TiffFile(files[0]) as tf:
                return (len(files), *tf.series[0].shape)
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile
            with tifffile.TiffFile(path) as tf:
                return tuple(tf.series[0].shape)
        if path.suffix.lower() == ".npy":
            return tuple(np.load(path, mmap_mode="r", allow_pickle=False).shape)
    except (OSError, ValueError, IndexError):
        return None
    return None if shape is None else tuple(int(n) for n in shape)


def read_image(path, voxel_size, phases: Sequence[Phase], **kwargs) -> Image:
    """Read a segmented image and attach its voxel size [cm] and phase table.

    Unknown labels (not in ``phases``), non-finite values and, with ``ndim=3``, a 2D
    image raise :class:`InputError` naming the file (and ``field``). ``kwargs`` go to
    :func:`read_labels`.

    Parameters
    ----------
    path : path-like
        Any file :func:`read_labels` reads.
    voxel_size : float or sequence of float
        Voxel edge length per array axis [cm].
    phases : sequence of Phase
        Phase table; every label in the file must appear in it.
    **kwargs
        Passed to :func:`read_labels` (``shape``, ``dtype``, ``offset``, ``order``, ``ndim``, ``field``).

    Returns
    -------
    Image
        With ``metadata["source"]`` set to the path.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from rhizoscale import Phase
    >>> from rhizoscale.image.io import read_image, write_tiff
    >>> phases = (Phase("macropore", 0, 0.0, "air"), Phase("aggregate", 1, 2.88e-7, "pore"))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_tiff(np.array([[[0, 1], [1, 1]], [[1, 1], [1, 1]]]), Path(tmp) / "labels.tif")
    ...     image = read_image(path, voxel_size=6.5e-5, phases=phases)    # 0.65 um voxels
    >>> image.shape, image.volume_fractions()["aggregate"]
    ((2, 2, 2), 0.875)
    """
    labels = read_labels(path, **kwargs)
    try:
        return Image(labels, voxel_size, tuple(phases), {"source": str(path)})
    except InputError as err:
        raise InputError(err.message, source=path, field=err.field or kwargs.get("field")) from None


def _read_tiff(path: Path) -> np.ndarray:
    """A TIFF stack; one written by :func:`write_tiff` keeps its shape (a one-slice 3D
    image stays 3D, where tifffile alone would drop the axis)."""
    import json

    import tifffile
    with tifffile.TiffFile(path) as tif:
        arr = tif.asarray()
        desc = tif.pages[0].description if len(tif.pages) else ""
    try:
        shape = json.loads(desc).get("shape") if desc.startswith("{") else None
    except ValueError:
        shape = None
    if shape and int(np.prod(shape)) == arr.size and len(shape) != arr.ndim:
        arr = arr.reshape(shape)
    return arr


def write_tiff(image: Image | np.ndarray, path) -> Path:
    """Write labels (or any array) as a multi-page TIFF, atomically.

    The voxel size and phase table go into the ImageJ metadata/description as JSON.
    Integer labels are stored as uint8 or uint16 when they fit, float64 as float32.

    Parameters
    ----------
    image : Image or ndarray
        Labels with their voxel size and phases, or a plain array (e.g. a concentration).
    path : path-like
        Output file.

    Returns
    -------
    Path
        ``path``.

    See Also
    --------
    read_image : has an example that writes and reads a TIFF.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np, tifffile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     labels = tifffile.imread(write_tiff(np.array([[0, 1], [1, 1]]), Path(tmp) / "l.tif"))
    ...     conc = tifffile.imread(write_tiff(np.linspace(0, 1, 4).reshape(2, 2), Path(tmp) / "c.tif"))
    >>> labels.dtype, conc.dtype                     # labels shrink to uint8, floats to float32
    (dtype('uint8'), dtype('float32'))
    """
    import json

    import tifffile
    path = Path(path)
    if isinstance(image, Image):
        data = image.labels
        desc = json.dumps({"voxel_size_cm": image.voxel_size, "shape": list(data.shape),
                           "phases": [p.__dict__ for p in image.phases]})
    else:
        data = np.asarray(image)
        desc = json.dumps({"shape": list(data.shape)})
    if data.dtype == np.int64 or data.dtype == np.int32:
        if data.min() >= 0 and data.max() < 256:
            data = data.astype(np.uint8)
        elif data.min() >= 0 and data.max() < 65536:
            data = data.astype(np.uint16)
    if data.dtype == np.float64:
        data = data.astype(np.float32)
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, data, description=desc, metadata=None)
    return path


def write_vtk_image(path, cell_data: dict, voxel_size, origin=(0.0, 0.0, 0.0)) -> Path:
    """Write voxel fields as VTK image data (``.vti``) for ParaView, atomically.

    Parameters
    ----------
    path : path-like
        Output name; ``.vti`` is appended when missing.
    cell_data : dict name -> (nz, ny, nx) array
        Fields on the voxels (arrays in z, y, x order, as everywhere in rhizoscale).
    voxel_size : 3 floats
        (dz, dy, dx) [cm].
    origin : 3 floats
        (x, y, z) of the first voxel corner [cm].

    Returns
    -------
    Path
        The ``.vti`` file written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from rhizoscale.image.io import write_vtk_image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_vtk_image(Path(tmp) / "fields", {"c": np.zeros((2, 3, 4))}, voxel_size=2e-3)
    ...     print(out.name)
    fields.vti
    """
    from ..io.vtk import write_image_vtk

    path = Path(path)
    if path.suffix != ".vti":
        path = path.with_name(path.name + ".vti")
    vs = np.broadcast_to(np.asarray(voxel_size, float), (3,))
    return write_image_vtk(cell_data, path, origin=tuple(float(o) for o in origin),
                           spacing=(float(vs[2]), float(vs[1]), float(vs[0])))
