"""Scenario runner of case study 5 ("cs5-microbes"): individual-based bacteria on a
pore-scale lattice. Units of the scenario keys: µm, h, fg C unless a key says otherwise
(exudate additions in µg C g^-1 soil, exudation flux in µg C cm^-2 d^-1, as measured).

Two experiments:

* ``respiration`` (the paper's Fig. 13): exudate carbon added at t = 0, uniformly to the
  water of bare soil, in increasing amounts; respiration rate and biomass over time. An
  addition "gives growth" when the peak biomass exceeds the initial one by more than
  ``growth_threshold`` (default 10 %); otherwise it gives a respiration pulse without
  growth.
* ``rhizosphere``: a root (half cylinder on the x = 0 face, along z) exuding at a constant
  flux or a boundary series (e.g. case study 3's ``root_surface_flux_*.nc``; a series of
  concentration instead holds the water voxels touching the root at that concentration)
  into a sand packing at several water saturations; biomass, active fraction and
  respiration versus distance from the root surface over time.

A user's image (``image:``) may label particulate organic matter with a phase named
``pom`` (role ``pom``): each such voxel starts with ``pom_carbon_density`` times its volume
of carbon. Agent snapshots (CSV for pandas, ``.vtp`` vertices for ParaView) are written at
``time.outputs`` (``snapshot_times``) and at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional, TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..errors import InputError
from ..scenario import CaseConfig, ImageSection, Section, scenario_path

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "run", "estimate_memory"]


class LatticeSection(Section):
    """A generated sand packing with water films (``image.generators``)."""

    shape: tuple[int, int, int] = Field((32, 48, 48), description="voxels (z along the root, y, x)")
    voxel_size: float = Field(10.0, gt=0, le=200, description="voxel edge [um]")
    porosity: float = Field(0.4, gt=0.05, lt=0.9, description="pore fraction [1]")
    grain_radius: float = Field(60.0, gt=0, description="mean grain radius [um]")
    root_radius: float = Field(100.0, gt=0, description="root radius [um] (rhizosphere)")

    @field_validator("shape", mode="before")
    @classmethod
    def _three_sizes(cls, value):
        if isinstance(value, (list, tuple)) and len(value) != 3:
            raise ValueError("three sizes (z along the root, y, x) are needed: the lattice is 3D")
        return value

    @field_validator("shape")
    @classmethod
    def _big_enough(cls, value):
        if min(value) < 4:
            raise ValueError(f"every size must be at least 4 voxels, got {list(value)}")
        return value


class Config(CaseConfig):
    """Case study 5: individual-based bacteria, carbon from exudation and POM."""

    TIME_KEYS = {"stop": ("duration", "h"), "dt": ("dt", "h"), "outputs": ("snapshot_times", "h")}

    experiment: Literal["respiration", "rhizosphere"] = Field(..., description="which experiment")
    image: Optional[ImageSection] = Field(None, description="a segmented image instead of the "
                                          "generated packing (labels: water, mucilage, solid, air, "
                                          "root, hair, pom; the rhizosphere needs root); saturations are "
                                          "then not used")
    literature: str = Field("soil_bacteria", description="parameter set of traits and carbon "
                            "parameters (override values by parameters: bacteria.PATH)")
    lattice: LatticeSection = Field(default_factory=LatticeSection)
    duration: float = Field(24.0, gt=0, le=24 * 365, description="simulated time [h]")
    dt: float = Field(0.25, gt=0, description="simulation step [h] (cut into agent sub-steps "
                      "of at most agent_step, the DOC diffusing every diffusion_step)")
    record_interval: float = Field(1.0, gt=0, description="totals and profiles every [h] (and at the end)")
    snapshot_times: list[Annotated[float, Field(ge=0)]] = Field(
        [], description="times of the agent snapshots (CSV and VTK points) besides the end [h]")
    n_cells: Optional[int] = Field(None, gt=0, description="initial cells, exactly (default: "
                                   "drawn from the cell density of the parameter set and the lattice volume)")
    saturations: list[float] = Field([1.0, 0.5, 0.25], min_length=1, description="water "
                                     "saturations of the pore space [1] (respiration: the first)")
    additions: list[Annotated[float, Field(ge=0)]] = Field(
        [0.4, 0.8, 8.0, 32.0], min_length=1,
        description="exudate carbon added at t = 0 [ug C g-1 soil] (respiration; each >= 0)")
    growth_threshold: float = Field(0.1, gt=0, description="peak biomass increase that counts as growth [1]")
    exudation_flux: float = Field(5.0, ge=0, description="constant exudation flux density "
                                  "[ug C cm-2 d-1] (rhizosphere, when no boundary_series)")
    boundary_series: Optional[Path] = Field(None, description="NetCDF series on the root surface "
                                            "(a BoundarySeries product, or a series handed on by a "
                                            "pipeline): 'flux' (e.g. case study 3's) or 'concentration' "
                                            "(held on the water voxels touching the root; the exchanged "
                                            "mass counts as exuded)",
                                            json_schema_extra={"product": "series", "units": [
                                                "ug cm-2 s-1", "ug cm-2 d-1", "fg um-2 h-1",
                                                "fg um-3", "g L-1", "mg cm-3", "mg L-1", "ug cm-3",
                                                "ug mL-1", "g m-3"]})
    radial_doc: float = Field(0.0, ge=0, description="static radial gradient: initial DOC at the "
                              "root surface [fg um-3] (rhizosphere; 0: none)")
    radial_doc_length: float = Field(100.0, gt=0, description="decay length of the radial "
                                     "gradient, c = radial_doc exp(-d / length) [um]")
    exudation_scale: float = Field(1.0, ge=0, description="factor on the exudation (e.g. C per exudate mass) [1]")
    pom_fragments: int = Field(0, ge=0, description="POM fragments (3x3x3 voxels) placed in the solid")
    pom_mass: float = Field(0.0, ge=0, description="carbon per POM fragment [ug]")
    pom_carbon_density: float = Field(600.0, gt=0, le=2000, description="carbon in an image voxel "
                                      "labelled pom [fg um-3] (600: organic matter of 1.2 g cm-3 "
                                      "at 50 % carbon)")
    profile_bin: float = Field(50.0, gt=0, description="fine distance bins [um]")
    coarse_bin: float = Field(3000.0, gt=0, description="coarse bin like a 3 mm rhizosphere sampling [um]")
    diffusion_rtol: float = Field(1e-6, gt=0, lt=1e-2, description="CG tolerance of the DOC diffusion")
    agent_step: Optional[float] = Field(None, gt=0, description="longest agent sub-step [h] "
                                        "(default: min(0.1 / q_max, h^2 / (6 D_m)) of the traits)")
    diffusion_step: Optional[float] = Field(None, gt=0, description="longest DOC diffusion step "
                                            "[h], a whole number of agent sub-steps (default "
                                            "0.1 / q_max; docs: which ratio is safe)")
    replicates: int = Field(1, ge=1, le=1000, strict=True, description="replicates of every run; "
                            "replicate k uses seed + k (replicate 0 is the single run), outputs "
                            "gain a 'replicate' dimension and the key figures their mean and SD")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]")

    @field_validator("saturations")
    @classmethod
    def _saturations(cls, value):
        for s in value:
            if not 0 < s <= 1:
                raise ValueError(f"a saturation must be in (0, 1], got {s}")
        return value

    @field_validator("saturations", "additions")
    @classmethod
    def _distinct(cls, value):
        # each names a run (saturation_0.5, addition_8: files and the 'run' axis)
        labels = [f"{v:g}" for v in value]
        same = next((lab for lab in labels if labels.count(lab) > 1), None)
        if same is not None:
            raise ValueError(f"{same} is given twice (each value names a run); give distinct values")
        return value

    @field_validator("snapshot_times")
    @classmethod
    def _snapshots(cls, value, info: ValidationInfo):
        duration = info.data.get("duration")
        if duration is not None and any(t > duration for t in value):
            raise ValueError(f"snapshot times must lie in [0, {duration:g}] h")
        return sorted(set(value))

    @field_validator("boundary_series")
    @classmethod
    def _series_path(cls, value, info: ValidationInfo):
        if value is not None and info.data.get("experiment") == "respiration":
            raise ValueError("the respiration experiment has no root (it would be ignored); "
                             "use experiment: rhizosphere")
        from ..products import is_product_reference
        if value is not None and is_product_reference(str(value)):
            return value                           # a pipeline product (rhizoscale.link)
        return None if value is None else scenario_path(value, info)

    @model_validator(mode="after")
    def _root_fits(self):
        lat = self.lattice
        extent = lat.shape[2] * lat.voxel_size
        if self.experiment == "rhizosphere" and self.image is None and lat.root_radius >= extent:
            # the half cylinder on the x = 0 face would fill the lattice: no soil, no water
            raise ValueError(f"lattice.root_radius: {lat.root_radius:g} um reaches across the "
                             f"lattice (x extent {extent:g} um = shape[2] x voxel_size); give a "
                             f"smaller root or a wider lattice")
        return self

    PARAMETER_SET_KEYS = {"bacteria": "literature"}

    def parameter_sets(self):
        from . import load_bacteria
        return {"bacteria": lambda: load_bacteria(self.literature)}


# --------------------------------------------------------------------------- lattices
def _lattice_image(cfg: Config, saturation: float, seed: int, with_root: bool):
    from ..core.image import Image, Phase
    from ..image.generators import liquid_configuration, sand_packing
    lat = cfg.lattice
    h_cm = lat.voxel_size * 1e-4
    pk = sand_packing(lat.shape, h_cm, porosity=lat.porosity, mean_radius=lat.grain_radius * 1e-4,
                      seed=seed)
    image = pk.image if saturation >= 1 else liquid_configuration(pk, saturation * pk.porosity)
    if not with_root:
        return image
    labels = image.labels.copy()
    nz, ny, nx = labels.shape
    y = (np.arange(ny) + 0.5) * lat.voxel_size - 0.5 * ny * lat.voxel_size
    x = (np.arange(nx) + 0.5) * lat.voxel_size
    root = (x[None, :] ** 2 + y[:, None] ** 2) < lat.root_radius ** 2
    labels[:, root] = 4
    phases = tuple(image.phases) + (Phase("root", 4, 0.0, "root"),)
    return Image(labels, image.voxel_size, phases, {**image.metadata, "root_radius_um": lat.root_radius})


#: phases a user's image may name -> (role, relative diffusivity; the model uses roles only)
IMAGE_PHASES = {"water": ("water", 1.0), "mucilage": ("mucilage", 1.0), "solid": ("solid", 0.0),
                "air": ("air", 0.0), "root": ("root", 0.0), "hair": ("hair", 0.0),
                "pom": ("pom", 0.0)}


def _pom(cfg: Config, lattice, rng) -> np.ndarray | None:
    if cfg.pom_fragments == 0 or cfg.pom_mass == 0:
        return None
    pom = np.zeros(lattice.shape)
    solid = ~lattice.water & ~lattice.root
    # fragment centres in solid voxels that touch water (POM at pore walls)
    touching = np.flatnonzero((solid & (np.pad(lattice.water, 1)[2:, 1:-1, 1:-1] | np.pad(lattice.water, 1)[:-2, 1:-1, 1:-1]
                                        | np.pad(lattice.water, 1)[1:-1, 2:, 1:-1] | np.pad(lattice.water, 1)[1:-1, :-2, 1:-1]
                                        | np.pad(lattice.water, 1)[1:-1, 1:-1, 2:] | np.pad(lattice.water, 1)[1:-1, 1:-1, :-2])).ravel())
    if touching.size == 0:
        raise InputError("no solid voxel touches water: nowhere to put POM", field="pom_fragments")
    centres = rng.choice(touching, size=min(cfg.pom_fragments, touching.size), replace=False)
    for c in np.stack(np.unravel_index(centres, lattice.shape), 1):        # few fragments
        sl = tuple(slice(max(k - 1, 0), k + 2) for k in c)
        block = solid[sl]
        pom[sl][block] += cfg.pom_mass * 1e9 / max(int(block.sum()), 1)
    return pom


def _image_pom(cfg: Config, image, lattice) -> np.ndarray | None:
    """Carbon per voxel [fg] of the voxels labelled ``pom`` in a user's image."""
    if not any(p.role == "pom" for p in image.phases):
        return None
    mask = image.mask("pom")
    if not mask.any():
        return None
    return np.where(mask, cfg.pom_carbon_density * lattice.voxel_volume, 0.0)


def _exudation(cfg: Config, warn=None):
    """The root's exudation: a constant flux, or ``boundary_series`` (errors name that key;
    a series ending before the run is held at its last value, and said so)."""
    if cfg.boundary_series is None:
        return _exudation_of(cfg)
    try:
        ex = _exudation_of(cfg)
    except InputError as err:
        if err.field and err.field.startswith("boundary_series"):
            raise
        raise InputError(err.message, field="boundary_series") from None
    end = float(ex.times[-1])
    if warn is not None and end < cfg.duration:
        warn(f"boundary_series: the series ends at {end:g} h, before the end of the run "
             f"({cfg.duration:g} h); its last value is held from then on")
    return ex


def _exudation_of(cfg: Config):
    from ..products import BoundarySeries
    from .model import RootConcentration, RootExudation
    if cfg.boundary_series is None:
        # ug cm-2 d-1 -> fg um-2 h-1: 1e9 fg / 1e8 um2 / 24 h
        return RootExudation.constant(cfg.exudation_flux * cfg.exudation_scale * 1e9 / 1e8 / 24.0)
    from ..products import is_product_reference, resolve_product
    if is_product_reference(str(cfg.boundary_series)):
        series = resolve_product(str(cfg.boundary_series), field="boundary_series")
        if not isinstance(series, BoundarySeries):
            raise InputError(f"{cfg.boundary_series} is not a boundary series", field="boundary_series")
        if series.quantity == "concentration":
            return RootConcentration.from_boundary_series(series, cfg.exudation_scale)
        return RootExudation.from_boundary_series(series, cfg.exudation_scale)
    try:
        ds = xr.open_dataset(cfg.boundary_series)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read the boundary series ({err})", field="boundary_series") from None
    with ds:
        kind = "flux" if "flux" in ds else "concentration" if "concentration" in ds else None
        if kind is None:
            raise InputError("the boundary series has neither a 'flux' nor a 'concentration' "
                             "variable", field="boundary_series")
        try:
            series = BoundarySeries(ds[kind].load(), kind, ds.attrs.get("location", "root surface"))
        except ValueError as err:
            raise InputError(str(err), field="boundary_series") from None
    if kind == "concentration":
        return RootConcentration.from_boundary_series(series, cfg.exudation_scale)
    return RootExudation.from_boundary_series(series, cfg.exudation_scale)


def _n_voxels(cfg: Config) -> int:
    return int(np.prod(cfg.lattice.shape))


def _expected_cells(cfg: Config, params=None) -> int:
    if cfg.n_cells is not None:
        return cfg.n_cells
    density = 1e8 * 1.3 if params is None else params.cell_density * params.bulk_density
    return int(density * 1e-12 * _n_voxels(cfg) * cfg.lattice.voxel_size ** 3) + 1


def estimate_memory(config: Config) -> "MemoryEstimate":
    """Peak memory of a ``cs5-microbes`` run [bytes], from the scenario alone.

    Per voxel about 200 bytes: DOC, necromass, CO2 and distance (float64), the float64
    stencil and its float32 smoother copy, multigrid levels, six float64 CG and step
    vectors, the packing's labels and distance maps while the lattice is built; per cell
    54 bytes (:data:`~rhizoscale.microbes.model.AGENT_BYTES`) with room for 4x growth; plus
    the libraries. One lattice at a time (the saturations and the replicates run one after
    the other); with ``replicates`` > 1 the end fields and agent tables of the finished
    replicates are kept until the products are written.

    Parameters
    ----------
    config : Config
        The validated scenario.

    Returns
    -------
    rhizoscale.memory.MemoryEstimate
        Parts [bytes] and the field that sets the size (``lattice.shape``).

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> config = scenario_from_dict({"case": "cs5-microbes", "experiment": "respiration",
    ...                              "lattice": {"shape": [128, 128, 128]}}).config
    >>> estimate = estimate_memory(config)
    >>> estimate.field, estimate.gib > 0.4                  # [GiB]
    ('lattice.shape', True)
    """
    from ..memory import KERNEL_ALLOWANCE, MemoryEstimate
    from .model import AGENT_BYTES
    n = _n_voxels(config)
    parts = {"libraries and figures": float(KERNEL_ALLOWANCE),
             "lattice, carbon pools and diffusion solver": 200.0 * n,
             "cells (room for 4x growth)": 4.0 * AGENT_BYTES * _expected_cells(config)}
    if config.replicates > 1:
        # replicates run one after the other; the end fields (6 float64 per voxel and run)
        # and agent tables (~100 characters per cell) of the finished ones are kept
        n_runs = len(config.saturations) if config.experiment == "rhizosphere" else len(config.additions)
        parts["outputs of the other replicates"] = (config.replicates - 1) * n_runs * (
            48.0 * n + 4 * 100.0 * _expected_cells(config))

    def suggest(limit: float) -> str:
        f = max((limit - KERNEL_ALLOWANCE) / (200.0 * n + 4 * AGENT_BYTES * _expected_cells(config)), 0) ** (1 / 3)
        return f"use a smaller lattice.shape, e.g. {[max(4, int(k * f)) for k in config.lattice.shape]}"

    return MemoryEstimate(parts, "lattice.shape", suggest)


# --------------------------------------------------------------------------- run
def _simulate(ctx, model, cfg: Config, name: str, edges=None):
    from ..simulation import Simulation, SpecifiedTimes, TimeInterval
    from .analysis import AgentSnapshots, MicrobeRecorder
    rec = MicrobeRecorder(edges)
    sim = Simulation(model, stop_time=cfg.duration, dt=cfg.dt, name=name)
    sim.add_callback("record", rec, TimeInterval(cfg.record_interval))
    # the end is always recorded: the products are the last record's ("at the end"), and a
    # duration off the record interval (or shorter than it) would give an earlier state
    sim.add_callback("record the end", lambda s: rec(s), SpecifiedTimes([cfg.duration]))
    rec.snapshots = AgentSnapshots()
    if cfg.snapshot_times:
        sim.add_callback("agent snapshots", rec.snapshots, SpecifiedTimes(cfg.snapshot_times))
    ctx.simulate(sim, description=name, progress_units=" h")
    return rec


def _check_steps(cfg: Config, model, warn) -> None:
    """Warn when a given ``agent_step`` or ``diffusion_step`` does not do what it says:
    an agent step past ``h^2 / (6 D_m)`` clamps the random walk (cells spread slower than
    their motility), one past ``0.1 / q_max`` lets a cell take more than ~10 % of its
    carbon per sub-step, and a ``diffusion_step`` shorter than the agent sub-step diffuses
    every sub-step, i.e. less often than asked."""
    n, k = model.substeps(cfg.dt)
    sub = cfg.dt / n
    if cfg.agent_step is not None:
        if sub > model.walk_bound * (1 + 1e-9):
            warn(f"agent_step: the agent sub-step {sub:.4g} h is longer than h^2/(6 D_m) = "
                 f"{model.walk_bound:.4g} h of the most motile strain: its random walk is "
                 f"clamped (step probability > 1) and cells spread slower than their motility "
                 f"(about {model.walk_bound / sub:.2g} of it); use agent_step <= "
                 f"{model.walk_bound:.4g} or omit it")
        if sub > model.uptake_bound * (1 + 1e-9):
            warn(f"agent_step: the agent sub-step {sub:.4g} h is longer than 0.1/q_max = "
                 f"{model.uptake_bound:.4g} h: a cell may take more than ~10 % of its carbon "
                 f"in one explicit uptake step")
    if cfg.diffusion_step is not None and cfg.diffusion_step < sub * (1 - 1e-9):
        warn(f"diffusion_step {cfg.diffusion_step:g} h is shorter than the agent sub-step "
             f"{sub:.4g} h (time.dt cut by agent_step): the DOC diffuses once per sub-step, "
             f"every {sub:.4g} h; give agent_step <= diffusion_step to diffuse more often")


def _soil_mass_g(model, params) -> float:
    volume_cm3 = model.lattice.water.size * model.lattice.voxel_volume * 1e-12
    return volume_cm3 * params.bulk_density


def run(config: Config, ctx) -> "Products":
    """Run the experiment; see :func:`rhizoscale.scenario.run_products` for the contract.

    Parameters
    ----------
    config : Config
    ctx : rhizoscale.outputs.RunContext

    Returns
    -------
    rhizoscale.products.Products
        ``cs5_timeseries.nc``, ``cs5_fields.nc`` (and ``cs5_profiles.nc``), agent tables
        ``cs5_agents_RUN.csv`` (end) and ``cs5_agents_RUN_tTh.csv`` (snapshots), the same
        as VTK vertices ``.vtp`` (with ``outputs.vtk``), figures and the key figures.

    Examples
    --------
    >>> from rhizoscale.scenario import run_products, scenario_from_dict
    >>> sc = scenario_from_dict({"case": "cs5-microbes", "experiment": "respiration",
    ...                          "lattice": {"shape": [6, 12, 12]}, "additions": [0.4, 32.0], "n_cells": 200,
    ...                          "time": {"stop": "1 h", "dt": "30 min"}, "outputs": {"figures": False}})
    >>> out = run_products(sc)
    >>> out.value("carbon_balance_error_bound") <= 1e-12, out.value("additions_with_growth") <= 2
    (True, True)
    """
    from ..memory import check_memory
    params = ctx.parameter_set(config, "bacteria")
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    if config.replicates == 1:
        return _run_once(config, ctx, params, memory, ctx.seed)
    seeds = [ctx.seed + k for k in range(config.replicates)]
    reps = [_run_once(config, ctx, params, memory, s, k) for k, s in enumerate(seeds)]
    return _combine_replicates(reps, seeds, memory)


def _run_once(config: Config, ctx, params, memory, seed: int, replicate: int | None = None) -> "Products":
    """One replicate: every run (saturation or addition) with ``seed``; ``replicate`` (None
    for a single run) tags the simulations, tasks and agent files."""
    from ..memory import record_estimate
    from ..products import Products
    from .analysis import TOTALS, agent_table
    from .lattice import MicrobeLattice
    from .model import MicrobeModel
    tag = "" if replicate is None else f"_r{replicate}"
    of_rep = "" if replicate is None else f", replicate {replicate}"
    out = Products("cs5-microbes")
    record_estimate(out, memory)
    runs = {}
    rhizo = config.experiment == "rhizosphere"
    if rhizo:
        labels = [f"saturation_{s:g}" for s in config.saturations]
        exudation = _exudation(config, ctx.warn)
        edges = np.arange(0.0, np.hypot(*config.lattice.shape[1:]) * config.lattice.voxel_size
                          + config.profile_bin, config.profile_bin)
        settings = [(lab, s, None) for lab, s in zip(labels, config.saturations)]
    else:
        labels = [f"addition_{a:g}" for a in config.additions]
        exudation, edges = None, None
        settings = [(lab, config.saturations[0], a) for lab, a in zip(labels, config.additions)]
    image_cache = {}
    if config.image is not None:
        user = config.image.load(IMAGE_PHASES, ndim=3,
                                 required=("water", "root") if rhizo else ("water",))
        water = int(user.mask("water", "mucilage").sum())
        sat = water / max(water + int(user.mask("air").sum()), 1)      # of the pore space
        if rhizo:
            labels = ["image"]
            settings = [("image", sat, None)]
        else:
            settings = [(lab, sat, a) for lab, _, a in settings]
        image_cache = {sat: user}
    for label, saturation, addition in settings:
        if saturation not in image_cache:
            with ctx.task(f"building the lattice (saturation {saturation:g}{of_rep})", None):
                image_cache[saturation] = _lattice_image(config, saturation, seed, rhizo)
        image = image_cache[saturation]
        try:
            lattice = MicrobeLattice.from_image(image, require_root=rhizo)
        except InputError as err:
            if config.image is None:
                raise
            raise InputError(err.message, source=str(config.image.file),
                             field=f"image.{err.field or 'labels'}") from None
        rng = np.random.default_rng(seed)
        pom = _pom(config, lattice, rng)
        if config.image is not None:
            from_image = _image_pom(config, image, lattice)
            if from_image is not None:
                pom = from_image if pom is None else pom + from_image
        if "pom_carbon_density" in config.model_fields_set and (config.image is None or from_image is None):
            ctx.warn("pom_carbon_density is given but no image voxel is labelled pom: it is not used")
        doc = None
        model_probe_mass = lattice.water.size * lattice.voxel_volume * 1e-12 * params.bulk_density
        if addition is not None:
            total_fg = addition * model_probe_mass * 1e9                  # ug C g-1 -> fg
            doc = np.where(lattice.water, total_fg / lattice.n_water, 0.0)
        elif rhizo and config.radial_doc > 0:
            from .model import radial_doc
            doc = radial_doc(lattice, config.radial_doc, config.radial_doc_length)
        model = MicrobeModel.from_parameters(lattice, params, seed=seed, n_cells=config.n_cells,
                                             doc=doc, pom=pom, exudation=exudation,
                                             diffusion_rtol=config.diffusion_rtol,
                                             max_step=config.agent_step,
                                             diffusion_step=config.diffusion_step)
        if not runs and not replicate:      # once per scenario (the steps are the same in every run)
            _check_steps(config, model, ctx.warn)
        rec = _simulate(ctx, model, config, f"cs5-{label}{tag}", edges)
        runs[label] = (model, rec, saturation, addition)
    # ------------------------------------------------------------------ products
    first = next(iter(runs.values()))[0]
    soil_g = _soil_mass_g(first, params)
    per_g = 1e-9 / soil_g                                   # fg in the domain -> ug C g-1 soil
    run_dim = "run"
    ts = xr.Dataset(coords={run_dim: (run_dim, labels, {"units": "1"}),
                            "time": ("time", np.asarray(runs[labels[0]][1].series()["time"]), {"units": "h"})})
    for key, (units, desc) in TOTALS.items():
        data = np.array([rec.series()[key] for _, rec, _, _ in runs.values()])
        ts[key] = ((run_dim, "time"), data, {"units": units, "long_name": desc})
    co2 = ts["co2"].values
    rate = np.gradient(co2, ts["time"].values, axis=1) * per_g if co2.shape[1] > 1 else np.zeros_like(co2)
    ts["respiration_rate"] = ((run_dim, "time"), rate, {"units": "ug g-1 h-1",
                                                        "long_name": "CO2-C respiration rate per gram of soil"})
    ts["biomass_per_g"] = ((run_dim, "time"), ts["biomass"].values * per_g,
                           {"units": "ug g-1", "long_name": "bacterial carbon per gram of soil"})
    ts["saturation"] = ((run_dim,), [r[2] for r in runs.values()], {"units": "1"})
    if not rhizo:
        ts["addition"] = ((run_dim,), config.additions, {"units": "ug g-1",
                                                         "long_name": "exudate carbon added at t = 0"})
    ts.attrs.update(case="cs5-microbes", experiment=config.experiment, units_system="um, h, fg C",
                    soil_mass_g=soil_g)
    out.add_field("cs5_timeseries.nc", ts)
    summary = {}
    worst = float(np.max(np.abs(ts["balance_error"].values)))
    bound = 10.0 ** np.ceil(np.log10(max(worst, 1e-16)))     # round-off varies by machine
    out.add_scalar("carbon_balance_error_bound", float(bound), "1",
                   "power of ten above the largest relative carbon balance error (all records, all runs)")
    summary["max_carbon_balance_error"] = worst
    n_sub, k_sub = first.substeps(config.dt)
    summary["steps_h"] = {"simulation": config.dt, "agent": config.dt / n_sub,
                          "diffusion": config.dt / n_sub * min(k_sub, n_sub),
                          "agent_default_bounds": {"uptake 0.1/q_max": first.uptake_bound,
                                                   "walk h^2/(6 D_m)": first.walk_bound}}
    summary.update({"units": "um, h, fg C (per-gram figures in ug C g-1 soil)", "soil_mass_g": soil_g,
                    "cells_initial": {k: int(ts["cells"].sel(run=k).values[0]) for k in labels}})
    if not rhizo:
        with np.errstate(invalid="ignore", divide="ignore"):      # no cells: no growth
            increase = np.nan_to_num(ts["biomass"].values.max(axis=1) / ts["biomass"].values[:, 0] - 1)
        grows = increase > config.growth_threshold
        summary["peak_biomass_increase"] = dict(zip(labels, increase.tolist()))
        summary["grows"] = dict(zip(labels, grows.tolist()))
        summary["criterion"] = (f"growth: peak biomass > (1 + {config.growth_threshold:g}) x initial; "
                                "otherwise a respiration pulse without growth")
        for lab, inc, add in zip(labels, increase, config.additions):
            out.add_scalar(f"peak_biomass_increase_{lab}", float(inc), "1",
                           f"peak / initial biomass - 1 after adding {add:g} ug C g-1")
            out.add_scalar(f"respired_{lab}", float(ts["co2"].sel(run=lab).values[-1] * per_g), "ug g-1",
                           f"CO2-C respired in {config.duration:g} h after adding {add:g} ug C g-1")
        out.add_scalar("additions_with_growth", int(grows.sum()), "1",
                       "additions whose peak biomass passes the growth criterion")
    else:
        prof = {}
        for lab, (model, rec, _, _) in runs.items():
            prof[lab] = rec.profile_arrays()
        centres = 0.5 * (edges[1:] + edges[:-1])
        pds = xr.Dataset(coords={run_dim: (run_dim, labels, {"units": "1"}),
                                 "time": ("time", ts["time"].values, {"units": "h"}),
                                 "distance": ("distance", centres, {"units": "um",
                                                                    "long_name": "distance from the root surface (bin centre)"})})
        for key, units, desc in (("biomass", "fg", "bacterial carbon"), ("active_biomass", "fg", "active bacterial carbon"),
                                 ("co2", "fg", "CO2-C respired since the start"), ("doc", "fg", "DOC"),
                                 ("cells", "1", "cells"), ("water_volume", "um3", "water volume")):
            pds[key] = ((run_dim, "time", "distance"), np.array([prof[lab][key] for lab in labels]),
                        {"units": units, "long_name": f"{desc} per distance bin"})
        with np.errstate(invalid="ignore", divide="ignore"):
            pds["active_fraction"] = (pds["active_biomass"] / pds["biomass"]).assign_attrs(units="1")
            pds["biomass_density"] = (pds["biomass"] / pds["water_volume"]).assign_attrs(
                units="fg um-3", long_name="bacterial carbon per water volume")
        pds.attrs.update(coarse_bin_um=config.coarse_bin, profile_bin_um=config.profile_bin)
        out.add_field("cs5_profiles.nc", pds)
        from .analysis import ENRICHMENT_MIN_CELLS, rhizosphere_enrichment
        near = 2.0 * float(config.profile_bin)
        summary["rhizosphere_enrichment"] = {}
        for lab in labels:
            value, info = rhizosphere_enrichment(pds["biomass"].sel(run=lab).values,
                                                 pds["cells"].sel(run=lab).values, centres, near)
            summary["rhizosphere_enrichment"][lab] = info
            out.add_scalar(f"rhizosphere_enrichment_{lab}", value, "1",
                           f"biomass growth factor within {near:g} um of the root / beyond "
                           f"(null when a region starts with fewer than "
                           f"{ENRICHMENT_MIN_CELLS} cells; the reason is in summary.json)")
            out.add_scalar(f"exuded_{lab}", float(ts["exuded"].sel(run=lab).values[-1] * per_g), "ug g-1",
                           "carbon exuded into the domain per gram of soil")
    # fields at the end (one lattice shape for all runs)
    dss = [model.state() for model, _, _, _ in runs.values()]
    fields = xr.concat([d[["doc", "pom", "biomass", "active_biomass", "necromass", "co2"]] for d in dss],
                       dim=xr.DataArray(labels, dims=run_dim, attrs={"units": "1"}))
    fields.attrs.update(time=config.duration, time_units="h", units_system="um, h, fg C")
    out.add_field("cs5_fields.nc", fields)
    from .analysis import agent_columns, columns_csv, write_agents_vtk
    names = [s.name for s in params.species]
    for lab, (model, rec, _, _) in runs.items():
        out.add_text(f"cs5_agents_{lab}{tag}.csv", agent_table(model))
        snaps = [(f"cs5_agents_{lab}{tag}_t{t:g}h", c)
                 for t, c in zip(config.snapshot_times, rec.snapshots.snapshots)]
        for stem, cols in snaps:
            out.add_text(f"{stem}.csv", columns_csv(cols, names))
        if config.outputs.vtk:
            snaps.append((f"cs5_agents_{lab}{tag}", agent_columns(model)))
            for stem, cols in snaps:
                out.exports[f"{stem}.vtp"] = (lambda path, c=cols: write_agents_vtk(c, path))
    out.info["cs5"] = summary
    out.info["literature"] = {"set": params.name, "chosen": params.chosen()}
    out.info["seed"] = seed
    if config.outputs.figures and not replicate:          # figures: the single run or replicate 0
        from .figures import respiration_figures, rhizosphere_figures
        note = "" if replicate is None else \
            f"; replicate 0 of {config.replicates} (seed {seed}; all in the NetCDF files)"
        if rhizo:
            out.figures.update(rhizosphere_figures(ts, out.fields["cs5_profiles.nc"], config, note))
        else:
            out.figures.update(respiration_figures(ts, config, note))
    return out


def replicate_statistics(values) -> dict:
    """Mean, sample standard deviation (``ddof=1``) and count of one key figure over the
    replicates; ``None`` values (e.g. an enrichment without enough cells) are left out.

    Parameters
    ----------
    values : sequence of float or None
        The figure of each replicate.

    Returns
    -------
    dict
        ``mean``, ``sd`` (None below two values), ``n`` and the ``values`` themselves.

    Examples
    --------
    >>> replicate_statistics([1.0, 3.0, None])
    {'mean': 2.0, 'sd': 1.4142135623730951, 'n': 2, 'values': [1.0, 3.0, None]}
    """
    values = [None if v is None or not np.isfinite(v) else float(v) for v in values]
    given = np.array([v for v in values if v is not None])
    return {"mean": float(given.mean()) if given.size else None,
            "sd": float(given.std(ddof=1)) if given.size > 1 else None,
            "n": int(given.size), "values": values}


def _combine_replicates(reps: list, seeds: list[int], memory) -> "Products":
    """The products of several replicates: fields stacked on a ``replicate`` dimension
    (with each one's ``seed``), per-replicate agent files, and each key figure's mean (the
    scalar itself), standard deviation (``NAME_sd``) and n (summary ``cs5.replicates``)."""
    from ..memory import record_estimate
    from ..products import Products
    out = Products("cs5-microbes")
    record_estimate(out, memory)
    k = np.arange(len(reps))
    for name in reps[0].fields:
        ds = xr.concat([r.fields[name] for r in reps], dim="replicate", combine_attrs="override")
        ds = ds.assign_coords(replicate=("replicate", k, {"units": "1"}),
                              seed=("replicate", np.asarray(seeds), {"units": "1",
                                                                       "long_name": "seed of the replicate"}))
        out.add_field(name, ds)
    stats = {}
    for name, first in reps[0].scalars.items():
        if name == "memory_estimate":
            continue
        values = [r.scalars[name].value for r in reps]
        if name == "carbon_balance_error_bound":
            out.add_scalar(name, max(values), first.units, first.description + f" (all {len(reps)} replicates)")
            continue
        st = replicate_statistics(values)
        stats[name] = {"units": first.units, **st}
        out.add_scalar(name, st["mean"], first.units, f"mean over {st['n']} replicates of: {first.description}")
        out.add_scalar(f"{name}_sd", st["sd"], first.units,
                       f"standard deviation (ddof=1) over {st['n']} replicates of {name}")
    for r in reps:
        out.exports.update(r.exports)                       # agent files carry _rK in their names
    out.figures.update(reps[0].figures)
    out.info["cs5"] = {"replicates": {"n": len(reps), "seeds": list(seeds),
                                      "seed_rule": "replicate k uses seed + k (replicate 0 = the single run)",
                                      "statistics": "mean and sample standard deviation (ddof=1)",
                                      "figures": "of replicate 0",
                                      "quantities": stats},
                       "per_replicate": [r.info["cs5"] for r in reps]}
    out.info["literature"] = reps[0].info["literature"]
    out.info["seed"] = seeds[0]
    return out
