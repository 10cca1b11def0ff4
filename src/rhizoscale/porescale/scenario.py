"""Scenario ``cs4-liquid-configuration``: drying liquid bridges and water at target saturations.

One case with two modes (one fluid model, one set of keys for it; the shipped examples
``cs4-liquid-bridge`` and ``cs4-water-distribution`` pick the mode):

* ``mode: bridge`` — two spheres (or discs, ``ndim: 2``) with a pendular bridge, dried
  quasi-statically until the bridge ruptures; rupture volume and Lian et al.'s (1993)
  prediction; bridge sections at several stages.
* ``mode: water-distribution`` — a seeded granular packing brought to each saturation of
  ``saturations`` (morphological drainage + LBM relaxation at fixed mass); water/air/solid
  images (NetCDF with flag meanings, TIFF/VTK on request) and the saturation curve. The
  effective diffusion of these images is the homogenisation case's job: the chaining is in
  ``docs/gallery/plot_cs4_liquid_configuration.py`` (a case package imports no other).

Units: lengths in voxels of ``voxel_size`` cm (coordinates in cm). The contact angle is
calibrated to a wall density by sessile drops on the run's own lattice (cached): D2Q9
drops for 2D runs, D3Q19 spherical caps for 3D runs (at T/Tc = 0.8 with ``li`` the
reachable range is about 48-104 deg in 2D — lighter walls let the drop leave the wall —
and 42-124 deg in 3D: the tables in docs/cs4-liquid-configuration.md). The fluid fields
are written in physical units: liquid fraction [1] and density [kg m-3] (the lattice
liquid mapped to ``liquid_density``) always; with ``surface_tension`` [N m-1] the lattice
surface tension is measured by the Laplace law on the run's lattice (2D droplets for 2D
runs, D3Q19 droplets for 3D runs; cached), pressures are in Pa
(``p_lu sigma / (sigma_lu dx)``) and velocities in m s-1 with the time step from the
surface tension, or from ``kinematic_viscosity`` [m2 s-1] when given. Without
``surface_tension`` the pressure stays in lattice units (labelled so). The lattice
parameters are not chosen from physical ones (the calibration maps them).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, Optional

import numpy as np
import xarray as xr
from pydantic import Field, field_validator, model_validator

from ..errors import InputError

from ..scenario import CaseConfig
from .equation_of_state import CarnahanStarlingEOS
from ..simulation import Simulation
from .liquid_bridge import bridge_model, lian_rupture_distance, two_particles
from .calibration import physical_state
from .saturation import saturation_model
from .two_phase import TwoPhaseLBM
from .wetting import cached_calibration, calibrate_wetting, coexistence

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "run", "estimate_memory"]

#: the reduced temperatures whose flat interfaces ran stable with each forcing (tests:
#: T/Tc = 0.7 with EDM, density ratio 65; Guo diverged below about 0.78; Li et al.'s
#: forcing from a sharp start ran at 0.75 (ratio 23, Maxwell's) and diverged at 0.7)
_STABLE_T = {"edm": 0.7, "guo": 0.8, "li": 0.75}


#: the keys only one mode reads (a key of the other mode is refused, not ignored)
_MODE_KEYS = {
    "bridge": {"ndim", "particle_radius", "gap", "initial_volume", "removal", "relax_steps",
               "first_relax", "max_stages", "refine", "hold_every"},
    "water-distribution": {"shape", "porosity", "mean_grain_radius", "saturations", "check_every",
                           "max_steps", "u_tol", "s_tol", "phase_tol", "ke_tol"},
}


class Config(CaseConfig):
    """Keys of a ``cs4-liquid-configuration`` scenario (lengths in voxels unless stated)."""

    mode: Literal["bridge", "water-distribution"]
    voxel_size: float = Field(1e-3, gt=0, description="voxel (lattice spacing) edge [cm]")
    reduced_temperature: float = Field(0.8, ge=0.5, lt=1.0, description="Carnahan-Starling "
                                       "T/Tc [-]; lower gives a larger liquid/gas density ratio")
    forcing: Literal["edm", "guo", "li"] = Field("li", description="li (Li et al. 2013: "
                                                 "Maxwell coexistence densities), edm or guo")
    tau: float = Field(1.0, gt=0.5, le=2.0, description="relaxation time [lattice]")
    contact_angle: Optional[float] = Field(70.0, gt=0, lt=180, description="requested contact "
                                           "angle [deg], calibrated by sessile drops on the "
                                           "run's lattice; at T/Tc = 0.8 the scheme reaches "
                                           "48-104 deg in 2D (li; edm 56-159), 42-124 deg "
                                           "in 3D (li)")
    wall_density: Optional[float] = Field(None, ge=0, description="virtual wall density "
                                          "[lattice] instead of a contact angle")
    calibration_steps: int = Field(2500, ge=200, description="lattice steps per sessile drop")
    surface_tension: Optional[float] = Field(None, gt=0, description="water surface tension "
                                             "[N m-1]; sets the time step and the Pa scale "
                                             "(Laplace-law calibration, cached)")
    liquid_density: float = Field(998.0, gt=0, description="liquid density [kg m-3]; the "
                                  "lattice liquid is mapped to it (998: water at 20 C, "
                                  "flagged as chosen when not given)")
    kinematic_viscosity: Optional[float] = Field(None, gt=0, description="liquid kinematic "
                                                 "viscosity [m2 s-1]; with surface_tension, "
                                                 "the time step is taken from it (default: "
                                                 "from the surface tension, the viscosity "
                                                 "then implied and reported)")
    # bridge
    ndim: Literal[2, 3] = 3
    particle_radius: float = Field(12.0, ge=4, description="sphere radius [voxels]")
    gap: float = Field(5.0, gt=0, description="surface-to-surface gap [voxels]")
    initial_volume: float = Field(3.0, gt=0, description="bridge volume at the start / R^ndim [-]")
    removal: float = Field(0.35, gt=0, lt=1, description="share of liquid mass removed per stage")
    relax_steps: int = Field(400, ge=10, description="lattice steps after each removal")
    first_relax: int = Field(1000, ge=10, description="lattice steps before the first removal")
    max_stages: int = Field(30, ge=1)
    refine: int = Field(3, ge=0, le=10, description="splits undone to close in on the rupture: "
                        "the last connected stage is restored and dried on with half the "
                        "removal, this many times (each halves the rupture-volume bracket)")
    hold_every: int = Field(10, ge=0, description="lattice steps between resets of the "
                            "liquid's excess mass to the stage's target during relaxation "
                            "(a bridge of fixed volume, as in Lian's theory); 0: total mass "
                            "fixed, and the dense lattice vapour evaporates small bridges")
    # water distribution
    shape: list[int] = Field([96, 96], min_length=2, max_length=3, description="image shape [voxels]")
    porosity: float = Field(0.45, gt=0.1, lt=0.9, description="porosity of the packing [-]")
    mean_grain_radius: float = Field(0.01, gt=0, description="mean radius of the grains as placed [cm]; all grains are then grown or shrunk by one distance to reach the porosity, so the image's mean grain radius differs (more for small grains on coarse voxels)")
    saturations: list[float] = Field([0.9, 0.7, 0.5, 0.25], min_length=1,
                                     description="target water saturations of the pore space [-]")
    check_every: int = Field(200, ge=10, description="lattice steps between convergence checks")
    max_steps: int = Field(6000, ge=10, description="most lattice steps per saturation")
    phase_tol: float = Field(1e-3, gt=0, lt=1, description="equilibrium: largest share of pore "
                             "voxels that change phase (water/air) per 200 lattice steps [-]")
    s_tol: float = Field(2e-3, gt=0, lt=1, description="equilibrium: largest change of the voxel "
                         "saturation per 200 lattice steps [-]")
    ke_tol: float = Field(0.05, gt=0, description="equilibrium: largest relative change of "
                          "the total kinetic energy per 200 lattice steps [-] (the spurious "
                          "currents stay, stationary, and are reported)")
    u_tol: Optional[float] = Field(None, gt=0, description="optional extra criterion: largest "
                                   "change of any node's velocity between two checks "
                                   "[lattice]; a max-norm that the fluctuating spurious "
                                   "currents of large samples do not meet (not used unless "
                                   "given)")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to "
                                             "need more [GiB]; default: the memory available")

    @field_validator("surface_tension")
    @classmethod
    def _surface_tension_in_n_per_m(cls, v):
        # liquids at soil temperatures lie at 0.02-0.08 N m-1 (mercury 0.49): 1 or more is a
        # value in mN m-1 (water 72), which would scale pressures and speeds by 1000
        if v is not None and v >= 1:
            raise ValueError(f"{v:g} N m-1 is not a liquid's surface tension (water: 0.072 N m-1); "
                             "give N m-1, not mN m-1")
        return v

    @field_validator("liquid_density")
    @classmethod
    def _density_in_kg_per_m3(cls, v):
        if v < 100:
            raise ValueError(f"{v:g} kg m-3 is not a liquid's density (water: 998 kg m-3); give kg m-3, "
                             "not g cm-3")
        return v

    @field_validator("saturations")
    @classmethod
    def _saturations_in_0_1(cls, v):
        if any(not 0 < s < 1 for s in v):
            raise ValueError("must lie in (0, 1)")
        tags = [_saturation_tag(s) for s in v]
        same = next((t for t in tags if tags.count(t) > 1), None)
        if same is not None:
            # the products are named by the saturation in percent: a second one of the same
            # name would silently replace the first (water_S50.nc, water_voxel_share_S50)
            raise ValueError(f"two saturations round to the same percent ({same}: the products "
                             f"water_{same}.nc, water_voxel_share_{same}); give distinct percents")
        return v

    @model_validator(mode="after")
    def _check(self):
        t_min = _STABLE_T[self.forcing]
        if self.reduced_temperature < t_min:
            raise ValueError(
                f"reduced_temperature {self.reduced_temperature} is below the stable range of "
                f"the {self.forcing} forcing (>= {t_min}; density ratio at the limit: 65 for "
                f"edm, 37 for guo, 23 for li): the run would diverge")
        if self.mode == "water-distribution":
            # a sample of fewer than two mean grain diameters along an axis holds at most
            # one grain and no pore between grains: its saturation images and water shares
            # describe no packing (the pore network needs grains on both sides of a pore)
            d_vox = 2 * self.mean_grain_radius / self.voxel_size
            if min(self.shape) < 2 * d_vox:
                raise InputError(
                    f"{list(self.shape)} is smaller than two mean grain diameters "
                    f"({2 * d_vox:g} voxels: mean_grain_radius {self.mean_grain_radius:g} cm at "
                    f"voxel_size {self.voxel_size:g} cm) along an axis; use a larger shape",
                    field="shape")
        other = "water-distribution" if self.mode == "bridge" else "bridge"
        unused = sorted(self.model_fields_set & _MODE_KEYS[other])
        if unused:
            # a key of the other mode would be accepted and do nothing
            raise ValueError(f"{unused[0]}: a key of mode {other}; this scenario's mode is "
                             f"{self.mode}, where it has no effect (remove it)")
        if self.wall_density is None and self.contact_angle is None:
            raise ValueError("contact_angle: give contact_angle or wall_density")
        if self.wall_density is not None:
            if "contact_angle" in self.model_fields_set and self.contact_angle is not None:
                # the wall density sets the wetting: the angle would be ignored by the
                # lattice yet used in Lian's rupture gap
                raise ValueError("wall_density: give contact_angle or wall_density, not both")
            from .wetting import coexistence
            rg, rl = coexistence(CarnahanStarlingEOS(self.reduced_temperature), self.forcing)
            if self.wall_density > rl:
                # a wall denser than the liquid condenses liquid on every solid, and far
                # above it the lattice blows up in the first steps ("non-finite populations")
                raise ValueError(f"wall_density: {self.wall_density:g} is above the liquid density "
                                 f"{rl:.4g} of this fluid ({self.forcing}, T/Tc "
                                 f"{self.reduced_temperature:g}; gas {rg:.4g}); give a value "
                                 f"between the two (lattice units) or a contact_angle")
            # the default angle is not this wall's: no Lian comparison at an angle not simulated
            self.contact_angle = None
        return self


def estimate_memory(config: Config) -> "MemoryEstimate":
    """Peak memory [bytes]: about 200 bytes per lattice node (two float32 D3Q19 population
    sets, index and psi grids, density/velocity moments for output) plus the libraries."""
    from ..memory import KERNEL_ALLOWANCE, MemoryEstimate
    if config.mode == "bridge":
        r, g = config.particle_radius, config.gap
        nodes = (4 * r + g + 12) * (2 * r + 12) ** (config.ndim - 1)
    else:
        nodes = float(np.prod(config.shape, dtype=float))
    parts = {"lattice populations and fields": 260.0 * nodes,
             "libraries and figures": float(KERNEL_ALLOWANCE)}

    def suggest(limit: float) -> str:
        return "use a smaller shape or particle_radius"
    return MemoryEstimate(parts, "shape" if config.mode != "bridge" else "particle_radius",
                          suggest)


def is_3d(config: Config) -> bool:
    """The run is on the D3Q19 lattice (a 3D bridge or a 3D image)."""
    return config.ndim == 3 if config.mode == "bridge" else len(config.shape) == 3


def calibration_settings(config: Config) -> dict:
    """Arguments of :func:`calibrate_wetting` (and :func:`cached_calibration`) for
    ``config``: the lattice of the run. 2D runs: D2Q9 sessile drops on a (24, 56) lattice,
    radius 9, ``calibration_steps`` steps. 3D runs: D3Q19 drops (spherical caps) on a
    40 x 24 x 40 box from a half sphere of radius 12, until the angle changes by less than
    0.5 deg per 250 steps (at most ``calibration_steps``), at five wall densities from 20 %
    to 60 % of the way from the gas to the liquid density (below 20 % the drop leaves the
    wall: 180 deg at 15 %, ~125 deg at 20 % with li at T/Tc = 0.8, and interpolating across
    that jump put requests between 100 and 180 deg 10 deg off). A 3D drop spreads more
    than a 2D one on the same wall (by ~6 deg at 50 deg), so the 2D table would give 3D
    runs a smaller angle than requested."""
    if is_3d(config):
        rg, rl = coexistence(CarnahanStarlingEOS(config.reduced_temperature), config.forcing)
        densities = tuple(round(float(d), 6) for d in np.linspace(rg + 0.2 * (rl - rg),
                                                                   rg + 0.6 * (rl - rg), 5))
        return dict(forcing=config.forcing, tau=config.tau, steps=config.calibration_steps,
                    shape=(24, 40), radius=12.0, ndim=3, angle_tol=0.5, check_every=250,
                    densities=densities)
    return dict(forcing=config.forcing, tau=config.tau, steps=config.calibration_steps,
                shape=(24, 56), radius=9.0)


def _wall_density(config: Config, eos, ctx) -> tuple[float, Optional[float]]:
    if config.wall_density is not None:
        return config.wall_density, None
    kw = calibration_settings(config)
    cal = cached_calibration(eos, **kw)
    if cal is None:     # the range is known only after the calibration: checked right after
        lattice = "3D" if is_3d(config) else "2D"
        with ctx.task(f"contact angle calibration ({lattice} sessile drops, cached)", 1) as cb:
            cal = calibrate_wetting(eos, **kw)
            cb(1, 1)
    return cal.wall_density_for(config.contact_angle), cal


#: products whose presence depends on what the run finds (a bridge that really split),
#: not on the scenario alone; tests/test_contract.py allows them to be absent
DATA_DEPENDENT_PRODUCTS = frozenset({"rupture_volume", "split_volume", "rupture_volume_scaled",
                                     "lian_rupture_distance", "gap_over_lian", "gap_over_lian_split"})


def _saturation_tag(s: float) -> str:
    return f"S{int(round(100 * s)):02d}"


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` may make, ``{name: (kind, units)}``, known before
    it runs: what a pipeline checks a link from this case against (e.g. a water image
    ``water_S50.nc`` feeding case study 5's lattice) before any step runs. The rupture
    products (:data:`DATA_DEPENDENT_PRODUCTS`) are made only when the bridge splits."""
    out = {"memory_estimate": ("scalar", "GiB"), "wall_density": ("scalar", "1")}
    if config.surface_tension is not None:
        out.update({"time_step": ("scalar", "s"), "kinematic_viscosity": ("scalar", "m2 s-1"),
                    "surface_tension_lattice": ("scalar", "1"), "laplace_misfit": ("scalar", "1"),
                    "pressure_scale": ("scalar", "Pa")})
    if config.mode == "bridge":
        out.update({"ruptured": ("scalar", "1"), "stages": ("scalar", "1"), "gap": ("scalar", "cm"),
                    "bridge_sections.nc": ("field", None), "bridge_stage_images.nc": ("field", None),
                    "rupture_volume": ("scalar", "cm3" if config.ndim == 3 else "cm2"),
                    "split_volume": ("scalar", "cm3" if config.ndim == 3 else "cm2"),
                    "rupture_volume_scaled": ("scalar", "1")})
        if config.ndim == 3:
            out.update({"lian_rupture_distance": ("scalar", "cm"), "gap_over_lian": ("scalar", "1"),
                        "gap_over_lian_split": ("scalar", "1")})
        return out
    out.update({"liquid_images.nc": ("field", None), "porosity": ("scalar", "1"),
                "max_saturation_error": ("scalar", "1"), "converged_share": ("scalar", "1"),
                "max_spurious_speed": ("scalar", "lattice spacing per step")})
    if config.surface_tension is not None:
        out["max_spurious_speed_physical"] = ("scalar", "m s-1")
    for s in config.saturations:
        out[f"water_{_saturation_tag(s)}.nc"] = ("image", None)
        out[f"water_voxel_share_{_saturation_tag(s)}"] = ("scalar", "1")
    return out


def run(config: Config, ctx) -> "Products":
    """Run the case (see the module docs); returns products.

    The case's side of the contract (:func:`rhizoscale.scenario.run_products`).
    """
    from ..memory import check_memory, record_estimate
    from ..products import Products
    out = Products("cs4-liquid-configuration")
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)
    eos = CarnahanStarlingEOS(config.reduced_temperature)
    rg, rl = coexistence(eos, config.forcing)
    rho_w, cal = _wall_density(config, eos, ctx)
    out.info.update({"rho_gas": rg, "rho_liquid": rl, "density_ratio": rl / rg,
                     "wall_density": rho_w, "forcing": config.forcing,
                     "units": "fields in physical units (liquid fraction, kg m-3; Pa and m s-1 "
                              "with surface_tension); lengths in voxels of voxel_size cm; "
                              "rho_gas, rho_liquid, wall_density in lattice density"})
    if cal is not None:
        out.info["wetting_calibration"] = {"wall_density": cal.wall_density, "angle_deg": cal.angle,
                                           "lattice": "D3Q19" if is_3d(config) else "D2Q9"}
    out.add_scalar("wall_density", rho_w, "1", "virtual wall density of the solids (lattice)")
    units = None
    if "liquid_density" not in config.model_fields_set:
        out.info["liquid_density"] = (f"{config.liquid_density:g} kg m-3, chosen (water at "
                                      f"20 C; not given)")
    if config.kinematic_viscosity is not None and config.surface_tension is None:
        ctx.warn("kinematic_viscosity sets the time step only together with surface_tension "
                 "(the pressure scale): not used")
    if config.surface_tension is not None:
        from .calibration import LAPLACE_2D, LAPLACE_3D, lattice_units, measure_surface_tension
        laplace = LAPLACE_3D if is_3d(config) else LAPLACE_2D
        lattice = "3D, D3Q19" if is_3d(config) else "2D, D2Q9"
        with ctx.task(f"surface tension calibration (Laplace law, {lattice} droplets, cached)",
                      1) as cb:
            st = measure_surface_tension(eos, forcing=config.forcing, tau=config.tau, **laplace)
            cb(1, 1)
        units = lattice_units(config.voxel_size, config.surface_tension, st.sigma, rl,
                              config.liquid_density, config.kinematic_viscosity, config.tau)
        out.add_scalar("time_step", units.dt_s, "s", "physical duration of a lattice step")
        out.add_scalar("kinematic_viscosity", units.kinematic_viscosity(config.tau), "m2 s-1",
                       "viscosity of the run (imposed when kinematic_viscosity is given, "
                       "else implied by the surface-tension time step)")
        out.add_scalar("surface_tension_lattice", st.sigma, "1",
                       f"measured lattice surface tension (Laplace slope, {lattice} droplets)")
        out.add_scalar("laplace_misfit", st.max_misfit, "1",
                       "largest misfit of dp against 1/R, relative to the largest dp")
        out.add_scalar("pressure_scale", float(units.pressure(1.0)), "Pa",
                       "Pa per lattice pressure unit: surface_tension / (sigma_lattice dx)")
    if config.mode == "bridge":
        _run_bridge(config, eos, rg, rl, rho_w, out, ctx, units)
    else:
        _run_distribution(config, eos, rg, rl, rho_w, out, ctx, units)
    return out


def _run_bridge(config, eos, rg, rl, rho_w, out, ctx, units=None):
    R = config.particle_radius
    labels = two_particles(R, config.gap, ndim=config.ndim, margin=5)

    def factory(lab, rho):
        return TwoPhaseLBM(lab, rho, eos, wall_density={1: rho_w, 2: rho_w},
                           forcing=config.forcing, tau=config.tau)

    model = bridge_model(factory, labels, initial_volume=config.initial_volume * R**config.ndim,
                         rho_gas=rg, rho_liquid=rl, removal=config.removal,
                         relax_steps=config.relax_steps, first_relax=config.first_relax,
                         radius=R, gap=config.gap, refine=config.refine,
                         hold_every=config.hold_every)
    sim = Simulation(model, stop_time=config.max_stages, dt=1, name="cs4-drying-bridge")
    ctx.simulate(sim, description="drying bridge (stages)")
    res = model.result()
    theta = config.contact_angle if config.contact_angle is not None else float("nan")
    dx = config.voxel_size
    # a bridge that was never connected (the liquid gone before the first measurement)
    # did not rupture: there is no rupture volume
    formed = any(s.connected for s in res.stages)
    # a rupture is the bridge splitting with liquid left on both particles; a bridge that
    # is connected at one stage and gone (or left on one grain only) at the next
    # evaporated: no rupture volume
    ruptured = bool(formed and res.split_with_liquid)
    vanished = bool(res.ruptured and formed and not ruptured)
    out.add_scalar("ruptured", float(ruptured), "1",
                   "1 when the bridge split with liquid left on both particles")
    out.info["bridge_formed"] = formed
    out.info["bridge_vanished"] = vanished
    out.info["particle_radius"] = R
    out.add_scalar("stages", float(len(res.stages)), "1", "drying stages run (retried ones too)")
    if not formed:
        ctx.warn("the liquid was gone before a bridge formed (no stage connected the "
                 "particles): no rupture volume; use a larger initial_volume")
    elif vanished:
        v = res.rupture_volume
        bound = ""
        if config.ndim == 3 and math.isfinite(v) and config.contact_angle is not None:
            d_lian = R * lian_rupture_distance(v / R**3, math.radians(theta))
            out.info["gap_over_lian_lower_bound"] = config.gap / d_lian
            bound = f" and gap / Lian's gap >= {config.gap / d_lian:.3g}"
        ctx.warn(f"the bridge evaporated instead of splitting: {v:g} nodes joined the particles "
                 f"at the last connected stage and no liquid was left on both grains at the next, "
                 f"so there is no rupture volume (V/R^{config.ndim} <= {v / R**config.ndim:.3g}"
                 f"{bound}); hold_every > 0 keeps the bridge volume against the vapour")
    elif ruptured:
        v, lo = res.rupture_volume, res.split_volume
        out.add_scalar("rupture_volume", v * dx**config.ndim, "cm3" if config.ndim == 3 else "cm2",
                       "bridge volume at the last connected stage")
        out.add_scalar("split_volume", lo * dx**config.ndim, "cm3" if config.ndim == 3 else "cm2",
                       "liquid on both grains just after the split (with rupture_volume: "
                       "the rupture as far as the stages resolve it)")
        out.add_scalar("rupture_volume_scaled", v / R**config.ndim, "1", "V_rup / R^ndim")
        if config.ndim == 3 and config.contact_angle is not None:
            th = math.radians(theta)
            d_lian = R * lian_rupture_distance(v / R**3, th)
            d_lo = R * lian_rupture_distance(lo / R**3, th)
            out.add_scalar("lian_rupture_distance", d_lian * dx, "cm",
                           "Lian et al. (1993) rupture gap for the last connected volume")
            out.add_scalar("gap_over_lian", config.gap / d_lian, "1",
                           "imposed gap / Lian's rupture gap (1 = agreement; last connected "
                           "volume)")
            out.add_scalar("gap_over_lian_split", config.gap / d_lo, "1",
                           "imposed gap / Lian's rupture gap of the split volume")
    else:
        ctx.warn(f"the bridge did not rupture within {config.max_stages} stages")
    out.add_scalar("gap", config.gap * dx, "cm", "surface-to-surface gap")
    out.info["stages"] = [{"step": s.step, "volume_voxels": s.volume, "connected": s.connected,
                           "left_voxels": s.left, "right_voxels": s.right,
                           "removal": s.removal, "retried": s.retried} for s in res.stages]
    # bridge sections (central plane) at the recorded stages
    steps = [s for s, _ in res.snapshots]
    sec = np.stack([r if r.ndim == 2 else r[r.shape[0] // 2] for _, r in res.snapshots])
    ny, nx = sec.shape[1:]
    scale = config.liquid_density / rl
    ds = xr.Dataset({"liquid_fraction": (("stage", "y", "x"), ((sec - rg) / (rl - rg)).astype(
                         np.float32), {"units": "1", "long_name": "liquid fraction (rho - "
                                       "rho_gas) / (rho_liquid - rho_gas), central section"}),
                     "density": (("stage", "y", "x"), (sec * scale).astype(np.float32),
                                 {"units": "kg m-3", "long_name": "fluid density (the lattice "
                                  "liquid mapped to liquid_density), central section"}),
                     "density_lattice": (("stage", "y", "x"), sec.astype(np.float32),
                                         {"units": "lattice density",
                                          "long_name": "fluid density, central section"})},
                    coords={"stage": ("stage", np.arange(len(steps)), {"units": "1"}),
                            "lattice_step": ("stage", np.asarray(steps), {"units": "1"}),
                            "y": ("y", (np.arange(ny) + 0.5) * dx, {"units": "cm"}),
                            "x": ("x", (np.arange(nx) + 0.5) * dx, {"units": "cm"})})
    out.add_field("bridge_sections.nc", ds)
    stages = bridge_stage_images(res, rg, rl, dx)
    if stages is not None:
        out.add_field("bridge_stage_images.nc", stages)
    if config.outputs.figures:
        out.figures["bridge_stages.png"] = _bridge_figure(sec, steps, rg, rl)


def bridge_stage_images(res, rho_gas: float, rho_liquid: float, voxel_size: float):
    """The drying stages as labelled images (the product ``bridge_stage_images.nc``).

    One image per measured stage, undone splits (``retried``) left out, so the liquid
    volume falls from stage to stage: ``labels(stage, z, y, x)`` air 0, solid 1, water 2
    (water: density above the mid-density ``(rho_gas + rho_liquid) / 2``; solid: the
    particles, where the fluid density is undefined), ``liquid_volume`` (all water
    voxels) and ``bridge_volume`` (the liquid joining both particles, 0 once split)
    [cm3 or cm2], ``connected`` [1]; stages numbered from 0; voxel-centre coordinates [cm] from the origin 0,
    ``voxel_size_cm`` as an attribute. What a pipeline hands to a model that needs the
    liquid surface at every drying stage (e.g. case study 4's mucilage network in
    resolved mode). None when the snapshots do not match the stages one to one.
    """
    if not res.snapshots or len(res.snapshots) != len(res.stages):
        return None
    keep = [k for k, s in enumerate(res.stages) if not s.retried]
    level = 0.5 * (rho_gas + rho_liquid)
    labels = []
    for k in keep:
        rho = res.snapshots[k][1]
        labels.append(np.where(np.isnan(rho), 1, np.where(rho > level, 2, 0)).astype(np.uint8))
    labels = np.stack(labels)
    ndim = labels.ndim - 1
    dims = ("z", "y", "x")[-ndim:]
    cell = voxel_size ** ndim
    vol_units = "cm3" if ndim == 3 else "cm2"
    stage = [res.stages[k] for k in keep]
    coords = {d: (d, (np.arange(n) + 0.5) * voxel_size, {"units": "cm"})
              for d, n in zip(dims, labels.shape[1:])}
    # numbered from 0 like bridge_sections.nc and the stage outputs of the mucilage
    # network's resolved mode (disconnection_stage_*, lbm_rupture_stage)
    coords["stage"] = ("stage", np.arange(len(keep)), {"units": "1", "long_name": "drying stage "
                                                        "(0: the first image; undone splits left out)"})
    coords["lattice_step"] = ("stage", np.array([s.step for s in stage], np.int64), {"units": "1"})
    water = (labels == 2).reshape(len(keep), -1).sum(axis=1)
    return xr.Dataset(
        {"labels": (("stage",) + dims, labels, {"flag_values": np.array([0, 1, 2], np.uint8),
                                                 "flag_meanings": "air solid water", "units": "1",
                                                 "long_name": "phase labels per drying stage"}),
         "liquid_volume": ("stage", water * cell, {"units": vol_units,
                                                   "long_name": "volume of the water voxels"}),
         "bridge_volume": ("stage", np.array([s.volume if s.connected else 0.0 for s in stage]) * cell,
                           {"units": vol_units, "long_name": "liquid joining both particles"}),
         "connected": ("stage", np.array([s.connected for s in stage], np.int8),
                       {"units": "1", "long_name": "1 while the bridge joins the particles"})},
        coords=coords, attrs={"voxel_size_cm": float(voxel_size), "origin_cm": np.zeros(ndim),
                              "case": "cs4-liquid-configuration"})


def _bridge_figure(sec, steps, rg, rl):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    idx = np.unique(np.linspace(0, len(steps) - 1, min(4, len(steps))).astype(int))
    fig, axes = plt.subplots(1, len(idx), figsize=(3.2 * len(idx) + 1, 2.2), squeeze=False,
                             layout="constrained")
    cmap = plt.get_cmap("Blues").copy()
    cmap.set_bad("0.45")                       # grains (no fluid): grey, not the liquid's blue
    for a, i in zip(axes[0], idx):
        im = a.imshow(np.ma.masked_invalid(sec[i]), origin="lower", cmap=cmap, vmin=rg, vmax=rl)
        a.set_title(f"lattice step {steps[i]}")
        a.set_xticks([])
        a.set_yticks([])
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="fluid density (lattice)")
    fig.suptitle("drying liquid bridge (central section; grains grey)")
    return fig


def _run_distribution(config, eos, rg, rl, rho_w, out, ctx, units=None):
    from ..image.generators import sand_packing
    from ..image.generators.granular import WATER
    packing = sand_packing(config.shape, config.voxel_size, config.porosity,
                           config.mean_grain_radius, seed=ctx.seed)
    images, curve, fields = {}, [], []
    with ctx.task("saturations", len(config.saturations)) as cb:
        for i, s in enumerate(config.saturations):
            model = saturation_model(packing.image, s, eos=eos, wall_density=rho_w,
                                     forcing=config.forcing, tau=config.tau,
                                     check_every=config.check_every, max_steps=config.max_steps,
                                     phase_tol=config.phase_tol, s_tol=config.s_tol,
                                     ke_tol=config.ke_tol, u_tol=config.u_tol)
            sim = Simulation(model, stop_time=model.stop_time(), dt=model.check_every,
                             name=f"cs4-saturation-{i}")
            ctx.simulate(sim, description=f"saturation {s:g} (lattice steps)")
            res = model.result()
            images[s] = res.image
            fields.append(physical_state(res.density, rho_gas=rg, rho_liquid=rl,
                                         rho_liquid_phys=config.liquid_density,
                                         voxel_size_cm=config.voxel_size, units=units))
            pore = res.image.labels != 1
            curve.append({"target": s, "saturation": res.saturation,
                          "water_voxel_share": float((res.image.labels == WATER).sum() / pore.sum()),
                          "steps": res.steps, "max_speed": res.max_speed,
                          "max_velocity_change": res.criteria["max_velocity_change"],
                          "phase_change": res.criteria["phase_change"],
                          "saturation_drift": res.criteria["saturation_drift"],
                          "kinetic_energy_change": res.criteria["kinetic_energy_change"],
                          "converged": res.converged})
            if not res.converged:
                c = res.criteria
                unmet = ", ".join(k for k, ok in c["met"].items() if not ok)
                scale = config.check_every / 200.0     # tolerances are per 200 steps

                def tol(name, value):
                    return (f"{name} {value:g}" if scale == 1 else
                            f"{name} {value:g} per 200 steps: {value * scale:.3g} per check")
                ctx.warn(f"saturation {s}: equilibrium criteria not met in {config.max_steps} "
                         f"steps ({unmet}): per check of {config.check_every} steps phase change "
                         f"{c['phase_change']:.2e} ({tol('phase_tol', config.phase_tol)}), voxel-saturation "
                         f"drift {c['saturation_drift']:.1e} ({tol('s_tol', config.s_tol)}), kinetic "
                         f"energy change {c['kinetic_energy_change']:.2e} "
                         f"({tol('ke_tol', config.ke_tol)})")
            cb(i + 1, len(config.saturations))
    dims = ("y", "x") if len(config.shape) == 2 else ("z", "y", "x")
    coords = {d: (d, (np.arange(n) + 0.5) * config.voxel_size, {"units": "cm"})
              for d, n in zip(dims, config.shape)}
    labels = np.stack([images[s].labels for s in config.saturations])
    ds = xr.Dataset({"phase": (("saturation",) + dims, labels, {
        "flag_values": np.array([0, 1, 2, 3], dtype=labels.dtype),
        "flag_meanings": "air solid water mucilage", "units": "1"})},
        coords={**coords, "saturation": ("saturation", np.asarray(config.saturations),
                                         {"units": "1", "long_name": "target saturation"})},
        attrs={"porosity": packing.porosity, "seed": ctx.seed})
    # the fluid fields of each relaxed state in physical units (float32; the pressure in Pa
    # only with a surface-tension calibration, else in lattice units, labelled so)
    for name in ("liquid_fraction", "density", "pressure" if units is not None else
                 "pressure_lattice"):
        first = fields[0][name]
        ds[name] = (("saturation",) + dims,
                    np.stack([f[name].values for f in fields]).astype(np.float32),
                    dict(first.attrs))
    out.add_field("liquid_images.nc", ds)
    for s in config.saturations:
        out.images[f"water_S{int(round(100 * s)):02d}.nc"] = images[s]
    if config.outputs.tiff:
        from ..image.io import write_tiff
        for s in config.saturations:
            out.exports[f"water_S{int(round(100 * s)):02d}.tif"] = (
                lambda path, im=images[s]: write_tiff(im, path))
    if config.outputs.vtk and len(config.shape) == 3:
        from ..image.io import write_vtk_image
        cells = {f"phase_S{int(round(100 * s)):02d}": images[s].labels for s in config.saturations}
        out.exports["liquid_images.vti"] = lambda path: write_vtk_image(
            path, cells, (config.voxel_size,) * 3)
    out.info["saturation_curve"] = curve
    out.add_scalar("porosity", packing.porosity, "1", "porosity of the packing")
    out.add_scalar("max_saturation_error",
                   round(max(abs(c["saturation"] - c["target"]) for c in curve), 6), "1",
                   "largest |achieved - target| saturation (mass-weighted; fixed by the "
                   "conserved mass: float32 populations drift ~1e-4 over thousands of "
                   "steps), to 1e-6")
    for c in curve:
        out.add_scalar(f"water_voxel_share_S{int(round(100 * c['target'])):02d}",
                       c["water_voxel_share"], "1",
                       "share of pore voxels labelled water (rho above the mid-density)")
    out.add_scalar("converged_share", float(np.mean([c["converged"] for c in curve])), "1",
                   "share of saturations that met the equilibrium criteria")
    out.add_scalar("max_spurious_speed", round(max(c["max_speed"] for c in curve), 4),
                   "lattice spacing per step", "largest stationary speed at the end of the "
                   "relaxations (spurious currents at interfaces and wall corners)")
    if units is not None:
        out.add_scalar("max_spurious_speed_physical",
                       float(units.velocity(max(c["max_speed"] for c in curve))), "m s-1",
                       "max_spurious_speed in physical units (lattice spacing / time_step)")
    if config.outputs.figures:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(4, 3.2))
        ax.plot([c["target"] for c in curve], [c["saturation"] for c in curve], "o-",
                label="mass-weighted")
        ax.plot([c["target"] for c in curve], [c["water_voxel_share"] for c in curve], "s--",
                label="water voxels")
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set_xlabel("target saturation")
        ax.set_ylabel("achieved saturation")
        ax.legend()
        fig.tight_layout()
        out.figures["saturation_curve.png"] = fig
