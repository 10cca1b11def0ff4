"""Scenario ``cs2-phosphate-uptake``: P uptake by a growing, citrate-exuding root system.

Grows oilseed rape in an inclined rhizotron (:func:`rhizoscale.plant.grow_root_system`),
maps the roots into the rhizotron's own frame (x across, y through the slab, z down
the inclined face; diffusion has no preferred direction, so the slab becomes an
axis-aligned box with no-flux walls), and runs the coupled model of
:mod:`rhizoscale.nutrients.coupling` with and without citrate exudation.

Scenario keys: see :class:`Config`. Durations in days, everything else as in the
parameter sets (µmol, cm, s).
"""

from __future__ import annotations

import math
import time as _time
from typing import Literal, Optional, TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..parameters._base import StrictModel
from ..core.grid import RegularGrid
from ..errors import InputError
from ..core.root_system import RootSystem
from ..scenario import CaseConfig, ContactExudationSection, scenario_path
from .coupling import SECONDS_PER_DAY, CoupledUptakeModel
from .parameters import load_citrate, load_phosphate, load_soil
from .rhizosphere import rhizosphere_peclet
from .sorption import competitive_langmuir_jacobian

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "RhizotronConfig", "run", "to_rhizotron_frame"]


class RhizotronConfig(StrictModel):
    """Flat rhizotron inclined from the vertical (cm, degrees).

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    >>> RhizotronConfig(width=10, depth=20)
    RhizotronConfig(width=10.0, thickness=2.0, depth=20.0, angle_deg=49.0, seed_depth=3.0)
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    width: float = Field(30.0, gt=0, description="width along x [cm]")
    thickness: float = Field(2.0, gt=0, description="soil thickness between the plates [cm]")
    depth: float = Field(50.0, gt=0, description="length down the inclined face [cm]")
    angle_deg: float = Field(49.0, ge=0, lt=90, description="inclination from the vertical [deg]")
    seed_depth: float = Field(3.0, ge=0, description="seed below the top edge [cm]")


class SoilDiffusivityConfig(StrictModel):
    """Which effective-diffusivity model the 3D and 1D soil models use.

    ``millington-quirk`` (default): ``D_w theta^(10/3) / phi^2``. ``table``: an
    effective-property table from pore-scale homogenisation (case study 4,
    :func:`rhizoscale.homogenization.write_property_table`), interpolated in theta.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: Literal["millington-quirk", "table"] = "millington-quirk"
    table: Optional[str] = Field(None, description="NetCDF table (relative to the scenario file), or a "
                                 "relation product handed on by a pipeline", json_schema_extra={"product": "relation"})
    mucilage_fraction: float = Field(0.0, ge=0, le=1, description="which tabulated mucilage share to use")
    component: Literal["d_eff", "d_min", "d_max"] = Field(
        "d_eff", description="isotropic equivalent (mean principal value) or smallest/largest principal value")

    @field_validator("table")
    @classmethod
    def _relative(cls, value, info: ValidationInfo):
        return scenario_path(value, info)

    @model_validator(mode="after")
    def _table_given(self):
        if self.model == "table" and self.table is None:
            raise ValueError("table: model 'table' needs the path of a table file")
        return self


def diffusivity_function(cfg: SoilDiffusivityConfig):
    """The ``f(theta, porosity, d_water)`` chosen by a scenario (None = Millington–Quirk).

    A table is read as a :class:`rhizoscale.products.TabulatedRelation`, the product in
    which homogenisation (case study 4) hands ``D_eff(theta, mucilage)`` up a scale.
    """
    if cfg.model == "millington-quirk":
        return None
    from ..products import read_relation
    return read_relation(cfg.table, mucilage_fraction=cfg.mucilage_fraction, component=cfg.component,
                         variable="theta", field="soil_diffusivity.table")


class Config(CaseConfig):
    """Case study 2 scenario.

    Phosphate uptake by a Brassica napus root system growing in a rhizotron, with and
    without citrate exudation (Schnepf et al. 2012).

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs2-phosphate-uptake", "resolution_cm": 1.0,
    ...                                "time": {"stop": 2, "dt": "2 h", "outputs": [1, 2]},
    ...                                "outputs": {"figures": False, "vtk": False}})
    >>> config = scenario.config
    >>> config.days, config.dt_hours, config.profile_days, config.soil     # [d], [h], [d]
    (2.0, 2.0, [1.0, 2.0], 'cs2_soil_medium_sorption')
    >>> estimate_memory(config).describe()
    '0.129 GiB (libraries, root system and figures 0.125 GiB, 3D soil models and fields 0.004 GiB)'
    """

    ROOT_SYSTEM_KEYS = {"plant": "plant", "rsml": "rsml", "age": "age"}
    TIME_KEYS = {"stop": ("days", "d"), "dt": ("dt_hours", "h"), "outputs": ("profile_days", "d")}
    GRID_KEYS = {"resolution": "resolution_cm"}

    plant: str = Field("brassica_napus", description="root architecture parameter set")
    rsml: Optional[str] = Field(None, description="read this RSML file (world frame, seed at the top "
                                "edge of the rhizotron) instead of growing")
    age: Optional[float] = Field(None, gt=0, description="age of the RSML root system [d]")
    days: float = Field(16.0, gt=0, le=120, description="simulated time [d]")
    rhizotron: RhizotronConfig = Field(default_factory=RhizotronConfig)
    soil: str = Field("cs2_soil_medium_sorption", description="soil parameter set")
    phosphate: str = Field("phosphate_brassica_napus", description="phosphate parameter set")
    citrate: str = Field("citrate", description="citrate parameter set (its uptake section)")
    soil_overrides: dict = Field(default_factory=dict)
    phosphate_overrides: dict = Field(default_factory=dict)
    citrate_overrides: dict = Field(default_factory=dict)
    soil_diffusivity: SoilDiffusivityConfig = Field(default_factory=SoilDiffusivityConfig)
    exudation_factor: float = Field(1.0, gt=0, description="multiplies the citrate exudation rate: an effective "
                                    "factor for what the 1D root surface does not resolve, e.g. root hairs and "
                                    "partial root-soil contact from image-based runs (case study 3) [1]")
    contact_exudation: Optional[ContactExudationSection] = Field(
        None, description="citrate exudation rate times an effective factor of the root-soil contact "
                          "fraction (case study 3's exudation_factor_contact relation)")
    resolution_cm: float = Field(0.25, gt=0, description="3D cell size [cm]")
    rld_support_cm: float = Field(1.0, gt=0, description="size of the fixed averaging cells for the root length "
                                                          "density that sets r1 [cm] (independent of resolution_cm)")
    min_r1_factor: float = Field(3.0, gt=1, description="floor of r1 / r0")
    n_radial_cells: int = Field(12, ge=2, le=200, description="cells per rhizosphere model")
    dt_hours: float = Field(1.0, gt=0, le=24, description="coupling time step [h]")
    output_interval_days: float = Field(1.0, gt=0, description="3D field output interval [d]")
    profile_days: list[float] = Field(default_factory=lambda: [4.0, 8.0, 12.0, 16.0],
                                      description="days at which rhizosphere profiles are written")
    compare_without_exudation: bool = Field(True, description="also run without citrate exudation")
    outside: Literal["error", "exclude"] = Field("error", description="roots outside the rhizotron")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")

    def parameter_sets(self) -> dict:
        from ..plant import load_plant_parameters
        return {
            **({} if self.rsml is not None else {"plant": lambda: load_plant_parameters(self.plant)}),
            "soil": lambda: load_soil(self.soil).with_overrides(self.soil_overrides, source="soil_overrides"),
            "phosphate": lambda: load_phosphate(self.phosphate).with_overrides(
                self.phosphate_overrides, source="phosphate_overrides"),
            "citrate": lambda: load_citrate(self.citrate).with_overrides(self.citrate_overrides,
                                                                         source="citrate_overrides"),
        }

    @field_validator("rsml")
    @classmethod
    def _rsml_file(cls, value, info: ValidationInfo):
        return scenario_path(value, info)

    @field_validator("plant")
    @classmethod
    def _plant_file(cls, value, info: ValidationInfo):
        # a shipped parameter-set name passes through; files are resolved and must exist
        return scenario_path(value, info, suffixes=(".xml", ".yaml", ".yml"))


def to_rhizotron_frame(rs: RootSystem, rhizotron: RhizotronConfig, tol: float = 1e-6) -> RootSystem:
    """Coordinates in the rhizotron frame: x across, y in [0, thickness], z in [-depth, 0].

    The slab of :class:`rhizoscale.plant.Rhizotron` (top edge centred on
    ``(0, 0, -seed_depth)``, down-slope direction ``(0, sin a, -cos a)``) becomes the
    box ``[-width/2, width/2] x [0, thickness] x [-depth, 0]``. Nodes within ``tol`` cm
    outside a wall are moved onto it (round-off of the growth model's confinement).

    Parameters
    ----------
    rs : RootSystem
        Roots in the world frame [cm] (grown in :class:`rhizoscale.plant.Rhizotron`).
    rhizotron : RhizotronConfig
        The rhizotron.
    tol : float
        Distance [cm] within which nodes outside a wall are moved onto it.

    Returns
    -------
    RootSystem
        The same roots (lengths unchanged) in the rhizotron frame [cm].

    Examples
    --------
    >>> from rhizoscale.plant import Rhizotron, grow_root_system
    >>> rz = RhizotronConfig(width=10, thickness=2, depth=20)
    >>> rs = grow_root_system("brassica_napus", 4, seed=1,
    ...                       confinement=Rhizotron(10, 2, 20, 49, origin=(0, 0, -3)))
    >>> local = to_rhizotron_frame(rs, rz)
    >>> local.nodes.min(axis=0).round(3).tolist(), local.nodes.max(axis=0).round(3).tolist()
    ([-1.085, 0.002, -15.921], [2.541, 1.761, 0.0])
    >>> round(local.total_length(), 4) == round(rs.total_length(), 4)
    True
    """
    a = math.radians(rhizotron.angle_deg)
    origin = np.array([0.0, 0.0, -rhizotron.seed_depth])
    down = np.array([0.0, math.sin(a), -math.cos(a)])
    normal = np.array([0.0, math.cos(a), math.sin(a)])
    p = rs.nodes - origin
    x = p[:, 0]
    y = p @ normal + rhizotron.thickness / 2
    z = -(p @ down)
    lo = np.array([-rhizotron.width / 2, 0.0, -rhizotron.depth])
    hi = np.array([rhizotron.width / 2, rhizotron.thickness, 0.0])
    q = np.stack([x, y, z], axis=1)
    near = (q > lo - tol) & (q < hi + tol)
    q = np.where(near, np.clip(q, lo, hi), q)
    return RootSystem(
        nodes=q, node_time=rs.node_time, node_radius=rs.node_radius, root_node_ptr=rs.root_node_ptr,
        root_node_idx=rs.root_node_idx, root_parent=rs.root_parent, root_parent_node=rs.root_parent_node,
        root_order=rs.root_order, root_type=rs.root_type, time=rs.time, root_plant=rs.root_plant,
        metadata={**rs.metadata, "frame": "rhizotron (x across, y through the slab, z down the face)"})


def _load_parameters(config: Config, ctx):
    """Soil, phosphate and citrate sets as the scenario resolved them (overrides applied;
    the citrate exudation rate times ``exudation_factor``)."""
    soil, phosphate, citrate = (ctx.parameter_set(config, slot) for slot in ("soil", "phosphate", "citrate"))
    if config.exudation_factor != 1.0:
        citrate = citrate.with_overrides({"exudation_rate": citrate.exudation_rate * config.exudation_factor},
                                         source="exudation_factor")
    if config.contact_exudation is not None:
        f = config.contact_exudation.factor()
        citrate = citrate.with_overrides({"exudation_rate": citrate.exudation_rate * f}, source="contact_exudation")
    return soil, phosphate, citrate


class UptakeRecorder:
    """Callback recording a coupled model's budget every step, its 3D fields at the output
    times and its rhizosphere profiles at the profile times (checkpointable)."""

    SERIES = ("time", "uptake", "exudation", "decay_citrate", "mass_p", "mass_citrate",
              "error_p", "error_citrate", "n_segments")

    def __init__(self, out_times, profile_times):
        self.out_times = np.asarray(sorted(out_times), dtype=float)
        self.profile_times = np.asarray(sorted(profile_times), dtype=float)
        self.series = {k: [] for k in self.SERIES}
        self.fields, self.profiles, self.notes = [], [], []
        self.last = None

    def record_step(self, rec) -> None:
        self.notes.extend(rec.warnings)
        for key, value in zip(self.SERIES, (rec.time_s, rec.uptake, rec.exudation, rec.decay[1],
                                            rec.mass[0], rec.mass[1], rec.balance_error[0],
                                            rec.balance_error[1], rec.n_segments)):
            self.series[key].append(value)

    def __call__(self, sim) -> None:
        model, t = sim.model, sim.time
        if sim.iteration > 0 and self.last != sim.iteration:
            self.record_step(model.last_record)
            self.last = sim.iteration
        hit = self._hit(self.out_times, t)
        if hit is not None:
            self.fields.append((hit, model.soil3d.c.copy(), model.soil3d.totals()))
        hit = self._hit(self.profile_times, t)
        if hit is not None:
            self.profiles.append((hit, model.profiles()))

    @staticmethod
    def _hit(times, t):
        """The nominal output time that ``t`` landed on (None if none)."""
        k = np.flatnonzero(np.abs(times - t) <= 1e-12 * max(abs(t), 1.0))
        return float(times[k[0]]) if k.size else None

    def arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in self.series.items()}

    def checkpoint_state(self) -> dict:
        st = {"series": {k: np.asarray(v, dtype=float) for k, v in self.series.items()},
              "notes": np.asarray(self.notes, dtype=str), "last": -1 if self.last is None else self.last,
              "field_times": np.asarray([f[0] for f in self.fields], dtype=float)}
        if self.fields:
            st["field_c"] = np.stack([f[1] for f in self.fields])
            st["field_totals"] = np.stack([f[2] for f in self.fields])
        st["profile_times"] = np.asarray([p[0] for p in self.profiles], dtype=float)
        for i, (_, prof) in enumerate(self.profiles):
            st[f"profile{i}"] = prof
        return st

    def restore_state(self, st: dict) -> None:
        self.series = {k: [float(v) for v in np.atleast_1d(st["series"][k])] for k in self.SERIES}
        self.series["n_segments"] = [int(v) for v in self.series["n_segments"]]
        self.notes = [str(v) for v in np.atleast_1d(st["notes"])]
        self.last = None if int(st["last"]) < 0 else int(st["last"])
        times = np.atleast_1d(st["field_times"])
        self.fields = [(float(t), st["field_c"][i], st["field_totals"][i]) for i, t in enumerate(times)]
        self.profiles = [(float(t), {k: np.asarray(v) for k, v in st[f"profile{i}"].items()})
                         for i, t in enumerate(np.atleast_1d(st["profile_times"]))]


def uptake_simulation(model: CoupledUptakeModel, days: float, dt_s: float, output_days, profile_days,
                      name: str = "cs2"):
    """A :class:`~rhizoscale.simulation.Simulation` of a coupled model to ``days`` with an
    :class:`UptakeRecorder` (``sim.callbacks["record"].func``); steps of ``dt_s`` [s] land
    on the output and profile days."""
    from ..simulation import IterationInterval, Simulation, SpecifiedTimes
    t_end = days * SECONDS_PER_DAY
    out_t = sorted({round(float(d) * SECONDS_PER_DAY, 6) for d in output_days if 0 <= d <= days})
    prof_t = sorted({round(float(d) * SECONDS_PER_DAY, 6) for d in profile_days if 0 < d <= days})
    recorder = UptakeRecorder(out_t, prof_t)
    sim = Simulation(model, stop_time=t_end, dt=dt_s, name=name)
    sim.add_callback("record", recorder, IterationInterval(1, at_start=True))
    # the output and profile times: steps land on them (the recorder checks which is due)
    sim.add_callback("outputs", lambda s: None, SpecifiedTimes(sorted(set(out_t) | set(prof_t))))
    return sim, recorder


def simulate(model: CoupledUptakeModel, days: float, dt_s: float, output_days, profile_days, callback=None):
    """Run a coupled model to ``days``; return time series, field snapshots, profiles, notes."""
    sim, rec = uptake_simulation(model, days, dt_s, output_days, profile_days)
    if callback is not None:
        sim.progress = lambda t, stop: callback(t / SECONDS_PER_DAY, days)
    sim.run()
    return rec.arrays(), rec.fields, rec.profiles, rec.notes


def _fields_dataset(grid: RegularGrid, fields, label: str) -> xr.Dataset:
    times = np.array([f[0] for f in fields]) / SECONDS_PER_DAY
    coords = {"time": ("time", times, {"units": "d"}), **grid.coords()}

    def stack(idx, sp):
        return np.stack([f[idx][sp].reshape(grid.shape) for f in fields])

    dims = ("time", "z", "y", "x")
    ds = xr.Dataset(
        {
            "phosphate": (dims, stack(1, 0), {"units": "umol cm-3", "long_name": "phosphate in soil solution"}),
            "citrate": (dims, stack(1, 1), {"units": "umol cm-3", "long_name": "citrate in soil solution"}),
            "phosphate_total": (dims, stack(2, 0), {"units": "umol cm-3",
                                                    "long_name": "phosphate, dissolved + sorbed, per bulk volume"}),
            "citrate_total": (dims, stack(2, 1), {"units": "umol cm-3",
                                                  "long_name": "citrate, dissolved + sorbed, per bulk volume"}),
        },
        coords=coords,
        attrs={"case": "cs2-phosphate-uptake", "run": label,
               "frame": "rhizotron: x across, y through the slab, z down the inclined face"},
    )
    return ds


def _profiles_dataset(profiles, n_total: int, n_nodes: int) -> xr.Dataset:
    nt = len(profiles)
    r = np.full((nt, n_total, n_nodes), np.nan)
    cp = np.full_like(r, np.nan)
    cc = np.full_like(r, np.nan)
    for i, (_, p) in enumerate(profiles):
        n = len(p["r"])
        r[i, :n], cp[i, :n], cc[i, :n] = p["r"], p["phosphate"], p["citrate"]
    dims = ("time", "segment", "node")
    return xr.Dataset(
        {"r": (dims, r, {"units": "cm", "long_name": "radial position (node 0 = root surface, then cell centres)"}),
         "phosphate": (dims, cp, {"units": "umol cm-3", "long_name": "phosphate in soil solution"}),
         "citrate": (dims, cc, {"units": "umol cm-3", "long_name": "citrate in soil solution"})},
        coords={"time": ("time", [p[0] / SECONDS_PER_DAY for p in profiles], {"units": "d"}),
                "segment": ("segment", np.arange(n_total), {"units": "1", "long_name": "segment index"}),
                "node": ("node", np.arange(n_nodes), {"units": "1", "long_name": "radial node index"})},
        attrs={"note": "segments in order of creation; NaN before a segment exists"},
    )


def _figures(rs, grid, fields, series_with, series_without, label: str = "") -> dict:
    """Fig. 6 (root age, total P and citrate in the soil) and the cumulative uptake.

    ``label``: plant and seed for the titles. Root age uses the colour map of every root
    figure (:data:`rhizoscale.plant.figures.ROOT_AGE_CMAP`: young bright, old dark).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from ..plant.figures import ROOT_AGE_CMAP

    t_last, c_last, tot_last = fields[-1]
    day = t_last / SECONDS_PER_DAY
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.8), sharey=True, layout="constrained")
    segs = rs.segments
    lines = np.stack([rs.nodes[segs[:, 0]][:, [0, 2]], rs.nodes[segs[:, 1]][:, [0, 2]]], axis=1)
    age = rs.time - rs.segment_time
    lc = LineCollection(lines, array=age, cmap=ROOT_AGE_CMAP, linewidths=1.0)
    axes[0].add_collection(lc)
    axes[0].set_xlim(grid.lower[0], grid.upper[0])
    axes[0].set_ylim(grid.lower[2], grid.upper[2])
    fig.colorbar(lc, ax=axes[0], label="root age [d]", shrink=0.85)
    axes[0].set_title(f"root system, day {rs.time:g}")
    ext = (grid.lower[0], grid.upper[0], grid.lower[2], grid.upper[2])
    for ax, sp, name in ((axes[1], 0, "P"), (axes[2], 1, "citrate")):
        img = tot_last[sp].reshape(grid.shape).mean(axis=1)
        im = ax.imshow(img, origin="lower", extent=ext, aspect="auto", cmap="magma", interpolation="nearest")
        fig.colorbar(im, ax=ax, label=f"total {name} per soil volume [µmol cm⁻³]", shrink=0.85)
        ax.set_title(f"total {name} (dissolved + sorbed), day {day:g}\nmean through the slab")
    for ax in axes:
        ax.set_xlabel("x across the rhizotron [cm]")
    axes[0].set_ylabel("z down the rhizotron face [cm]")
    if label:
        fig.suptitle(label)
    figs = {"fig6_root_age_p_citrate.png": fig}

    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    ax.plot(series_with["time"] / SECONDS_PER_DAY, series_with["uptake"], color="C0",
            label="P uptake, with exudation")
    if series_without is not None:
        ax.plot(series_without["time"] / SECONDS_PER_DAY, series_without["uptake"], color="C1", ls="--",
                label="P uptake, no exudation")
    ax.set_xlabel("time [d]")
    ax.set_ylabel("cumulative P uptake [µmol]")
    ax2 = ax.twinx()
    ax2.plot(series_with["time"] / SECONDS_PER_DAY, series_with["exudation"], "k:",
             label="citrate exuded (right axis)")
    ax2.set_ylabel("cumulative citrate exudation [µmol]")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left")
    ax.set_title(f"{label + ', ' if label else ''}days 0–{day:g}")
    figs["cumulative_uptake.png"] = fig
    return figs


def peclet_numbers(rs: RootSystem, soil, phosphate, citrate, diffusivity=None) -> dict:
    """Rhizosphere Péclet numbers of the main roots with several choices of D."""
    main = np.flatnonzero(rs.root_order == 0)
    lengths = rs.root_lengths()[main]
    k = int(main[np.argmax(lengths)])
    t, _ = rs.tip_path(k)
    v = float(lengths.max() / max(t[-1] - t[0], 1e-12)) / SECONDS_PER_DAY  # cm s-1
    r0 = float(np.median(rs.segment_radius[rs.segment_root == k]))
    from ..soil import millington_quirk
    out = {"definition": "Pe = v r0 / D (v: mean elongation rate, r0: root radius)",
           "taproot_speed_cm_per_day": v * SECONDS_PER_DAY, "taproot_radius_cm": r0}
    # length-weighted mean elongation rate and radius of all roots
    speeds, radii, lens = [], [], []
    all_len = rs.root_lengths()
    for i in range(rs.n_roots):  # summary only, once per run
        ti, _ = rs.tip_path(i)
        if len(ti) > 1 and ti[-1] > ti[0] and all_len[i] > 0:
            speeds.append(all_len[i] / (ti[-1] - ti[0]))
            radii.append(float(np.median(rs.segment_radius[rs.segment_root == i])))
            lens.append(all_len[i])
    if lens:
        w = np.asarray(lens) / np.sum(lens)
        out["all_roots_speed_cm_per_day"] = float(np.dot(w, speeds))
        out["all_roots_radius_cm"] = float(np.dot(w, radii))
        v_all = out["all_roots_speed_cm_per_day"] / SECONDS_PER_DAY
        out["phosphate_pe_water_all_roots"] = float(rhizosphere_peclet(v_all, out["all_roots_radius_cm"],
                                                                       phosphate.d_water))
        out["citrate_pe_water_all_roots"] = float(rhizosphere_peclet(v_all, out["all_roots_radius_cm"],
                                                                     citrate.d_water))
    c0 = np.array([[soil.initial_phosphate], [0.0]])
    jac = competitive_langmuir_jacobian(c0, [soil.smax_phosphate, soil.smax_citrate],
                                        [soil.k_phosphate, soil.k_citrate])[:, :, 0]
    for name, dw, buf in (("phosphate", phosphate.d_water, jac[0, 0]), ("citrate", citrate.d_water, jac[1, 1])):
        deff = (diffusivity or millington_quirk)(soil.water_content, soil.porosity, dw)
        out[f"{name}_pe_water"] = float(rhizosphere_peclet(v, r0, dw))
        out[f"{name}_pe_effective"] = float(rhizosphere_peclet(v, r0, deff))
        out[f"{name}_pe_effective_buffered"] = float(
            rhizosphere_peclet(v, r0, deff / (soil.water_content + soil.bulk_density * buf)))
    return out


#: bytes per 3D cell and coupled model: the two species' transmissibility matrices (and
#: their CSR copies, built through COO temporaries), the state, the Newton and linear
#: solver vectors, the source, and the cylinder weights (cells within r1 of a segment
#: number at most the rooted support cells' volume in cells, so they scale with the grid)
_CELL_BYTES_MODEL = 560
#: bytes per 3D cell and output time: each run's recorded snapshot (solution and total
#: concentrations of both species, float64) ...
_CELL_BYTES_SNAPSHOT = 32
#: ... and the fields Dataset (four variables, plus phosphate without exudation)
_CELL_BYTES_DATASET = 40
#: bytes per cell of the fixed support grid of the root length density (per step)
_CELL_BYTES_SUPPORT = 16


def _soil_grid(config: Config, resolution: float | None = None) -> RegularGrid:
    rz = config.rhizotron
    return RegularGrid.from_resolution((-rz.width / 2, 0.0, -rz.depth), (rz.width / 2, rz.thickness, 0.0),
                                       config.resolution_cm if resolution is None else resolution)


def _output_days(config: Config) -> list[float]:
    out_days = list(np.arange(0.0, config.days + 1e-9, config.output_interval_days))
    if abs(out_days[-1] - config.days) > 1e-9:
        out_days.append(config.days)
    return out_days


def estimate_memory(config: Config) -> "MemoryEstimate":
    """Peak memory of a ``cs2-phosphate-uptake`` run [bytes], from the scenario alone.

    With ``N`` 3D cells, ``T`` output times and ``M`` coupled runs (2 with
    ``compare_without_exudation``), about ``N * (560 M + (32 M + 40) T)`` bytes: each
    model's operators, solver vectors and cylinder weights, and the recorded fields;
    plus the support grid of the root length density and 128 MiB for libraries, the
    root system and the figures. The per-segment rhizosphere models (``n_radial_cells``
    floats per species and segment) take a few MB for thousands of segments. The
    cylinder sampling weights cover the soil within r1 of the roots, whose volume is at
    most the rooted part of the box, so they scale with the 3D grid and are counted in
    the 560. Calibrated against the measured peak resident memory (docs/memory.md).

    Parameters
    ----------
    config : Config
        The validated scenario.

    Returns
    -------
    rhizoscale.memory.MemoryEstimate
        Parts [bytes] and the scenario field that changes them most.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> estimate = estimate_memory(scenario_from_dict({"case": "cs2-phosphate-uptake"}).config)
    >>> estimate.field, round(estimate.gib, 3)                # the shipped defaults [GiB]
    ('resolution_cm', 0.641)
    """
    from ..memory import BASE_ALLOWANCE, GIB, MemoryEstimate, largest_fitting, round_nice
    runs = 2 if config.compare_without_exudation else 1
    n_out = len(_output_days(config))
    per_cell = _CELL_BYTES_MODEL * runs + (_CELL_BYTES_SNAPSHOT * runs + _CELL_BYTES_DATASET) * n_out

    def soil_bytes(h: float) -> float:
        return float(_soil_grid(config, h).n_cells) * per_cell

    rz = config.rhizotron
    support = RegularGrid.from_resolution((-rz.width / 2, 0.0, -rz.depth), (rz.width / 2, rz.thickness, 0.0),
                                          config.rld_support_cm)
    parts = {"3D soil models and fields": soil_bytes(config.resolution_cm),
             "root length density support grid": float(support.n_cells) * _CELL_BYTES_SUPPORT,
             "libraries, root system and figures": float(BASE_ALLOWANCE)}
    if parts["root length density support grid"] > parts["3D soil models and fields"]:
        return MemoryEstimate(parts, "rld_support_cm", lambda limit: (
            f"use a larger rld_support_cm (now {config.rld_support_cm:g} cm; the default is 1 cm)"))

    def suggest(limit: float) -> str:
        rest = parts["root length density support grid"] + BASE_ALLOWANCE
        h0 = config.resolution_cm
        h = largest_fitting(lambda h: soil_bytes(h) + rest, limit, h0)
        if h is None:
            return "use a smaller rhizotron or a larger output_interval_days"
        h = round_nice(h)
        return (f"use a coarser resolution_cm, e.g. {h:g} (now {h0:g}; about "
                f"{(soil_bytes(h) + rest) / GIB:.2g} GiB), a larger output_interval_days "
                f"({n_out} field outputs now), or compare_without_exudation: false")

    return MemoryEstimate(parts, "resolution_cm", suggest)


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` makes, ``{name: (kind, units)}``, known before it
    runs (what a pipeline checks its inputs and a sensitivity analysis its quantities
    against; tests/test_contract.py checks them against every example's products)."""
    out = {"fields.nc": ("field", None), "rhizosphere_profiles.nc": ("field", None),
           "uptake_timeseries.nc": ("field", None), "memory_estimate": ("scalar", "GiB"),
           "p_uptake_with_exudation": ("scalar", "umol"), "citrate_exuded": ("scalar", "umol"),
           "citrate_decayed": ("scalar", "umol"), "max_relative_balance_error": ("scalar", "1"),
           "root_length": ("scalar", "cm"), "phosphate_peclet_taproot": ("scalar", "1")}
    if config.compare_without_exudation:
        out["p_uptake_without_exudation"] = ("scalar", "umol")
        out["uptake_ratio_with_to_without"] = ("scalar", "1")
    return out


def run(config: Config, ctx) -> Products:
    """Run case study 2 and return its products (see docs/cs2-phosphate-uptake.md).

    The case's side of the contract (:func:`rhizoscale.scenario.run_products`):
    ``config`` is this module's :class:`Config`, ``ctx`` a
    :class:`rhizoscale.outputs.RunContext`; returns :class:`rhizoscale.products.Products`.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed (of the root growth), progress, warnings, resolved parameter sets.

    Returns
    -------
    rhizoscale.products.Products
        Phosphate uptake with and without exudation [µmol], citrate exuded and decayed
        [µmol], the mass-balance error [1], soil fields and depletion profiles, figures.

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    Two days on a 1 cm grid (the gallery example ``docs/gallery/plot_cs2_phosphate_uptake.py``
    runs a longer one):

    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs2-phosphate-uptake", "resolution_cm": 1.0,
    ...                                "time": {"stop": 2, "dt": "2 h", "outputs": [1, 2]},
    ...                                "outputs": {"figures": False, "vtk": False}})
    >>> from rhizoscale.scenario import run_products
    >>> products = run_products(scenario)
    >>> with_, without = (products.scalars[f"p_uptake_{k}_exudation"] for k in ("with", "without"))
    >>> round(with_.value, 5), round(without.value, 5), with_.units
    (0.02493, 0.01536, 'umol')
    >>> products.value("max_relative_balance_error") < 1e-9
    True
    """
    from ..plant import Rhizotron, grow_root_system
    from ..products import Products
    seed = ctx.seed
    out = Products("cs2-phosphate-uptake")

    from ..memory import check_memory, record_estimate
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)

    wall0 = _time.perf_counter()
    soil, phosphate, citrate = _load_parameters(config, ctx)
    deff_fn = diffusivity_function(config.soil_diffusivity)
    if deff_fn is not None and abs(deff_fn.porosity - soil.porosity) > 0.02:
        ctx.warn(f"the effective-diffusivity table was computed for porosity {deff_fn.porosity:.3f}, "
                 f"the soil has {soil.porosity:.3f}")
    rz = config.rhizotron
    if config.rsml is not None:
        from ..io.rsml import read_rsml
        rs_world = read_rsml(config.rsml, age=config.age)
        for w in rs_world.metadata.get("warnings", []):
            ctx.warn(f"{config.rsml}: {w}")
        if rs_world.time + 1e-9 < config.days:
            raise InputError(f"the root system is {rs_world.time:g} d old, less than days = {config.days:g}",
                             source=config.rsml, field="age")
        rs_world = rs_world.at(config.days) if rs_world.time > config.days + 1e-9 else rs_world
    else:
        plant = ctx.parameter_set(config, "plant")
        for w in plant.reader_warnings:  # what a CPlantBox XML reader ignored
            ctx.warn(f"{config.plant}: {w}")
        with ctx.task("growing roots", total=config.days) as cb:
            rs_world = grow_root_system(plant, config.days, seed=seed,
                                        confinement=Rhizotron(rz.width, rz.thickness, rz.depth, rz.angle_deg,
                                                              origin=(0.0, 0.0, -rz.seed_depth)),
                                        callback=cb)
    rs = to_rhizotron_frame(rs_world, rz)
    grid = _soil_grid(config)
    dt = config.dt_hours * 3600.0
    out_days = _output_days(config)
    growth_s = _time.perf_counter() - wall0

    results = {}
    runs = [("with_exudation", True)] + ([("without_exudation", False)] if config.compare_without_exudation else [])
    for label, exude in runs:
        model = CoupledUptakeModel(rs, grid, soil, phosphate, citrate, n_radial_cells=config.n_radial_cells,
                                   exudation=exude, outside=config.outside, rld_support_cm=config.rld_support_cm,
                                   min_r1_factor=config.min_r1_factor, diffusivity=deff_fn)
        for w in model.warnings:
            ctx.warn(w)
        late = [d for d in config.profile_days if d > config.days] if exude else []
        if late:
            # kept a warning, not an error: a sensitivity analysis that samples time.stop
            # below the scenario's profile days must still run
            ctx.warn(f"profile_days {late} are after the end of the run ({config.days:g} d): not written")
        sim, rec = uptake_simulation(model, config.days, dt, out_days, config.profile_days if exude else [],
                                     name=f"cs2-{label}")
        ctx.simulate(sim, description=f"P uptake ({label.replace('_', ' ')})",
                     progress_scale=1 / SECONDS_PER_DAY, progress_units=" d")
        series, fields, profiles, notes = rec.arrays(), rec.fields, rec.profiles, rec.notes
        for note in notes:
            ctx.warn(f"{label}: {note}")
        results[label] = (model, series, fields, profiles)

    model, series, fields, profiles = results["with_exudation"]
    ds = _fields_dataset(grid, fields, "with_exudation")
    if "without_exudation" in results:
        ds["phosphate_no_exudation"] = (("time", "z", "y", "x"),
                                        _fields_dataset(grid, results["without_exudation"][2], "x")["phosphate"].values,
                                        {"units": "umol cm-3", "long_name": "phosphate in soil solution, no exudation"})
    out.add_field("fields.nc", ds)
    if config.outputs.vtk:
        from ..io.vtk import write_image_vtk
        last = ds.isel(time=-1)
        out.exports["fields_final.vti"] = lambda path: write_image_vtk(last, path)
    out.add_field("rhizosphere_profiles.nc", _profiles_dataset(profiles, model.n_total,
                                                               model.rhizo.n_cells + 1))
    ts = xr.Dataset(coords={"time": ("time", series["time"] / SECONDS_PER_DAY, {"units": "d"})})
    ts["uptake_with_exudation"] = ("time", series["uptake"], {"units": "umol", "long_name": "cumulative P uptake"})
    ts["citrate_exuded"] = ("time", series["exudation"], {"units": "umol"})
    ts["citrate_decayed"] = ("time", series["decay_citrate"], {"units": "umol"})
    ts["phosphate_in_soil"] = ("time", series["mass_p"], {"units": "umol"})
    ts["citrate_in_soil"] = ("time", series["mass_citrate"], {"units": "umol"})
    ts["balance_error_phosphate"] = ("time", series["error_p"], {"units": "1", "long_name": "relative global mass balance error"})
    ts["balance_error_citrate"] = ("time", series["error_citrate"], {"units": "1"})
    ts["n_segments"] = ("time", series["n_segments"], {"units": "1", "long_name": "active root segments"})
    without = results.get("without_exudation")
    if without is not None:
        if len(without[1]["time"]) == len(series["time"]):
            ts["uptake_without_exudation"] = ("time", without[1]["uptake"], {"units": "umol"})
        else:  # different step reductions: interpolate onto the same times
            ts["uptake_without_exudation"] = ("time", np.interp(series["time"], without[1]["time"],
                                                                without[1]["uptake"]), {"units": "umol"})
    out.add_field("uptake_timeseries.nc", ts)
    if config.outputs.figures:
        from ..plant.figures import plant_label
        out.figures.update(_figures(rs, grid, fields, series, without[1] if without else None,
                                    label=f"{plant_label(rs_world) or config.plant}, rhizotron inclined "
                                          f"{config.rhizotron.angle_deg:g}°"))

    s = out.info
    s["root_system"] = rs.summary()
    s["grid_shape_zyx"] = list(grid.shape)
    s["n_radial_cells"] = config.n_radial_cells
    s["rld_support_cm"] = config.rld_support_cm
    r1 = model.rhizo.faces[:model.rhizo.n, -1]
    s["outer_radius_cm"] = {"min": float(r1.min()), "median": float(np.median(r1)), "max": float(r1.max())}
    s["dt_hours"] = config.dt_hours
    s["p_uptake_with_exudation_umol"] = float(series["uptake"][-1])
    s["citrate_exuded_umol"] = float(series["exudation"][-1])
    s["citrate_decayed_umol"] = float(series["decay_citrate"][-1])
    s["max_relative_balance_error"] = float(np.max(np.abs(np.concatenate([series["error_p"],
                                                                         series["error_citrate"]]))))
    if without is not None:
        up0 = float(without[1]["uptake"][-1])
        s["p_uptake_without_exudation_umol"] = up0
        s["uptake_ratio_with_to_without"] = float(series["uptake"][-1] / up0) if up0 > 0 else None
    s["rhizosphere_substeps"] = int(model.rhizo.substeps)
    # work of the 3D solver per run (what the run time scales with; docs: profile)
    s["soil_solver"] = {lab: {"newton_iterations": int(r[0].soil3d.newton_iterations),
                              "block_sgs_sweeps": int(r[0].soil3d.linear_sweeps)}
                        for lab, r in results.items()}
    s["peclet"] = peclet_numbers(rs_world, soil, phosphate, citrate, deff_fn)
    s["effective_diffusivity"] = {
        "model": config.soil_diffusivity.model if deff_fn is None else repr(deff_fn),
        "phosphate_cm2_s": float(model.soil3d.effective_diffusivity[0]),
        "citrate_cm2_s": float(model.soil3d.effective_diffusivity[1])}
    s["parameters"] = {"soil": soil.model_dump(), "phosphate": phosphate.model_dump(),
                       "citrate": citrate.model_dump()}
    s["chosen_parameters"] = {**soil.chosen(), **phosphate.chosen(), **citrate.chosen()}
    s["timing_s"] = {"growth": round(growth_s, 2), "total": round(_time.perf_counter() - wall0, 2)}
    out.add_scalar("p_uptake_with_exudation", s["p_uptake_with_exudation_umol"], "umol",
                   f"cumulative P uptake after {config.days:g} d with citrate exudation")
    out.add_scalar("citrate_exuded", s["citrate_exuded_umol"], "umol", "cumulative citrate exudation")
    out.add_scalar("citrate_decayed", s["citrate_decayed_umol"], "umol", "cumulative citrate decomposition")
    out.add_scalar("max_relative_balance_error", s["max_relative_balance_error"], "1",
                   "largest relative global mass balance error of any step (P and citrate)")
    if without is not None:
        out.add_scalar("p_uptake_without_exudation", s["p_uptake_without_exudation_umol"], "umol",
                       f"cumulative P uptake after {config.days:g} d without citrate exudation")
        out.add_scalar("uptake_ratio_with_to_without", s["uptake_ratio_with_to_without"], "1",
                       "P uptake with / without citrate exudation")
    out.add_scalar("root_length", s["root_system"]["total_length_cm"], "cm", "total root length at the end")
    out.add_scalar("phosphate_peclet_taproot", s["peclet"]["phosphate_pe_water"], "1",
                   "rhizosphere Peclet number v r0 / D_water of P at the taproot")
    return out
