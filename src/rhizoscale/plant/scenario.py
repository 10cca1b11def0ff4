"""Scenario runner for the plant scale: grow (or read) a root system and describe it.

Case name ``plant-growth``. Keys (all optional but ``plant`` or ``rsml``)::

    case: plant-growth
    seed: 1
    plant: vicia_faba        # shipped set, YAML or CPlantBox XML file
    days: 21
    confinement: {type: box, lower: [-10, -10, -45], upper: [10, 10, 0]}
    replicates: 5            # seeds seed .. seed+4, for statistics
    grid: {lower: [-10, -10, -45], upper: [10, 10, 0], resolution: 1.0}
    output_times: [7, 14, 21]

Writes ``root_system.rsml``, ``root_system.vtp``, ``root_length_density.nc`` (time, z, y, x)
when a grid is given, ``root_system.png`` (coloured by age), ``depth_profile.png`` and
``summary.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, TYPE_CHECKING

import numpy as np
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..parameters._base import StrictModel
from ..errors import InputError
from ..memory import check_memory, record_estimate
from ..scenario import CaseConfig, scenario_path

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "ConfinementConfig", "GridConfig", "run", "make_confinement", "make_grid"]


class ConfinementConfig(StrictModel):
    """Geometry that roots may not leave (cm).

    ``type`` selects the keys that are needed: ``box`` (``lower``, ``upper``),
    ``cylinder`` (``radius``, ``depth``) or ``rhizotron`` (``width``, ``thickness``,
    ``depth``, ``angle_deg``); see :mod:`rhizoscale.plant.confinement`.

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> ConfinementConfig(type="box", lower=(-5, -5, -20), upper=(5, 5, 0)).type
    'box'
    >>> ConfinementConfig(type="cylinder", radius=5.0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ConfinementConfig
      Value error, a cylinder needs depth ...
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    type: Literal["box", "cylinder", "rhizotron"]
    lower: Optional[tuple[float, float, float]] = Field(None, description="box lower corner [cm]")
    upper: Optional[tuple[float, float, float]] = Field(None, description="box upper corner [cm]")
    radius: Optional[float] = Field(None, gt=0, description="cylinder radius [cm]")
    depth: Optional[float] = Field(None, gt=0, description="cylinder/rhizotron depth [cm]")
    width: Optional[float] = Field(None, gt=0, description="rhizotron width [cm]")
    thickness: Optional[float] = Field(None, gt=0, description="rhizotron thickness [cm]")
    angle_deg: float = Field(0.0, ge=0, lt=90, description="rhizotron inclination from vertical [deg]")

    @model_validator(mode="after")
    def _needs(self):
        need = {"box": ("lower", "upper"), "cylinder": ("radius", "depth"),
                "rhizotron": ("width", "thickness", "depth")}[self.type]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.type} needs {', '.join(missing)}")
        return self


def check_grid_resolution(value):
    """Validator of a grid's ``resolution`` (one cell size or three) [cm]: positive."""
    values = value if isinstance(value, tuple) else (value,)
    if any(not v > 0 for v in values):
        raise ValueError("Input should be greater than 0")  # the loader adds the value
    return value


def check_grid_box(grid):
    """Validator of a grid's box: ``upper`` above ``lower`` on every axis."""
    if any(not hi > lo for lo, hi in zip(grid.lower, grid.upper)):
        raise ValueError(f"upper: must be above lower on every axis (lower {list(grid.lower)}, "
                         f"upper {list(grid.upper)})")
    return grid


def scenario_file(value, info: ValidationInfo, *, suffixes=None):
    """:func:`~rhizoscale.scenario.scenario_path`, refusing a folder by name."""
    if value is not None and (suffixes is None or Path(value).suffix.lower() in suffixes or
                              Path(value).suffix == ""):
        p = Path(value)
        base = (info.context or {}).get("base_dir")
        if not p.is_absolute() and base is not None:
            p = Path(base) / p
        if p.is_dir():
            raise ValueError("is a folder, not a file")
    return scenario_path(value, info, suffixes=suffixes)


class GridConfig(StrictModel):
    """Regular grid for fields (cm): box corners (x, y, z) and a cell size (one or three values).

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> GridConfig(lower=(-2, -2, -4), upper=(2, 2, 0), resolution=[1.0, 1.0, 0.5]).resolution
    (1.0, 1.0, 0.5)
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lower: tuple[float, float, float]
    upper: tuple[float, float, float]
    resolution: float | tuple[float, float, float] = Field(..., description="cell size [cm]")

    _resolution = field_validator("resolution")(check_grid_resolution)
    _box = model_validator(mode="after")(check_grid_box)


class Config(CaseConfig):
    """Keys of a ``plant-growth`` scenario (the ``demo`` example): grow or read root systems.

    Lengths in cm, times in d. ``rhizoscale example demo`` writes a commented example.

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "plant-growth",
    ...                                "root_system": {"plant": "vicia_faba"},
    ...                                "time": {"stop": "3 d", "outputs": [1, 2, 3]}})
    >>> scenario.config.plant, scenario.config.days, scenario.config.output_times
    ('vicia_faba', 3.0, [1.0, 2.0, 3.0])
    """

    ROOT_SYSTEM_KEYS = {"plant": "plant", "rsml": "rsml", "age": "age", "backend": "backend"}
    TIME_KEYS = {"stop": ("days", "d"), "outputs": ("output_times", "d")}

    plant: Optional[str] = Field("vicia_faba", description="parameter set name, YAML or CPlantBox XML")
    rsml: Optional[str] = Field(None, description="read this RSML file instead of growing")
    age: Optional[float] = Field(None, gt=0, description="time of measurement of the RSML [d]")
    days: float = Field(21.0, gt=0, le=3650, description="simulated time [d]")
    backend: Literal["rhizoscale", "cplantbox"] = "rhizoscale"
    confinement: Optional[ConfinementConfig] = None
    replicates: int = Field(1, ge=1, le=1000)
    grid: Optional[GridConfig] = None
    output_times: Optional[list[float]] = Field(None, description="times for statistics and RLD [d]")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")

    @field_validator("plant", "rsml")
    @classmethod
    def _relative_to_scenario(cls, value, info: ValidationInfo):
        # a shipped parameter-set name passes through; files are resolved and must exist
        if info.field_name == "rsml":  # always a file (a name without suffix is no parameter set)
            return scenario_file(value, info)
        return scenario_file(value, info, suffixes=(".xml", ".yaml", ".yml", ".rsml"))

    def parameter_sets(self) -> dict:
        if self.rsml is not None or self.plant is None:
            return {}
        from . import load_plant_parameters
        return {"plant": lambda: load_plant_parameters(self.plant)}

    @field_validator("output_times")
    @classmethod
    def _times(cls, value):
        if value is not None and (not value or any(t <= 0 for t in value)):
            raise ValueError("output times must be a non-empty list of positive times [d]")
        return None if value is None else sorted(value)


def make_confinement(cfg: ConfinementConfig | None):
    """The confinement object for a config (None when unconfined).

    Parameters
    ----------
    cfg : ConfinementConfig or None
        The scenario's ``confinement`` keys.

    Returns
    -------
    Box, Cylinder, Rhizotron or None

    Examples
    --------
    >>> from rhizoscale.plant.scenario import ConfinementConfig, make_confinement
    >>> make_confinement(ConfinementConfig(type="cylinder", radius=5, depth=30))
    Cylinder(radius=5.0, depth=30.0, top=0.0)
    """
    if cfg is None:
        return None
    from .confinement import Box, Cylinder, Rhizotron
    if cfg.type == "box":
        return Box(cfg.lower, cfg.upper)
    if cfg.type == "cylinder":
        return Cylinder(cfg.radius, cfg.depth)
    return Rhizotron(cfg.width, cfg.thickness, cfg.depth, cfg.angle_deg)


def make_grid(cfg: GridConfig):
    """The :class:`~rhizoscale.RegularGrid` of a scenario's ``grid`` keys.

    Parameters
    ----------
    cfg : GridConfig
        Corners and resolution [cm].

    Returns
    -------
    RegularGrid

    Examples
    --------
    >>> from rhizoscale.plant.scenario import GridConfig, make_grid
    >>> make_grid(GridConfig(lower=(-10, -10, -30), upper=(10, 10, 0), resolution=1.0)).shape
    (30, 20, 20)
    """
    from ..core.grid import RegularGrid
    return RegularGrid.from_resolution(cfg.lower, cfg.upper, cfg.resolution)


def _obtain(config: Config, ctx, seed: int):
    """Grow (or read) the root systems of all replicates."""
    from ..io.rsml import read_rsml
    if config.rsml is not None:
        rs = read_rsml(config.rsml, age=config.age)
        for w in rs.metadata.get("warnings", []):
            ctx.warn(w)
        return [rs], None
    from . import grow_root_system
    params = ctx.parameter_set(config, "plant")
    for w in params.reader_warnings:  # what a CPlantBox XML reader ignored
        ctx.warn(f"{config.plant}: {w}")
    confinement = make_confinement(config.confinement)
    systems = []
    for k in range(config.replicates):
        label = f"growing {params.name} for {config.days:g} d"
        if config.replicates > 1:
            label += f" (seed {seed + k})"
        with ctx.task(label, total=config.days) as cb:
            systems.append(grow_root_system(params, config.days, seed=seed + k,
                                            confinement=confinement, callback=cb,
                                            backend=config.backend))
    return systems, params


#: bytes per grid cell and output time: the root length density of each time (float64)
#: and its copy in the time series
_CELL_BYTES_PER_TIME = 16
#: bytes per grid cell besides: r1 and the temporaries of the density and of r1
_CELL_BYTES = 24


def _n_output_times(config: Config, age: float) -> int:
    return len(config.output_times) if config.output_times else max(1, int(np.floor(age + 1e-9)))


def estimate_memory(config: Config, age: float | None = None) -> "MemoryEstimate":
    """Peak memory of a ``plant-growth`` run [bytes], from the scenario alone.

    The root-length-density time series dominates: ``N * (16 T + 24)`` bytes for ``N``
    grid cells and ``T`` output times (every day by default), plus 128 MiB for
    libraries, the root systems and the figures. ``age``: the root system's age [d]
    (default ``days``; for an RSML file, its age once read). Calibrated against the
    measured peak resident memory (docs/memory.md).

    Parameters
    ----------
    config : Config
        The validated scenario.
    age : float, optional
        The root system's age [d] (default ``days``).

    Returns
    -------
    rhizoscale.memory.MemoryEstimate
        Parts [bytes] and the scenario field that changes them most.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> config = scenario_from_dict({"case": "plant-growth", "time": {"stop": 21}, "grid": {
    ...     "lower": [-10, -10, -40], "upper": [10, 10, 0], "resolution": 0.5}}).config
    >>> estimate = estimate_memory(config)
    >>> estimate.field, round(estimate.gib, 3)                # [GiB]
    ('grid.resolution', 0.168)
    """
    from ..memory import BASE_ALLOWANCE, GIB, MemoryEstimate, largest_fitting, round_nice
    age = config.days if age is None else age
    parts = {"libraries, root systems and figures": float(BASE_ALLOWANCE)}
    if config.grid is None:
        return MemoryEstimate(parts, "grid")
    n_t = _n_output_times(config, age)

    def rld_bytes(resolution) -> float:
        n = make_grid(config.grid.model_copy(update={"resolution": resolution})).n_cells
        return float(n) * (_CELL_BYTES_PER_TIME * n_t + _CELL_BYTES)

    res = config.grid.resolution
    parts["root length density"] = rld_bytes(res)

    def suggest(limit: float) -> str:
        r0 = float(np.max(res))

        def scaled(r):  # one cell size, or three in the same proportions
            return tuple(float(v) * r / r0 for v in res) if isinstance(res, tuple) else r
        r = largest_fitting(lambda r: rld_bytes(scaled(r)) + BASE_ALLOWANCE, limit, r0)
        if r is None:
            return "use a smaller grid (lower/upper) or fewer output_times"
        r = round_nice(r)
        return (f"use a coarser grid.resolution, e.g. {r:g} cm (now {r0:g} cm; about "
                f"{(rld_bytes(scaled(r)) + BASE_ALLOWANCE) / GIB:.2g} GiB), fewer output_times "
                f"(now {n_t}) or a smaller grid")

    return MemoryEstimate(parts, "grid.resolution", suggest)


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` may make, ``{name: (kind, units)}``, known before
    it runs (what a pipeline checks its inputs and a sensitivity analysis its quantities
    against; tests/test_contract.py checks every example's products against them)."""
    out = {"memory_estimate": ("scalar", "GiB"), "n_roots": ("scalar", "1"), "total_length": ("scalar", "cm"),
           "max_depth": ("scalar", "cm")}
    if config.grid is not None:
        out["root_length_density.nc"] = ("field", None)
        out["length_inside_grid"] = ("scalar", "cm")
    return out


def run(config: Config, ctx) -> Products:
    """Grow or read root systems; return them, RLD fields, figures and the summary.


    The case's side of the contract (:func:`rhizoscale.scenario.run_products`):
    ``config`` is this module's :class:`Config`, ``ctx`` a
    :class:`rhizoscale.outputs.RunContext`; returns :class:`rhizoscale.products.Products`.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed (of the first replicate), progress, warnings, resolved parameter sets.

    Returns
    -------
    rhizoscale.products.Products
        The root system(s) (RSML), root length density fields [cm cm-3] on the grid,
        figures, and root count, total length [cm] and rooting depth [cm].

    Examples
    --------
    >>> from rhizoscale.scenario import run_products, scenario_from_dict
    >>> scenario = scenario_from_dict({
    ...     "case": "plant-growth", "plant": "vicia_faba", "time": {"stop": "3 d"},
    ...     "grid": {"lower": [-5, -5, -10], "upper": [5, 5, 0], "resolution": 1.0},
    ...     "outputs": {"figures": False, "vtk": False}})
    >>> products = run_products(scenario)
    >>> round(products.value("total_length"), 3), products.scalars["total_length"].units
    (6.213, 'cm')
    >>> list(products.fields), list(products.root_systems)
    (['root_length_density.nc'], ['root_system.rsml'])
    """
    import xarray as xr

    from ..products import Products
    seed = ctx.seed
    out = Products("plant-growth")
    # an RSML file's age (hence the default output times) is known once it is read (cheap)
    memory = estimate_memory(config) if config.rsml is None else None
    if memory is not None:
        check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    systems, params = _obtain(config, ctx, seed)
    rs = systems[0]
    if memory is None:
        memory = estimate_memory(config, age=rs.time)
        check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)
    end = rs.time
    times = config.output_times or [float(t) for t in np.arange(1, np.floor(end) + 1)] or [end]
    if times[-1] > end + 1e-9:
        raise InputError(f"output time {times[-1]:g} d is beyond the root system's age {end:g} d",
                         source="scenario", field="output_times")
    per_time = []
    for t in times:
        stats = [s.at(t).summary() for s in systems]
        row = {"time_d": t}
        for key in ("n_roots", "total_length_cm", "max_depth_cm"):
            vals = np.array([st[key] for st in stats], dtype=float)
            row[key] = float(vals.mean())
            if len(systems) > 1:
                row[key + "_sd"] = float(vals.std(ddof=1))
        per_time.append(row)
    out.info["root_system"] = rs.summary()
    out.info["per_time"] = per_time
    if len(systems) > 1:
        out.info["replicates"] = [s.summary() for s in systems]
    if params is not None:
        out.info["parameters"] = params.name
        chosen = params.chosen() if hasattr(params, "chosen") else {}
        if chosen:
            out.info["chosen_parameters"] = chosen
    out.root_systems["root_system.rsml"] = rs
    if config.outputs.vtk:
        from ..io.vtk import write_root_system_vtk
        out.exports["root_system.vtp"] = lambda path: write_root_system_vtk(rs, path)
    if config.grid is not None:
        from ..core.grid import half_mean_interroot_distance, root_length_density
        grid = make_grid(config.grid)
        with ctx.task("root length density", total=len(times)) as cb:
            rld = []
            for k, t in enumerate(times):
                rld.append(root_length_density(rs, grid, t=t))
                cb(k + 1, len(times))
        rld = xr.concat(rld, dim="time").assign_coords(time=("time", np.asarray(times),
                                                            {"units": "d"}))
        ds = xr.Dataset({"root_length_density": rld,
                         "r1": half_mean_interroot_distance(rld.isel(time=-1))})
        ds.attrs.update({"title": "root length density", "source": "rhizoscale plant-growth",
                         "seed": seed})
        out.add_field("root_length_density.nc", ds)
        inside = float(rld.isel(time=-1).sum()) * grid.cell_volume
        out.info["length_inside_grid_cm"] = inside
        if inside < 0.999 * rs.total_length():
            ctx.warn(f"{rs.total_length() - inside:.1f} cm of roots lie outside the grid")
    if config.outputs.figures:
        from .figures import plot_depth_profile, plot_root_system
        out.figures["root_system.png"] = (plot_root_system(rs))
        labels = [f"seed {seed + k}" for k in range(len(systems))] if len(systems) > 1 else None
        out.figures["depth_profile.png"] = (plot_depth_profile(systems, labels))
    s = rs.summary()
    ctx.message(f"{s['n_roots']} roots, {s['total_length_cm']:.1f} cm, max depth "
                f"{s['max_depth_cm']:.1f} cm at {end:g} d")
    out.add_scalar("n_roots", s["n_roots"], "1", f"roots at {end:g} d (seed {seed})")
    out.add_scalar("total_length", s["total_length_cm"], "cm", f"total root length at {end:g} d (seed {seed})")
    out.add_scalar("max_depth", s["max_depth_cm"], "cm", f"rooting depth at {end:g} d (seed {seed})")
    if "length_inside_grid_cm" in out.info:
        out.add_scalar("length_inside_grid", out.info["length_inside_grid_cm"], "cm",
                       "root length inside the root-length-density grid")
    return out
