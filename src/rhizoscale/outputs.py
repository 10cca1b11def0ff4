"""The run layer's side of a scenario: output folder, run context, writers.

* :class:`RunContext` is what a case study's ``run(config, ctx)`` receives: the seed,
  progress, warnings, and :meth:`RunContext.simulate`, which runs a
  :class:`~rhizoscale.simulation.Simulation` with checkpoints in the run's folder and
  resumes it when asked. Case studies never open files for output.
* :class:`OutputFolder` owns one run's folder: it refuses a folder that holds another
  run (unless told to overwrite or resume), locks it against a concurrent second run,
  removes leftovers of killed runs (hidden ``*.part`` files), and writes
  ``summary.json`` with the run id, the scenario hash and the package version, listing
  exactly the files of this run.
* :func:`write_products` persists a :class:`~rhizoscale.products.Products`: fields and
  images as NetCDF, root systems as RSML, figures, exports (VTK, TIFF), and the scalars
  with their units in ``summary.json``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, RhizoscaleError
from .io.atomic import atomic_path, atomic_write
from .products import Products, check_units, image_to_dataset
from .progress import NullProgress, ProgressReporter

__all__ = ["RunContext", "OutputFolder", "write_products", "to_jsonable", "scenario_hash",
           "MANIFEST", "CHECKPOINTS"]

MANIFEST = ".rhizoscale-run.json"
CHECKPOINTS = ".checkpoints"
LOCK = ".rhizoscale.lock"


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and paths to plain JSON types (NaN becomes null).

    Parameters
    ----------
    obj : object
        Nested dicts, lists and tuples of NumPy scalars and arrays, floats, paths, ...

    Returns
    -------
    object
        The same structure with dict keys as strings, arrays and tuples as lists, NumPy
        numbers as Python numbers, non-finite floats as ``None`` and paths as strings.

    Examples
    --------
    >>> import numpy as np
    >>> from pathlib import Path
    >>> to_jsonable({"c": np.array([1.0, np.nan]), 1: np.int64(3), "out": Path("run")})
    {'c': [1.0, None], '1': 3, 'out': 'run'}
    """
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


def scenario_hash(record: dict) -> str:
    """SHA-256 (first 16 hex digits) of a scenario's case, seed and validated config.

    Two runs with the same hash computed the same thing (whatever the scenario's name,
    file or output folder); ``summary.json`` records it.

    Parameters
    ----------
    record : dict
        The validated scenario record; its ``case``, ``seed``, ``config`` and
        ``parameters`` entries are hashed (other keys are ignored).

    Returns
    -------
    str
        16 hexadecimal digits.

    Examples
    --------
    >>> scenario_hash({"case": "cs3-root-hairs", "seed": 1, "config": {"n": 2}})
    '3132459e17ce10ce'
    >>> scenario_hash({"case": "cs3-root-hairs", "seed": 1, "config": {"n": 2}, "name": "x"})
    '3132459e17ce10ce'
    """
    key = {k: record.get(k) for k in ("case", "seed", "config", "parameters")}
    text = json.dumps(to_jsonable(key), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------- context
class RunContext:
    """What a case study's run receives: seed, progress, warnings and checkpointed runs.

    Parameters
    ----------
    seed : int
        The scenario's seed.
    progress : ProgressReporter, optional
        Where progress goes (nothing by default).
    checkpoint_dir : path-like, optional
        Folder for checkpoints (none: runs are not checkpointed).
    resume : bool
        Continue simulations from their checkpoints where these exist.
    wall_time_limit : float, optional
        Seconds after which the whole run checkpoints and stops.
    checkpoint_interval : float
        Wall-clock seconds between checkpoints.
    parameters : dict, optional
        Parameter sets by slot, as the scenario resolved them (see :meth:`parameter_set`).

    Examples
    --------
    A simulation run through the context is checkpointed in ``checkpoint_dir`` under
    its name (and resumed from there when ``resume=True``):

    >>> import tempfile, pathlib
    >>> from rhizoscale.simulation import Simulation
    >>> class Clock:
    ...     time = 0.0
    ...     def step(self, dt): self.time += dt
    ...     def checkpoint_state(self): return {"time": self.time}
    ...     def restore_state(self, s): self.time = float(s["time"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ctx = RunContext(seed=3, checkpoint_dir=pathlib.Path(tmp))
    ...     sim = ctx.simulate(Simulation(Clock(), stop_time=2.0, dt=0.5, name="clock"))
    ...     files = sorted(p.name for p in pathlib.Path(tmp).iterdir())
    >>> sim.iteration, files
    (4, ['clock.npz'])
    >>> ctx.warn("coarse grid")           # goes to summary.json
    >>> ctx.seed, ctx.warnings
    (3, ['coarse grid'])
    """

    def __init__(self, *, seed: int = 1, progress: ProgressReporter | None = None,
                 checkpoint_dir: str | Path | None = None, resume: bool = False,
                 wall_time_limit: float | None = None, checkpoint_interval: float = 60.0,
                 parameters: dict | None = None):
        self.seed = int(seed)
        self.parameters = dict(parameters or {})
        self.progress = progress or NullProgress()
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.resume = bool(resume)
        self.wall_time_limit = wall_time_limit
        self.checkpoint_interval = float(checkpoint_interval)
        self.warnings: list[str] = []
        self._t0 = time.perf_counter()

    def parameter_set(self, config, slot: str):
        """The parameter set in ``slot`` as the scenario resolved it (its ``parameters:``
        overrides applied), else as the config names it."""
        if slot in self.parameters:
            return self.parameters[slot]
        return config.parameter_sets()[slot]()

    def task(self, description: str, total: float | None = None):
        """Context manager yielding a progress callback ``cb(done, total)`` for one step."""
        return self.progress.task(description, total)

    def warn(self, text: str) -> None:
        """Record a warning (it goes to ``summary.json``) and show it."""
        self.warnings.append(text)
        self.progress.message(f"warning: {text}")

    def message(self, text: str) -> None:
        self.progress.message(text)

    def simulate(self, sim, *, description: str | None = None, progress_scale: float = 1.0,
                 progress_units: str = "") -> Any:
        """Run ``sim`` (a :class:`~rhizoscale.simulation.Simulation` with its callbacks
        added) with checkpoints named after ``sim.name``, resuming when asked."""
        from .simulation import Checkpointer, WallTimeInterval
        if self.checkpoint_dir is not None:
            path = self.checkpoint_dir / f"{sim.name}.npz"
            sim.checkpointer = Checkpointer(path, WallTimeInterval(self.checkpoint_interval))
            if self.resume and sim.resume_from(path):
                sim.checkpointer.last_time = sim.time
                self.message(f"{sim.name}: resumed at t = {sim.time * progress_scale:g}{progress_units} "
                             f"(iteration {sim.iteration})")
        if self.wall_time_limit is not None:
            sim.wall_time_limit = max(self.wall_time_limit - (time.perf_counter() - self._t0), 0.0)
            # the message names the limit the user gave, not what was left of it for this part
            sim.wall_time_note = f"--wall-time-limit of {self.wall_time_limit:g} s"
        sim.time_display = (progress_scale, progress_units)
        total = sim.stop_time * progress_scale
        with self.task(description or sim.name, total) as cb:
            sim.progress = lambda t, stop: cb(t * progress_scale, total)
            sim.run()
        return sim


# ---------------------------------------------------------------------------- folder
class OutputFolder:
    """One run's output folder (see the module docs).

    Parameters
    ----------
    path : path-like
        The folder (created if needed).
    scenario : dict
        The validated scenario record (case, name, seed, source, config).
    overwrite : bool
        Replace a previous run in the folder (its files are removed first).
    resume : bool
        Continue a previous, unfinished run of the same scenario in the folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rhizoscale.products import Products
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = OutputFolder(pathlib.Path(tmp) / "run",
    ...                           {"case": "toy", "name": "demo", "seed": 1, "config": {}}).open()
    ...     products = Products("toy")
    ...     products.add_text("table.csv", "theta,d_eff")
    ...     summary = folder.finish(write_products(products, folder))
    ...     on_disk = sorted(p.name for p in folder.path.iterdir())
    >>> summary["files"], summary["run"]["status"]
    (['table.csv', 'summary.json'], 'complete')
    >>> on_disk                           # plus the hidden manifest
    ['.rhizoscale-run.json', 'summary.json', 'table.csv']
    """

    def __init__(self, path: str | Path, scenario: dict, *, overwrite: bool = False, resume: bool = False):
        self.path = Path(path)
        self.scenario = scenario
        self.hash = scenario_hash(scenario)
        self.overwrite = overwrite
        self.resume = resume
        self.files: list[str] = []
        self._lock_fh = None
        self.run_id = uuid.uuid4().hex[:12]
        self.resumed_from: str | None = None

    # ------------------------------------------------------------------ preparation
    def open(self) -> "OutputFolder":
        """Check, lock and prepare the folder before any computation."""
        p = self.path
        where = str(p)
        self.created = not p.exists()
        if p.exists() and not p.is_dir():
            raise InputError("exists and is not a folder", source=where, field="--out")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create the output folder ({err.strerror})", source=where,
                             field="--out") from None
        try:
            with open(p / f".rhizoscale-write-test-{os.getpid()}", "w") as fh:
                fh.write("")
            os.unlink(p / f".rhizoscale-write-test-{os.getpid()}")
        except OSError as err:
            raise InputError(f"the output folder is not writable ({err.strerror})", source=where,
                             field="--out") from None
        self._lock()
        for part in p.glob(".*.part"):            # leftovers of a killed run
            with contextlib.suppress(OSError):
                shutil.rmtree(part) if part.is_dir() else part.unlink()
        if (p / "study.json").is_file() and not (p / MANIFEST).is_file():
            # a sensitivity study's folder (its summary.json is not a run's): never replace it
            self._unlock()
            raise InputError("holds a sensitivity study (study.json), not a run: choose another --out "
                             "(--overwrite only replaces a run)", source=where, field="--out")
        old = self._previous()
        if old is not None and old.get("status") == "failed" and not old.get("files"):
            # a run refused or failed before writing anything leaves nothing to protect
            shutil.rmtree(self.path / CHECKPOINTS, ignore_errors=True)
            old = None
        if old is not None:
            same = old.get("scenario_hash") == self.hash
            if self.resume and old.get("status") == "complete":
                self._unlock()
                raise InputError("holds a complete run of this scenario: nothing to resume "
                                 "(give --overwrite to run it again)", source=where, field="--resume")
            if self.resume:
                if not same:
                    self._unlock()
                    raise InputError(
                        f"holds a run of another scenario ({old.get('name')!r}, hash "
                        f"{old.get('scenario_hash')}); --resume needs the same scenario file",
                        source=where, field="--resume")
                self.resumed_from = old.get("run_id")
                self.run_id = old.get("run_id") or self.run_id
                self._remove_outputs(old, keep_checkpoints=True)
            elif self.overwrite:
                self._remove_outputs(old, keep_checkpoints=False)
            else:
                self._unlock()
                status = old.get("status", "unknown")
                raise InputError(
                    f"holds a {status} run of {old.get('name')!r} (run {old.get('run_id')}); "
                    "give --overwrite to replace it or --resume to continue it",
                    source=where, field="--out")
        self._write_manifest("running")
        return self

    def _previous(self) -> dict | None:
        for name in (MANIFEST, "summary.json"):
            f = self.path / name
            if f.is_file():
                try:
                    data = json.loads(f.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    data = {}
                run = data.get("run", data) if isinstance(data, dict) else {}
                files = data.get("files", []) if isinstance(data, dict) else []
                return {**run, "files": files or run.get("files", [])}
        return None

    def _remove_outputs(self, old: dict, keep_checkpoints: bool) -> None:
        for name in list(old.get("files", [])) + ["summary.json"]:
            f = self.path / str(name)
            # only plain names inside the folder are removed (never follow '..')
            if f.parent == self.path and f.is_file():
                f.unlink()
        if not keep_checkpoints:
            shutil.rmtree(self.path / CHECKPOINTS, ignore_errors=True)

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            return
        fh = open(self.path / LOCK, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise InputError("another rhizoscale run is writing into this folder; wait for it or "
                             "choose another --out", source=str(self.path), field="--out") from None
        self._lock_fh = fh

    def _unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None
            with contextlib.suppress(OSError):
                (self.path / LOCK).unlink()

    def _write_manifest(self, status: str) -> None:
        rec = self.record(status)
        with atomic_write(self.path / MANIFEST) as fh:
            json.dump(to_jsonable({"run": rec, "files": self.files}), fh, indent=2)

    def record(self, status: str) -> dict:
        from . import __version__
        return {"run_id": self.run_id, "status": status, "scenario_hash": self.hash,
                "name": self.scenario.get("name"), "case": self.scenario.get("case"),
                "rhizoscale_version": __version__,
                "resumed_from": self.resumed_from,
                "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINTS

    # ------------------------------------------------------------------ writing
    def file(self, name: str) -> Path:
        """The path of output ``name``, recorded; names must stay inside the folder."""
        p = Path(name)
        if p.is_absolute() or ".." in p.parts or not name or p.name != name:
            raise InputError(f"output names must be plain file names, got {name!r}",
                             source=str(self.path), field="outputs")
        if name not in self.files:
            self.files.append(name)
        return self.path / name

    def finish(self, summary: dict, status: str = "complete") -> dict:
        """Write ``summary.json`` and mark the run complete; release the lock."""
        summary = {"run": self.record(status), **summary, "files": self.files + ["summary.json"]}
        with atomic_write(self.path / "summary.json") as fh:
            json.dump(to_jsonable(summary), fh, indent=2)
        self._write_manifest(status)
        if status == "complete":
            shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
        self._unlock()
        return to_jsonable(summary)

    def abandon(self, status: str) -> None:
        """Mark the run interrupted or failed (checkpoints stay); release the lock.

        A run that failed before writing anything in a folder it created removes the
        folder: nothing is left that looks like a result.
        """
        self._write_manifest(status)
        self._unlock()
        if status == "failed" and getattr(self, "created", False) and not self.files \
                and not any(self.checkpoint_dir.glob("*.npz")):
            shutil.rmtree(self.path, ignore_errors=True)


def write_products(products: Products, folder: OutputFolder) -> dict:
    """Write every product into ``folder``; return the summary sections they give.

    Fields, images and boundary series go to NetCDF, root systems to RSML, figures to
    the format their name's suffix gives, exports through their writer; every file is
    written atomically and recorded in the folder's file list.

    Parameters
    ----------
    products : Products
        What the run produced.
    folder : OutputFolder
        An opened output folder.

    Returns
    -------
    dict
        ``quantities`` (the scalars with units), ``relations`` (their descriptions) and
        ``details`` (``products.info``), for ``summary.json``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, xarray as xr
    >>> from rhizoscale.products import Products
    >>> products = Products("toy")
    >>> products.add_scalar("uptake", np.float64(1.5), "umol", "cumulative P uptake")
    >>> products.add_field("c.nc", xr.Dataset(
    ...     {"c": ("x", np.ones(2), {"units": "umol cm-3"})},
    ...     coords={"x": ("x", [0.5, 1.5], {"units": "cm"})}))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = OutputFolder(tmp, {"case": "toy", "seed": 1, "config": {}}).open()
    ...     sections = write_products(products, folder)
    ...     _ = folder.finish(sections)
    >>> sections["quantities"], folder.files
    ({'uptake': {'value': 1.5, 'units': 'umol', 'description': 'cumulative P uptake'}}, ['c.nc'])
    """
    from .io.netcdf import write_netcdf
    for name, rs in products.root_systems.items():
        from .io.rsml import write_rsml
        write_rsml(rs, folder.file(name))
    for name, ds in products.fields.items():
        check_units(ds, f"{products.case}: {name}")
        write_netcdf(ds, folder.file(name))
    for name, image in products.images.items():
        write_netcdf(image_to_dataset(image), folder.file(name))
    for name, series in products.series.items():
        write_netcdf(series.to_dataset(), folder.file(name))
    for name, writer in products.exports.items():
        # writers that name their own files (VTK appends suffixes) write into a hidden
        # folder; the finished file is renamed into place
        path = folder.file(name)
        tmpdir = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=folder.path))
        try:
            writer(tmpdir / name)
            os.replace(tmpdir / name, path)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    if products.figures:
        import matplotlib.pyplot as plt
        for name, fig in products.figures.items():
            path = folder.file(name)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=150, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
            plt.close(fig)
    relations = {name: repr(rel) for name, rel in products.relations.items()}
    return {"quantities": {k: s.as_dict() for k, s in products.scalars.items()},
            "relations": relations, "details": products.info}


def run_with_outputs(module, config, scenario: dict, out_dir, *, parameters=None, progress=None, overwrite=False,
                     resume=False, wall_time_limit: float | None = None,
                     checkpoint_interval: float = 60.0) -> dict:
    """Run one case module into ``out_dir``: folder checks, run, products, summary."""
    from .simulation import RunInterrupted
    folder = OutputFolder(out_dir, scenario, overwrite=overwrite, resume=resume).open()
    ctx = RunContext(seed=scenario["seed"], progress=progress, checkpoint_dir=folder.checkpoint_dir,
                     resume=resume, wall_time_limit=wall_time_limit,
                     checkpoint_interval=checkpoint_interval, parameters=parameters)
    t0 = time.perf_counter()
    try:
        products = module.run(config, ctx)
        if not isinstance(products, Products):
            raise RhizoscaleError(f"case {scenario['case']!r} returned {type(products).__name__}, "
                                  "not Products")
        sections = write_products(products, folder)
    except RunInterrupted:
        folder.abandon("interrupted")
        raise
    except KeyboardInterrupt:
        folder.abandon("interrupted")
        raise RunInterrupted(f"run interrupted; rerun with --resume to continue from the last "
                             f"checkpoint in {folder.checkpoint_dir}") from None
    except BaseException:
        folder.abandon("failed")
        raise
    summary = {"scenario": scenario, **sections,
               "warnings": ctx.warnings + list(products.warnings),
               "wall_time_s": round(time.perf_counter() - t0, 3)}
    return folder.finish(summary)
