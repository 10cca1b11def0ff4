"""File formats: atomic writes, NetCDF fields, RSML roots, VTK for ParaView."""

from .atomic import atomic_path, atomic_write
from .netcdf import read_netcdf, write_netcdf

__all__ = ["atomic_path", "atomic_write", "read_netcdf", "write_netcdf"]
