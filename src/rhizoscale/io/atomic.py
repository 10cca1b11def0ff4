"""Atomic file output: write to a temporary file beside the target, then rename.

An interrupted run never leaves a half-written file under its final name, because
:func:`os.replace` is atomic on POSIX and Windows when both paths are on one file system.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_write"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it to ``path`` on success.

    Use this for writers that take a file name (NetCDF, TIFF, PNG). On an exception the
    temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : path-like
        Final file name (missing folders are created).
    suffix : str, optional
        Suffix of the temporary file (some writers infer the format from it); defaults to
        the suffix of ``path``.

    Yields
    ------
    Path
        The temporary file to write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from rhizoscale.io import atomic_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "out" / "depths.txt"
    ...     with atomic_path(target) as part:
    ...         np.savetxt(part, np.arange(3))     # nothing exists under the final name yet
    ...     print(sorted(p.name for p in target.parent.iterdir()))
    ['depths.txt']

    The temporary name ends in ``.part``: a writer that appends its own extension to
    the name it is given (``numpy.save`` adds ``.npy``) writes beside it, not into it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=(path.suffix if suffix is None else suffix) + ".part",
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp creates 0600 files: give the result the usual permissions (umask applies)
        umask = os.umask(0)
        os.umask(umask)
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    r"""Open a temporary file for writing; it replaces ``path`` only when the block succeeds.

    Parameters
    ----------
    path : path-like
        Final file name.
    mode : str
        ``open`` mode (``"w"`` or ``"wb"``).
    encoding : str, optional
        Text encoding (ignored in binary mode).

    Yields
    ------
    file object
        The open temporary file (flushed and synced before the rename).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.io import atomic_write
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with atomic_write(Path(tmp) / "summary.txt") as fh:
    ...         _ = fh.write("P uptake 3.61 umol\n")
    ...     print((Path(tmp) / "summary.txt").read_text().strip())
    P uptake 3.61 umol
    """
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
