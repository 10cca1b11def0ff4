"""Products: what a case study hands to the next scale and to disk.

A case study's run **returns** a :class:`Products`; writers persist it
(:func:`rhizoscale.outputs.write_products`), a pipeline passes it on. Every product
carries its units, so nothing that crosses between case studies is a bare number:

* fields: :class:`xarray.Dataset` with cell-centre coordinates in physical units and a
  ``units`` attribute on every variable and coordinate (checked by :func:`check_units`);
* images: :class:`rhizoscale.image.Image` (labels, voxel size, origin, phase table),
  written to NetCDF with CF ``flag_values``/``flag_meanings``;
* constitutive relations: callables with provenance, e.g. :class:`TabulatedRelation`
  for an effective diffusivity ``D_eff(theta)`` computed by homogenisation;
* boundary series: :class:`BoundarySeries`, a concentration or flux versus time on a
  surface or at points, for downscaling;
* scalars: :class:`Scalar`, named quantities of interest with units (what a pipeline or
  a sensitivity analysis asks for).

Example
-------
>>> p = Products("toy")
>>> p.add_scalar("uptake", 1.5, "umol", "cumulative P uptake")
>>> p.scalars["uptake"].value, p.scalars["uptake"].units
(1.5, 'umol')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr

from .errors import InputError

__all__ = ["Scalar", "Products", "BoundarySeries", "TabulatedRelation", "check_units",
           "read_relation", "image_to_dataset", "image_from_dataset", "PRODUCT_SCHEME",
           "is_product_reference", "product_reference", "provided_products", "resolve_product",
           "relation_to_dataset", "relation_from_dataset"]


@dataclass(frozen=True)
class Scalar:
    """A named quantity with units (``"1"`` for dimensionless, ``"count"`` for counts).

    Parameters
    ----------
    value : float or int
        The value, in ``units``.
    units : str
        Its units (non-empty; ``"1"`` when dimensionless).
    description : str
        What it is, for ``summary.json``.

    Examples
    --------
    >>> import numpy as np
    >>> Scalar(np.float64(2.5), "umol cm-1", "P uptake per root length").as_dict()
    {'value': 2.5, 'units': 'umol cm-1', 'description': 'P uptake per root length'}
    >>> Scalar(float("nan"), "1").as_dict()["value"] is None     # JSON has no NaN
    True
    """

    value: float
    units: str
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.units, str) or not self.units:
            raise ValueError("a scalar needs units ('1' when dimensionless)")

    def as_dict(self) -> dict:
        v = self.value
        if isinstance(v, (np.floating, float)):
            v = float(v) if math.isfinite(float(v)) else None
        elif isinstance(v, (np.integer,)):
            v = int(v)
        return {"value": v, "units": self.units, "description": self.description}


def check_units(ds: xr.Dataset | xr.DataArray, source: str = "field") -> None:
    """Raise ``ValueError`` naming each variable or coordinate without a ``units`` attribute.

    Label and index variables carry ``units: "1"``; flag (label) variables may carry
    ``flag_values`` instead.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        The field to check (variables and coordinates).
    source : str
        Named in the message.

    Raises
    ------
    ValueError
        Listing every variable and coordinate without units.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"c": ("x", np.zeros(3), {"units": "umol cm-3"})},
    ...                 coords={"x": ("x", [0.5, 1.5, 2.5])})
    >>> check_units(ds, "soil")
    Traceback (most recent call last):
    ...
    ValueError: soil: no units on x
    >>> ds["x"].attrs["units"] = "cm"
    >>> check_units(ds, "soil")          # passes silently
    """
    ds = ds.to_dataset(name=ds.name or "value") if isinstance(ds, xr.DataArray) else ds
    missing = [str(n) for n, v in {**ds.data_vars, **ds.coords}.items()
               if "units" not in v.attrs and "flag_values" not in v.attrs]
    if missing:
        raise ValueError(f"{source}: no units on {', '.join(sorted(missing))}")


def image_to_dataset(image) -> xr.Dataset:
    """An :class:`~rhizoscale.image.Image` as a Dataset: labels with CF ``flag_values`` /
    ``flag_meanings``, the phase table, voxel-centre coordinates [cm] from the origin.

    Parameters
    ----------
    image : rhizoscale.image.Image
        Labels (z, y, x) or (y, x), voxel size [cm], origin [cm] and phase table.

    Returns
    -------
    xarray.Dataset
        ``labels`` (units ``"1"``, with the phase table as attributes) and voxel-centre
        coordinates [cm]; ``voxel_size_cm`` and ``origin_cm`` as dataset attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.image import Image, Phase
    >>> im = Image(np.array([[0, 1]], np.uint8), 0.5, (Phase("air", 0, 0.0, "air"),
    ...            Phase("water", 1, 1.0, "pore")), origin=(0.0, 2.0))
    >>> ds = image_to_dataset(im)
    >>> ds["x"].values, ds["y"].values            # origin and points are (x, y, z)
    (array([0.25, 0.75]), array([2.25]))
    >>> ds["labels"].attrs["flag_meanings"]
    'air water'
    >>> image_from_dataset(ds).origin
    (0.0, 2.0)
    """
    dims = ("z", "y", "x")[-image.ndim:]
    coords = {d: (d, image.centers(d), {"units": "cm"}) for d in dims}
    phases = sorted(image.phases, key=lambda p: p.label)
    labels = xr.DataArray(image.labels, dims=dims, attrs={
        "flag_values": np.array([p.label for p in phases], dtype=image.labels.dtype),
        "flag_meanings": " ".join(p.name.replace(" ", "_") for p in phases),
        "phase_diffusivity": np.array([p.diffusivity for p in phases], dtype=float),
        "phase_roles": " ".join(p.role for p in phases), "long_name": "phase labels",
        "units": "1"})
    return xr.Dataset({"labels": labels}, coords=coords,
                      attrs={"voxel_size_cm": np.asarray(image.voxel_size),
                             "origin_cm": np.asarray(image.origin), "product": "image"})


def image_from_dataset(ds: xr.Dataset, source: str = "image"):
    """Inverse of :func:`image_to_dataset` (voxel size, origin and phase table kept).

    Parameters
    ----------
    ds : xarray.Dataset
        As written by :func:`image_to_dataset` (e.g. read back from NetCDF).
    source : str
        Provenance recorded in the image's metadata and named in errors.

    Returns
    -------
    rhizoscale.image.Image

    Raises
    ------
    InputError
        When ``labels`` lacks the phase-table attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.image import Image, Phase
    >>> im = Image(np.array([[0, 1], [1, 1]], np.uint8), 0.1,
    ...            (Phase("solid", 0, 0.0, "solid"), Phase("water", 1, 1.0, "pore")))
    >>> back = image_from_dataset(image_to_dataset(im))
    >>> [p.name for p in back.phases], back.voxel_size, int(back.labels.sum())
    (['solid', 'water'], (0.1, 0.1), 3)
    """
    from .image import Image, Phase
    lab = ds["labels"]
    try:
        values = np.atleast_1d(lab.attrs["flag_values"])
        names = str(lab.attrs["flag_meanings"]).split()
        diff = np.atleast_1d(lab.attrs["phase_diffusivity"])
        roles = str(lab.attrs["phase_roles"]).split()
    except KeyError as err:
        raise InputError(f"labels need the attribute {err.args[0]!r}", source=source, field="labels") from None
    phases = tuple(Phase(n, int(v), float(d), r) for n, v, d, r in zip(names, values, diff, roles))
    return Image(lab.values, tuple(np.atleast_1d(ds.attrs["voxel_size_cm"])), phases,
                 {"source": source}, tuple(np.atleast_1d(ds.attrs["origin_cm"])))


@dataclass
class BoundarySeries:
    """Concentration or flux versus time on a surface or at points.

    Parameters
    ----------
    data : xarray.DataArray
        Values with a ``time`` dimension (and optionally ``point``); ``units`` on it and
        on ``time``.
    quantity : {"concentration", "flux"}
    location : str
        Where the series applies (e.g. ``"root surface"``).

    Examples
    --------
    >>> import xarray as xr
    >>> flux = xr.DataArray([0.0, 2.0, 4.0], dims="time", name="flux",
    ...                     coords={"time": ("time", [0.0, 1.0, 2.0], {"units": "d"})},
    ...                     attrs={"units": "umol cm-2 d-1"})
    >>> series = BoundarySeries(flux, "flux", "root surface")
    >>> series(0.5), series(5.0)          # linear in time, constant beyond the end
    (array(1.), array(4.))
    """

    data: xr.DataArray
    quantity: str
    location: str

    def __post_init__(self):
        if self.quantity not in ("concentration", "flux"):
            raise ValueError(f"quantity must be 'concentration' or 'flux', got {self.quantity!r}")
        if "time" not in self.data.dims:
            raise ValueError("a boundary series needs a 'time' dimension")
        check_units(self.data, f"boundary series at {self.location}")

    def __call__(self, t):
        """Value at time(s) ``t`` (linear in time; constant beyond the ends)."""
        return self.data.interp(time=t, kwargs={"fill_value": (self.data.isel(time=0).values,
                                                               self.data.isel(time=-1).values)}).values

    def to_dataset(self) -> xr.Dataset:
        ds = self.data.to_dataset(name=self.quantity)
        ds.attrs.update(location=self.location, product="boundary series")
        return ds


class TabulatedRelation:
    """A constitutive relation ``y(x)`` tabulated at points ``x``, linear in between.

    The form in which homogenisation (case study 4) hands an effective diffusivity
    ``D_eff(theta)`` to the root-system models: called as ``relation(theta,
    porosity=None, d_water=1.0)`` it is a drop-in for
    :func:`rhizoscale.soil.millington_quirk` (``porosity`` is accepted for that
    signature and ignored: the table belongs to its own sample, whose porosity is
    ``relation.porosity``). Values are relative to ``d_water``. Outside the tabulated
    range it raises :class:`InputError` (no extrapolation), except that ``x = 0`` gives 0.

    Parameters
    ----------
    theta, values : array_like
        Tabulated liquid contents [cm3 cm-3] and relative values [1].
    porosity : float
        Porosity of the sample the table was computed on.
    source : str
        Provenance (file, scenario, case study).
    component : str
        Which tabulated quantity this is (e.g. ``"d_eff"``).

    References
    ----------
    .. [1] Millington, R. J., & Quirk, J. P. (1961). Permeability of porous solids.
       Transactions of the Faraday Society, 57, 1200-1207 (the closed-form relation this
       table replaces).

    Examples
    --------
    >>> rel = TabulatedRelation([0.1, 0.2], [0.01, 0.03], porosity=0.4)
    >>> round(rel(0.15, d_water=2.0), 6)
    0.04
    >>> rel(0.05)                         # linear to 0 below the first entry
    0.005
    >>> rel(0.3)
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: table: theta: water content outside the table range [0, 0.2]
    """

    def __init__(self, theta, values, porosity, source="table", component="d_eff",
                 variable: str = "theta", variable_units: str = "cm3 cm-3", through_origin: bool = True):
        self.theta = np.asarray(theta, dtype=float)
        self.values = np.asarray(values, dtype=float)
        self.porosity = float(porosity)
        self.source = str(source)
        self.component = component
        #: name and units of the tabulated argument (``theta`` for D_eff(theta); e.g.
        #: ``contact_fraction`` [1] for case study 3's exudation factor)
        self.variable, self.variable_units = str(variable), str(variable_units)
        #: 0 at 0, linear up to the first entry (water content, contact fraction); when
        #: False (e.g. a domain thickness) below the first entry is outside the table
        self.through_origin = bool(through_origin)

    def __call__(self, theta, porosity=None, d_water=1.0):
        th = np.asarray(theta, dtype=float)
        hi = self.theta[-1]
        grid_t, grid_v = self.theta, self.values
        lo = 0.0 if self.through_origin else self.theta[0]
        if self.theta[0] > 0 and self.through_origin:
            grid_t = np.concatenate([[0.0], grid_t])
            grid_v = np.concatenate([[0.0], grid_v])
        if np.any(~np.isfinite(th)) or np.any(th < lo - 1e-12) or np.any(th > hi + 1e-12):
            what = "water content" if self.variable == "theta" else self.variable.replace("_", " ")
            raise InputError(f"{what} outside the table range [{lo:g}, {hi:g}]",
                             source=self.source, field=self.variable)
        out = d_water * np.interp(th, grid_t, grid_v)
        return float(out) if out.ndim == 0 else out

    def __repr__(self):
        return (f"TabulatedRelation({self.component}, {self.variable} {self.theta[0]:g}..{self.theta[-1]:g}, "
                f"porosity {self.porosity:.3f}, from {self.source})")

    @classmethod
    def from_table(cls, ds: xr.Dataset, *, mucilage_fraction: float = 0.0, component: str = "d_eff",
                   source: str = "table") -> "TabulatedRelation":
        """The column of an effective-property table (dims ``theta``, ``mucilage_fraction``)."""
        if component not in ("d_eff", "d_min", "d_max") or component not in ds:
            raise InputError(f"unknown component {component!r}", source=source, field="component")
        muc = ds.mucilage_fraction.values
        match = np.flatnonzero(np.isclose(muc, mucilage_fraction, atol=1e-9))
        if match.size == 0:
            raise InputError(f"mucilage fraction {mucilage_fraction} not tabulated (have {muc.tolist()})",
                             source=source, field="mucilage_fraction")
        values = ds[component].transpose("theta", "mucilage_fraction").values[:, match[0]]
        return cls(ds.theta.values, values, ds.attrs.get("porosity", np.nan), source=source,
                   component=component)


def relation_to_dataset(rel: TabulatedRelation) -> xr.Dataset:
    """A :class:`TabulatedRelation` as plain data (NetCDF), inverse :func:`relation_from_dataset`."""
    var = getattr(rel, "variable", "theta")
    if var == "theta":
        value_name, var_attrs = f"{rel.component} / D_water", {"units": "cm3 cm-3", "long_name": "volumetric liquid content"}
    else:
        value_name, var_attrs = rel.component, {"units": rel.variable_units}
    return xr.Dataset({"value": (var, rel.values, {"units": "1", "long_name": value_name})},
                      coords={var: (var, rel.theta, var_attrs)},
                      attrs={"product": "relation", "porosity": rel.porosity, "source": rel.source,
                             "component": rel.component, "through_origin": int(getattr(rel, "through_origin", True))})


def relation_from_dataset(ds: xr.Dataset, source: str | None = None) -> TabulatedRelation:
    """Inverse of :func:`relation_to_dataset`."""
    var = ds["value"].dims[0]
    return TabulatedRelation(ds[var].values, ds["value"].values, float(ds.attrs["porosity"]),
                             source=source or str(ds.attrs.get("source", "relation")),
                             component=str(ds.attrs.get("component", "d_eff")), variable=str(var),
                             variable_units=str(ds[var].attrs.get("units", "1")),
                             through_origin=bool(ds.attrs.get("through_origin", 1)))


# ------------------------------------------------------------------ products handed on in memory
#: a scenario key that names a file (a relation table, an image, a boundary series) may
#: instead hold ``product:STEP.NAME@KEY``: the product NAME of pipeline step STEP whose
#: cached run has the key KEY. The scenario stays plain data (hashable, recorded), the
#: product itself crosses in memory while the pipeline runs the step.
PRODUCT_SCHEME = "product:"
_PROVIDED: dict[str, Any] = {}


def is_product_reference(value) -> bool:
    """True for a string ``product:STEP.NAME[@KEY]`` (see :data:`PRODUCT_SCHEME`)."""
    return isinstance(value, str) and value.startswith(PRODUCT_SCHEME)


def product_reference(step: str, name: str, key: str | None = None) -> str:
    """``product:STEP.NAME@KEY``, the value a pipeline puts in a scenario key.

    >>> product_reference("pore", "d_eff_mucilage_0", "ab12")
    'product:pore.d_eff_mucilage_0@ab12'
    """
    return f"{PRODUCT_SCHEME}{step}.{name}" + (f"@{key}" if key else "")


class provided_products:
    """Context manager making products available to :func:`resolve_product` by reference.

    >>> rel = TabulatedRelation([0.1, 0.2], [0.01, 0.03], porosity=0.4)
    >>> with provided_products({"product:a.d@k": rel}):
    ...     resolve_product("product:a.d@k") is rel
    True
    """

    def __init__(self, products: dict[str, Any]):
        self.products = dict(products)

    def __enter__(self):
        _PROVIDED.update(self.products)
        return self

    def __exit__(self, *exc):
        for k in self.products:
            _PROVIDED.pop(k, None)
        return False


def resolve_product(ref: str, *, source: object = None, field: str | None = None):
    """The product a reference names while a pipeline provides it (InputError otherwise)."""
    if ref in _PROVIDED:
        return _PROVIDED[ref]
    raise InputError(f"{ref!r} is a pipeline product reference, available only while a pipeline "
                     "runs this step (case: pipeline)", source=source, field=field)


def read_relation(path: str | Path, *, mucilage_fraction: float = 0.0,
                  component: str = "d_eff", variable: str | None = None,
                  field: str | None = None) -> TabulatedRelation:
    """Read an effective-property table (NetCDF) as a :class:`TabulatedRelation`.

    ``path`` may also be a product reference (``product:STEP.NAME@KEY``) that a pipeline
    provides: a relation handed on in memory is returned as it is; an effective-property
    table (a field product) gives its ``component`` column at ``mucilage_fraction``.

    Parameters
    ----------
    path : str or pathlib.Path
        A NetCDF table with dims ``theta`` [cm3 cm-3] and ``mucilage_fraction`` [1], as
        written by case study 4 (:func:`rhizoscale.homogenization.effective_diffusivity_table`).
    mucilage_fraction : float
        Which column to use (must be tabulated).
    component : {"d_eff", "d_min", "d_max"}
        Which tabulated relative diffusivity [1].
    variable : str, optional
        The argument the caller needs (``"theta"``, ``"contact_fraction"``): a relation of
        another variable (e.g. CS3's contact factor fed as a ``D_eff(theta)`` table, or
        CS4's ``d_eff_thickness``) is refused instead of being read as a wrong number.
    field : str, optional
        The scenario key that named ``path``: every error is reported under it.

    Returns
    -------
    TabulatedRelation

    Raises
    ------
    InputError
        When the file is missing, not NetCDF, not such a table, lacks the column, or is a
        relation of another ``variable``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, xarray as xr
    >>> from rhizoscale.io.netcdf import write_netcdf
    >>> table = xr.Dataset(
    ...     {"d_eff": (("theta", "mucilage_fraction"), [[0.01], [0.03]], {"units": "1"})},
    ...     coords={"theta": ("theta", [0.1, 0.2], {"units": "cm3 cm-3"}),
    ...             "mucilage_fraction": ("mucilage_fraction", [0.0], {"units": "1"})},
    ...     attrs={"porosity": 0.4})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "table.nc"
    ...     _ = write_netcdf(table, path)
    ...     rel = read_relation(path)
    >>> round(rel(0.15), 12), rel.porosity
    (0.02, 0.4)
    """
    try:
        rel = _read_relation(path, mucilage_fraction, component)
        got = getattr(rel, "variable", "theta")
        if variable is not None and got != variable:
            raise InputError(f"a relation of {got.replace('_', ' ')}, not of "
                             f"{variable.replace('_', ' ')}", source=path)
    except InputError as err:
        if field is None:
            raise
        raise InputError(str(err), field=field) from None
    return rel


def _one_relation(mucilage_fraction: float, path) -> None:
    """A single relation has no mucilage columns to choose from: a share other than 0
    would be ignored without a word (the relation is at whatever share made it)."""
    if mucilage_fraction != 0:
        raise InputError(f"is one relation, not a table with mucilage columns: mucilage_fraction "
                         f"{mucilage_fraction:g} would be ignored (leave it out; the relation is at the share "
                         "it was made for)", source=path)


def _read_relation(path, mucilage_fraction: float, component: str):
    from .io.netcdf import read_netcdf
    if is_product_reference(path):
        obj = resolve_product(str(path))
        if isinstance(obj, xr.Dataset):
            return TabulatedRelation.from_table(obj, mucilage_fraction=mucilage_fraction,
                                                component=component, source=str(path))
        if not callable(obj):
            raise InputError(f"{path} is not a relation (got {type(obj).__name__})", source=path)
        _one_relation(mucilage_fraction, path)
        return obj
    path = Path(path)
    if not path.is_file():
        raise InputError("no such effective-diffusivity table", source=path)
    try:
        ds = read_netcdf(path)
    except (OSError, ValueError) as err:
        raise InputError(f"not a NetCDF table ({err})", source=path) from None
    if ds.attrs.get("product") == "relation" and "value" in ds:     # one relation (relation_to_dataset)
        _one_relation(mucilage_fraction, path)
        return relation_from_dataset(ds, source=str(path))
    if "theta" not in ds.dims or "mucilage_fraction" not in ds.dims:
        raise InputError("not an effective-property table (needs dims theta, mucilage_fraction)",
                         source=path)
    return TabulatedRelation.from_table(ds, mucilage_fraction=mucilage_fraction,
                                        component=component, source=str(path))


@dataclass
class Products:
    """Everything one case-study run produced, by name.

    Attributes
    ----------
    case : str
        The case study that produced them.
    fields : dict of str -> xarray.Dataset
        Written as ``NAME.nc``; every variable and coordinate has units.
    scalars : dict of str -> Scalar
        Quantities of interest (``summary.json`` ``quantities``).
    images : dict of str -> Image
    relations : dict of str -> TabulatedRelation (or another callable with provenance)
    series : dict of str -> BoundarySeries
    root_systems : dict of str -> RootSystem
        Written as ``NAME.rsml``.
    figures : dict of str -> matplotlib Figure
        Written as ``NAME`` (the suffix gives the format).
    exports : dict of str -> callable(path)
        Other file formats for viewers (VTK, TIFF): ``NAME`` is written by calling the
        function with a temporary path (atomic rename after it returns).
    info : dict
        Free-form details for ``summary.json`` (parameters used, timings, notes).
    warnings : list of str

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = Products("toy")
    >>> p.add_scalar("uptake", 1.5, "umol", "cumulative P uptake")
    >>> p.add_field("c", xr.Dataset({"c": ("x", np.ones(2), {"units": "umol cm-3"})},
    ...                             coords={"x": ("x", [0.5, 1.5], {"units": "cm"})}))
    >>> p.value("uptake"), list(p.fields)
    (1.5, ['c'])
    >>> p.value("flux")
    Traceback (most recent call last):
    ...
    KeyError: "toy has no quantity 'flux'; available: uptake"
    """

    case: str
    fields: dict[str, xr.Dataset] = field(default_factory=dict)
    scalars: dict[str, Scalar] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    relations: dict[str, Any] = field(default_factory=dict)
    series: dict[str, BoundarySeries] = field(default_factory=dict)
    root_systems: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Callable[[Path], Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add_scalar(self, name: str, value, units: str, description: str = "") -> None:
        """Add a named quantity of interest with its units."""
        self.scalars[name] = Scalar(value, units, description)

    def add_field(self, name: str, ds: xr.Dataset) -> None:
        """Add a field (checked: units on every variable and coordinate)."""
        check_units(ds, f"{self.case}: {name}")
        self.fields[name] = ds

    def add_text(self, name: str, text: str) -> None:
        """Add a text file (e.g. a CSV copy of a table for spreadsheets)."""
        self.exports[name] = lambda path, text=text: Path(path).write_text(text, encoding="utf-8")

    def value(self, name: str) -> float:
        """The value of scalar ``name`` (KeyError naming the available ones)."""
        if name not in self.scalars:
            raise KeyError(f"{self.case} has no quantity {name!r}; available: {', '.join(self.scalars)}")
        return self.scalars[name].value
