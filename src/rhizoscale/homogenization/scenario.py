"""Scenario ``cs4-homogenisation``: effective diffusion of a sand section with mucilage bridges.

Builds a seeded synthetic 2D sand section, places water (and mucilage bridges) at the
target liquid content, computes the effective diffusion tensors with both
periodisations, compares with the empirical soil models, tabulates D_eff(theta,
mucilage) for upscaling and, optionally, the lognormal thickness study.
"""

from __future__ import annotations

from typing import Literal, Optional, TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import Field, model_validator

from ..image.generators.granular import MUCILAGE, WATER, liquid_configuration, sand_packing
from ..scenario import CaseConfig, ImageSection
from .parameters import GranularMediumParameters
from ..soil import SOIL_DIFFUSION_MODELS
from .cell_problem import effective_diffusion_tensor
from .figures import phases_and_principal_directions, property_table_figure, thickness_study_figure
from .property_table import effective_property_table, property_table_csv
from .random_media import lognormal_thickness_study

if TYPE_CHECKING:  # annotations only
    from ..memory import MemoryEstimate
    from ..products import Products

__all__ = ["Config", "run"]


class Config(CaseConfig):
    """Keys of a ``cs4-homogenisation`` scenario (lengths in cm, diffusivities relative).

    The medium's keys default to the parameter set named by ``literature``
    (:class:`~rhizoscale.homogenization.parameters.GranularMediumParameters`).

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs4-homogenisation", "shape": [120, 120],
    ...                                "table_water_contents": [0.19], "random_media": False,
    ...                                "outputs": {"figures": False, "vtk": False}})
    >>> config = scenario.config
    >>> config.porosity, config.water_content, config.mucilage_fraction, config.d_mucilage
    (0.41, 0.19, 0.1, 0.5)
    """

    LITERATURE = (GranularMediumParameters, "sand_mucilage_2d",
                  {k: k for k in GranularMediumParameters.model_fields if k not in ("name", "sources")})

    shape: list[int] = Field([500, 500], min_length=2, max_length=3,
                             description="image shape (ny, nx) or (nz, ny, nx) [voxels]")
    voxel_size: float = Field(1e-3, gt=0, description="voxel edge length [cm]")
    literature: str = Field("sand_mucilage_2d", description="parameter set holding the paper's values "
                            "(with sources); the medium's keys below default to them")
    porosity: float = Field(..., gt=0, lt=1, description="porosity [-]")
    water_content: float = Field(..., ge=0, description="liquid content theta [cm3 cm-3]")
    mucilage_fraction: float = Field(..., ge=0, le=1, description="share of the liquid that is mucilage [-]")
    mean_grain_radius: float = Field(..., gt=0, description="mean radius of the grains as placed [cm]; all grains are then grown or shrunk by one distance to reach the porosity, so the image's mean grain radius differs (more for small grains on coarse voxels)")
    grain_radius_cv: float = Field(..., ge=0, description="coefficient of variation of grain radii [-]")
    grain_overlap: float = Field(..., ge=0, lt=1, description="allowed grain overlap (fraction of radii sum)")
    liquid_rule: Literal["film", "drainage"] = "film"
    d_water: float = Field(..., gt=0, description="water diffusivity (relative units)")
    d_mucilage: float = Field(..., ge=0, description="mucilage diffusivity (relative units)")
    periodisations: list[Literal["translation", "mirror"]] = ["translation", "mirror"]
    table_water_contents: list[float] = Field(
        [0.08, 0.12, 0.16, 0.19, 0.23, 0.28, 0.34, 0.41],
        description="liquid contents of the effective-property table (empty: no table)")
    table_mucilage_fractions: list[float] = [0.0, 0.1]
    random_media: bool = Field(True, description="run the lognormal thickness study")
    random_media_log_std: float = Field(1.0, ge=0)
    random_media_correlation_length: float = Field(4.0, gt=0, description="[voxels]")
    random_media_width: int = Field(256, ge=8)
    random_media_realisations: int = Field(3, ge=1)
    memory_limit_gb: Optional[float] = Field(None, gt=0, description="refuse runs estimated to need more [GiB]; "
                                             "default: the memory available when the run starts")
    image: Optional[ImageSection] = Field(None, description="a segmented image (phases solid, water, mucilage, "
                                          "air; e.g. a µCT image or a liquid configuration) instead of the "
                                          "generated sand section; the generation keys are then not used")

    @model_validator(mode="after")
    def _check(self):
        if self.water_content > self.porosity:
            raise ValueError(f"water_content: cannot exceed the porosity {self.porosity:g} (got {self.water_content:g})")
        if any(t > self.porosity + 1e-12 or t < 0 for t in self.table_water_contents):
            raise ValueError(f"table_water_contents: must lie in [0, porosity {self.porosity:g}]")
        if sorted(set(self.table_water_contents)) != list(self.table_water_contents):
            raise ValueError("table_water_contents: must be strictly increasing")
        return self


def _tensor_summary(res):
    vals, vecs = res.principal_directions_xyz()
    return {"tensor_xyz": res.in_xyz(), "eigenvalues": vals, "eigenvectors_xyz": vecs.T,
            "asymmetry": res.asymmetry, "flux_carrying_fraction": res.flux_carrying_fraction,
            "wall_time_s": round(res.wall_time, 3)}


#: bytes per image voxel at the peak, which is the placement of the liquid (Euclidean
#: distance transforms with their index arrays, the neck gaps, the sort of the pore
#: voxels) with the packing and the images held; the cell problems need less (about 200)
_VOXEL_BYTES = {2: 440, 3: 500}
#: more per voxel for the "drainage" rule's local pore sizes (property table)
_VOXEL_BYTES_DRAINAGE = 150
#: bytes per voxel of the lognormal study's width x width field and cell problem
_VOXEL_BYTES_LOGNORMAL = 140


def estimate_memory(config: Config) -> "MemoryEstimate":
    """Peak memory of a ``cs4-homogenisation`` run [bytes], from the scenario alone.

    ``V`` image voxels need about 440 bytes each in 2D, 500 in 3D (150 more with the
    ``drainage`` rule and a property table); the lognormal study about 140 per voxel of
    its ``random_media_width``² field; plus 192 MiB for libraries, kernels and figures. The parts
    run one after the other, so the larger counts. Calibrated against the measured peak
    resident memory (docs/memory.md).

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
    >>> estimate = estimate_memory(scenario_from_dict({"case": "cs4-homogenisation"}).config)
    >>> estimate.field, round(estimate.gib, 2)                # the shipped defaults [GiB]
    ('shape', 0.29)
    """
    from ..memory import GIB, KERNEL_ALLOWANCE as BASE_ALLOWANCE, MemoryEstimate, round_nice
    if config.image is not None:
        from ..image.io import image_shape
        shape = image_shape(config.image.file, shape=config.image.shape)
        if shape is None and config.image.file.suffix.lower() in (".nc", ".nc4"):
            import xarray as xr
            with xr.open_dataset(config.image.file) as ds:
                shape = ds["labels"].shape
        per_voxel = 200.0 * 1.5          # cell problems (about 200) and the image itself
        voxels = float(np.prod(shape, dtype=float)) if shape else 0.0
        return MemoryEstimate({"image and cell problems": voxels * per_voxel,
                               "libraries and figures": float(BASE_ALLOWANCE)}, "image",
                              lambda limit: "use a sub-volume of the image")
    ndim = len(config.shape)
    per_voxel = _VOXEL_BYTES[ndim] + (_VOXEL_BYTES_DRAINAGE if config.liquid_rule == "drainage"
                                      and config.table_water_contents else 0)
    image = float(np.prod(config.shape, dtype=float)) * per_voxel
    lognormal = float(config.random_media_width) ** 2 * _VOXEL_BYTES_LOGNORMAL if config.random_media else 0.0
    parts = {"image, liquid placement and cell problems": image,
             "lognormal thickness study": lognormal,
             "libraries and figures": float(BASE_ALLOWANCE)}
    if lognormal > image:
        del parts["image, liquid placement and cell problems"]  # not held at the same time

        def suggest(limit: float) -> str:
            w = int(np.sqrt(max(limit - BASE_ALLOWANCE, 0) / _VOXEL_BYTES_LOGNORMAL))
            return (f"use a smaller random_media_width, e.g. {int(round_nice(max(w, 8), up=False))} "
                    f"(now {config.random_media_width}), or random_media: false")
        return MemoryEstimate(parts, "random_media_width", suggest)
    del parts["lognormal thickness study"]

    def suggest(limit: float) -> str:
        fit = max(limit - BASE_ALLOWANCE, 0) / per_voxel
        f = (fit / np.prod(config.shape, dtype=float)) ** (1 / ndim)
        shape = [max(8, int(n * f)) for n in config.shape]
        return (f"use a smaller shape, e.g. {shape} (now {list(config.shape)}; about "
                f"{(BASE_ALLOWANCE + per_voxel * np.prod(shape, dtype=float)) / GIB:.2g} GiB), "
                "or a larger voxel_size for the same section")

    return MemoryEstimate(parts, "shape", suggest)


def declared_products(config: Config) -> dict:
    """The products a run of ``config`` makes, ``{name: (kind, units)}``, known before it
    runs (what a pipeline checks its inputs and a sensitivity analysis its quantities
    against; tests/test_contract.py checks them against every example's products)."""
    if config.image is not None:          # a given image: its tensors only
        out = {"image.nc": ("field", None), "porosity": ("scalar", "1"), "water_content": ("scalar", "1"),
               "millington_quirk": ("scalar", "1"), "memory_estimate": ("scalar", "GiB")}
        for per in config.periodisations:
            out[f"d_eff_mean_{per}"] = ("scalar", "1")
            out[f"d_eff_min_{per}"] = ("scalar", "1")
        return out
    out = {"images.nc": ("field", None), "porosity": ("scalar", "1"), "n_grains": ("scalar", "1"),
           "millington_quirk": ("scalar", "1"), "memory_estimate": ("scalar", "GiB")}
    for key in ("water_only", "with_mucilage_bridges"):
        for per in config.periodisations:
            out[f"d_eff_mean_{key}_{per}"] = ("scalar", "1")
            out[f"d_eff_min_{key}_{per}"] = ("scalar", "1")
    if config.table_water_contents:
        out["effective_diffusivity_table.nc"] = ("field", None)
        for m in config.table_mucilage_fractions:
            out[f"d_eff_mucilage_{m:g}"] = ("relation", "1")
        out["d_eff"] = ("relation", "1")
    if config.random_media:
        out["lognormal_thickness_study.nc"] = ("field", None)
        out["d_eff_thickness"] = ("relation", "1")
    return out


def run(config: Config, ctx) -> Products:
    """Run the case study; return images, tensors, the D_eff(theta, mucilage) relation,
    figures and summary quantities.


    The case's side of the contract (:func:`rhizoscale.scenario.run_products`):
    ``config`` is this module's :class:`Config`, ``ctx`` a
    :class:`rhizoscale.outputs.RunContext`; returns :class:`rhizoscale.products.Products`.

    Parameters
    ----------
    config : Config
        The validated scenario.
    ctx : rhizoscale.outputs.RunContext
        Seed (of the packing and the random media), progress, warnings.

    Returns
    -------
    rhizoscale.products.Products
        Images, effective diffusion tensors (relative to water [1]), the
        ``D_eff(theta, mucilage)`` relations and table, Millington–Quirk for comparison,
        figures.

    References
    ----------
    Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids. Transactions
    of the Faraday Society, 57, 1200-1207.

    Examples
    --------
    A 1.2 x 1.2 mm sand at theta = 0.19: mucilage bridges raise the effective
    diffusivity several-fold (the gallery example ``docs/gallery/plot_cs4_homogenisation.py``
    runs the full size):

    >>> from rhizoscale.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"case": "cs4-homogenisation", "shape": [120, 120],
    ...                                "table_water_contents": [0.19], "random_media": False,
    ...                                "outputs": {"figures": False, "vtk": False}})
    >>> from rhizoscale.scenario import run_products
    >>> products = run_products(scenario)
    >>> round(products.value("d_eff_mean_water_only_translation"), 5)
    0.00798
    >>> round(products.value("d_eff_mean_with_mucilage_bridges_translation"), 5)
    0.03636
    >>> round(products.value("millington_quirk"), 5)
    0.02346
    """
    from ..products import Products, TabulatedRelation
    from ..memory import check_memory, record_estimate
    seed = ctx.seed
    out = Products("cs4-homogenisation")
    memory = estimate_memory(config)
    check_memory(memory, config.memory_limit_gb, warn=ctx.warn)
    record_estimate(out, memory)
    if config.image is not None:
        return _run_on_image(config, ctx, out)
    with ctx.task("sand packing", 1) as cb:
        packing = sand_packing(config.shape, config.voxel_size, config.porosity,
                               config.mean_grain_radius, config.grain_radius_cv,
                               config.grain_overlap, seed=seed)
        cb(1, 1)
    phi = packing.porosity
    images = {
        "water only": liquid_configuration(packing, config.water_content, 0.0, rule=config.liquid_rule,
                                           d_water=config.d_water, d_mucilage=config.d_mucilage),
        "with mucilage bridges": liquid_configuration(
            packing, config.water_content, config.mucilage_fraction, rule=config.liquid_rule,
            d_water=config.d_water, d_mucilage=config.d_mucilage),
    }
    results = {}
    with ctx.task("cell problems", 2 * len(config.periodisations) + 1) as cb:
        done = 0
        sat = effective_diffusion_tensor(packing.image.with_phases(images["water only"].phases))
        done += 1
        cb(done, 2 * len(config.periodisations) + 1)
        for key, img in images.items():
            for per in config.periodisations:
                if np.any(img.diffusivity() > 0):
                    results[f"{key}/{per}"] = effective_diffusion_tensor(img, periodisation=per)
                else:
                    ctx.warn(f"{key}: no liquid at theta = {config.water_content}")
                done += 1
                cb(done, 2 * len(config.periodisations) + 1)

    dims = ("y", "x") if len(config.shape) == 2 else ("z", "y", "x")
    coords = {d: (np.arange(n) + 0.5) * config.voxel_size for d, n in zip(dims, config.shape)}
    ds = xr.Dataset({k.replace(" ", "_"): (dims, img.labels, {
        "flag_values": np.array([0, 1, 2, 3], dtype=img.labels.dtype),
        "flag_meanings": "air solid water mucilage", "units": "1"}) for k, img in images.items()},
        coords=coords, attrs={"seed": seed, "porosity": phi, "liquid_rule": config.liquid_rule})
    for d in dims:
        ds[d].attrs["units"] = "cm"
    out.add_field("images.nc", ds)
    d_rel = config.d_water
    out.info["porosity"] = phi
    out.info["water_content"] = {k: float(np.mean((im.labels == WATER) | (im.labels == MUCILAGE)))
                                    for k, im in images.items()}
    out.info["mucilage_content"] = float(np.mean(images["with mucilage bridges"].labels == MUCILAGE))
    out.info["n_grains"] = packing.info["n_grains"]
    out.info["saturated_tensor_xyz"] = sat.in_xyz()
    out.info["tensors"] = {k: _tensor_summary(r) for k, r in results.items()}
    out.info["empirical_models"] = {
        name: f(config.water_content, phi, d_water=d_rel) for name, f in SOIL_DIFFUSION_MODELS.items()}
    out.info["millington_quirk"] = out.info["empirical_models"]["millington_quirk_1961"]
    out.info["millington_quirk_saturated"] = SOIL_DIFFUSION_MODELS["millington_quirk_1961"](phi, phi, d_water=d_rel)
    if len(config.shape) == 2 and config.outputs.figures:
        out.figures["phases_principal_directions.png"] = phases_and_principal_directions(
            images, results, title=f"generated sand section, seed {seed}: porosity {phi:.2f}, "
                                   f"θ = {config.water_content:g}, mucilage {config.mucilage_fraction:.0%} "
                                   "of the liquid")

    if config.table_water_contents:
        with ctx.task("effective-property table", len(config.table_water_contents)
                      * len(config.table_mucilage_fractions)) as cb:
            table = effective_property_table(packing, config.table_water_contents,
                                             config.table_mucilage_fractions, rule=config.liquid_rule,
                                             d_mucilage=config.d_mucilage / config.d_water, callback=cb)
        out.add_field("effective_diffusivity_table.nc", table)
        out.add_text("effective_diffusivity_table.csv", property_table_csv(table))
        if config.outputs.figures:
            out.figures["effective_diffusivity_table.png"] = property_table_figure(
                table, title=f"generated sand section, seed {seed}, porosity {phi:.2f}")
        out.info["table"] = {"theta": table.theta.values, "d_eff": table.d_eff.values,
                             "mucilage_fraction": table.mucilage_fraction.values}
        for m in table.mucilage_fraction.values:
            out.relations[f"d_eff_mucilage_{m:g}"] = TabulatedRelation.from_table(
                table, mucilage_fraction=float(m), source=f"cs4-homogenisation (seed {seed})")
        # D_eff(theta) at the scenario's own mucilage share, under one name whatever the
        # share (what a pipeline links and a sensitivity analysis varies)
        m = config.mucilage_fraction
        at = table if np.any(np.isclose(table.mucilage_fraction.values, m, atol=1e-9)) else \
            effective_property_table(packing, config.table_water_contents, [m], rule=config.liquid_rule,
                                     d_mucilage=config.d_mucilage / config.d_water)
        out.relations["d_eff"] = TabulatedRelation.from_table(
            at, mucilage_fraction=m, source=f"cs4-homogenisation (seed {seed}, mucilage {m:g} of the liquid)")

    if config.random_media:
        thick = sorted({int(t) for t in np.unique(np.geomspace(1, config.random_media_width, 9).round())})
        with ctx.task("lognormal thickness study", len(thick) * config.random_media_realisations) as cb:
            study = lognormal_thickness_study(thick, config.random_media_width, config.random_media_log_std,
                                              config.random_media_correlation_length,
                                              config.random_media_realisations, seed=seed, callback=cb)
        out.add_field("lognormal_thickness_study.nc", study)
        if config.outputs.figures:
            out.figures["lognormal_thickness_study.png"] = thickness_study_figure(
                study, title=rf"lognormal fields ($\sigma_{{\ln D}}$ = {config.random_media_log_std:g}), width "
                             f"{config.random_media_width} voxels, {config.random_media_realisations} "
                             f"realisation{'s' if config.random_media_realisations > 1 else ''}, seed {seed}")
        out.info["lognormal_position_arithmetic_1_geometric_0"] = dict(
            zip(study.thickness.values.tolist(), study.position.values.tolist()))
        # the domain thickness as the argument of the constitutive relation (von Jeetze
        # et al. 2020): D_eff of a heterogeneous layer of thickness L over the medium's
        # geometric mean, from the arithmetic mean (thin) to the geometric mean (thick)
        ratio = (study["d_eff"] / study["geometric"]).mean("realisation").values
        out.relations["d_eff_thickness"] = TabulatedRelation(
            study.thickness.values * config.voxel_size, ratio, porosity=np.nan,
            source=f"cs4-homogenisation lognormal fields (sigma_lnD {config.random_media_log_std:g}, "
                   f"correlation {config.random_media_correlation_length:g} voxels, seed {seed})",
            component="d_eff_over_geometric_mean", variable="thickness", variable_units="cm",
            through_origin=False)
    lit = config.literature_set()
    out.info["literature"] = {"set": lit.name, "sources": lit.sources, "chosen": lit.chosen()}
    out.add_scalar("porosity", phi, "1", "porosity of the generated sand section")
    out.add_scalar("n_grains", packing.info["n_grains"], "1", "grains in the section")
    out.add_scalar("millington_quirk", out.info["millington_quirk"], "1",
                   "Millington-Quirk D_eff / D_water at the scenario's water content")
    for key, res in results.items():
        vals, _ = res.principal_directions_xyz()
        slug = key.replace(" ", "_").replace("/", "_")
        out.add_scalar(f"d_eff_mean_{slug}", float(np.mean(vals)), "1",
                       f"mean principal effective diffusivity / d_water, {key}")
        out.add_scalar(f"d_eff_min_{slug}", float(np.min(vals)), "1",
                       f"smallest principal effective diffusivity / d_water, {key}")
    return out


def _run_on_image(config: Config, ctx, out: "Products") -> "Products":
    """Effective diffusion tensors of a given segmented image (phases solid, water,
    mucilage, air), with both periodisations, the saturated tensor (every non-solid voxel
    water) and Millington–Quirk at the image's liquid content for comparison."""
    from ..products import image_to_dataset
    phases = {"solid": ("solid", 0.0), "water": ("water", config.d_water),
              "mucilage": ("mucilage", config.d_mucilage), "air": ("air", 0.0)}
    image = config.image.load(phases, field="image")
    names = {p.name for p in image.phases}
    if not ({"water", "mucilage"} & names):
        from ..errors import InputError
        raise InputError("the image has no water or mucilage label: nothing conducts",
                         source=str(config.image.file), field="image.labels")
    fractions = image.volume_fractions()
    phi = 1.0 - fractions.get("solid", 0.0)
    theta = fractions.get("water", 0.0) + fractions.get("mucilage", 0.0)
    if phi <= 0:
        from ..errors import InputError
        raise InputError("the image has no pore space (every voxel is solid)",
                         source=str(config.image.file), field="image")
    saturated = {n: (config.d_water if n != "solid" else 0.0) for n in names}
    results = {}
    with ctx.task("cell problems", len(config.periodisations) + 1) as cb:
        sat = effective_diffusion_tensor(image, diffusivity=saturated)
        cb(1, len(config.periodisations) + 1)
        for k, per in enumerate(config.periodisations):
            results[per] = effective_diffusion_tensor(image, periodisation=per)
            cb(k + 2, len(config.periodisations) + 1)
    out.add_field("image.nc", image_to_dataset(image))
    mq = SOIL_DIFFUSION_MODELS["millington_quirk_1961"](theta, phi, d_water=config.d_water)
    out.info.update({"image": str(config.image.file), "porosity": phi, "water_content": theta,
                     "mucilage_content": fractions.get("mucilage", 0.0),
                     "saturated_tensor_xyz": sat.in_xyz(),
                     "tensors": {per: _tensor_summary(r) for per, r in results.items()},
                     "millington_quirk": mq})
    out.add_scalar("porosity", phi, "1", "non-solid fraction of the image")
    out.add_scalar("water_content", theta, "1", "liquid (water + mucilage) fraction of the image")
    out.add_scalar("millington_quirk", mq, "1", "Millington-Quirk D_eff / D_water at the image's liquid content")
    for per, res in results.items():
        vals, _ = res.principal_directions_xyz()
        out.add_scalar(f"d_eff_mean_{per}", float(np.mean(vals)), "1",
                       f"mean principal effective diffusivity / d_water, {per} periodisation")
        out.add_scalar(f"d_eff_min_{per}", float(np.min(vals)), "1",
                       f"smallest principal effective diffusivity / d_water, {per} periodisation")
    if image.ndim == 2 and config.outputs.figures:
        out.figures["phases_principal_directions.png"] = phases_and_principal_directions(
            {"image": image}, {f"image/{per}": r for per, r in results.items()},
            title=f"{config.image.file.name}: porosity {phi:.2f}, θ = {theta:.3f}")
    return out
