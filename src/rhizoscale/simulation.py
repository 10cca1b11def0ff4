"""The run loop's side of a scenario: output directory, writers, progress, summary.

Following Oceananigans' split between a *model* (physics and state) and a *Simulation*
(clock, callbacks, output writers), case-study models never touch files or progress
bars. A scenario runner receives a :class:`Run`, computes with the models, and hands the
results to the run's writers, which write atomically into the output directory and record
every file and key figure in ``summary.json``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .io.atomic import atomic_path, atomic_write
from .progress import NullProgress, ProgressReporter

__all__ = ["Run", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and paths to plain JSON types (NaN becomes null)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


class Run:
    """Output directory, writers and progress of one scenario run.

    Parameters
    ----------
    out_dir : path-like
        Directory for all outputs (created if needed).
    progress : ProgressReporter, optional
        Where progress goes (nothing by default).
    scenario : dict, optional
        The validated scenario, stored in ``summary.json`` for provenance.
    """

    def __init__(self, out_dir: str | Path, *, progress: ProgressReporter | None = None,
                 scenario: dict | None = None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress or NullProgress()
        self.summary: dict[str, Any] = {"scenario": scenario or {}, "files": [], "warnings": []}
        self._t0 = time.perf_counter()

    # ---------------------------------------------------------------- helpers
    def path(self, name: str) -> Path:
        return self.out_dir / name

    def _record(self, name: str) -> Path:
        if name not in self.summary["files"]:
            self.summary["files"].append(name)
        return self.path(name)

    def task(self, description: str, total: float | None = None):
        """Context manager yielding a progress callback for one step."""
        return self.progress.task(description, total)

    def warn(self, text: str) -> None:
        """Record a warning in the summary and show it."""
        self.summary["warnings"].append(text)
        self.progress.message(f"[yellow]warning:[/yellow] {text}")

    def message(self, text: str) -> None:
        self.progress.message(text)

    # ---------------------------------------------------------------- writers
    def write_netcdf(self, name: str, data, **kwargs) -> Path:
        from .io.netcdf import write_netcdf
        return write_netcdf(data, self._record(name), **kwargs)

    def write_json(self, name: str, obj: Any) -> Path:
        path = self._record(name)
        with atomic_write(path) as fh:
            json.dump(to_jsonable(obj), fh, indent=2)
        return path

    def write_text(self, name: str, text: str) -> Path:
        path = self._record(name)
        with atomic_write(path) as fh:
            fh.write(text)
        return path

    def write_figure(self, name: str, fig, dpi: int = 150) -> Path:
        """Save a matplotlib figure (format from the suffix) and close it."""
        import matplotlib.pyplot as plt
        path = self._record(name)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        plt.close(fig)
        return path

    def write_rsml(self, name: str, root_system, **kwargs) -> Path:
        from .io.rsml import write_rsml
        return write_rsml(root_system, self._record(name), **kwargs)

    def write_root_vtk(self, name: str, root_system) -> Path:
        from .io.vtk import write_root_system_vtk
        return write_root_system_vtk(root_system, self._record(name))

    def write_field_vtk(self, name: str, fields, **kwargs) -> Path:
        from .io.vtk import write_image_vtk
        return write_image_vtk(fields, self._record(name), **kwargs)

    def finish(self) -> dict:
        """Write ``summary.json`` (key figures, files, warnings, wall time) and return it."""
        self.summary["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        self._record("summary.json")
        with atomic_write(self.path("summary.json")) as fh:
            json.dump(to_jsonable(self.summary), fh, indent=2)
        return self.summary
