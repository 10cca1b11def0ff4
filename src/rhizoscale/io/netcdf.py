"""NetCDF output of fields (xarray), compressed and written atomically."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .atomic import atomic_path

__all__ = ["write_netcdf", "read_netcdf"]


def write_netcdf(data: xr.Dataset | xr.DataArray, path: str | Path, *, compress: bool = True,
                 complevel: int = 4) -> Path:
    """Write a Dataset/DataArray to NetCDF-4 (zlib-compressed floats), atomically.

    Parameters
    ----------
    data : xarray.Dataset or DataArray
        Fields with coordinates and ``units`` attributes.
    path : path-like
        Output file (``.nc``).
    compress : bool
        Compress numeric data variables with zlib at ``complevel``.
    complevel : int
        zlib compression level (1–9).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale import RegularGrid
    >>> from rhizoscale.io import read_netcdf, write_netcdf
    >>> field = RegularGrid.from_resolution((0, 0, -2), (1, 1, 0), 0.5).field(name="rld", units="cm cm-3")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = read_netcdf(write_netcdf(field, Path(tmp) / "rld.nc"))
    >>> ds["rld"].dims, ds["rld"].attrs["units"], ds["z"].attrs["units"]
    (('z', 'y', 'x'), 'cm cm-3', 'cm')
    """
    ds = data.to_dataset() if isinstance(data, xr.DataArray) else data
    encoding = {}
    if compress:
        for name, var in ds.data_vars.items():
            if var.ndim >= 1 and var.dtype.kind in "fiu":
                encoding[name] = {"zlib": True, "complevel": complevel}
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding)
    return path


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Open a NetCDF file written by rhizoscale (loaded into memory).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    xarray.Dataset
        All variables loaded; the file is closed.

    See Also
    --------
    write_netcdf : has an example that writes and reads a field.
    """
    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()
