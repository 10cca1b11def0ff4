"""Scenarios: YAML files that name a case study, its parameters and outputs.

A scenario file has a ``case`` key naming what to run, an optional ``name`` and
``seed``, and the case study's own keys, validated by that case study's ``Config``
model. Errors name the file and the field::

    case: plant-growth
    name: vicia-faba-21d
    seed: 1
    plant: vicia_faba
    time: {stop: 21 d}

Shared sections mean the same in every case: ``outputs:`` (optional files),
``parameters:`` (dotted-path overrides), ``root_system:`` (cases with roots) and
``time: {stop, dt, outputs}`` (time-stepping cases; numbers in days or strings with a
unit such as ``"6 h"``, converted to the case's own keys and units).

Each case study lives in its own module, which defines ``Config`` (a pydantic model)
and ``run(config, ctx) -> Products`` (``ctx``: a :class:`rhizoscale.outputs.RunContext`).
The registry maps case names to those modules: the built-in ones below, those that
installed packages declare under the ``rhizoscale.cases`` entry-point group
(``name = "package.module"``), and those registered at run time with
:func:`register_case`, so a new case study needs no change to rhizoscale itself.
``rhizoscale example NAME`` writes one of the ready scenarios shipped in
``rhizoscale/examples``.
"""

from __future__ import annotations

import copy
import importlib
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Optional, Union

import numpy as np

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from .errors import InputError, ResourceError
from .parameters._base import StrictModel, load_yaml, raise_input_error

__all__ = ["CASES", "CaseConfig", "Section", "OutputsConfig", "Scenario", "load_scenario", "run_scenario", "register_case",
           "case_names", "available_examples", "example_text", "scenario_path", "time_in", "ImageSection",
           "ContactExudationSection"]

#: case name -> module with ``Config`` and ``run``
CASES: dict[str, str] = {
    "plant-growth": "rhizoscale.plant.scenario",
    "cs1-rhizodeposition": "rhizoscale.rhizodeposition.scenario",
    "cs2-phosphate-uptake": "rhizoscale.nutrients.scenario",
    "cs3-root-hairs": "rhizoscale.diffusion.scenario",
    "cs4-homogenisation": "rhizoscale.homogenization.scenario",
    "cs4-mucilage-bridge": "rhizoscale.mucilage.scenario",
    "cs5-microbes": "rhizoscale.microbes.scenario",
    "cs4-liquid-configuration": "rhizoscale.porescale.scenario",
    "cs4-diffusivity-table": "rhizoscale.link.diffusivity_table",
}


#: seconds per unit of the ``time:`` section
TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def time_in(value: Any, unit: str) -> float:
    """A time of the ``time:`` section in ``unit`` (s, min, h or d).

    ``value`` is a number, read in days (the project's time unit), or a string
    ``"<number> <unit>"`` such as ``"90 min"`` or ``"21 d"``.

    Parameters
    ----------
    value : float or str
        A number of days, or ``"<number> <unit>"`` with unit s, min, h or d.
    unit : {"s", "min", "h", "d"}
        The unit of the result.

    Returns
    -------
    float
        The time in ``unit``.

    Raises
    ------
    ValueError
        When ``value`` is not a finite time (the scenario layer names the field).

    Examples
    --------
    >>> time_in("1 h", "s")
    3600.0
    >>> time_in(0.5, "h")
    12.0
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, (int, float)):
        number, given = float(value), "d"
    elif isinstance(value, str):
        parts = value.split()
        if len(parts) != 2 or parts[1] not in TIME_UNITS:
            raise ValueError(f"{value!r} is not a time; write a number of days or e.g. '6 h' "
                             f"(units: {', '.join(TIME_UNITS)})")
        try:
            number, given = float(parts[0]), parts[1]
        except ValueError:
            raise ValueError(f"{value!r} is not a time") from None
    else:
        raise ValueError(f"{value!r} is not a time")
    if not np.isfinite(number):
        raise ValueError(f"{value!r} is not a finite time")
    return number * TIME_UNITS[given] / TIME_UNITS[unit]


class OutputsConfig(BaseModel):
    """The ``outputs:`` section, the same in every case: which optional files to write.

    NetCDF fields and ``summary.json`` are always written; these switch the rest.

    Parameters
    ----------
    figures : bool
        Write figures (PNG).
    vtk : bool
        Write VTK files for ParaView.
    tiff : bool
        Write TIFF stacks of images (case study 3).

    Examples
    --------
    >>> OutputsConfig(vtk=False)
    OutputsConfig(figures=True, vtk=False, tiff=True)
    """

    model_config = ConfigDict(extra="forbid")

    figures: bool = Field(True, description="figures (PNG)")
    vtk: bool = Field(True, description="VTK files for ParaView (compressed)")
    tiff: bool = Field(True, description="TIFF stacks of images (case study 3)")


#: keys that earlier versions took at the top level of a scenario -> ``outputs`` key
LEGACY_OUTPUT_KEYS = {"figures": "figures", "vtk": "vtk", "write_vtk": "vtk", "write_tiff": "tiff"}


class Section(StrictModel):
    """A section of a scenario: unknown keys, NaN and yes/no given to a number key are errors.

    Case studies derive their nested sections (grids, samples, ...) from it.

    Examples
    --------
    >>> class Grid(Section):
    ...     resolution: float = 1.0
    >>> Grid(resolution=0.5)
    Grid(resolution=0.5)
    >>> Grid.model_validate({"resolution": float("nan")})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Grid
    resolution
      Input should be a finite number ...
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CaseConfig(Section):
    """Base of every case study's scenario model: unknown keys and NaN are errors.

    Every case has the shared ``outputs:`` section (:class:`OutputsConfig`); the
    top-level keys of earlier versions (``figures``, ``vtk``, ``write_vtk``,
    ``write_tiff``) are still read into it.

    A case that reads named parameter sets lists them in :meth:`parameter_sets`, so that
    the scenario's ``parameters:`` section can reach any value in them by a dotted path
    (``plant.root_types.0.r``) and a bad set name is found when the scenario is read.

    Parameters
    ----------
    outputs : OutputsConfig
        Which optional files to write.

    Examples
    --------
    A case's ``Config`` with one own key and the shared ``time:`` section mapped to its
    ``days`` key (a string with a unit is converted; a legacy top-level ``figures`` key
    lands in ``outputs``):

    >>> class Config(CaseConfig):
    ...     TIME_KEYS = {"stop": ("days", "d")}
    ...     rate: float = 1.0
    ...     days: float = 10.0
    >>> Config.model_validate({"rate": 2.0, "time": {"stop": "36 h"}, "figures": False})
    Config(outputs=OutputsConfig(figures=False, vtk=True, tiff=True), rate=2.0, days=1.5)
    >>> Config.model_validate({"rat": 2.0})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Config
    rat
      Extra inputs are not permitted ...
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    #: not part of the scenario record or hash: the thread count changes no result
    #: beyond rounding, and a run may resume on another machine
    threads: int | None = Field(
        None, ge=1, exclude=True, repr=False,
        description="[-] Numba threads of the run's kernels (default: all cores, or "
                    "NUMBA_NUM_THREADS); small multigrid levels use fewer")

    @model_validator(mode="before")
    @classmethod
    def _legacy_output_keys(cls, data):
        if isinstance(data, dict) and any(k in data for k in LEGACY_OUTPUT_KEYS):
            data = dict(data)
            outputs = dict(data.get("outputs") or {})
            for old, new in LEGACY_OUTPUT_KEYS.items():
                if old in data:
                    outputs.setdefault(new, data.pop(old))
            data["outputs"] = outputs
        return data

    def parameter_sets(self) -> dict[str, Any]:
        """Slot name -> zero-argument loader of the parameter set this scenario uses."""
        return {}

    #: slot -> the scenario key that names its set, where they differ (a bad set name is
    #: reported under the key the user typed, e.g. ``literature``, not the slot)
    PARAMETER_SET_KEYS: ClassVar[dict] = {}

    #: keys of the shared ``root_system:`` section this case understands -> its own keys
    #: (``plant``: grow from a parameter set, YAML or CPlantBox XML; ``rsml`` and ``age``:
    #: read a file; ``straight``: one straight root; ``backend``: growth model)
    ROOT_SYSTEM_KEYS: ClassVar[dict] = {}

    @model_validator(mode="before")
    @classmethod
    def _root_system_section(cls, data):
        return _expand_section(
            data, "root_system", cls.ROOT_SYSTEM_KEYS, "a root-system key", absent="this case study uses no root "
            "system", example="{plant: vicia_faba}, {rsml: roots.rsml} or {straight: {velocity: 1.0, days: 10}}")

    #: ``(ParameterSet class, default set name, {set field: dotted scenario key})``: a
    #: case whose literature values live in a parameter set takes the defaults of those
    #: keys from the set named by its ``literature`` key (keys given in the scenario win)
    LITERATURE: ClassVar[tuple | None] = None

    @model_validator(mode="before")
    @classmethod
    def _literature_defaults(cls, data):
        if cls.LITERATURE is None or not isinstance(data, dict):
            return data
        from .parameters import load_parameter_set
        model, default, mapping = cls.LITERATURE
        name = data.get("literature", default)
        try:
            pset = load_parameter_set(model, name)
        except InputError as err:
            raise ValueError(f"literature: {err.message if err.source in (None, 'parameters') else err}") from None
        data = copy.deepcopy(data)
        for fld, path in mapping.items():
            node, parts = data, path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                node.setdefault(parts[-1], getattr(pset, fld))
        return data

    def literature_set(self):
        """The parameter set the defaults came from (sources per value), or None."""
        if self.LITERATURE is None:
            return None
        from .parameters import load_parameter_set
        return load_parameter_set(self.LITERATURE[0], getattr(self, "literature", self.LITERATURE[1]))

    #: keys of the shared ``time:`` section this case understands -> ``(its own key, the
    #: unit of that key)``; ``stop`` (simulated time), ``dt`` (time step), ``outputs``
    #: (times at which fields are written). A steady case study has none.
    TIME_KEYS: ClassVar[dict[str, tuple[str, str]]] = {}

    # defined after ``_literature_defaults``: pydantic runs "before" validators last-defined
    # first, so the section is expanded before defaults fill the case's own keys
    @model_validator(mode="before")
    @classmethod
    def _time_section(cls, data):
        def one(v, flat_unit):
            # a bare number means days; where the case counts in another unit that is a
            # trap (45 meant as seconds would be 45 days), so a unit is required there
            if flat_unit != "d" and isinstance(v, (int, float)) and not isinstance(v, bool):
                raise ValueError(f"give the unit, e.g. '{v:g} {flat_unit}': this case counts this time "
                                 f"in {flat_unit}, and a bare number would mean days")
            return time_in(v, flat_unit)

        def convert(value, target):
            flat_unit = target[1]
            if isinstance(value, (list, tuple)):
                return [one(v, flat_unit) for v in value]
            return one(value, flat_unit)
        return _expand_section(data, "time", {k: v[0] for k, v in cls.TIME_KEYS.items()}, "a time key",
                               absent="this case study has no time axis (it is steady or one-shot)",
                               example="{stop: 21 d, dt: 1 h, outputs: [7 d, 14 d]}",
                               convert=lambda key, value: convert(value, cls.TIME_KEYS[key]))

    #: a case whose grid is not a full ``grid: {lower, upper, resolution}`` section of its
    #: own (CS2: the rhizotron sets the box) maps the ``grid:`` keys it takes to its keys
    GRID_KEYS: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _grid_section(cls, data):
        if not cls.GRID_KEYS:           # the case's own grid section (or none): pydantic reads it
            return data
        return _expand_section(data, "grid", cls.GRID_KEYS, "a grid key", absent="",
                               example=f"{{{next(iter(cls.GRID_KEYS))}: ...}}",
                               hint="; the box comes from the case's geometry")


def _expand_section(data, name: str, keys: dict[str, str], what: str, *, absent: str, example: str,
                    convert=None, hint: str = ""):
    """Move a shared section's entries to the case's own keys (``keys``: section key ->
    case key; ``convert(key, value)`` changes units), refusing unknown keys, keys given
    twice, and the section in a case that has none of its keys (``absent``)."""
    if not isinstance(data, dict) or name not in data:
        return data
    section = data[name]
    if not keys:
        raise ValueError(f"{name}: {absent}")
    if not isinstance(section, dict):
        raise ValueError(f"{name}: expected a mapping such as {example}")
    data = dict(data)
    data.pop(name)
    for key, value in section.items():
        if key not in keys:
            raise ValueError(f"{name}.{key}: not {what} of this case (it takes {', '.join(keys)}{hint})")
        flat = keys[key]
        if flat in data:
            raise ValueError(f"{name}.{key}: also given as {flat!r}; give it once")
        try:
            data[flat] = value if convert is None else convert(key, value)
        except ValueError as err:
            raise ValueError(f"{name}.{key}: {err}") from None
    return data


def scenario_path(value, info: ValidationInfo, *, must_exist: bool = True,
                  suffixes: tuple[str, ...] | None = None):
    """Resolve a file named in a scenario relative to the scenario file's folder.

    For use inside a pydantic field validator. ``None`` passes through. With
    ``suffixes``, only names ending in one of them are treated as files (others, such as
    the name of a shipped parameter set, are returned unchanged). A missing file raises
    ``ValueError``, which the scenario loader reports with the file and field name.

    Parameters
    ----------
    value : str, pathlib.Path or None
        The name as written in the scenario.
    info : pydantic.ValidationInfo
        The validator's info; its context's ``base_dir`` is the scenario file's folder.
    must_exist : bool
        Require an existing file.
    suffixes : tuple of str, optional
        Lower-case suffixes (with the dot) of the names treated as files.

    Returns
    -------
    str, pathlib.Path or None
        The resolved path, of the type given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pydantic import field_validator
    >>> class Config(CaseConfig):
    ...     rsml: str | None = None
    ...     @field_validator("rsml")
    ...     @classmethod
    ...     def _file(cls, v, info):
    ...         return scenario_path(v, info, suffixes=(".rsml",))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / "roots.rsml").write_text("<rsml/>")
    ...     cfg = Config.model_validate({"rsml": "roots.rsml"}, context={"base_dir": tmp})
    ...     found = cfg.rsml == str(pathlib.Path(tmp) / "roots.rsml")
    >>> found
    True
    >>> Config.model_validate({"rsml": "vicia_faba"}).rsml     # not a file name: unchanged
    'vicia_faba'
    """
    if value is None:
        return None
    from .products import is_product_reference
    if is_product_reference(value):
        # handed on in memory by a pipeline (rhizoscale.products.PRODUCT_SCHEME)
        return value
    p = Path(value)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        return value
    base = (info.context or {}).get("base_dir")
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    if must_exist and p.is_dir():
        raise ValueError(f"{str(p)!r} is a folder, not a file")
    if must_exist and not p.is_file():
        raise ValueError(f"file {str(p)!r} not found")
    return type(value)(p) if isinstance(value, Path) else str(p)


class ImageSection(Section):
    """The ``image:`` section, the same in every case that reads a segmented image.

    ``file``: a TIFF stack or folder of slices, ``.npy``, raw binary (with ``shape`` and
    ``dtype``) or a NetCDF image written by rhizoscale (which carries its voxel size,
    origin and labels, so the other keys may be left out). ``labels`` maps the phase
    names the case asks for to voxel values; ``voxel_size`` is one edge or one per array
    axis (z, y, x) [cm]; ``origin`` the (x, y, z) corner [cm]. Paths are relative to the
    scenario file.

    Parameters
    ----------
    **fields
        The keys listed with defaults and units in the Fields table.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(Path(tmp) / "soil.npy", np.array([[0, 1], [2, 2]], np.uint8))
    ...     section = ImageSection.model_validate(
    ...         {"file": "soil.npy", "voxel_size": 1e-3, "labels": {"solid": 0, "water": 1, "air": 2}},
    ...         context={"base_dir": tmp})
    ...     image = section.load({"solid": ("solid", 0.0), "water": ("water", 1.0), "air": ("air", 0.0)})
    >>> image.shape, image.volume_fractions()["water"]
    ((2, 2), 0.25)
    """

    file: Path = Field(..., description="segmented image (TIFF, folder of TIFF slices, .npy, raw, NetCDF), "
                       "or an image product handed on by a pipeline", json_schema_extra={"product": "image"})
    voxel_size: Optional[Union[float, list[float]]] = Field(None, description="voxel edge [cm], one or per axis (z, y, x)")
    labels: Optional[dict[str, int]] = Field(None, description="phase name -> voxel value")
    origin: Optional[list[float]] = Field(None, description="(x, y, z) of the image corner [cm]")
    shape: Optional[list[int]] = Field(None, description="raw files only: array shape (z, y, x)")
    dtype: Optional[str] = Field(None, description="raw files only, e.g. uint8")

    @field_validator("file")
    @classmethod
    def _relative_to_scenario(cls, value, info: ValidationInfo):
        from .products import is_product_reference
        if is_product_reference(str(value)):
            return value                       # an Image handed on by a pipeline (rhizoscale.link)
        p = scenario_path(value, info, must_exist=False)
        if not p.exists():
            raise ValueError(f"image {str(p)!r} not found")
        return p

    @property
    def is_product(self) -> bool:
        """True when ``file`` is a pipeline product reference (the image carries its
        voxel size, origin and labels, as a NetCDF image does)."""
        from .products import is_product_reference
        return is_product_reference(str(self.file))

    @field_validator("voxel_size")
    @classmethod
    def _positive(cls, value):
        sizes = [value] if isinstance(value, (int, float)) else value
        if sizes is not None and (not sizes or any(not (v > 0) for v in sizes)):
            raise ValueError(f"voxel sizes must be positive, got {value}")
        return value

    @model_validator(mode="after")
    def _needs_labels(self):
        if self.file.suffix.lower() not in (".nc", ".nc4") and not self.is_product:
            if self.voxel_size is None:
                raise ValueError("voxel_size: needed for a file that does not carry it (only NetCDF does)")
            if self.labels is None:
                raise ValueError("labels: needed for a file that does not carry them (only NetCDF does)")
        return self

    def load(self, phases: dict[str, tuple[str, float]], *, required: tuple[str, ...] = (),
             ndim: Optional[int] = None, field: str = "image"):
        """Read the image with the case's phase table.

        ``phases`` maps each phase name the case understands to ``(role, diffusivity)``;
        names in ``labels`` (or in the NetCDF's ``flag_meanings``) outside it, and
        ``required`` names missing from it, are refused naming ``image.labels``.
        """
        from .core.image import Image, Phase
        from .image.io import read_labels
        if self.file.suffix.lower() in (".nc", ".nc4") or self.is_product:
            import xarray as xr
            from .products import image_from_dataset, resolve_product
            if self.is_product:
                stored = resolve_product(str(self.file), field=f"{field}.file")
                if isinstance(stored, xr.Dataset):
                    stored = image_from_dataset(stored, source=str(self.file))
                if not isinstance(stored, Image):
                    raise InputError(f"{self.file} is not an image", field=f"{field}.file")
            else:
                with xr.open_dataset(self.file) as ds:
                    stored = image_from_dataset(ds.load(), source=str(self.file))
            labels_array, names = stored.labels, {p.name: p.label for p in stored.phases}
            if ndim is not None and labels_array.ndim != ndim:     # e.g. a 2D CS4 product fed to CS5
                raise InputError(f"expected a {ndim}D image, got a {labels_array.ndim}D image of shape "
                                 f"{labels_array.shape}" + (" (make it in 3D: e.g. case study 4 with a shape "
                                                            "of three sizes)" if ndim == 3 else ""),
                                 source=str(self.file), field=f"{field}.file")
            names = {**names, **(self.labels or {})}
            voxel = stored.voxel_size if self.voxel_size is None else self.voxel_size
            origin = stored.origin if self.origin is None else self.origin
        else:
            labels_array = read_labels(self.file, shape=self.shape, dtype=self.dtype, ndim=ndim,
                                       field=f"{field}.file")
            names, voxel, origin = dict(self.labels), self.voxel_size, self.origin
        unknown = sorted(set(names) - set(phases))
        if unknown:
            raise InputError(f"unknown phase names {unknown}; this case reads {sorted(phases)}",
                             source=str(self.file), field=f"{field}.labels")
        missing = [n for n in required if n not in names]
        if missing:
            raise InputError(f"the image has no {' / '.join(missing)} label; give it in labels",
                             source=str(self.file), field=f"{field}.labels")
        table = tuple(Phase(n, int(v), float(phases[n][1]), phases[n][0]) for n, v in names.items())
        kwargs = {} if origin is None else {"origin": tuple(origin)}
        try:
            return Image(labels_array, voxel if not isinstance(voxel, list) else tuple(voxel), table,
                         {"source": str(self.file)}, **kwargs)
        except InputError as err:
            raise InputError(err.message, source=str(self.file), field=f"{field}.{err.field or 'labels'}") from None


class ContactExudationSection(Section):
    """The ``contact_exudation:`` section of root-system cases (CS1, CS2): the release rate
    times an effective exudation factor ``f(contact_fraction)`` from image-based runs
    (case study 3's ``exudation_factor_contact`` relation: the root's release into the soil
    at a contact fraction over that at the contact where the rate was measured), so that
    partial root-soil contact enters implicitly (cf. de Willigen et al. 2018).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rhizoscale.io.netcdf import write_netcdf
    >>> from rhizoscale.products import TabulatedRelation, relation_to_dataset
    >>> rel = TabulatedRelation([0.1, 0.3], [0.5, 1.0], 0.46, component="exudation_factor",
    ...                         variable="contact_fraction", variable_units="1")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_netcdf(relation_to_dataset(rel), pathlib.Path(tmp) / "f.nc")
    ...     section = ContactExudationSection.model_validate(
    ...         {"relation": "f.nc", "contact_fraction": 0.2}, context={"base_dir": tmp})
    ...     round(section.factor(), 12)
    0.75
    """

    relation: str = Field(..., description="exudation factor versus contact fraction: a relation product "
                          "handed on by a pipeline or its NetCDF file", json_schema_extra={"product": "relation"})
    contact_fraction: float = Field(..., gt=0, le=1, description="root-soil contact fraction of this soil [1]")

    @field_validator("relation")
    @classmethod
    def _relative(cls, value, info: ValidationInfo):
        return scenario_path(value, info)

    def factor(self) -> float:
        """``f(contact_fraction)`` [1] (InputError naming the field outside the table)."""
        from .products import read_relation
        rel = read_relation(self.relation, variable="contact_fraction", field="contact_exudation.relation")
        try:
            return float(rel(self.contact_fraction))
        except InputError as err:
            raise InputError(err.message, field="contact_exudation.contact_fraction") from None


class Scenario(BaseModel):
    """A validated scenario: the case, its name and seed, and the case's config.

    Made by :func:`load_scenario` or :func:`scenario_from_dict`, not directly.

    Attributes
    ----------
    case : str
        The case study (a key of :func:`case_names`).
    name : str
        The scenario's name (default: the file's stem).
    seed : int
        Seed of every random process of the run.
    config : CaseConfig
        The case's validated ``Config``.
    source : str
        Where it came from (file name), for messages.
    parameters : dict
        The scenario's dotted ``parameters:`` overrides, as given.
    parameter_sets : dict
        Slot -> resolved :class:`~rhizoscale.parameters.ParameterSet` (overrides applied).

    Examples
    --------
    >>> s = scenario_from_dict({"case": "plant-growth", "name": "short", "plant": "vicia_faba",
    ...                         "time": {"stop": "12 h"},
    ...                         "parameters": {"plant.root_types.0.r": 2.5}})
    >>> s.case, s.name, s.seed, s.config.days
    ('plant-growth', 'short', 1, 0.5)
    >>> s.parameter_sets["plant"].root_types[0].r     # [cm d-1], the override applied
    2.5
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    case: str
    name: str = "scenario"
    seed: int = Field(1, ge=0)
    config: Any
    source: str = "scenario"
    parameters: dict = Field(default_factory=dict)     # the scenario's dotted overrides
    parameter_sets: dict = Field(default_factory=dict)  # slot -> resolved ParameterSet


_REGISTERED: dict[str, Any] = {}


def register_case(name: str, case: Any) -> None:
    """Register a case study: ``case`` is a module (or module path, or any object) with
    ``Config`` (a :class:`CaseConfig` subclass) and ``run(config, ctx) -> Products``.

    Parameters
    ----------
    name : str
        The ``case:`` value that selects it (it takes precedence over a built-in case of
        the same name).
    case : module, str or object
        The case module, its import path, or any object with ``Config`` and ``run``.

    Raises
    ------
    TypeError
        When ``case`` lacks ``Config`` or a callable ``run``.

    Examples
    --------
    >>> import types
    >>> from rhizoscale.products import Products
    >>> class Config(CaseConfig):
    ...     rate: float = 1.0
    >>> def run(config, ctx):
    ...     out = Products("example-decay")
    ...     out.add_scalar("half_life", 0.693147 / config.rate, "d", "ln 2 / rate")
    ...     return out
    >>> register_case("example-decay", types.SimpleNamespace(Config=Config, run=run))
    >>> "example-decay" in case_names()
    True
    >>> run_products(scenario_from_dict({"case": "example-decay", "rate": 2.0})).value("half_life")
    0.3465735
    """
    if isinstance(case, str):
        case = importlib.import_module(case)
    if not (hasattr(case, "Config") and callable(getattr(case, "run", None))):
        raise TypeError(f"case {name!r} needs a Config model and a run(config, ctx) function")
    _REGISTERED[name] = case


def _entry_point_cases() -> dict[str, Any]:
    from importlib.metadata import entry_points
    try:
        return {ep.name: ep for ep in entry_points(group="rhizoscale.cases")}
    except Exception:  # pragma: no cover - broken metadata of another package
        return {}


def case_names() -> list[str]:
    """Every case study available: built in, from entry points, registered.

    Returns
    -------
    list of str
        Case names, built-in ones first.

    Examples
    --------
    >>> case_names()[:5]
    ['plant-growth', 'cs1-rhizodeposition', 'cs2-phosphate-uptake', 'cs3-root-hairs', 'cs4-homogenisation']
    """
    return list(dict.fromkeys([*CASES, *_entry_point_cases(), *_REGISTERED]))


def _case_module(case: str, source: object):
    if case in _REGISTERED:
        return _REGISTERED[case]
    eps = _entry_point_cases()
    if case in eps and case not in CASES:
        return eps[case].load()
    if case not in CASES:
        raise InputError(f"unknown case {case!r}; available: {', '.join(case_names())}",
                         source=source, field="case")
    try:
        return importlib.import_module(CASES[case])
    except ModuleNotFoundError as err:
        if err.name and err.name.startswith("rhizoscale"):
            raise InputError(f"case {case!r} is not available in this version of rhizoscale",
                             source=source, field="case") from None
        raise


def _set_path(data: dict, path: list[str], value: Any, source: object, field: str) -> None:
    """Set ``data[a][b]... = value`` for a dotted path into a scenario mapping."""
    node = data
    for k, part in enumerate(path[:-1]):
        nxt = node.get(part) if isinstance(node, dict) else None
        if nxt is None and isinstance(node, dict):
            nxt = node[part] = {}
        if isinstance(nxt, list) and path[k + 1].isdigit():
            raise InputError("list items of scenario keys are set whole", source=source, field=field)
        if not isinstance(nxt, dict):
            raise InputError(f"{'.'.join(path[:k + 1])!r} is not a section", source=source, field=field)
        node = nxt
    node[path[-1]] = value


def _drop_section_entry(cls, data: dict, key: str) -> None:
    """An override of a case's own key (``duration``) replaces the shared-section entry
    that fills it (``time: {stop: 2 h}``), instead of being refused as given twice: that
    own key is what a sensitivity study must sample where a bare ``time.stop`` would mean
    days (CS3, CS4 bridge, CS5)."""
    maps = {"time": {v[0]: k for k, v in getattr(cls, "TIME_KEYS", {}).items()},
            "grid": {v: k for k, v in getattr(cls, "GRID_KEYS", {}).items()},
            "root_system": {v: k for k, v in getattr(cls, "ROOT_SYSTEM_KEYS", {}).items()}}
    for name, keys in maps.items():
        section = data.get(name)
        if key in keys and isinstance(section, dict) and keys[key] in section:
            section = {k: v for k, v in section.items() if k != keys[key]}
            if section:
                data[name] = section
            else:
                data.pop(name)


def _section_aliases(cls, data) -> dict[str, tuple[str, Any]]:
    """Case key -> (``section.key`` as the user wrote it, the value as written), for the
    entries of the shared ``time:``, ``grid:`` and ``root_system:`` sections in ``data``,
    so that an error found on the case's own key names what the user typed."""
    maps = {"time": {k: v[0] for k, v in getattr(cls, "TIME_KEYS", {}).items()},
            "grid": getattr(cls, "GRID_KEYS", {}), "root_system": getattr(cls, "ROOT_SYSTEM_KEYS", {})}
    aliases = {}
    for name, keys in maps.items():
        section = data.get(name) if isinstance(data, dict) else None
        if isinstance(section, dict):
            for key, value in section.items():
                if key in keys:
                    aliases[keys[key]] = (f"{name}.{key}", value)
    return aliases


def _validate_config(module, data, source, base_dir):
    try:
        return module.Config.model_validate(data, context={"base_dir": base_dir, "source": source})
    except ValidationError as err:
        raise_input_error(err, source, aliases=_section_aliases(module.Config, data),
                          model=module.Config)


def resolve_parameter_sets(config, overrides: dict, source: object) -> dict:
    """Load every parameter set a scenario uses and apply its dotted ``overrides``.

    Paths start with a slot of :meth:`CaseConfig.parameter_sets`; errors name
    ``parameters.PATH``. Returns slot -> :class:`~rhizoscale.parameters.ParameterSet`.

    Parameters
    ----------
    config : CaseConfig
        A case's validated config.
    overrides : dict
        Dotted paths into the sets (``plant.root_types.0.r``) -> values.
    source : object
        The scenario (file), named in errors.

    Returns
    -------
    dict of str to ParameterSet

    Examples
    --------
    >>> s = scenario_from_dict({"case": "plant-growth", "plant": "vicia_faba"})
    >>> sets = resolve_parameter_sets(s.config, {"plant.root_types.0.r": 3.0}, "demo.yaml")
    >>> sets["plant"].root_types[0].r                   # taproot elongation rate [cm d-1]
    3.0
    """
    loaders = config.parameter_sets() if hasattr(config, "parameter_sets") else {}
    sets = {}
    for slot, load in loaders.items():
        try:
            sets[slot] = load()
        except InputError as err:
            key = getattr(config, "PARAMETER_SET_KEYS", {}).get(slot, slot)
            raise InputError(err.message if err.source in (None, "parameters") else str(err),
                             source=source, field=err.field if err.source is None else key) from None
    from .parameters.root_architecture import PlantParameters, check_plant_parameters
    for path, value in overrides.items():
        slot, _, rest = path.partition(".")
        try:
            sets[slot] = sets[slot].with_value(rest, value, source=source)
            if isinstance(sets[slot], PlantParameters):
                check_plant_parameters(sets[slot], source)
        except InputError as err:
            raise InputError(err.message, source=source, field=f"parameters.{path}") from None
    return sets


def scenario_from_dict(data: Any, source: object = "scenario", base_dir: Path | None = None):
    """Validate a scenario mapping (as read from YAML).

    Besides ``case``, ``name``, ``seed`` and the case's own keys, a scenario may hold a
    ``parameters:`` mapping of dotted paths to values, which reaches any value of the run
    (what a sensitivity analysis varies):

    * ``plant.root_types.0.r: 2.5`` — a value inside a parameter set the case uses (the
      first part names the set's slot: ``plant``, ``soil``, ``citrate``, ...);
    * ``rhizotron.width: 20`` — any other scenario key, nested sections included.

    Every named set is loaded and every override validated here, before any work.
    ``case: pipeline`` gives a :class:`rhizoscale.link.Pipeline` (steps linked by
    their products), ``case: sensitivity`` a :class:`rhizoscale.sensitivity.SensitivityStudy`,
    checked the same way.

    Parameters
    ----------
    data : dict
        The scenario mapping.
    source : object
        Where it came from (its file), named in errors and used as the default name.
    base_dir : pathlib.Path, optional
        Folder that relative file names in the scenario are relative to.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        One line naming the source and the field, for any bad key or value.

    Examples
    --------
    >>> s = scenario_from_dict({"case": "plant-growth", "plant": "vicia_faba", "time": {"stop": 2},
    ...                         "parameters": {"plant.root_types.0.r": 2.5, "replicates": 2}},
    ...                        source="demo.yaml")
    >>> s.name, s.config.replicates, s.parameter_sets["plant"].root_types[0].r
    ('demo', 2, 2.5)
    >>> scenario_from_dict({"case": "plant-growth", "days": 0}, source="demo.yaml")
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: demo.yaml: days: Input should be greater than 0 (got 0)
    """
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping with at least a 'case' key", source=source)
    data = dict(data)
    case = data.pop("case", None)
    if case is None:
        raise InputError("missing key (which case study to run)", source=source, field="case")
    if case == "sensitivity":
        from .sensitivity import study_from_dict
        return study_from_dict({"case": case, **data}, source=source, base_dir=base_dir)
    name = data.pop("name", Path(str(source)).stem)
    seed = data.pop("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", source=source, field="seed")
    overrides = data.pop("parameters", None) or {}
    if not isinstance(overrides, dict) or not all(isinstance(k, str) and k for k in overrides):
        raise InputError("must map dotted paths (e.g. plant.root_types.0.r) to values", source=source,
                         field="parameters")
    if case == "pipeline":
        from .link.pipeline import pipeline_from_dict
        return pipeline_from_dict({"case": case, "name": name, "seed": seed, "parameters": overrides, **data},
                                  source=source, base_dir=base_dir)
    module = _case_module(str(case), source)
    config = _validate_config(module, data, source, base_dir)
    slots = set(config.parameter_sets()) if hasattr(config, "parameter_sets") else set()
    set_overrides, key_overrides = {}, {}
    for path, value in overrides.items():
        parts = path.split(".")
        if len(parts) > 1 and parts[0] in slots:
            set_overrides[path] = value
        else:
            key_overrides[path] = value
    if key_overrides:
        data = copy.deepcopy(data)
        for path, value in key_overrides.items():
            _drop_section_entry(module.Config, data, path.split(".")[0])
            _set_path(data, path.split("."), value, source, f"parameters.{path}")
        try:
            config = module.Config.model_validate(data, context={"base_dir": base_dir, "source": source})
        except ValidationError as err:
            first = err.errors()[0]
            aliases = _section_aliases(module.Config, data)
            loc = [str(x) for x in first.get("loc", ())]
            if loc and loc[0] in aliases:
                loc[0] = aliases[loc[0]][0]
            loc = ".".join(loc)
            hit = next((p for p in key_overrides if loc == p or loc.startswith(p + ".")), None)
            if hit is None:
                raise_input_error(err, source, aliases=aliases, model=module.Config)
            raise InputError(f"{first.get('msg', 'invalid value')} (got {key_overrides[hit]!r})",
                             source=source, field=f"parameters.{hit}") from None
        slots = set(config.parameter_sets()) if hasattr(config, "parameter_sets") else set()
        bad = [p for p in set_overrides if p.split(".")[0] not in slots]
        if bad:
            raise InputError(f"no parameter set {bad[0].split('.')[0]!r} in this scenario",
                             source=source, field=f"parameters.{bad[0]}")
    sets = resolve_parameter_sets(config, set_overrides, source)
    return Scenario(case=str(case), name=str(name), seed=seed, config=config, source=str(source),
                    parameters=overrides, parameter_sets=sets)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file; relative paths in it are relative to the file.

    Parameters
    ----------
    path : str or pathlib.Path
        The scenario file (YAML).

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        One line naming the file and the field, for any bad or missing value.

    Examples
    --------
    >>> import tempfile, pathlib, yaml
    >>> text = yaml.safe_dump({"case": "plant-growth", "plant": "vicia_faba", "time": {"stop": "2 d"}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "short.yaml"
    ...     _ = path.write_text(text)
    ...     s = load_scenario(path)
    >>> s.name, s.config.plant, s.config.days
    ('short', 'vicia_faba', 2.0)
    """
    path = Path(path)
    return scenario_from_dict(load_yaml(path), source=path, base_dir=path.parent)


def scenario_record(scenario: Scenario) -> dict:
    """The scenario as plain data (stored in ``summary.json``; hashed for resuming).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    dict
        ``case``, ``name``, ``seed``, ``source``, ``config`` (JSON types) and
        ``parameters``.

    Examples
    --------
    >>> record = scenario_record(scenario_from_dict({"case": "plant-growth", "time": {"stop": 2}}))
    >>> sorted(record), record["config"]["days"]
    (['case', 'config', 'name', 'parameters', 'seed', 'source'], 2.0)
    """
    return {"case": scenario.case, "name": scenario.name, "seed": scenario.seed,
            "source": scenario.source, "config": scenario.config.model_dump(mode="json"),
            "parameters": scenario.parameters}


def run_products(scenario: Scenario, ctx=None):
    """Run a validated scenario in memory and return its :class:`~rhizoscale.products.Products`
    (nothing is written; for pipelines and notebooks).

    Every case module's ``run(config, ctx)`` is called the same way: ``config`` is its
    validated ``Config``, ``ctx`` a :class:`rhizoscale.outputs.RunContext` (seed, progress,
    warnings, resolved parameter sets, checkpointed simulations); it returns the products,
    which ``rhizoscale run`` writes and a pipeline hands on.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    ctx : rhizoscale.outputs.RunContext, optional
        Default: the scenario's seed and resolved parameter sets, no progress, no
        checkpoints.

    Returns
    -------
    rhizoscale.products.Products

    Examples
    --------
    >>> products = run_products(scenario_from_dict({"case": "plant-growth", "plant": "vicia_faba",
    ...                                             "time": {"stop": 2}}))
    >>> products.case, round(products.value("total_length"), 3), products.scalars["total_length"].units
    ('plant-growth', 4.142, 'cm')
    """
    from .outputs import RunContext
    from .solvers import thread_limit
    if scenario.case == "pipeline":
        return scenario.run(progress=getattr(ctx, "progress", None)).as_products()
    module = _case_module(scenario.case, scenario.source)
    ctx = ctx or RunContext(seed=scenario.seed, parameters=scenario.parameter_sets)
    with thread_limit(getattr(scenario.config, "threads", None)):
        products = module.run(scenario.config, ctx)
    keep_warnings(products, ctx)
    return products


def keep_warnings(products, ctx) -> None:
    """Put the warnings of ``ctx`` (``ctx.warn``) into ``products.warnings``, in front and
    once each: an in-memory run has no summary.json to carry them (a sensitivity sample's,
    a pipeline step's)."""
    seen = set(products.warnings)
    products.warnings[:0] = [w for w in ctx.warnings if w not in seen]


def run_scenario(scenario: Scenario, out_dir: str | Path, progress=None, *, overwrite: bool = False,
                 resume: bool = False, wall_time_limit: float | None = None,
                 checkpoint_interval: float = 60.0) -> dict:
    """Run a validated scenario into ``out_dir``; returns the summary.

    The folder is checked (writable, not holding another run unless ``overwrite`` or
    ``resume``) and locked before any computation; see :class:`rhizoscale.outputs.OutputFolder`.
    With ``resume``, simulations continue from their checkpoints; ``wall_time_limit``
    [s] stops the run at a checkpoint (:class:`~rhizoscale.simulation.WallTimeLimitReached`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`load_scenario`, :func:`scenario_from_dict`).
    out_dir : str or pathlib.Path
        The run's output folder (created if needed).
    progress : rhizoscale.progress.ProgressReporter, optional
        Where progress goes (nothing by default).
    overwrite : bool
        Replace a previous run in ``out_dir``.
    resume : bool
        Continue an unfinished run of the same scenario from its checkpoints.
    wall_time_limit : float, optional
        Wall-clock seconds after which the run checkpoints and stops.
    checkpoint_interval : float
        Wall-clock seconds between checkpoints.

    Returns
    -------
    dict
        The summary, as written to ``summary.json`` (``run``, ``scenario``,
        ``quantities`` with units, ``files``, ``warnings``, ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = scenario_from_dict({"case": "plant-growth", "plant": "vicia_faba", "time": {"stop": 2},
    ...                         "outputs": {"figures": False, "vtk": False}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = run_scenario(s, pathlib.Path(tmp) / "out")
    >>> summary["files"]
    ['root_system.rsml', 'summary.json']
    >>> summary["quantities"]["total_length"]["units"]
    'cm'
    """
    from .outputs import run_with_outputs
    from .solvers import thread_limit
    if scenario.case == "pipeline":
        return scenario.run(out_dir=out_dir, progress=progress, overwrite=overwrite, resume=resume)
    if scenario.case == "sensitivity":      # the study folder resumes by itself
        if progress is None:
            return scenario.run(out_dir).summary_with_files
        with progress.task("samples", scenario.n_samples) as cb:
            return scenario.run(out_dir, progress=cb).summary_with_files
    module = _case_module(scenario.case, scenario.source)
    try:
        with thread_limit(getattr(scenario.config, "threads", None)):
            return run_with_outputs(module, scenario.config, scenario_record(scenario), out_dir,
                                    parameters=scenario.parameter_sets, progress=progress,
                                    overwrite=overwrite, resume=resume,
                                    wall_time_limit=wall_time_limit,
                                    checkpoint_interval=checkpoint_interval)
    except (InputError, ResourceError) as err:
        raise _naming_scenario(err, scenario.source) from None


def _naming_scenario(err: InputError | ResourceError, source: str) -> InputError | ResourceError:
    """An error found while running that names no file gets the scenario's name in front."""
    if err.source is not None and (Path(err.source).exists() or err.source == str(source)
                                   or err.field in ("--out", "--resume")):
        return err
    new = type(err)(str(err), source=source)
    new.field = err.field
    return new


def _examples_dir():
    return resources.files("rhizoscale") / "examples"


def available_examples() -> list[str]:
    """Names of the example scenarios shipped with rhizoscale.

    Returns
    -------
    list of str
        Sorted names (``rhizoscale example NAME`` writes one).

    Examples
    --------
    >>> "demo" in available_examples()
    True
    """
    return sorted(p.name[:-5] for p in _examples_dir().iterdir() if p.name.endswith(".yaml"))


def example_text(name: str) -> str:
    """The YAML text of a shipped example scenario.

    Parameters
    ----------
    name : str
        One of :func:`available_examples`.

    Returns
    -------
    str
        The YAML text.

    Raises
    ------
    InputError
        When there is no such example (the message lists the available ones).

    Examples
    --------
    >>> import yaml
    >>> yaml.safe_load(example_text("demo"))["case"]
    'plant-growth'
    """
    res = _examples_dir() / f"{name}.yaml"
    if not res.is_file():
        raise InputError(f"no example named {name!r}; available: {', '.join(available_examples())}",
                         source="example")
    return res.read_text(encoding="utf-8")
