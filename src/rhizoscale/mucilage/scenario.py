"""Scenario ``cs4-mucilage-bridge``: a pendular bridge drying with and without mucilage.

Water only and each mucilage concentration dry the same bridge (fast mode: toroidal
liquid surface); the outcome is the water left in the pore when the liquid connection
between the particles is lost, Lian's rupture volume for comparison, the final mucilage
structure as an image and the Fig. 11a-like drying snapshots. Units: µm, s, pg;
concentrations in mg dry mucilage per g water.

Resolved mode (``liquid_stages``: stage images of a lattice-Boltzmann drying bridge, a
file or a pipeline product): the network dries through the images, pulled by each
stage's water-air interface (:mod:`.resolved`), and the fast mode runs beside it at the
images' geometry on the same water schedule; the outcome is the disconnection stage and
water of both.
"""

from __future__ import annotations

from typing import Optional, TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import Field, field_validator, model_validator

from ..scenario import CaseConfig
from .parameters import MucilageNetworkParameters

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "run", "estimate_memory"]

#: the concentration range the network's scaling laws are meant for (semi-dilute
#: mucilage, up to a few per cent dry matter) [mg g-1]
MAX_CONCENTRATION = 50.0


class Config(CaseConfig):
    """Keys of a ``cs4-mucilage-bridge`` scenario (µm, s; concentrations in mg g-1)."""

    TIME_KEYS = {"stop": ("duration", "s"), "dt": ("drying_step", "s"), "outputs": ("snapshot_times", "s")}

    literature: str = Field("mucilage_network", description="parameter set of the liquid, polymer and network "
                            "(with sources); reach its values with parameters: {network.NAME: value}")
    concentrations: list[float] = Field([1.0, 3.0, 8.0], min_length=1, description="mucilage concentrations "
                                        "[mg dry mucilage per g water]; water only is always run too")
    liquid_volume: float = Field(2.0e4, gt=0, description="initial liquid volume of the bridge [um3]")
    separation: float = Field(15.0, gt=0, description="gap between the particle surfaces [um]")
    evaporation_rate: float = Field(500.0, gt=0, description="water evaporated per second [um3 s-1] (the "
                                    "drying is quasi-static: time only orders the steps)")
    duration: float = Field(45.0, gt=0, description="drying time [s]")
    drying_step: float = Field(0.5, gt=0, description="drying step [s]")
    snapshot_times: list[float] = Field([0.0, 15.0, 30.0, 45.0], min_length=1,
                                        description="times of the bead snapshots (figure columns) [s]")
    relax_steps: int = Field(100, ge=0, description="overdamped mechanics steps per drying step")
    image_voxel_size: float = Field(1.0, gt=0, description="voxel edge of the structure images [um]")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")
    # resolved mode
    liquid_stages: Optional[str] = Field(None, description="resolved mode: drying stages as labelled images "
                                         "(air, solid, water; NetCDF as cs4-liquid-configuration's "
                                         "bridge_stage_images.nc, or that field handed on by a pipeline); "
                                         "particles and liquid come from the images",
                                         json_schema_extra={"product": "field"})
    after_rupture_steps: int = Field(10, ge=0, description="resolved mode: drying steps after the last image "
                                     "once its bridge has ruptured (the water left falls linearly to zero)")
    interface_every: int = Field(5, ge=1, description="resolved mode: overdamped steps between evaluations "
                                 "of the voxel-interface pull")

    PARAMETER_SET_KEYS = {"network": "literature"}

    def parameter_sets(self) -> dict:
        from ..parameters import load_parameter_set
        return {"network": lambda: load_parameter_set(MucilageNetworkParameters, self.literature)}

    @field_validator("concentrations")
    @classmethod
    def _in_range(cls, value):
        bad = [c for c in value if not (0 < c <= MAX_CONCENTRATION)]
        if bad:
            raise ValueError(f"concentrations must lie in (0, {MAX_CONCENTRATION:g}] mg/g (water only is always "
                             f"run), got {bad}")
        if len(set(value)) != len(value):
            raise ValueError("concentrations must differ")
        return sorted(value)

    @field_validator("liquid_stages")
    @classmethod
    def _stages_path(cls, value, info):
        from ..products import is_product_reference
        from ..scenario import scenario_path
        if value is None or is_product_reference(str(value)):
            return value                           # a pipeline product (rhizoscale.link)
        return str(scenario_path(value, info))

    @model_validator(mode="after")
    def _resolved_keys(self):
        fast_only = sorted(self.model_fields_set & {"liquid_volume", "separation", "evaporation_rate"})
        if self.liquid_stages is not None and fast_only:
            raise ValueError(f"{fast_only[0]}: a key of the fast mode; with liquid_stages the liquid and the "
                             "particles come from the stage images (remove it)")
        # the drying time and its snapshots, and the structure images, are the fast mode's too:
        # the resolved mode steps through the stage images (they were silently ignored)
        timed = sorted(self.model_fields_set & {"duration", "drying_step", "snapshot_times", "image_voxel_size"})
        if self.liquid_stages is not None and timed:
            key = "image_voxel_size" if timed == ["image_voxel_size"] else "time"
            raise ValueError(f"{key}: a key of the fast mode; with liquid_stages the drying steps through the "
                             "stage images (relax_steps per stage, after_rupture_steps) and writes no structure "
                             "images (remove it)")
        return self

    @model_validator(mode="after")
    def _times(self):
        if self.drying_step > self.duration:
            raise ValueError("drying_step: longer than the drying duration")
        if any(t < 0 or t > self.duration for t in self.snapshot_times):
            raise ValueError(f"snapshot_times: must lie in [0, {self.duration:g}] s")
        return self


def _tag(c: float) -> str:
    return "water" if c == 0 else f"c{c:g}".replace(".", "p")


#: bytes per bead (positions, velocities, forces, masses, radii, cell list, friction) and per
#: bond (two indices, rest length, stiffness, flag), and bonds per bead at the densest
#: concentration of the example (about 7); per image voxel (labels, centres, k-d tree query)
_BEAD_BYTES, _BOND_BYTES, _BONDS_PER_BEAD, _VOXEL_BYTES = 160, 33, 10, 150


def _beads(config: Config, params) -> np.ndarray:
    c = np.asarray(config.concentrations, float) * 1e-3
    return c * config.liquid_volume / (1 + c / params.polymer_density) / params.polymer_per_bead


def estimate_memory(config: Config, params=None) -> "MemoryEstimate":
    """Peak memory of a ``cs4-mucilage-bridge`` run [bytes], from the scenario alone.

    One concentration runs at a time: ``N = c V / m_bead`` beads at about 160 bytes each,
    up to 10 bonds per bead at 33 bytes, the snapshots (24 bytes per bead and snapshot),
    and the structure image (about 150 bytes per voxel of a box of the gap plus 10 µm by
    twice the particle radius); plus 192 MiB for libraries, kernels and figures.
    """
    from ..memory import KERNEL_ALLOWANCE as BASE_ALLOWANCE, MemoryEstimate
    if params is None:
        params = config.parameter_sets()["network"]()
    n = float(_beads(config, params).max())
    h = config.image_voxel_size
    voxels = (config.separation + 10) / h * (2 * params.particle_radius / h) ** 2
    parts = {"bead network": n * (_BEAD_BYTES + _BOND_BYTES * _BONDS_PER_BEAD),
             "snapshots (all concentrations)": n * 24 * len(config.snapshot_times) * (len(config.concentrations) + 1),
             "structure image": voxels * _VOXEL_BYTES,
             "libraries and figures": float(BASE_ALLOWANCE)}

    def suggest(limit: float) -> str:
        return ("use a larger image_voxel_size, a smaller liquid_volume or lower concentrations "
                f"(now {config.liquid_volume:g} um3, {max(config.concentrations):g} mg/g)")

    return MemoryEstimate(parts, "liquid_volume", suggest)


def _run_one(c: float, config: Config, params, ctx):
    from ..simulation import ConservationGuard, IterationInterval, Simulation, SpecifiedTimes
    from .drying import DryingRecorder, MucilageBridgeModel
    model = MucilageBridgeModel(c, config.liquid_volume, config.separation, params,
                                evaporation_rate=config.evaporation_rate, relax_steps=config.relax_steps,
                                seed=ctx.seed)
    sim = Simulation(model, stop_time=config.duration, dt=config.drying_step, name=f"cs4-mucilage-{_tag(c)}")
    rec = DryingRecorder()
    sim.add_callback("record", rec, IterationInterval(1, at_start=True))
    snap = _Snapshots(rec)
    sim.add_callback("snapshots", snap, SpecifiedTimes(config.snapshot_times))
    guard = ConservationGuard(lambda s: s.model.water_balance_error(), 1e-10, "water balance")
    sim.add_callback("water balance", guard, IterationInterval(1))
    ctx.simulate(sim, description=f"drying, {'water only' if c == 0 else f'{c:g} mg/g mucilage'}",
                 progress_units=" s")
    return model, rec, guard


class _Snapshots:
    """Snapshot callback; its records live in the recorder (checkpointed there)."""

    def __init__(self, rec):
        self.rec = rec

    def __call__(self, sim):
        self.rec.snapshot(sim)


def run(config: Config, ctx) -> "Products":
    """Dry the bridge with water only and with each concentration; return the products."""
    from ..memory import check_memory, record_estimate
    from ..products import Products
    from .bridge import lian_rupture_distance
    from .figures import drying_curves_figure, drying_snapshots_figure
    from .structure import bridge_image, classify_structure
    params = ctx.parameter_set(config, "network")
    memory = estimate_memory(config, params)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    out = Products("cs4-mucilage-bridge")
    record_estimate(out, memory)
    if config.liquid_stages is not None:
        return _run_resolved(config, params, ctx, out)
    radius, sep = params.particle_radius, config.separation
    runs, series, summary = {}, {}, {}
    lian_volume = None
    for c in [0.0, *config.concentrations]:
        model, rec, guard = _run_one(c, config, params, ctx)
        lian_volume = model.rupture_volume_lian
        tag = _tag(c)
        s = rec.series()
        series[c] = s
        runs[c] = {"times": rec.snap_times, "positions": rec.snap_pos, "wet": rec.snap_wet,
                   "bridges": rec.snap_bridge,
                   "water": [float(np.interp(t, s["time"], s["total_water"])) for t in rec.snap_times]}
        lost_t, lost_w = model.connection_lost
        rup_t, rup_v = model.bridge_rupture
        structure = classify_structure(model)
        # a water-only bridge holding the water left at disconnection would span at most
        # Lian's distance of that volume; the mucilage spans `sep`: the gain is their ratio
        gain = sep / float(lian_rupture_distance(lost_w, radius, params.contact_angle)) \
            if np.isfinite(lost_w) and lost_w > 0 else (np.inf if np.isfinite(lost_t) else np.nan)
        label = "water only" if c == 0 else f"mucilage {c:g} mg/g"
        out.add_scalar(f"disconnection_water_{tag}", lost_w, "um3",
                       f"water in the pore when the liquid connection is lost, {label}")
        out.add_scalar(f"bridge_rupture_volume_{tag}", rup_v, "um3",
                       f"liquid volume of the bridge when it ruptured, {label}")
        out.add_scalar(f"disconnection_time_{tag}", lost_t, "s", f"drying time at disconnection, {label}")
        out.add_scalar(f"rupture_distance_gain_{tag}", gain, "1",
                       f"gap / Lian's rupture distance of the water left at disconnection, {label} "
                       "(1: the pore disconnects like a water bridge; inf: still connected with no water)")
        summary[tag] = {"concentration_mg_per_g": c, "beads": model.network.n,
                        "bonds": int(len(model.network.bond_i)),
                        "intact_bonds_final": int(model.network.bond_alive.sum()),
                        "surface_tension_N_per_m": model.surface_tension, "viscosity_Pa_s": model.viscosity,
                        "bond_stiffness_uN_per_um": model.bond_stiffness,
                        "bridge_rupture": {"time_s": rup_t, "liquid_volume_um3": rup_v},
                        "disconnection": {"time_s": lost_t, "water_um3": lost_w},
                        "rupture_distance_gain": gain, "structure": structure,
                        "water_balance_worst": guard.worst}
        out.images[f"mucilage_structure_{tag}.nc"] = bridge_image(model, config.image_voxel_size)
        ctx.message(f"{label}: bridge ruptured at {rup_v:.4g} um3 liquid, connection lost at "
                    f"{lost_w:.4g} um3 water; structure {structure['kind']}")
    d_lian = float(lian_rupture_distance(config.liquid_volume, radius, params.contact_angle))
    out.add_scalar("lian_rupture_volume", lian_volume, "um3",
                   "Lian et al. (1993): liquid volume below which a water bridge ruptures at this gap")
    out.add_scalar("lian_rupture_distance_initial", d_lian, "um",
                   "Lian et al. (1993): rupture distance of the initial liquid volume")
    rup = summary["water"]["bridge_rupture"]["liquid_volume_um3"]
    out.add_scalar("water_only_rupture_distance", float(lian_rupture_distance(rup, radius, params.contact_angle)),
                   "um", "Lian's rupture distance of the volume at which the water-only bridge ruptured "
                   "(equals the gap to one drying step)")
    summary["lian"] = {"rupture_volume_um3": lian_volume, "rupture_distance_initial_um": d_lian,
                       "separation_um": sep, "formula": "d_rup = (1 + theta/2) V^(1/3), lengths / R"}
    summary["mode"] = ("fast (toroidal pendular bridge); the resolved mode takes lattice-Boltzmann stage images "
                       "(liquid_stages)")
    out.info["cs4_mucilage"] = summary
    out.info["literature"] = {"set": params.name, "sources": params.sources, "chosen": params.chosen()}
    out.info["seed"] = ctx.seed
    ds = _series_dataset(series, [0.0, *config.concentrations], "drying_time")
    ds.attrs.update(case="cs4-mucilage-bridge", separation_um=sep, particle_radius_um=radius,
                    liquid_volume_um3=config.liquid_volume)
    out.add_field("cs4_mucilage_drying.nc", ds)
    if config.outputs.figures:
        out.figures["fig11a_drying_bridges.png"] = drying_snapshots_figure(runs, radius, sep)
        out.figures["drying_curves.png"] = drying_curves_figure(series, lian_volume)
    return out


def _series_units() -> dict:
    from .drying import MucilageBridgeModel
    return MucilageBridgeModel.OBSERVABLE_UNITS


def _series_dataset(series: dict, conc: list, time_name: str, time_units: str | None = None) -> xr.Dataset:
    """The drying series of every concentration on (concentration, step), NaN-padded to the
    longest; the model's ``time`` is stored as ``time_name`` (in ``time_units`` if given)."""
    nstep = max(len(v["time"]) for v in series.values())
    ds = xr.Dataset(coords={"concentration": ("concentration", conc, {"units": "mg g-1"}),
                            "step": ("step", np.arange(nstep), {"units": "1"})})
    for k, unit in _series_units().items():
        arr = np.full((len(conc), nstep), np.nan)
        for i, c in enumerate(conc):
            arr[i, :len(series[c][k])] = series[c][k]
        if k == "time":
            k, unit = time_name, time_units or unit
        ds[k] = (("concentration", "step"), arr, {"units": unit})
    return ds


# ---------------------------------------------------------------------------------- resolved mode
def _read_stages(config: Config):
    from ..errors import InputError
    from ..products import is_product_reference, resolve_product
    from .resolved import LiquidStages
    ref = str(config.liquid_stages)
    if is_product_reference(ref):
        ds = resolve_product(ref, field="liquid_stages")
        if not isinstance(ds, xr.Dataset):
            raise InputError(f"{ref} is not a field of stage images", field="liquid_stages")
        return LiquidStages.from_dataset(ds)
    try:
        ds = xr.open_dataset(ref)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot read the stage images as NetCDF ({first})", field="liquid_stages") from None
    with ds:
        return LiquidStages.from_dataset(ds.load())


def _run_resolved(config: Config, params, ctx, out):
    """Resolved mode: water only and each concentration dried through the stage images,
    and the fast mode at the images' geometry on the same water schedule."""
    from ..errors import InputError
    from ..simulation import ConservationGuard, IterationInterval, Simulation
    from .bridge import lian_rupture_volume
    from .drying import DryingRecorder, MucilageBridgeModel
    from .resolved import ResolvedBridgeModel, StagedFastModel
    stages = _read_stages(config)
    first = [k for k in range(stages.n) if not stages.connected(k)]
    lbm_stage = float(first[0]) if first else float("nan")
    if not first:
        ctx.warn(f"liquid_stages: the last stage image (stage {stages.n - 1}, from 0) still has a bridge joining "
                 "the particles; the drying stops there, so the disconnection stages and water are nan (still "
                 "connected): dry the bridge further (cs4-liquid-configuration's max_stages)")
    summary, series, fast_series = {}, {}, {}
    geometry = None
    for c in [0.0, *config.concentrations]:
        tag, label = _tag(c), ("water only" if c == 0 else f"mucilage {c:g} mg/g")
        model = ResolvedBridgeModel(c, stages, params, relax_steps=config.relax_steps, seed=ctx.seed,
                                    interface_every=config.interface_every,
                                    after_rupture_steps=config.after_rupture_steps)
        geometry = model
        sim = Simulation(model, stop_time=max(model.last_stage, 1), dt=1, name=f"cs4-mucilage-resolved-{tag}")
        rec = DryingRecorder()
        sim.add_callback("record", rec, IterationInterval(1, at_start=True))
        guard = ConservationGuard(lambda s: s.model.water_balance_error(), 1e-10, "water balance")
        sim.add_callback("water balance", guard, IterationInterval(1))
        ctx.simulate(sim, description=f"resolved drying, {label}", progress_units=" stages")
        series[c] = rec.series()
        waters = [model.stage_water(k) for k in range(model.last_stage + 1)]
        fast_res = {"stage": float("nan"), "water": float("nan"), "bridge": float("nan")}
        fast_params = params.with_overrides({"particle_radius": model.radius},
                                            source="resolved mode: the stage images' particle radius")
        try:
            fast = MucilageBridgeModel(c, float(stages.liquid_volume[0]), model.separation, fast_params,
                                       evaporation_rate=1.0, relax_steps=config.relax_steps, seed=ctx.seed)
        except InputError as err:
            ctx.warn(f"fast mode at the images' geometry not run ({label}): {err}")
            fast = None
        if fast is not None:
            staged = StagedFastModel(fast, waters)
            fsim = Simulation(staged, stop_time=max(staged.last_stage, 1), dt=1, name=f"cs4-mucilage-fast-{tag}")
            frec = DryingRecorder()
            fsim.add_callback("record", frec, IterationInterval(1, at_start=True))
            ctx.simulate(fsim, description=f"fast mode on the same stages, {label}", progress_units=" stages")
            fast_series[c] = frec.series()
            fast_res = {"stage": float(staged.connection_lost[0]), "water": float(staged.connection_lost[1]),
                        "bridge": float(staged.bridge_rupture[1])}
        lost_stage, lost_water = (float(v) for v in model.connection_lost)
        out.add_scalar(f"disconnection_water_{tag}", lost_water, "um3",
                       f"resolved mode: water in the pore at the first stage without a liquid connection, {label} "
                       "(nan: still connected at the last stage)")
        out.add_scalar(f"disconnection_stage_{tag}", lost_stage, "1",
                       f"resolved mode: first stage without a liquid connection, {label}")
        out.add_scalar(f"fast_disconnection_water_{tag}", fast_res["water"], "um3",
                       f"fast mode (toroidal bridge) at the images' geometry, same water schedule: water at "
                       f"disconnection, {label}")
        out.add_scalar(f"fast_disconnection_stage_{tag}", fast_res["stage"], "1",
                       f"fast mode at the images' geometry: first stage without a liquid connection, {label}")
        summary[tag] = {"concentration_mg_per_g": c, "beads": model.network.n,
                        "bonds": int(len(model.network.bond_i)),
                        "intact_bonds_final": int(model.network.bond_alive.sum()),
                        "resolved": {"disconnection_stage": lost_stage, "disconnection_water_um3": lost_water,
                                     "bridge_rupture_stage": float(model.bridge_rupture[0]),
                                     "bridge_liquid_before_rupture_um3": float(model.bridge_rupture[1])},
                        "fast": {"disconnection_stage": fast_res["stage"], "disconnection_water_um3": fast_res["water"],
                                 "bridge_rupture_volume_um3": fast_res["bridge"]},
                        "water_balance_worst": guard.worst}
        def _lost(stage, water):
            return (f"at stage {stage:g} ({water:.4g} um3 water)" if np.isfinite(stage)
                    else "never (still connected at the last stage)")
        ctx.message(f"{label}: resolved mode disconnects {_lost(lost_stage, lost_water)}, "
                    f"fast mode {_lost(fast_res['stage'], fast_res['water'])}")
    lian = float(lian_rupture_volume(geometry.separation, geometry.radius, params.contact_angle))
    out.add_scalar("lbm_rupture_stage", lbm_stage, "1", "first stage image whose water no longer joins the particles")
    out.add_scalar("lbm_rupture_water", float(stages.liquid_volume[int(lbm_stage)]) if first else float("nan"),
                   "um3", "liquid volume of that stage image")
    out.add_scalar("lian_rupture_volume", lian, "um3", "Lian et al. (1993) at the images' gap and radius, the set's "
                   "contact angle")
    out.add_scalar("particle_radius", geometry.radius, "um", "particle radius read from the stage images")
    out.add_scalar("separation", geometry.separation, "um", "gap between the particles read from the stage images")
    summary["mode"] = ("resolved: the liquid surface of each stage is the stage image's water-air interface "
                       "(voxel-interface pull); fast: the toroidal bridge of the same water")
    summary["stages"] = {"count": stages.n, "voxel_size_um": stages.voxel_size,
                         "liquid_volume_um3": stages.liquid_volume.tolist(),
                         "connected": [bool(stages.connected(k)) for k in range(stages.n)]}
    out.info["cs4_mucilage"] = summary
    out.info["literature"] = {"set": params.name, "sources": params.sources, "chosen": params.chosen()}
    out.info["seed"] = ctx.seed
    ds = _series_dataset(series, [0.0, *config.concentrations], "stage", time_units="1")
    ds.attrs.update(case="cs4-mucilage-bridge", mode="resolved", separation_um=geometry.separation,
                    particle_radius_um=geometry.radius)
    out.add_field("cs4_mucilage_resolved.nc", ds)
    if config.outputs.figures:
        from .figures import resolved_drying_figure
        mid = stages.labels.shape[1] // 2
        last = (int(lbm_stage) - 1) if first and lbm_stage > 0 else stages.n - 1
        picks = [(0, "first stage"), (last, f"stage {last}, last connected")]
        if first:
            picks.append((int(lbm_stage), f"stage {int(lbm_stage)}, ruptured"))
        sections = [(title, stages.labels[k, mid]) for k, title in picks]
        out.figures["resolved_drying.png"] = resolved_drying_figure(series, fast_series, sections, lian)
    return out
