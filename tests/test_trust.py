"""Issue 11, "runs a user can trust": dependencies, CLI details, bad input, progress,
warm-up and compressed VTK output."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "rhizoscale"

# distribution name -> the module it is imported as
_IMPORT_NAME = {"pyyaml": "yaml", "scikit-image": "skimage", "netcdf4": "netCDF4", "pyevtk": "pyevtk"}


def _imported_modules() -> set[str]:
    found = set()
    for f in SRC.rglob("*.py"):
        for m in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_][\w]*)", f.read_text(encoding="utf-8"), re.M):
            found.add(m.group(1))
        # xarray engines are named by string: engine="netcdf4" needs netCDF4
        for m in re.finditer(r"engine=\"(\w+)\"", f.read_text(encoding="utf-8")):
            found.add({"netcdf4": "netCDF4"}.get(m.group(1), m.group(1)))
    return found


def test_every_required_dependency_is_imported():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imported = _imported_modules()
    unused = []
    for req in meta["dependencies"]:
        dist = re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].strip().lower()
        if _IMPORT_NAME.get(dist, dist.replace("-", "_")) not in imported:
            unused.append(dist)
    assert not unused, f"required but imported nowhere in src/: {unused}"
