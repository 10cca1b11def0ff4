"""Scenario runner for case study 1 (rhizodeposition), case name ``cs1-rhizodeposition``.

Keys::

    case: cs1-rhizodeposition
    seed: 1
    plant: vicia_faba          # grow (rhizoscale.plant) ...
    days: 21
    rsml: null                 # ... or read this RSML file (relative to the scenario file)
    straight_root: null        # ... or {velocity: 1.0, days: 10}: one straight root
    exudates: [mucilage, citrate]
    overrides: {citrate: {k: 1.0}}
    grid: {lower: [-10, -10, -45], upper: [10, 10, 0], resolution: 0.1}
    output_times: null         # default: every day 1..days
    field_output_times: [7, 14, 21]
    direct_age: auto           # auto | all | a number of days
    growth_rates: null         # e.g. [0.05, ..., 4]: single straight roots (Fig. 4), hotspot volume vs rate
    single_root_resolution: 0.01   # their voxel size [cm] (the plumes are sub-millimetre)
    panel_rates: [0.1, 0.5, 1, 2]  # shown in the Fig. 4 panel; volumes also on 2x, 4x coarser grids
    memory_limit_gb: null       # GiB (2**30 bytes); default: the memory available

Writes ``fields.nc`` (time, z, y, x; float32, compressed), ``fields.vti`` (last output
time; float32, zlib-compressed), ``root_system.rsml``, figures and per-day hotspot figures
in ``summary.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, TYPE_CHECKING, Union

import numpy as np
import xarray as xr
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..parameters._base import StrictModel
from ..errors import InputError
from ..products import is_product_reference, read_relation
from ..core.grid import RegularGrid
from ..memory import MemoryEstimate, check_memory, record_estimate
from ..parameters import load_parameter_set
from ..plant.scenario import check_grid_box, check_grid_resolution, scenario_file
from ..scenario import CaseConfig, ContactExudationSection
from ..plant.generators import straight_root_system
from . import analysis, figures
from ..simulation import IterationInterval, Simulation
from .field import RhizodepositionModel, rhizodeposition_fields
from .green import peclet_number, root_paths
from .parameters import ExudateParameters

if TYPE_CHECKING:  # annotations only
    from ..products import Products

__all__ = ["Config", "run"]


class GridConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lower: tuple[float, float, float] = (-10.0, -10.0, -45.0)
    upper: tuple[float, float, float] = (10.0, 10.0, 0.0)
    resolution: Union[float, tuple[float, float, float]] = Field(0.1, description="cell size [cm]")

    _resolution = field_validator("resolution")(check_grid_resolution)
    _box = model_validator(mode="after")(check_grid_box)


class StraightRootConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    velocity: float = Field(1.0, gt=0, description="elongation rate [cm d-1]")
    days: float = Field(10.0, gt=0, description="growth time [d]")
    radius: float = Field(0.05, gt=0, description="root radius [cm]")


class SoilDiffusivityConfig(StrictModel):
    """Exudate diffusion coefficients from the soil's water content through a constitutive
    relation ``D_eff(theta) / D_water`` (case study 4's homogenisation, e.g. with mucilage),
    instead of each exudate set's fixed ``D``.

    CS1's transport is ``theta R dc/dt = div(theta D grad c) ...`` with ``D`` the pore-water
    coefficient with impedance, so the bulk effective diffusivity ``D_eff`` of the relation
    gives ``D = d_water * relation(theta) / theta`` (Millington-Quirk read the same way:
    ``D_w theta^(10/3) / phi^2 = theta D_w theta^(7/3) / phi^2``), ``theta`` being the
    exudate set's water content.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    table: str = Field(..., description="NetCDF effective-property table, or a relation product handed on by "
                       "a pipeline", json_schema_extra={"product": "relation"})
    mucilage_fraction: float = Field(0.0, ge=0, le=1, description="which tabulated mucilage share (a table file)")
    d_water: dict[str, float] = Field(..., description="free-water diffusion coefficient of each exudate [cm2 d-1]")
    thickness_relation: Optional[str] = Field(
        None, description="D_eff of a heterogeneous layer versus its thickness (case study 4's "
        "d_eff_thickness, a relation of thickness [cm]); with `thickness`, D is scaled by "
        "relation(thickness) / relation(thickest tabulated layer) (von Jeetze et al. 2020)",
        json_schema_extra={"product": "relation"})
    thickness: Optional[float] = Field(
        None, gt=0, description="extent of the layer the exudates explore [cm] (e.g. the "
        "rhizosphere's width), the argument of thickness_relation")

    @field_validator("table", "thickness_relation")
    @classmethod
    def _relative(cls, value, info: ValidationInfo):
        return None if value is None else scenario_file(value, info)

    @model_validator(mode="after")
    def _thickness_pair(self):
        if (self.thickness_relation is None) != (self.thickness is None):
            given = "thickness_relation" if self.thickness is None else "thickness"
            other = "thickness" if self.thickness is None else "thickness_relation"
            raise ValueError(f"{given} needs {other} too")
        return self

    def thickness_factor(self) -> float:
        """``relation(thickness) / relation(L_max)``: the conductance of a layer as thin as
        the one the exudates explore, relative to the thickest tabulated layer (the bulk
        from which a ``D_eff(theta)`` table is homogenised); 1 without a thickness relation.
        Thinner than the thinnest tabulated layer is refused (no extrapolation)."""
        if self.thickness_relation is None:
            return 1.0
        rel = read_relation(self.thickness_relation, variable="thickness",
                            field="soil_diffusivity.thickness_relation")
        thick = float(np.max(rel.theta))
        if not rel.theta.min() <= self.thickness:
            raise InputError(f"{self.thickness:g} cm is thinner than the thinnest tabulated layer "
                             f"({rel.theta.min():g} cm)", field="soil_diffusivity.thickness")
        return float(rel(min(self.thickness, thick)) / rel(thick))

    @field_validator("d_water")
    @classmethod
    def _positive(cls, value):
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"d_water.{bad[0]} must be > 0 cm2 d-1")
        return value


class BoundaryLocationConfig(StrictModel):
    """A root location whose surface flux and concentration versus time are handed to
    pore-scale models (downscaling, e.g. case study 5's ``boundary_series``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    point: tuple[float, float, float] = Field(..., description="(x, y, z) near a root [cm]; the nearest "
                                              "point on a root axis is used")
    max_distance: float = Field(0.5, gt=0, description="refuse a point farther than this from every root [cm]")
    start: float = Field(0.0, ge=0, description="time of this run that is time 0 of the series [d] "
                         "(e.g. when the tip reaches the location)")
    times: Optional[list[float]] = Field(None, description="times of the series from start [d] (default: 49 "
                                         "from start to the end of the run)")

    @field_validator("times")
    @classmethod
    def _increasing(cls, value):
        if value is not None and (len(value) < 2 or any(b <= a for a, b in zip(value, value[1:]))
                                  or value[0] < 0):
            raise ValueError("at least two increasing times >= 0 d")
        return value


class Config(CaseConfig):
    """Keys of a ``cs1-rhizodeposition`` scenario (see the module docstring for an example).

    A root system (grown, read from RSML, or one straight root), the exudates (shipped
    parameter sets with ``overrides``), the grid and the output times. Lengths in cm,
    times in d.

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1).

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({
    ...     "case": "cs1-rhizodeposition", "root_system": {"straight": {"velocity": 1.0, "days": 3}},
    ...     "grid": {"lower": [-1, -1, -4], "upper": [1, 1, 0.5], "resolution": 0.2},
    ...     "growth_rates": [0.5, 1.0], "panel_rates": [0.5, 1.0], "single_root_resolution": 0.05,
    ...     "outputs": {"figures": False, "vtk": False}})
    >>> config = scenario.config
    >>> config.straight_root.velocity, config.exudates, config.grid.resolution
    (1.0, ['mucilage', 'citrate'], 0.2)
    """

    ROOT_SYSTEM_KEYS = {"plant": "plant", "rsml": "rsml", "age": "age", "straight": "straight_root"}
    TIME_KEYS = {"stop": ("days", "d"), "outputs": ("field_output_times", "d")}

    plant: Optional[str] = Field("vicia_faba", description="plant parameter set, YAML or CPlantBox XML")
    days: float = Field(21.0, gt=0, le=365, description="simulated time [d]")
    rsml: Optional[str] = Field(None, description="RSML file to read instead of growing")
    age: Optional[float] = Field(None, gt=0, description="age of the RSML root system [d]")
    straight_root: Optional[StraightRootConfig] = None
    exudates: list[str] = Field(default_factory=lambda: ["mucilage", "citrate"], min_length=1)
    overrides: dict[str, dict] = Field(default_factory=dict)
    grid: GridConfig = Field(default_factory=GridConfig)
    output_times: Optional[list[float]] = None
    field_output_times: Optional[list[float]] = None
    direct_age: Union[Literal["auto", "all"], float] = "auto"
    growth_rates: Optional[list[float]] = None
    single_root_resolution: float = Field(0.01, gt=0, description="cell size of the single-root grids [cm]")
    panel_rates: list[float] = Field(default_factory=lambda: [0.1, 0.5, 1.0, 2.0],
                                     description="rates shown in the Fig. 4 panel and checked for convergence")
    exudation_factor: float = Field(1.0, gt=0, description="multiplies every exudate's release rate Q: an "
                                    "effective factor for root hairs and partial root-soil contact from "
                                    "image-based runs (case study 3) [1]")
    soil_diffusivity: Optional[SoilDiffusivityConfig] = Field(
        None, description="exudate D from the water content through a D_eff(theta) relation (default: each "
                          "exudate set's D)")
    contact_exudation: Optional[ContactExudationSection] = Field(
        None, description="release rates times an effective factor of the root-soil contact fraction "
                          "(case study 3's exudation_factor_contact relation)")
    boundary_location: Optional[BoundaryLocationConfig] = Field(
        None, description="a root location: its surface flux (line sources) and surface concentration "
                          "versus time as boundary series (root_surface_flux_NAME.nc, "
                          "root_surface_concentration_NAME.nc)")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")

    @field_validator("rsml")
    @classmethod
    def _relative(cls, value, info: ValidationInfo):
        return scenario_file(value, info)

    @field_validator("plant")
    @classmethod
    def _plant_file(cls, value, info: ValidationInfo):
        # a shipped parameter-set name passes through; files are resolved and must exist
        return scenario_file(value, info, suffixes=(".xml", ".yaml", ".yml"))

    @field_validator("growth_rates")
    @classmethod
    def _positive(cls, value):
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("growth rates must be > 0 cm/d")
        return value

    @field_validator("exudates")
    @classmethod
    def _exudate_files(cls, value, info: ValidationInfo):
        # shipped set names pass through; files are resolved next to the scenario
        return [scenario_file(v, info, suffixes=(".yaml", ".yml")) for v in value]

    def parameter_sets(self) -> dict:
        sets = {Path(name).stem: _exudate_loader(self, name) for name in self.exudates}
        if self.straight_root is None and self.rsml is None and self.plant is not None:
            from ..plant import load_plant_parameters
            sets["plant"] = lambda: load_plant_parameters(self.plant)
        return sets

    @model_validator(mode="after")
    def _times_within_run(self):
        # a grown root system is ``days`` old; outputs after that would only fail after
        # the root system has grown (an RSML or straight root sets its own age)
        if self.rsml is None and self.straight_root is None:
            for key in ("output_times", "field_output_times"):
                late = [t for t in (getattr(self, key) or ()) if t > self.days + 1e-9]
                if late:
                    raise ValueError(f"{key}: {late[0]:g} d is after the end of the run ({self.days:g} d)")
        return self

    @model_validator(mode="after")
    def _parameters_load(self):
        # load the exudate sets and apply the overrides now, so that a bad name or value is
        # reported with the scenario file, not minutes into the run
        try:
            _exudate_parameters(self)
        except InputError as err:
            if str(err.field or "").split(".")[0] in ("contact_exudation", "soil_diffusivity"):
                raise ValueError(f"{err.field}: {err.message}") from None
            if str(err.source or "").startswith("overrides"):
                where = ".".join(str(p) for p in (err.source, err.field) if p)
                raise ValueError(f"{where}: {err.message}") from None
            # a set name that is not shipped, or a parameter file with a bad value
            raise ValueError(f"exudates: {err.message if err.source == 'parameters' else err}") from None
        return self


def _exudate_loader(config: Config, name: str):
    def load():
        p = load_parameter_set(ExudateParameters, name)
        return p.with_overrides(config.overrides.get(name), source=f"overrides.{name}")
    return load


def _exudate_parameters(config: Config, ctx=None) -> dict[str, ExudateParameters]:
    """The exudate parameter sets by name (as the scenario resolved them, with ``ctx``)."""
    unknown = set(config.overrides) - set(config.exudates)
    if unknown:
        raise InputError(f"overrides for exudates not simulated: {sorted(unknown)}", field="overrides")
    out = {}
    for name in config.exudates:
        slot = Path(name).stem
        p = ctx.parameter_set(config, slot) if ctx is not None else _exudate_loader(config, name)()
        out[p.name] = p
    if config.exudation_factor != 1.0:
        out = {n: p.with_overrides({"Q": p.Q * config.exudation_factor}, source="exudation_factor")
               for n, p in out.items()}
    ce = config.contact_exudation
    if ce is not None and not (ctx is None and is_product_reference(ce.relation)):   # (a product: at run time)
        f = ce.factor()
        out = {n: p.with_overrides({"Q": p.Q * f}, source="contact_exudation") for n, p in out.items()}
    sd = config.soil_diffusivity
    if sd is not None:
        missing = [n for n in out if n not in sd.d_water]
        if missing:
            raise InputError(f"no free-water diffusion coefficient for {missing[0]!r}",
                             field=f"soil_diffusivity.d_water.{missing[0]}")
        if ctx is None and (is_product_reference(sd.table) or is_product_reference(sd.thickness_relation)):
            return out          # handed on only while a pipeline runs: D is set then
        rel = read_relation(sd.table, mucilage_fraction=sd.mucilage_fraction, variable="theta",
                            field="soil_diffusivity.table")
        layer = sd.thickness_factor()
        for n, p in out.items():
            d = sd.d_water[n] * rel(p.theta) / p.theta * layer
            if not d > 0:
                raise InputError(f"the relation gives D_eff = 0 at theta = {p.theta:g} (no connected liquid)",
                                 field="soil_diffusivity.table")
            out[n] = p.with_overrides({"D": d}, source="soil_diffusivity")
    return out


def _root_system(config: Config, seed: int, ctx=None):
    """The root system of the scenario; what its reader assumed or ignored goes to ``ctx.warn``."""
    warn = ctx.warn if ctx is not None else (lambda text: None)
    if config.straight_root is not None:
        sr = config.straight_root
        return straight_root_system(sr.velocity, sr.days, radius=sr.radius)
    if config.rsml is not None:
        from ..io.rsml import read_rsml
        rs = read_rsml(config.rsml, age=config.age)
        for w in rs.metadata.get("warnings", []):
            warn(f"{config.rsml}: {w}")
        return rs
    from ..plant import grow_root_system, load_plant_parameters
    params = ctx.parameter_set(config, "plant") if ctx is not None else load_plant_parameters(config.plant)
    for w in params.reader_warnings:
        warn(f"{config.plant}: {w}")
    return grow_root_system(params, config.days, seed=seed)


def _root_system_label(config: Config, rs, seed: int) -> str:
    """What the figure titles say about the root system (plant and seed, or its source)."""
    from ..plant.figures import plant_label
    if config.straight_root is not None:
        return f"straight root at {config.straight_root.velocity:g} cm d⁻¹"
    return plant_label(rs) or f"seed {seed}"


def _check_roots_in_domain(rs, grid, ctx):
    lo, hi = np.asarray(grid.lower), np.asarray(grid.upper)
    out = np.any((rs.nodes < lo) | (rs.nodes > hi), axis=1)
    if np.any(out):
        ctx.warn(f"{int(out.sum())} of {rs.n_nodes} root nodes lie outside the grid; their "
                 "exudates are released but the mass outside is not on the grid "
                 "(see mass_outside_ug in the summary)")
    zero = np.flatnonzero(rs.root_lengths() <= 0)
    if len(zero):
        ctx.warn(f"{len(zero)} roots have zero length and release nothing")


def _straight_root_grid(v, days, p, h) -> RegularGrid:
    """The grid of :func:`_hotspot_of_straight_root` (cell size ``h`` or 1/40 of the box
    half-width, whichever is larger)."""
    length = v * days
    half = max(0.2, 3 * np.sqrt(p.source_width ** 2 + 2 * p.diffusivity_retarded / max(p.decay_retarded, 1.0 / days)))
    h = max(h, half / 40)  # wide plumes (citrate) need no sub-millimetre voxels
    half = np.ceil(half / h) * h
    return RegularGrid.from_resolution((-half, -half, -length - half), (half, half, half), h)


class HotspotRecorder:
    """Callback of a CS1 run: per output time the hotspot figures, the hotspot duration,
    the saved fields and the last field (checkpointable, so a run resumes)."""

    KEYS = ("time_d", "hotspot_volume_cm3", "overlap_share", "max_concentration_ug_cm3",
            "mass_in_domain_ug", "mass_present_ug", "mass_outside_ug", "released_ug")

    def __init__(self, grid, threshold: float, field_times):
        self.grid, self.threshold = grid, float(threshold)
        self.field_times = np.asarray(field_times, float)
        self.duration = np.zeros(grid.shape, dtype=np.float32)
        self.per_day, self.saved, self.last, self.t_prev = [], [], None, 0.0

    def __call__(self, sim) -> None:
        snap, thr = sim.model.snapshot, self.threshold
        c = snap.concentration
        # one pass over the grid (analysis.hotspot_volume, overlap_share and
        # hotspot_duration_update are its specification)
        same = sim.model.single_root_threshold == thr
        hot_max = snap.hot_single_root_max if same else None
        hot_exceeds = snap.hot_single_root_exceeds if same else None
        stats = analysis.hotspot_statistics(c, thr, self.grid.cell_volume, self.duration,
                                            snap.time - self.t_prev, hot_max, hot_exceeds)
        if hot_max is None and hot_exceeds is None:
            stats["overlap_share"] = analysis.overlap_share(c, snap.single_root_max, thr)
        self.t_prev = snap.time
        self.per_day.append({
            "time_d": snap.time,
            "hotspot_volume_cm3": stats["hotspot_volume"],
            "overlap_share": stats["overlap_share"],
            "max_concentration_ug_cm3": stats["max_concentration"],
            "mass_in_domain_ug": snap.mass_in_domain,
            "mass_present_ug": snap.expected_mass,
            "mass_outside_ug": snap.mass_outside,
            "released_ug": snap.released,
        })
        if np.any(np.isclose(snap.time, self.field_times)):
            self.saved.append(c.astype(np.float32))
        self.last = c

    def checkpoint_state(self) -> dict:
        # the saved fields one entry each (no stacked copy); the last field is not stored:
        # it is the model's field at its time, recomputed from the model's state after a
        # restore (see run)
        return {"duration": self.duration, "t_prev": self.t_prev,
                "per_day": {k: np.asarray([r[k] for r in self.per_day], float) for k in self.KEYS},
                "saved": {str(i): a for i, a in enumerate(self.saved)}, "n_saved": len(self.saved),
                "has_last": False, "last": np.zeros(0)}

    def restore_state(self, st: dict) -> None:
        self.duration = np.array(st["duration"], dtype=np.float32)
        self.t_prev = float(st["t_prev"])
        cols = {k: np.atleast_1d(st["per_day"][k]) for k in self.KEYS}
        self.per_day = [{k: float(cols[k][i]) for k in self.KEYS} for i in range(len(cols["time_d"]))]
        saved = st.get("saved", {})           # (no entry when nothing was saved yet)
        if isinstance(saved, dict):
            self.saved = [np.array(saved[str(i)]) for i in range(int(st["n_saved"]))]
        else:                                 # a stacked array (checkpoints of earlier versions)
            self.saved = [np.array(a) for a in saved]
        self.last = np.array(st["last"]) if bool(st["has_last"]) else None


def _hotspot_of_straight_root(v, days, p, h):
    """Hotspot volume [cm3] around one straight root at rate ``v`` after ``days``.

    Cell size ``h``, or 1/40 of the box half-width when that is larger (wide plumes).

    The grid only needs to cover the hotspot (voxel values are exact infinite-soil voxel
    averages whatever the domain): a box 3 diffusion lengths (at least 2 mm) around the path.
    """
    rs = straight_root_system(v, days)
    g = _straight_root_grid(v, days, p, h)
    snap = list(rhizodeposition_fields(rs, g, p, [days]))[-1]
    c = snap.concentration
    thr = p.threshold_liquid
    edge = max(c[:, 0, :].max(), c[:, -1, :].max(), c[:, :, 0].max(), c[:, :, -1].max())
    return analysis.hotspot_volume(c, thr, g.cell_volume), edge > thr, g, c


def _single_root_study(config, params, ctx, out):
    """Straight roots at many rates on a fine grid: Fig. 4 panel and hotspot volume vs rate."""
    rates = config.growth_rates
    days = config.straight_root.days if config.straight_root else 10.0
    h = config.single_root_resolution
    vols = {n: [] for n in params}
    conv = {n: {} for n in params}
    cuts = {n: {} for n in params}
    with ctx.task("single roots at several growth rates", len(rates) * len(params)) as cb:
        k = 0
        for v in rates:
            for name, p in params.items():
                vol, clipped, g, c = _hotspot_of_straight_root(v, days, p, h)
                if clipped:
                    ctx.warn(f"single root {name} at {v:g} cm/d: the hotspot reaches the grid's edge")
                vols[name].append(vol)
                if v in config.panel_rates:
                    j = int(np.argmin(np.abs(g.centers("y"))))
                    cuts[name][v] = (c[:, j, :], [g.lower[0], g.upper[0], g.lower[2], g.upper[2]])
                k += 1
                cb(k, len(rates) * len(params))
        # convergence: the same volumes on 2x and 4x coarser grids at a few rates
        for name, p in params.items():
            for v in config.panel_rates:
                conv[name][str(v)] = [_hotspot_of_straight_root(v, days, p, f * h)[0] for f in (4, 2, 1)]
    summary = {"rates_cm_d": rates, "days": days, "resolution_cm": h,
               **{f"{n}_cm3": v for n, v in vols.items()},
               "convergence": {"resolutions_cm": [4 * h, 2 * h, h], **conv}}
    for name in params:
        vv = np.asarray(vols[name])
        if np.any(vv > 0):
            i = int(np.argmax(vv))
            summary[f"{name}_max"] = {"rate_cm_d": rates[i], "volume_cm3": float(vv[i])}
            out.add_scalar(f"rate_of_largest_hotspot_{name}", rates[i], "cm d-1",
                           f"{name}: single-root elongation rate with the largest hotspot volume")
    out.info["hotspot_volume_vs_rate"] = summary
    if config.outputs.figures:
        out.figures["hotspot_volume_vs_rate.png"] = figures.hotspot_vs_rate_figure(
            rates, vols, title=f"single straight roots, day {days:g}, {10 * h:g} mm voxels")
        for name, p in params.items():
            if not cuts[name]:
                continue
            ext = max((e for _, e in cuts[name].values()), key=lambda e: e[3] - e[2])
            panel = {}
            for v, (cut, e) in cuts[name].items():
                # pad each cut to the common (deepest) frame
                nz = int(round((ext[3] - ext[2]) / h))
                full = np.full((nz, cut.shape[1]), np.nan)   # not computed: blank
                full[nz - cut.shape[0]:] = cut
                panel[v] = full
            fig = figures.single_root_panel(panel, [e[0], e[1], ext[2], ext[3]], p.threshold_liquid,
                                            title=f"{name} around single straight roots, day {days:g}")
            out.figures[f"single_root_{name}.png"] = (fig)


#: bytes per grid cell and exudate once its fields are done: the last concentration
#: (float64), the hotspot duration (float32); plus per saved field time (float32) twice,
#: the list of snapshots and the stacked copy in the Dataset
_CELL_BYTES_DONE, _CELL_BYTES_SAVED = 12, 8
#: bytes per grid cell of the exudate being computed, besides its saved fields: the
#: duration (4), the concentration (8), the propagated older mass with the heat kernel's
#: two temporaries (24), single-root maxima where the threshold is exceeded (up to 8)
_CELL_BYTES_CURRENT = 44
#: bytes per cell of a single straight root's grid (concentration 8, kernel temporaries; measured 19)
_CELL_BYTES_SINGLE_ROOT = 20


def estimate_memory(config: Config, params: dict | None = None) -> MemoryEstimate:
    """Peak memory of a ``cs1-rhizodeposition`` run, from the scenario alone.

    With ``N`` grid cells, ``E`` exudates and ``F`` saved field times, the run holds at
    its peak about ``N * max(E*(12 + 8F) + 8, (E-1)*(12 + 4F) + 4F + 44)`` bytes (the
    finished exudates' fields, the one being computed), plus, with ``growth_rates``, the
    largest single-root grid at 20 bytes per cell, plus 128 MiB for libraries and figures.
    Calibrated against the measured peak resident memory (docs/memory.md). ``params``:
    the exudate parameter sets as the run resolved them (default: as the config names them).

    Parameters
    ----------
    config : Config
        The validated scenario.
    params : dict, optional
        Exudate name -> :class:`~rhizoscale.rhizodeposition.ExudateParameters`.

    Returns
    -------
    rhizoscale.memory.MemoryEstimate
        Parts [bytes] and the scenario field that changes them most.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> estimate = estimate_memory(scenario_from_dict({"case": "cs1-rhizodeposition"}).config)
    >>> estimate.field, round(estimate.gib, 1)                # the shipped defaults [GiB]
    ('grid.resolution', 1.2)
    """
    from ..memory import BASE_ALLOWANCE, GIB, largest_fitting, round_nice
    params = _exudate_parameters(config) if params is None else params
    n_ex = len(params)
    n_saved = len(config.field_output_times) if config.field_output_times is not None else 1

    def field_bytes(resolution) -> float:
        g = config.grid
        n = RegularGrid.from_resolution(g.lower, g.upper, resolution).n_cells
        done = n_ex * (_CELL_BYTES_DONE + 2 * 4 * n_saved) + 8
        current = (n_ex - 1) * (_CELL_BYTES_DONE + 4 * n_saved) + 4 * n_saved + _CELL_BYTES_CURRENT
        return float(n) * max(done, current)

    def single_root_bytes(h) -> float:
        if not config.growth_rates:
            return 0.0
        days = config.straight_root.days if config.straight_root else 10.0
        n = max(_straight_root_grid(v, days, p, h).n_cells for v in config.growth_rates for p in params.values())
        return float(n) * _CELL_BYTES_SINGLE_ROOT

    res = config.grid.resolution
    parts = {"concentration fields": field_bytes(res),
             "single-root grids": single_root_bytes(config.single_root_resolution),
             "libraries and figures": float(BASE_ALLOWANCE)}
    single = parts["single-root grids"] > parts["concentration fields"]
    field = "single_root_resolution" if single else "grid.resolution"

    def suggest(limit: float) -> str:
        rest = parts["libraries and figures"] + (parts["concentration fields"] if single else parts["single-root grids"])
        if single:
            h0 = config.single_root_resolution
            h = largest_fitting(lambda h: single_root_bytes(h) + rest, limit, h0)
            return "" if h is None else (f"use a coarser single_root_resolution, e.g. {round_nice(h):g} cm "
                                         f"(now {h0:g} cm), or fewer or slower growth_rates")
        r0 = float(np.max(res))
        scale = np.asarray(res, float) / r0
        r = largest_fitting(lambda r: field_bytes(r * scale) + rest, limit, r0)
        if r is None:
            return "use a smaller grid (lower/upper)"
        r = round_nice(r)
        return (f"use a coarser grid.resolution, e.g. {r:g} cm (now {r0:g} cm; about "
                f"{(field_bytes(r * scale) + rest) / GIB:.2g} GiB), or a smaller grid (lower/upper)")

    return MemoryEstimate(parts, field, suggest)


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` may make, ``{name: (kind, units)}``, known before
    it runs (what a pipeline checks its inputs and a sensitivity analysis its quantities
    against; tests/test_contract.py checks every example's products against them)."""
    out = {"memory_estimate": ("scalar", "GiB"), "fields.nc": ("field", None)}
    for name in (Path(e).stem for e in config.exudates):
        out.update({f"hotspot_volume_{name}": ("scalar", "cm3"), f"overlap_share_{name}": ("scalar", "1"),
                    f"max_concentration_{name}": ("scalar", "ug cm-3"), f"mass_in_domain_{name}": ("scalar", "ug")})
        if config.growth_rates:     # when some rate gives a hotspot at all
            out[f"rate_of_largest_hotspot_{name}"] = ("scalar", "cm d-1")
    if config.boundary_location is not None:
        for name, p in _exudate_parameters(config).items():
            out[f"root_surface_concentration_{name}.nc"] = ("series", "ug cm-3")
            if p.release == "line":        # a point source has no surface flux at a fixed location
                out[f"root_surface_flux_{name}.nc"] = ("series", "ug cm-2 d-1")
    return out


def run(config: Config, ctx) -> Products:
    """Run case study 1: fields, hotspots, overlap share, durations, figures.


    The case's side of the contract (:func:`rhizoscale.scenario.run_products`):
    ``config`` is this module's :class:`Config`, ``ctx`` a
    :class:`rhizoscale.outputs.RunContext`; returns :class:`rhizoscale.products.Products`.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed (of the root growth), progress, warnings, checkpointed simulations.

    Returns
    -------
    rhizoscale.products.Products
        Per exudate: concentration fields [µg cm-3], hotspot volume [cm3] and duration
        [d], overlap share [1], mass in the domain [µg]; the single-root study and figures.

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1).

    Examples
    --------
    Even a 3-day single root takes a few seconds (the gallery example
    ``docs/gallery/plot_cs1_rhizodeposition.py`` runs one); the scenario that would run
    and its memory estimate:

    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({
    ...     "case": "cs1-rhizodeposition", "root_system": {"straight": {"velocity": 1.0, "days": 3}},
    ...     "grid": {"lower": [-1, -1, -4], "upper": [1, 1, 0.5], "resolution": 0.2},
    ...     "growth_rates": [0.5, 1.0], "panel_rates": [0.5, 1.0], "single_root_resolution": 0.05,
    ...     "outputs": {"figures": False, "vtk": False}})
    >>> estimate_memory(scenario.config).gib < 0.5                        # [GiB]
    True

    ``rhizoscale.scenario.run_products(scenario)`` then returns the products (e.g.
    ``products.value("mass_in_domain_mucilage")`` in µg).
    """
    from ..products import Products
    seed = ctx.seed
    out = Products("cs1-rhizodeposition")
    params = _exudate_parameters(config, ctx)
    memory = estimate_memory(config, params)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)
    g = config.grid
    grid = RegularGrid.from_resolution(g.lower, g.upper, g.resolution)
    with ctx.task("root system"):
        rs = _root_system(config, seed, ctx)
    out.info["root_system"] = rs.summary()
    age = rs.time
    times = config.output_times
    if times is None:
        times = list(np.arange(1, int(np.floor(age + 1e-9)) + 1, dtype=float)) or [age]
    if max(times) > age + 1e-9:
        raise InputError(f"output time {max(times):g} d is beyond the root system's age {age:g} d",
                         field="output_times")
    field_times = config.field_output_times if config.field_output_times is not None else [times[-1]]
    missing = [t for t in field_times if not np.any(np.isclose(t, times))]
    if missing:
        raise InputError(f"field_output_times {missing} are not output times", field="field_output_times")
    _check_roots_in_domain(rs, grid, ctx)
    paths = root_paths(rs)
    if config.boundary_location is not None:           # refused before any field is computed
        _boundary_location(config, paths, float(times[-1]))
    out.root_systems["root_system.rsml"] = rs
    per_day = {name: [] for name in params}
    last, durations, saved = {}, {}, {name: [] for name in params}
    for name, p in params.items():
        thr = p.threshold_liquid
        direct = {"auto": None, "all": np.inf}.get(config.direct_age, config.direct_age) \
            if isinstance(config.direct_age, str) else float(config.direct_age)
        # the overlap share needs only whether one root alone exceeds the threshold; the
        # recorder copies the fields it keeps (the last one is the model's final snapshot)
        model = RhizodepositionModel(paths, grid, p, direct_age=direct, single_root_threshold=thr,
                                     single_root="exceeds", reuse_snapshot=True)
        model.check_times(times)
        sim = Simulation(model, stop_time=float(times[-1]), time_steps=times, name=f"cs1-{name}")
        rec = HotspotRecorder(grid, thr, field_times)
        sim.add_callback("record", rec, IterationInterval(1))
        ctx.simulate(sim, description=f"{name} fields", progress_units=" d")
        per_day[name], saved[name] = rec.per_day, rec.saved
        # resumed at its end, the recorder has no last field: the model's, recomputed
        last[name] = rec.last if rec.last is not None else model.state()["concentration"].values
        durations[name] = duration = rec.duration
        final = per_day[name][-1]
        out.add_scalar(f"hotspot_volume_{name}", final["hotspot_volume_cm3"], "cm3",
                       f"{name} hotspot volume (c above the threshold) at {times[-1]:g} d")
        out.add_scalar(f"overlap_share_{name}", final["overlap_share"], "1",
                       f"{name}: share of the hotspot volume where no single root exceeds the threshold")
        out.add_scalar(f"max_concentration_{name}", final["max_concentration_ug_cm3"], "ug cm-3",
                       f"{name}: largest voxel-average liquid concentration at {times[-1]:g} d")
        out.add_scalar(f"mass_in_domain_{name}", final["mass_in_domain_ug"], "ug",
                       f"{name} on the grid at {times[-1]:g} d")
        out.info[name] = {
            "parameters": {k: v for k, v, _, _ in p.table()},
            "threshold_liquid_ug_cm3": thr,
            "peclet_number_r1mm_v2cm_d": float(peclet_number(2.0, 0.1, p.D)),
            "per_day": per_day[name],
            "long_hotspot_volume_cm3": float(np.count_nonzero(duration >= 0.5 * times[-1]) * grid.cell_volume),
        }
    coords = grid.coords()
    variables = {name: xr.DataArray(np.stack(saved[name]), dims=("time", "z", "y", "x"),
                                    coords={"time": ("time", np.asarray(field_times, float), {"units": "d"}),
                                            **coords},
                                    attrs={"units": "ug cm-3",
                                           "long_name": f"{name} liquid concentration (voxel average)"})
                 for name in params}
    for name in params:
        variables[f"{name}_hotspot_duration"] = grid.field(durations[name], name=f"{name}_hotspot_duration",
                                                           units="d", long_name="days above the hotspot threshold")
    ds = xr.Dataset(variables)
    out.add_field("fields.nc", ds)
    if config.outputs.vtk:
        # float32 like fields.nc: plenty for viewing, and compresses far better than float64
        from ..io.vtk import write_image_vtk
        cells = {**{n: last[n].astype(np.float32) for n in params},
                 **{f"{n}_hotspot_duration": np.asarray(durations[n], np.float32) for n in params}}
        out.exports["fields.vti"] = lambda path: write_image_vtk(cells, path, origin=grid.lower,
                                                                 spacing=tuple(grid.spacing))
    if config.outputs.figures:
        label = _root_system_label(config, rs, seed)
        out.figures["vertical_cut.png"] = figures.vertical_cut_figure(last, grid, title=f"{label}, day {times[-1]:g}")
        out.figures["hotspot_map.png"] = figures.hotspot_map_figure(
            durations, grid, title=f"{label}, days 0–{times[-1]:g}",
            thresholds={n: p.threshold_liquid for n, p in params.items()})
    if config.growth_rates:
        _single_root_study(config, params, ctx, out)
    if config.boundary_location is not None:
        _boundary_series(config, rs, paths, params, times[-1], out)
    return out


def _boundary_location(config: Config, paths, t_end: float):
    """The root location of ``boundary_location`` and the series' times after ``start``
    [d], checked (InputError naming the field) before any field is computed."""
    from .release import nearest_root_location
    loc = config.boundary_location
    root, arc, axis, dist = nearest_root_location(paths, loc.point)
    if dist > loc.max_distance:
        raise InputError(f"the nearest root axis is {dist:.3g} cm away (more than max_distance "
                         f"{loc.max_distance:g} cm)", field="boundary_location.point")
    if loc.start >= t_end:
        raise InputError(f"start {loc.start:g} d is not before the end of the run {t_end:g} d",
                         field="boundary_location.start")
    rel = np.asarray(loc.times if loc.times is not None else np.linspace(0.0, t_end - loc.start, 49), float)
    if loc.start + rel[-1] > t_end + 1e-9:
        raise InputError(f"time {rel[-1]:g} d after start is beyond the end of the run {t_end:g} d",
                         field="boundary_location.times")
    return root, arc, axis, dist, rel


def _boundary_series(config: Config, rs, paths, params: dict, t_end: float, out) -> None:
    """Surface flux (line sources) and surface concentration versus time at the root
    location nearest ``boundary_location.point``: boundary series for pore-scale models."""
    from ..products import BoundarySeries
    from .field import concentration_points
    from .release import surface_flux_at
    loc = config.boundary_location
    root, arc, axis, dist, rel = _boundary_location(config, paths, t_end)
    times = loc.start + rel                                  # times of this run [d]
    radius = float(rs.node_radius[np.argmin(np.linalg.norm(rs.nodes - axis, axis=1))])
    t_nodes, pos, arcs = paths.root(root)
    # a point on the root surface: towards the given point, else perpendicular to the axis
    k = min(int(np.searchsorted(arcs, arc, side="right")), len(arcs) - 1)
    direction = pos[k] - pos[max(k - 1, 0)]
    off = np.asarray(loc.point, float) - axis
    if np.linalg.norm(off) < 1e-12:
        off = np.cross(direction, [1.0, 0.0, 0.0] if abs(direction[0]) < 0.9 * np.linalg.norm(direction)
                       else [0.0, 1.0, 0.0])
    surface = axis + radius * off / np.linalg.norm(off)
    t_coord = ("time", rel, {"units": "d", "long_name": f"time since {loc.start:g} d of the cs1 run"})
    where = (f"root {root}, {arc:.4g} cm from its base, surface point "
             f"({surface[0]:.4g}, {surface[1]:.4g}, {surface[2]:.4g}) cm")
    out.info["boundary_location"] = {"root": root, "arc_cm": arc, "axis_point_cm": axis.tolist(),
                                     "surface_point_cm": surface.tolist(), "radius_cm": radius,
                                     "distance_cm": dist, "start_d": loc.start}
    for name, p in params.items():
        c = np.array([concentration_points(paths, surface[None], float(t), p)[0] if t > 0 else 0.0
                      for t in times])                                   # one point, a few times
        out.series[f"root_surface_concentration_{name}.nc"] = BoundarySeries(
            xr.DataArray(c, dims="time", coords={"time": t_coord},
                         attrs={"units": "ug cm-3", "long_name": f"{name} liquid concentration at the root surface"}),
            "concentration", f"cs1 {where}")
        if p.release == "line":
            f = surface_flux_at(paths, root, arc, times, p, radius)
            out.series[f"root_surface_flux_{name}.nc"] = BoundarySeries(
                xr.DataArray(f, dims="time", coords={"time": t_coord},
                             attrs={"units": "ug cm-2 d-1", "long_name": f"{name} release through the root surface"}),
                "flux", f"cs1 {where}")
