"""Scenario ``cs4-diffusivity-table``: the chain pore image -> liquid -> mucilage -> D_eff(theta, mucilage).

Case study 4's up-scaling product, built from the three CS4 packages in one run:

1. **Pore image** — a seeded granular packing
   (:func:`rhizoscale.image.generators.sand_packing`; its grains are known) or a user's
   segmented image (``image:``, solid label required; everything else is pore; grains
   approximated by :func:`rhizoscale.mucilage.grains_from_image`).
2. **Liquid configuration** at the water content ``(1 - f) theta`` by ``liquid``:

   * ``film`` (default): wetting films of uniform thickness on every grain
     (:func:`rhizoscale.image.generators.liquid_configuration`, rule ``film``) — the
     configuration of the paper's 2D section, where grains are islands and a 2D
     capillary configuration cannot hold the out-of-plane connections;
   * ``drainage``: morphological capillary-equilibrium drainage
     (:func:`rhizoscale.porescale.drainage_state`, the lattice Boltzmann driver's start);
   * ``lbm``: that drainage relaxed by the two-phase lattice Boltzmann model at fixed
     mass (:func:`rhizoscale.porescale.saturation_model`, stepped by the Simulation, so
     it checkpoints and resumes); costly: small images only (the ``lbm`` keys).

   The lattice Boltzmann run is not the default because one saturation of a 128² image
   takes minutes and its settling criterion is not met (issue #12), while a table needs
   ``len(water_contents) x len(mucilage_fractions)`` configurations.
3. **Mucilage** ``f theta`` as bridges across open necks
   (:func:`rhizoscale.mucilage.place_mucilage_bridges`, the documented rule; ``f = 0``
   leaves the water image untouched, so the tensor is the water-only one exactly). The
   widest neck a bridge spans comes from the bead-spring network: one drying search at
   ``mucilage_concentration`` with grains of the mean grain radius
   (:func:`rhizoscale.mucilage.network_span`, keys under ``bridge_span``, constants from
   the parameter set ``mucilage_network``, slot ``network``) gives the spanning gap over
   the grain radius, applied to each neck's pair radius; ``max_bridge_gap`` [cm]
   replaces it by a fixed cap.
4. **Effective diffusion tensor** by homogenisation
   (:func:`rhizoscale.homogenization.effective_diffusion_tensor`; ``D_mucilage/D_water``
   = ``d_mucilage``, 0.5) with translation and mirror periodisation.
5. **Constitutive product**: the NetCDF table ``effective_diffusivity_table.nc`` (dims
   ``theta`` [cm3 cm-3], ``mucilage_fraction`` [1]; ``d_eff``, ``d_min``, ``d_max`` of the
   translation tensor, the same of the mirrored one, Millington–Quirk; units and
   provenance in the attributes) and the relations ``d_eff_mucilage_F`` and ``d_eff``
   (at ``mucilage_fraction``), which case studies 1 and 2 take as
   ``soil_diffusivity.table`` (in a pipeline: ``soil_diffusivity.table: STEP.d_eff``).

This case lives in the run layer (:mod:`rhizoscale.link`) because it composes three case
packages (``image -> porescale -> mucilage -> homogenization``), which must not import
one another; it calls their public functions with the images in memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

import numpy as np
import xarray as xr
from pydantic import ConfigDict, Field, model_validator

from ..parameters._base import StrictModel
from ..homogenization.parameters import GranularMediumParameters
from ..scenario import CaseConfig, ImageSection

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "LBMSettings", "SpanSettings", "run", "estimate_memory", "declared_products", "diffusivity_table",
           "principal_directions_3d_figure"]


class LBMSettings(StrictModel):
    """Keys of ``liquid: lbm`` (lattice units; see ``cs4-liquid-configuration``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    wall_density: float = Field(0.12, ge=0, description="virtual wall density of the grains [lattice]")
    reduced_temperature: float = Field(0.8, ge=0.7, lt=1.0, description="Carnahan-Starling T/Tc [-]")
    tau: float = Field(1.0, gt=0.5, le=2.0, description="relaxation time [lattice]")
    check_every: int = Field(200, ge=10, description="lattice steps between convergence checks")
    max_steps: int = Field(2000, ge=10, description="most lattice steps per configuration")
    u_tol: float = Field(5e-3, gt=0, description="largest change of any node's velocity between two checks "
                         "[lattice], a criterion on top of the saturation driver's equilibrium criteria "
                         "(phase change, saturation drift, kinetic energy; their defaults)")
    s_tol: float = Field(2e-3, gt=0, description="largest saturation change per check [-]")


class SpanSettings(StrictModel):
    """Keys of ``bridge_span``: the drying search of :func:`rhizoscale.mucilage.network_span`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    volume_ratio: float = Field(0.02, gt=0, le=0.1, description="wet bridge liquid over the grain radius cubed [1] "
                                "(chosen: the cs4-mucilage-bridge example's 2e4 um3 on 100 um grains)")
    water_left: float = Field(0.25, gt=0, lt=1, description="share of the bridge's water left when the "
                              "connection is checked [1] (chosen)")
    drying_steps: int = Field(20, ge=1, description="drying steps of each search run")
    relax_steps: int = Field(20, ge=0, description="overdamped network steps per drying step")
    grid: int = Field(10, ge=1, description="gaps tried before bisection")
    bisections: int = Field(4, ge=0, description="bisection steps after the first disconnected gap")
    radius_classes: int = Field(1, ge=1, le=8, description="searches per class of the necks' pair radii "
                                "(equal-count classes of the bridge sites); 1: one search at the mean grain "
                                "radius, its ratio scaled to every neck")


class Config(CaseConfig):
    """Keys of a ``cs4-diffusivity-table`` scenario (lengths in cm, diffusivities relative to water).

    The medium's keys default to the parameter set ``literature`` (the paper's 2D sand).

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> c = scenario_from_dict({"case": "cs4-diffusivity-table", "shape": [80, 80]}).config
    >>> c.porosity, c.water_content, c.mucilage_fraction, c.d_mucilage, c.liquid
    (0.41, 0.19, 0.1, 0.5, 'film')
    """

    LITERATURE = (GranularMediumParameters, "sand_mucilage_2d",
                  {k: k for k in GranularMediumParameters.model_fields if k not in ("name", "sources")})

    shape: list[int] = Field([200, 200], min_length=2, max_length=3,
                             description="image shape (ny, nx) or (nz, ny, nx) [voxels]")
    voxel_size: float = Field(1e-3, gt=0, description="voxel edge length [cm]")
    literature: str = Field("sand_mucilage_2d", description="parameter set of the medium (with sources)")
    porosity: float = Field(..., gt=0, lt=1, description="porosity of the generated packing [-]")
    water_content: float = Field(..., ge=0, description="liquid content of the phase figure and the "
                                 "summary tensors [cm3 cm-3]")
    mucilage_fraction: float = Field(..., ge=0, le=1, description="share of the liquid that is mucilage "
                                     "in the relation 'd_eff' and the summary tensors [-]")
    mean_grain_radius: float = Field(..., gt=0, description="mean radius of the grains as placed [cm]; all grains are then grown or shrunk by one distance to reach the porosity, so the image's mean grain radius differs (more for small grains on coarse voxels)")
    grain_radius_cv: float = Field(..., ge=0, description="coefficient of variation of grain radii [-]")
    grain_overlap: float = Field(..., ge=0, lt=1, description="allowed grain overlap (fraction of radii sum)")
    d_water: float = Field(..., gt=0, description="water diffusivity (relative units)")
    d_mucilage: float = Field(..., ge=0, description="mucilage diffusivity (relative units)")
    water_contents: list[float] = Field([0.05, 0.08, 0.12, 0.16, 0.19, 0.23, 0.28, 0.34, 0.41], min_length=1,
                                        description="liquid contents theta of the table [cm3 cm-3]")
    mucilage_fractions: list[float] = Field([0.0, 0.1, 0.2], min_length=1,
                                            description="mucilage shares of the liquid of the table [-]")
    liquid: Literal["film", "drainage", "lbm"] = Field("film", description="liquid configuration rule")
    lbm: LBMSettings = Field(default_factory=LBMSettings)
    mucilage_concentration: float = Field(3.0, gt=0, le=50.0, description="mucilage concentration of the "
                                          "bridges' liquid [mg dry mucilage per g water]; sets the widest neck "
                                          "spanned through the network model")
    network_literature: str = Field("mucilage_network", description="parameter set of the bead-spring network "
                                    "(slot 'network': override with parameters: {network.NAME: value})")
    bridge_span: SpanSettings = Field(default_factory=SpanSettings)
    max_bridge_gap: Optional[float] = Field(None, gt=0, description="widest neck a mucilage bridge spans "
                                            "[cm]; replaces the network's spanning gap (default: from the "
                                            "network model)")
    periodisations: list[Literal["translation", "mirror"]] = Field(["translation", "mirror"], min_length=1)
    image: Optional[ImageSection] = Field(None, description="a segmented pore image (label 'solid' "
                                          "required; other labels are pore) instead of the generated "
                                          "packing; the generation keys are then not used")
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]")

    PARAMETER_SET_KEYS = {"network": "network_literature"}

    def parameter_sets(self) -> dict:
        from ..mucilage.parameters import MucilageNetworkParameters
        from ..parameters import load_parameter_set
        return {"network": lambda: load_parameter_set(MucilageNetworkParameters, self.network_literature)}

    @model_validator(mode="after")
    def _check(self):
        th = self.water_contents
        if sorted(set(th)) != list(th) or th[0] <= 0:
            raise ValueError(f"water_contents: must be positive and strictly increasing (got {list(th)})")
        if self.image is None and th[-1] > self.porosity + 1e-12:
            raise ValueError(f"water_contents: must not exceed the porosity {self.porosity:g} (got {th[-1]:g})")
        if self.image is None and self.water_content > self.porosity:
            raise ValueError(f"water_content: cannot exceed the porosity {self.porosity:g} (got {self.water_content:g})")
        m = self.mucilage_fractions
        if sorted(set(m)) != list(m) or m[0] < 0 or m[-1] > 1:
            raise ValueError(f"mucilage_fractions: must be strictly increasing in [0, 1] (got {list(m)})")
        if not np.any(np.isclose(m, self.mucilage_fraction, atol=1e-9)):
            raise ValueError(f"mucilage_fraction: {self.mucilage_fraction:g} must be one of mucilage_fractions {list(m)}")
        if self.liquid == "lbm" and (self.water_content == 0 or self.water_content >= self.porosity):
            raise ValueError("water_content: the lbm liquid needs 0 < theta < porosity")
        if self.max_bridge_gap is not None and "bridge_span" in self.model_fields_set:
            # the fixed cap replaces the network search: its settings would do nothing
            raise ValueError("bridge_span: has no effect with max_bridge_gap (the fixed cap "
                             "replaces the network's search); remove one of them")
        return self


#: bytes per voxel at the peak: the neck geometry (k-nearest-grain query on every voxel),
#: the liquid placement's distance transforms and the cell problems (about 200)
_VOXEL_BYTES = 700
_VOXEL_BYTES_LBM = 260
#: bytes per bead of the spanning-gap search (bead arrays, ~10 bonds of 33 bytes, cell lists)
_BEAD_BYTES = 500
#: a bridge-span search estimated longer than this on one thread is announced before it runs [s]
SPAN_WARN_SECONDS = 60.0


def estimate_memory(config: Config) -> "MemoryEstimate":
    """Peak memory of a ``cs4-diffusivity-table`` run [bytes], from the scenario alone.

    About 700 bytes per image voxel (neck geometry, liquid placement, cell problems;
    260 more for ``liquid: lbm``), plus the libraries. One configuration is held at a time.
    With the network's spanning gap, the search's bead network (about 500 bytes per bead,
    ``c V / m_bead`` beads in a bridge of ``volume_ratio`` times the mean grain radius
    cubed — with ``radius_classes`` the largest class's, about mean (1 + 2 cv); a user
    image's grains are known only once it is read). The search's *time* is estimated, and
    announced when long, once the grains are known (:func:`rhizoscale.mucilage.span_seconds`).

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> estimate = estimate_memory(scenario_from_dict({"case": "cs4-diffusivity-table"}).config)
    >>> estimate.field, estimate.gib < 0.5
    ('shape', True)
    """
    from ..memory import KERNEL_ALLOWANCE, MemoryEstimate
    shape = config.shape
    if config.image is not None:
        from ..image.io import image_shape
        shape = image_shape(config.image.file, shape=config.image.shape)
        if shape is None and config.image.file.suffix.lower() in (".nc", ".nc4"):
            with xr.open_dataset(config.image.file) as ds:
                shape = ds["labels"].shape
    per = _VOXEL_BYTES + (_VOXEL_BYTES_LBM if config.liquid == "lbm" else 0)
    voxels = float(np.prod(shape, dtype=float)) if shape else 0.0
    parts = {"image, neck geometry, liquid placement and cell problems": voxels * per,
             "libraries and figures": float(KERNEL_ALLOWANCE)}
    if config.max_bridge_gap is None and config.image is None and max(config.mucilage_fractions) > 0:
        # the spanning-gap search: one bridge of volume_ratio R^3 at a time (R the mean grain radius)
        params = config.parameter_sets()["network"]()
        c = config.mucilage_concentration * 1e-3
        radius = config.mean_grain_radius * (1 + 2 * config.grain_radius_cv if config.bridge_span.radius_classes > 1
                                             else 1.0)        # the largest class's search: about mean + 2 sd
        volume = config.bridge_span.volume_ratio * (radius * 1e4) ** 3       # um3
        beads = c * volume / (1 + c / params.polymer_density) / params.polymer_per_bead
        parts["mucilage network of the bridge-span search"] = beads * _BEAD_BYTES
    return MemoryEstimate(parts,
                          "image" if config.image is not None else "shape",
                          lambda limit: "use a smaller shape (or a sub-volume of the image)")


def _slug(m: float) -> str:
    return f"{m:g}"


def declared_products(config: Config) -> dict:
    """Products of a run, ``{name: (kind, units)}`` (what pipelines check their inputs against)."""
    out = {"effective_diffusivity_table.nc": ("field", None), "images.nc": ("field", None),
           "porosity": ("scalar", "1"), "millington_quirk": ("scalar", "1"), "memory_estimate": ("scalar", "GiB"),
           "d_eff": ("relation", "1")}
    for m in config.mucilage_fractions:
        out[f"d_eff_mucilage_{_slug(m)}"] = ("relation", "1")
    for key in ("water_only", "with_mucilage"):
        for per in config.periodisations:
            out[f"d_eff_mean_{key}_{per}"] = ("scalar", "1")
            out[f"d_eff_min_{key}_{per}"] = ("scalar", "1")
    return out


class _Chain:
    """The pore image, its grains and neck geometry, and one configuration per (theta, f)."""

    def __init__(self, config: Config, ctx):
        from ..image.generators.granular import SOLID, WATER, granular_phases
        from ..mucilage import Grains, grains_from_image, neck_geometry
        self.config, self.ctx = config, ctx
        if config.image is None:
            from ..image.generators import sand_packing
            p = sand_packing(config.shape, config.voxel_size, config.porosity, config.mean_grain_radius,
                             config.grain_radius_cv, config.grain_overlap, seed=ctx.seed)
            self.pore_image = p.image
            self.grains = Grains(p.centers, p.radii, p.box)
            if len(self.grains.radii) < 2:
                from ..errors import InputError
                raise InputError(f"the generated packing holds {len(self.grains.radii)} grain(s); "
                                 f"necks need two (mean_grain_radius {config.mean_grain_radius:g} cm "
                                 f"is {config.mean_grain_radius / config.voxel_size:.3g} voxels): "
                                 f"use a larger shape or smaller grains", field="shape")
            self.source = (f"rhizoscale.image.generators.sand_packing(shape={list(config.shape)}, "
                           f"voxel_size={config.voxel_size}, porosity={config.porosity}, "
                           f"mean_radius={config.mean_grain_radius}, radius_cv={config.grain_radius_cv}, "
                           f"overlap={config.grain_overlap}, seed={ctx.seed})")
        else:
            from ..core.image import Image
            from ..errors import InputError
            phases = {"solid": ("solid", 0.0), "water": ("water", 1.0), "mucilage": ("mucilage", 0.5),
                      "air": ("air", 0.0), "pore": ("water", 1.0)}
            img = config.image.load(phases, required=("solid",))
            solid = img.labels == next(p.label for p in img.phases if p.name == "solid")
            if solid.all() or not solid.any():
                raise InputError("the image needs both solid and pore voxels", source=str(config.image.file),
                                 field="image.labels")
            phi = float(1 - solid.mean())
            if config.water_contents[-1] > phi + 1e-12 or config.water_content > phi + 1e-12:
                raise InputError(f"water contents above the image's porosity {phi:.4f}",
                                 source=str(config.image.file), field="water_contents")
            self.pore_image = Image(np.where(solid, SOLID, WATER).astype(np.uint8), img.voxel_size,
                                    granular_phases(), {"source": str(config.image.file)})
            self.grains = grains_from_image(solid, img.voxel_size)
            if len(self.grains.radii) < 2:
                raise InputError("fewer than two grains found in the image", source=str(config.image.file),
                                 field="image")
            self.source = f"image {config.image.file}"
        self.pore = self.pore_image.labels != SOLID
        self.porosity = float(self.pore.mean())
        self.neck = neck_geometry(self.pore_image.shape, self.pore_image.voxel_size, self.grains,
                                  pair_radius=config.max_bridge_gap is None)
        self._span = None
        self._classes = None
        self.span_estimate = None
        self._drainage_size = None
        self._lbm = None

    def water_image(self, theta_water: float, tag: str):
        """Water (and air, solid) at the water content ``theta_water`` by the liquid rule."""
        from ..core.image import Image
        from ..image.generators.granular import AIR, SOLID, WATER, granular_phases, liquid_configuration
        c = self.config
        phases = granular_phases(c.d_water, c.d_mucilage)
        if c.liquid == "film":
            from ..image.generators.granular import GranularPacking
            packing = GranularPacking(self.pore_image, self.grains.centers, self.grains.radii, self.grains.box)
            return liquid_configuration(packing, theta_water, 0.0, rule="film", d_water=c.d_water,
                                        d_mucilage=c.d_mucilage)
        labels = np.where(self.pore, AIR, SOLID).astype(np.uint8)
        saturation = theta_water / self.porosity
        if saturation <= 0:
            return Image(labels, self.pore_image.voxel_size, phases, {"liquid_rule": c.liquid})
        if c.liquid == "drainage":
            from ..porescale.saturation import drainage_state
            labels[drainage_state(self.pore, min(saturation, 1 - 1e-12), self.pore_image.voxel_size)] = WATER
            return Image(labels, self.pore_image.voxel_size, phases, {"liquid_rule": "drainage"})
        return self._lbm_image(saturation, tag, phases)

    def _lbm_image(self, saturation: float, tag: str, phases):
        from ..core.image import Image
        from ..porescale import CarnahanStarlingEOS
        from ..porescale.saturation import saturation_model
        from ..simulation import Simulation
        s = self.config.lbm
        model = saturation_model(self.pore_image, saturation, wall_density=s.wall_density,
                                 eos=CarnahanStarlingEOS(s.reduced_temperature), forcing="edm", tau=s.tau,
                                 check_every=s.check_every, max_steps=s.max_steps, u_tol=s.u_tol, s_tol=s.s_tol)
        sim = Simulation(model, stop_time=model.stop_time(), dt=model.check_every, name=f"cs4-table-lbm-{tag}")
        self.ctx.simulate(sim, description=f"liquid by LBM {tag} (lattice steps)")
        res = model.result()
        if not res.converged:
            self.ctx.warn(f"lbm liquid {tag}: criteria not met in {s.max_steps} steps "
                          f"(max |u| = {res.max_speed:.2e})")
        return Image(res.image.labels, res.image.voxel_size, phases, {**res.image.metadata, "liquid_rule": "lbm",
                                                                      "lbm_converged": bool(res.converged)})

    def configuration(self, theta: float, f: float, tag: str):
        """The image at liquid content ``theta`` with a mucilage share ``f`` of the liquid."""
        from ..mucilage import place_mucilage_bridges
        n = self.pore.size
        n_liquid = min(int(round(theta * n)), int(self.pore.sum()))
        n_muc = int(round(f * n_liquid))
        water = self.water_image((n_liquid - n_muc) / n, tag)
        if n_muc == 0:
            return water
        if self.config.max_bridge_gap is not None:
            return place_mucilage_bridges(water, n_muc / n, self.grains, max_gap=self.config.max_bridge_gap,
                                          neck=self.neck)
        return place_mucilage_bridges(water, n_muc / n, self.grains, max_gap_ratio=self.gap_ratio(),
                                      neck=self.neck)

    def span(self):
        """The network's spanning gap at the scenario's concentration and the mean grain radius
        (one search, cached; with ``radius_classes`` the class holding the mean radius)."""
        if self._span is None:
            if self.config.bridge_span.radius_classes > 1:
                self.gap_ratio()
            else:
                self._span = self._searches([float(np.mean(self.grains.radii)) * 1e4])[0]
        return self._span

    def gap_ratio(self):
        """``S*/R`` of the bridges: one number, or per voxel by the class of its pair radius."""
        k = self.config.bridge_span.radius_classes
        if k == 1:
            return self.span().gap_ratio
        if self._classes is None:
            r_pair = self.neck[2]
            sites = r_pair[self.pore & (self.neck[1] > 0)]
            if sites.size == 0:
                sites = np.asarray(self.grains.radii, float)
            edges = np.quantile(sites, np.linspace(0, 1, k + 1))
            edges = np.unique(edges)
            inner = edges[1:-1]
            radii = [float(np.median(sites[np.searchsorted(inner, sites, side="right") == i])) * 1e4
                     for i in range(len(edges) - 1)]
            spans = self._searches(radii)
            self._classes = (inner, spans, (float(edges[0]), float(edges[-1])))
            mean = float(np.mean(self.grains.radii))
            self._span = spans[int(np.searchsorted(inner, mean, side="right"))]
        inner, spans, _ = self._classes
        ratios = np.array([sp.gap_ratio for sp in spans])
        return ratios[np.searchsorted(inner, self.neck[2], side="right")]

    def _searches(self, radii_um):
        """One network search per radius [µm], after the time estimate (a warning when long)."""
        from ..mucilage import network_span, span_bead_steps, span_seconds
        c, s = self.config, self.config.bridge_span
        params = self.ctx.parameter_set(c, "network")
        settings = dict(volume_ratio=s.volume_ratio, drying_steps=s.drying_steps, relax_steps=s.relax_steps,
                        grid=s.grid, bisections=s.bisections)
        shape = {"geometry": "cylinders" if self.pore_image.ndim == 2 else "spheres"}
        beads = [span_bead_steps(c.mucilage_concentration, params, radius=r, **settings, **shape)[0]
                 for r in radii_um]
        seconds = sum(span_seconds(c.mucilage_concentration, params, radius=r, **settings, **shape)
                      for r in radii_um)
        self.span_estimate = {"beads": max(beads), "seconds_one_thread": seconds, "searches": len(radii_um)}
        if seconds > SPAN_WARN_SECONDS:
            self.ctx.warn(f"bridge_span: the network search at {c.mucilage_concentration:g} mg/g with grains "
                          f"of {max(radii_um):.0f} um runs about {max(beads):.3g} beads through up to "
                          f"{s.grid + s.bisections} drying runs ({len(radii_um)} search(es)): about "
                          f"{seconds / 60:.0f} min on one thread (estimate); lower bridge_span.volume_ratio "
                          "or give max_bridge_gap to skip it")
        geometry = "cylinders" if self.pore_image.ndim == 2 else "spheres"
        out = []
        with self.ctx.task(f"bridge span of the mucilage network at {c.mucilage_concentration:g} mg/g",
                           len(radii_um)) as cb:
            for i, r in enumerate(radii_um):
                out.append(network_span(c.mucilage_concentration, params, radius=r, water_left=s.water_left,
                                        seed=self.ctx.seed, geometry=geometry, **settings))
                cb(i + 1, len(radii_um))
        return out


def diffusivity_table(chain: "_Chain", config: Config, callback=None):
    """Tensors over the grid; returns the table Dataset and the per-(theta, f) images cache."""
    from ..homogenization.property_table import principal_variables, table_coords, tensor_grid
    from ..image.generators.granular import MUCILAGE, WATER
    from ..soil import millington_quirk
    theta = np.asarray(config.water_contents, float)
    muc = np.asarray(config.mucilage_fractions, float)
    nd = chain.pore_image.ndim
    pers = list(config.periodisations)
    achieved = np.zeros((theta.size, muc.size, 2))

    def record(a, b, img):
        achieved[a, b] = (np.mean(img.labels == WATER), np.mean(img.labels == MUCILAGE))

    tensors = tensor_grid(lambda th, m: chain.configuration(th, m, f"theta {th:g}, mucilage {m:g}"),
                          theta, muc, pers, on_image=record, callback=callback)
    one = {"units": "1"}
    data = {}
    for per in pers:
        data.update(principal_variables(tensors[per], "" if per == pers[0] else f"_{per}", f" ({per})"))
    phi = chain.porosity
    data["millington_quirk"] = (("theta",), millington_quirk(theta, phi) * np.ones_like(theta),
                                {**one, "long_name": "Millington-Quirk theta^(10/3)/phi^2"})
    data["water_volume_fraction"] = (("theta", "mucilage_fraction"), achieved[..., 0],
                                     {"units": "cm3 cm-3", "long_name": "achieved water content"})
    data["mucilage_volume_fraction"] = (("theta", "mucilage_fraction"), achieved[..., 1],
                                        {"units": "cm3 cm-3", "long_name": "achieved mucilage content"})
    from .. import __version__
    ds = xr.Dataset(
        data, coords=table_coords(theta, muc, nd, "volumetric liquid content (water + mucilage)"),
        attrs={"porosity": phi, "liquid_rule": config.liquid, "periodisation": pers[0],
               "periodisations": ", ".join(pers), "d_mucilage_relative": config.d_mucilage / config.d_water,
               "mucilage_rule": "bridges across open necks in increasing neck gap (rhizoscale.mucilage.placement)",
               "max_bridge_gap_cm": -1.0 if config.max_bridge_gap is None else config.max_bridge_gap,
               "max_bridge_gap_cm_note": "widest grain gap a mucilage bridge spans [cm]; -1: from the network "
                                         "model (bridge_gap_over_pair_radius)",
               **_span_attrs(chain, config),
               "pore_image": chain.source, "voxel_size_cm": list(chain.pore_image.voxel_size),
               "shape": list(chain.pore_image.shape), "rhizoscale_version": __version__,
               "description": "rhizoscale cs4-diffusivity-table: D_eff(theta, mucilage) by homogenisation of "
                              "liquid configurations with mucilage bridges; diffusivities relative to free water"})
    return ds


def _span_attrs(chain: "_Chain", config: Config) -> dict:
    """Table attributes of the network's spanning gap (none with a fixed max_bridge_gap or no mucilage)."""
    if config.max_bridge_gap is not None or chain._span is None:
        return {}
    s = chain._span
    radius_of = "mean grain radius" if chain._classes is None else "grain radius of the class holding the mean"
    rule = ("rhizoscale.mucilage.network_span: widest gap a drying bridge of "
            f"{config.bridge_span.volume_ratio:g} R^3 keeps connected to {config.bridge_span.water_left:g} of "
            f"its water, over R (R = {radius_of} {s.radius:.4g} um); per neck times 2 r_i r_j / (r_i + r_j)")
    if s.geometry == "cylinders":
        rule += ("; 2D image = medium of parallel cylinders: the network dried between parallel cylinders "
                 f"(periodic slab along them) in the exact 2D bridge at the same suction (area {s.area_ratio:.4g} "
                 "R^2), gaps up to its pinch (rhizoscale.mucilage.cylinder_network_span)")
    out = {"bridge_gap_over_pair_radius": s.gap_ratio, "bridge_gap_water_only": s.lian_gap_ratio,
           "bridge_geometry": s.geometry, "mucilage_concentration_mg_per_g": config.mucilage_concentration,
           "bridge_gap_rule": rule}
    if chain._classes is not None:
        inner, spans, _ = chain._classes
        out["bridge_gap_rule"] += (f"; one search per class of pair radius ({len(spans)} classes, equal counts of "
                                   "bridge sites; the search at the class's median pair radius)")
        out["bridge_pair_radius_class_edges_um"] = [float(e) * 1e4 for e in inner]
        out["bridge_gap_over_pair_radius_by_class"] = [sp.gap_ratio for sp in spans]
        out["bridge_search_radius_by_class_um"] = [sp.radius for sp in spans]
    return out


def _class_info(chain: "_Chain") -> dict:
    """The radius classes of the searches (none with one search)."""
    if chain._classes is None:
        return {}
    inner, spans, (lo, hi) = chain._classes
    edges = (1e4 * np.array([lo, *inner, hi])).tolist()     # the bridge sites' pair radii [um]
    return {"radius_classes": [{"pair_radius_um": [edges[i], edges[i + 1]], "search_radius_um": sp.radius,
                                "gap_over_radius": sp.gap_ratio} for i, sp in enumerate(spans)]}


def run(config: Config, ctx) -> "Products":
    """Run the chain (module docs) and return the table, relations, images and figures.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed of the packing, progress, warnings, the Simulation of ``liquid: lbm``.

    Returns
    -------
    rhizoscale.products.Products
        ``effective_diffusivity_table.nc``, the relations ``d_eff`` and ``d_eff_mucilage_F``,
        ``images.nc`` (phases at ``water_content``), tensors at ``water_content`` with and
        without mucilage, Millington–Quirk, figures.

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids. Transactions
    of the Faraday Society, 57, 1200-1207.

    Examples
    --------
    >>> from rhizoscale.scenario import run_products, scenario_from_dict
    >>> products = run_products(scenario_from_dict({
    ...     "case": "cs4-diffusivity-table", "shape": [100, 100], "water_contents": [0.19, 0.41],
    ...     "mucilage_fractions": [0.0, 0.1], "outputs": {"figures": False}}))
    >>> rel = products.relations["d_eff"]                 # what CS1/CS2 read as soil_diffusivity.table
    >>> rel.component, bool(rel(0.41) > rel(0.19) > 0)
    ('d_eff', True)
    """
    from ..homogenization import effective_diffusion_tensor
    from ..image.generators.granular import MUCILAGE, WATER
    from ..memory import check_memory, record_estimate
    from ..products import Products, TabulatedRelation
    from ..soil import millington_quirk
    out = Products("cs4-diffusivity-table")
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)
    with ctx.task("pore image and neck geometry", 1) as cb:
        chain = _Chain(config, ctx)
        cb(1, 1)
    with ctx.task("liquid, mucilage and cell problems", len(config.water_contents) * len(config.mucilage_fractions)) as cb:
        table = diffusivity_table(chain, config, callback=cb)
    out.add_field("effective_diffusivity_table.nc", table)
    phi = chain.porosity
    for m in table.mucilage_fraction.values:
        out.relations[f"d_eff_mucilage_{_slug(float(m))}"] = TabulatedRelation.from_table(
            table, mucilage_fraction=float(m), source=f"cs4-diffusivity-table (seed {ctx.seed}, {config.liquid} "
                                                      f"liquid, mucilage {float(m):g} of the liquid)")
    out.relations["d_eff"] = TabulatedRelation.from_table(
        table, mucilage_fraction=config.mucilage_fraction,
        source=f"cs4-diffusivity-table (seed {ctx.seed}, {config.liquid} liquid, mucilage "
               f"{config.mucilage_fraction:g} of the liquid)")

    # the phase images and tensors at the scenario's water content (Fig. 11b)
    th = config.water_content
    images = {"water only": chain.configuration(th, 0.0, f"theta {th:g}, water only"),
              "with mucilage": chain.configuration(th, config.mucilage_fraction,
                                                   f"theta {th:g}, mucilage {config.mucilage_fraction:g}")}
    results = {}
    for key, img in images.items():
        for per in config.periodisations:
            if np.any(img.diffusivity() > 0):
                results[f"{key}/{per}"] = effective_diffusion_tensor(img, periodisation=per)
    dims = ("y", "x") if chain.pore_image.ndim == 2 else ("z", "y", "x")
    coords = {d: (d, chain.pore_image.centers(i), {"units": "cm"}) for i, d in enumerate(dims)}
    ds = xr.Dataset({k.replace(" ", "_"): (dims, img.labels, {
        "flag_values": np.array([0, 1, 2, 3], dtype=img.labels.dtype),
        "flag_meanings": "air solid water mucilage", "units": "1"}) for k, img in images.items()},
        coords=coords, attrs={"seed": ctx.seed, "porosity": phi, "liquid_rule": config.liquid,
                              "water_content": th, "mucilage_fraction": config.mucilage_fraction})
    out.add_field("images.nc", ds)
    mq = float(millington_quirk(th, phi, d_water=config.d_water))
    out.add_scalar("porosity", phi, "1", "porosity of the pore image")
    out.add_scalar("millington_quirk", mq, "1", "Millington-Quirk D_eff / D_water at water_content")
    for key in ("water only", "with mucilage"):
        for per in config.periodisations:
            res = results.get(f"{key}/{per}")
            vals = res.principal_directions_xyz()[0] if res is not None else np.zeros(chain.pore_image.ndim)
            slug = f"{key.replace(' ', '_')}_{per}"
            out.add_scalar(f"d_eff_mean_{slug}", float(np.mean(vals)), "1",
                           f"mean principal D_eff / D_water at water_content, {key}, {per}")
            out.add_scalar(f"d_eff_min_{slug}", float(np.min(vals)), "1",
                           f"smallest principal D_eff / D_water at water_content, {key}, {per}")
    out.info.update({
        "chain": {"pore_image": chain.source, "liquid": config.liquid,
                  "mucilage": "rhizoscale.mucilage.place_mucilage_bridges",
                  "homogenisation": "rhizoscale.homogenization.effective_diffusion_tensor"},
        "n_grains": int(len(chain.grains.radii)),
        "tensors_xyz": {k: r.in_xyz() for k, r in results.items()},
        "mucilage_on_bridges": images["with mucilage"].metadata.get("mucilage_on_bridges", 1.0),
        "bridge_span": {**chain._span.summary(), "estimate": chain.span_estimate, **_class_info(chain)}
        if chain._span is not None else
        {"max_bridge_gap_cm": config.max_bridge_gap, "note": "network not run (fixed cap or no mucilage)"},
        "contents": {k: {"water": float(np.mean(im.labels == WATER)), "mucilage": float(np.mean(im.labels == MUCILAGE))}
                     for k, im in images.items()}})
    lit = config.literature_set()
    out.info["literature"] = {"set": lit.name, "sources": lit.sources, "chosen": lit.chosen()}
    if config.outputs.figures:
        out.figures["d_eff_vs_theta.png"] = d_eff_figure(table, title=f"{config.liquid} liquid, seed {ctx.seed}, "
                                                                     f"porosity {phi:.2f}")
        if chain.pore_image.ndim == 2 and results:
            from ..homogenization.figures import phases_and_principal_directions
            out.figures["phases_principal_directions.png"] = phases_and_principal_directions(
                images, results, title=f"{config.liquid} liquid, θ = {th:g}, mucilage "
                                       f"{config.mucilage_fraction:.0%} of the liquid, seed {ctx.seed}")
        elif chain.pore_image.ndim == 3:
            out.figures["phases_principal_directions_3d.png"] = principal_directions_3d_figure(
                images, results, title=f"{config.liquid} liquid, θ = {th:g}, mucilage "
                                       f"{config.mucilage_fraction:.0%} of the liquid, seed {ctx.seed}")
    return out


def d_eff_figure(table: xr.Dataset, title: str = ""):
    """D_eff / D_water against theta, one line per mucilage share (translation; mirror dashed),
    with Millington–Quirk.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> t = xr.Dataset({"d_eff": (("theta", "mucilage_fraction"), [[0.0, 0.01], [0.05, 0.04]]),
    ...                 "millington_quirk": ("theta", [0.01, 0.2])},
    ...                coords={"theta": [0.1, 0.4], "mucilage_fraction": [0.0, 0.1]})
    >>> len(d_eff_figure(t).axes[0].lines)
    3
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    th = table.theta.values
    for b, m in enumerate(table.mucilage_fraction.values):
        line, = ax.plot(th, table.d_eff.values[:, b], "o-", label=f"mucilage {m:.0%} of the liquid"
                        if m > 0 else "water only")
        if "d_eff_mirror" in table:
            ax.plot(th, table.d_eff_mirror.values[:, b], "--", color=line.get_color(), lw=0.9)
    ax.plot(th, table.millington_quirk.values, "k:", label="Millington–Quirk (1961)")
    ax.set_xlabel(r"liquid content $\theta$ [cm$^3$ cm$^{-3}$]")
    ax.set_ylabel(r"$D_\mathrm{eff}/D_\mathrm{water}$ (mean principal)")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.legend(fontsize=7, title="solid: translation, dashed: mirror" if "d_eff_mirror" in table else None,
              title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def principal_directions_3d_figure(images: dict, tensors: dict, title: str = ""):
    """3D images with their principal directions (Fig. 11b in 3D): one row per image.

    Columns: the phases on the three mid-planes (z = mid: x-y; y = mid: x-z; x = mid: y-z),
    each with every principal direction's projection onto that plane drawn as a
    double-headed arrow from the centre (half-length ∝ principal value, one scale over all
    panels; a direction with zero diffusivity is drawn as a cross, blocked); last column the
    three eigenvectors in 3D. ``tensors`` keys are ``"<image key>/<periodisation>"``; the
    first periodisation of each image is drawn.

    Parameters
    ----------
    images : dict of str to Image
        3D images by key (labels air, solid, water, mucilage).
    tensors : dict of str to EffectiveDiffusionTensor
        Tensors by ``"<image key>/<label>"``.
    title : str
        What the images are.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from rhizoscale.homogenization import effective_diffusion_tensor
    >>> from rhizoscale.image.generators import liquid_configuration, sand_packing
    >>> img = liquid_configuration(sand_packing((16, 16, 16), 1e-3, mean_radius=0.004, seed=0), 0.3)
    >>> fig = principal_directions_3d_figure({"sand": img}, {"sand/translation": effective_diffusion_tensor(img)})
    >>> len(fig.axes)
    4
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from ..homogenization.figures import _COLOURS, _phase_rgb
    keys = list(images)
    fig = plt.figure(figsize=(13.5, 3.6 * len(keys) + 0.8))
    drawn = {k: next(((lab.split("/", 1)[1], t) for lab, t in tensors.items() if lab.split("/", 1)[0] == k),
                     None) for k in keys}
    largest = max([float(t.eigenvalues.max()) for _, t in filter(None, drawn.values())] + [1e-300])
    planes = (("x-y (z mid)", 0, (0, 1)), ("x-z (y mid)", 1, (0, 2)), ("y-z (x mid)", 2, (1, 2)))
    names = "xyz"
    shown = {}
    for row, key in enumerate(keys):
        img = images[key]
        rgb = _phase_rgb(img)
        for p in img.phases:
            shown.setdefault(p.name, _COLOURS.get(p.name, _COLOURS.get(p.role, "C0")))
        vals, vecs = drawn[key][1].principal_directions_xyz() if drawn[key] else (np.zeros(3), np.eye(3))
        for col, (name, axis, (a, b)) in enumerate(planes):
            ax = fig.add_subplot(len(keys), 4, 4 * row + col + 1)
            sl = [slice(None)] * 3
            sl[axis] = img.shape[axis] // 2
            panel = rgb[tuple(sl)]                      # array axes (z, y, x) minus `axis`
            # the panel's image axes, as xyz components: columns (horizontal) and rows (vertical)
            xyz_axes = [2 - i for i in range(3) if i != axis][::-1]       # e.g. axis z -> (x, y)
            h, v = xyz_axes
            if (2 - h) < (2 - v):       # imshow rows are the first remaining array axis
                panel = panel.transpose(1, 0, 2)
            n_h, n_v = panel.shape[1], panel.shape[0]
            ax.imshow(panel, origin="lower", interpolation="nearest")
            cx, cy, scale = (n_h - 1) / 2, (n_v - 1) / 2, 0.45 * min(n_h, n_v) / largest
            for value, vec in zip(vals, vecs.T):
                if value <= 0:
                    if abs(vec[h]) + abs(vec[v]) > 0.5:
                        ax.plot(cx + 0.3 * n_h * vec[h], cy + 0.3 * n_v * vec[v], "kx", ms=9, mew=2.5)
                    continue
                dx, dy = vec[h] * value * scale, vec[v] * value * scale
                ax.annotate("", (cx + dx, cy + dy), (cx - dx, cy - dy),
                            arrowprops={"arrowstyle": "<->", "color": "k", "lw": 2.0})
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_xlabel(names[h]), ax.set_ylabel(names[v])
            ax.set_title(f"{key}: {name}", fontsize=9)
        ax3 = fig.add_subplot(len(keys), 4, 4 * row + 4, projection="3d")
        for value, vec in zip(vals, vecs.T):
            length = value / largest
            colour = "k" if value > 0 else "r"
            for sign in (1, -1):
                ax3.quiver(0, 0, 0, *(sign * vec * max(length, 0.15)), color=colour, lw=2,
                           linestyle="-" if value > 0 else ":")
        ax3.set_xlim(-1, 1), ax3.set_ylim(-1, 1), ax3.set_zlim(-1, 1)
        ax3.set_xlabel("x"), ax3.set_ylabel("y"), ax3.set_zlabel("z")
        label = drawn[key][0] if drawn[key] else "no liquid path"
        ax3.set_title(f"{label}: D = " + ", ".join(f"{v:.3g}" for v in vals), fontsize=8)
    handles = [Patch(facecolor=c, edgecolor="0.5", label=n) for n, c in shown.items()]
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False)
    fig.suptitle((f"{title}\n" if title else "") + "arrows: principal directions projected on the plane, "
                 "half-length ∝ principal D/D_water; x / red dotted: blocked (D = 0)", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig
