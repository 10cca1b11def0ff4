"""Scenario ``cs4-mucilage-bridge``: a pendular bridge drying with and without mucilage.

Water only and each mucilage concentration dry the same bridge (fast mode: toroidal
liquid surface); the outcome is the water left in the pore when the liquid connection
between the particles is lost, Lian's rupture volume for comparison, the final mucilage
structure as an image and the Fig. 11a-like drying snapshots. Units: µm, s, pg;
concentrations in mg dry mucilage per g water.
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
    summary["mode"] = "fast (toroidal pendular bridge); the resolved mode (lattice-Boltzmann liquid) is not built"
    out.info["cs4_mucilage"] = summary
    out.info["literature"] = {"set": params.name, "sources": params.sources, "chosen": params.chosen()}
    out.info["seed"] = ctx.seed
    conc = [0.0, *config.concentrations]
    nstep = max(len(s["time"]) for s in series.values())
    ds = xr.Dataset(coords={"concentration": ("concentration", conc, {"units": "mg g-1"}),
                            "step": ("step", np.arange(nstep), {"units": "1"})})
    for k, unit in _series_units().items():
        arr = np.full((len(conc), nstep), np.nan)
        for i, c in enumerate(conc):
            arr[i, :len(series[c][k])] = series[c][k]
        ds["drying_time" if k == "time" else k] = (("concentration", "step"), arr, {"units": unit})
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
