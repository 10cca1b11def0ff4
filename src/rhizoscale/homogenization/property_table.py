"""Effective-property tables: D_eff(theta, mucilage) from pore-scale images, for upscaling.

A table is computed once from a granular packing at a set of liquid contents (and
mucilage shares) and stored as a small NetCDF file (plus a CSV copy for people); case
studies 1 and 2 load it with :func:`effective_diffusivity_table`, which returns a
function of the water content usable in place of Millington–Quirk.

All diffusivities in a table are relative to the diffusivity in free water
(``D_eff / D_w``), per unit bulk area/volume, like ``millington_quirk(theta, phi)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from ..products import TabulatedRelation, read_relation
from ..image.generators.granular import GranularPacking, liquid_configuration
from ..soil import millington_quirk
from .cell_problem import effective_diffusion_tensor

__all__ = ["effective_property_table", "write_property_table", "property_table_csv",
           "EffectiveDiffusivityTable", "effective_diffusivity_table"]


def effective_property_table(packing: GranularPacking, water_contents: Sequence[float],
                             mucilage_fractions: Sequence[float] = (0.0,), *,
                             rule: str = "film", periodisation: str = "translation",
                             d_mucilage: float = 0.5,
                             callback: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Effective diffusion tensors of one packing over liquid contents and mucilage shares.

    Parameters
    ----------
    packing : GranularPacking
        The grains (see :func:`rhizoscale.image.generators.granular.sand_packing`).
    water_contents : sequence of float
        Volumetric liquid contents theta [cm^3 cm^-3], increasing, each <= porosity.
    mucilage_fractions : sequence of float
        Shares of the liquid that are mucilage [-].
    rule : str
        Liquid placement rule of :func:`~rhizoscale.image.generators.liquid_configuration`.
    periodisation : str
        ``"translation"`` or ``"mirror"``.
    d_mucilage : float
        Mucilage diffusivity relative to water [-].
    callback : callable, optional
        ``callback(done, total)`` after each configuration.

    Returns
    -------
    xarray.Dataset
        ``tensor`` (theta, mucilage_fraction, i, j), ``d_eff`` (mean of the principal
        values, the isotropic equivalent), ``d_min``/``d_max`` (principal values),
        ``millington_quirk`` (theta), all relative to free water; attributes record the
        porosity, rule, periodisation and generator provenance.

    Raises
    ------
    InputError
        Water contents empty or not increasing (or above the porosity).

    References
    ----------
    Millington & Quirk (1961) for the comparison column.

    Examples
    --------
    >>> from rhizoscale.homogenization import effective_property_table
    >>> from rhizoscale.image.generators import sand_packing
    >>> packing = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)  # 1 x 1 mm
    >>> table = effective_property_table(packing, [0.2, 0.41], mucilage_fractions=[0.0, 0.1])
    >>> table["d_eff"].values.round(4)             # rows: theta, columns: mucilage share
    array([[0.0453, 0.0555],
           [0.1555, 0.1508]])
    """
    theta = np.asarray(water_contents, dtype=float)
    muc = np.asarray(mucilage_fractions, dtype=float)
    if theta.ndim != 1 or theta.size == 0 or np.any(np.diff(theta) <= 0):
        raise InputError("water contents must be a non-empty increasing sequence",
                         field="water_contents")

    def configure(th, m):
        return liquid_configuration(packing, th, m, rule=rule, d_mucilage=d_mucilage)

    tensors = tensor_grid(configure, theta, muc, (periodisation,), callback=callback)
    return xr.Dataset(
        {**principal_variables(tensors[periodisation]),
         "millington_quirk": (("theta",), millington_quirk(theta, packing.porosity) * np.ones_like(theta),
                              {"long_name": "Millington-Quirk theta^(10/3)/phi^2", "units": "1"})},
        coords=table_coords(theta, muc, packing.image.ndim, "volumetric liquid content"),
        attrs={"porosity": packing.porosity, "liquid_rule": rule, "periodisation": periodisation,
               "d_mucilage_relative": d_mucilage, "generator_seed": int(packing.image.metadata.get("seed", -1)),
               "voxel_size_cm": list(packing.image.voxel_size), "shape": list(packing.image.shape),
               "description": "rhizoscale case study 4: D_eff(theta, mucilage) by homogenisation"},
    )


def tensor_grid(configure: Callable, theta, mucilage_fractions, periodisations: Sequence[str] = ("translation",),
                *, on_image: Callable | None = None,
                callback: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Effective tensors of ``configure(theta, mucilage_fraction) -> Image`` over a grid.

    The one loop behind :func:`effective_property_table` and the ``cs4-diffusivity-table``
    chain: a configuration with nothing that conducts keeps a zero tensor.

    Parameters
    ----------
    configure : callable
        ``configure(theta, mucilage_fraction)`` -> phase Image.
    theta, mucilage_fractions : sequence of float
        The grid [cm^3 cm^-3], [-].
    periodisations : sequence of str
        ``"translation"`` and/or ``"mirror"``.
    on_image : callable, optional
        ``on_image(a, b, image)`` for each configuration (e.g. to record its contents).
    callback : callable, optional
        ``callback(done, total)`` after each configuration.

    Returns
    -------
    dict of str to ndarray
        Periodisation -> tensors (theta, mucilage_fraction, i, j), relative to the phase
        diffusivities' unit.

    Examples
    --------
    >>> from rhizoscale.image.generators import sand_packing
    >>> from rhizoscale.image.generators.granular import liquid_configuration
    >>> packing = sand_packing((60, 60), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)
    >>> t = tensor_grid(lambda th, m: liquid_configuration(packing, th, m), [0.41], [0.0])
    >>> t["translation"].shape
    (1, 1, 2, 2)
    """
    theta = np.asarray(theta, dtype=float)
    muc = np.asarray(mucilage_fractions, dtype=float)
    tensors: dict[str, np.ndarray] = {}
    total, done = theta.size * muc.size, 0
    for a, th in enumerate(theta):
        for b, m in enumerate(muc):
            img = configure(float(th), float(m))
            if not tensors:
                tensors = {per: np.zeros((theta.size, muc.size, img.ndim, img.ndim)) for per in periodisations}
            if on_image is not None:
                on_image(a, b, img)
            if np.any(img.diffusivity() > 0):
                for per in periodisations:
                    tensors[per][a, b] = effective_diffusion_tensor(img, periodisation=per).tensor
            done += 1
            if callback is not None:
                callback(done, total)
    return tensors


def principal_variables(tensor: np.ndarray, suffix: str = "", label: str = "") -> dict:
    """Table variables of tensors (theta, mucilage_fraction, i, j): ``tensor``, ``d_eff``
    (mean principal value), ``d_min``, ``d_max``, each named with ``suffix`` and with
    ``label`` (e.g. " (mirror)") in its long name."""
    eig = np.linalg.eigvalsh(tensor)
    dims = ("theta", "mucilage_fraction")
    out = {f"tensor{suffix}": (dims + ("i", "j"), tensor,
                               {"long_name": f"effective diffusion tensor / D_water{label}", "units": "1"})}
    for name, val, what in (("d_eff", eig.mean(axis=-1), "mean principal"), ("d_min", eig[..., 0], "smallest principal"),
                            ("d_max", eig[..., -1], "largest principal")):
        out[f"{name}{suffix}"] = (dims, val, {"long_name": f"{what} effective diffusivity / D_water{label}",
                                              "units": "1"})
    return out


def table_coords(theta, mucilage_fractions, ndim: int, theta_name: str) -> dict:
    """The coordinates of a D_eff(theta, mucilage) table."""
    axes = ["y", "x"] if ndim == 2 else ["z", "y", "x"]
    return {"theta": ("theta", np.asarray(theta, float), {"units": "cm3 cm-3", "long_name": theta_name}),
            "mucilage_fraction": ("mucilage_fraction", np.asarray(mucilage_fractions, float),
                                  {"units": "1", "long_name": "mucilage share of the liquid"}),
            "i": ("i", axes, {"units": "1", "long_name": "tensor row axis"}),
            "j": ("j", axes, {"units": "1", "long_name": "tensor column axis"})}


def property_table_csv(ds: xr.Dataset) -> str:
    """CSV text of a table: one row per (theta, mucilage_fraction) with d_eff, d_min, d_max, MQ.

    Parameters
    ----------
    ds : xarray.Dataset
        A table from :func:`effective_property_table`.

    Returns
    -------
    str
        A comment line (porosity, rule, periodisation), a header and one row per
        configuration.

    Examples
    --------
    >>> from rhizoscale.homogenization import effective_property_table
    >>> from rhizoscale.homogenization.property_table import property_table_csv
    >>> from rhizoscale.image.generators import sand_packing
    >>> table = effective_property_table(sand_packing((60, 60), 1e-3, mean_radius=0.01, seed=0), [0.41])
    >>> print(property_table_csv(table).splitlines()[1])
    theta,mucilage_fraction,d_eff,d_min,d_max,millington_quirk
    """
    lines = [f"# porosity={ds.attrs.get('porosity', float('nan')):.6g}, "
             f"rule={ds.attrs.get('liquid_rule', '')}, periodisation={ds.attrs.get('periodisation', '')}, "
             "diffusivities relative to free water",
             "theta,mucilage_fraction,d_eff,d_min,d_max,millington_quirk"]
    for a, th in enumerate(ds.theta.values):
        for b, m in enumerate(ds.mucilage_fraction.values):
            lines.append(f"{th:.6g},{m:.6g},{ds.d_eff.values[a, b]:.6e},{ds.d_min.values[a, b]:.6e},"
                         f"{ds.d_max.values[a, b]:.6e},{ds.millington_quirk.values[a]:.6e}")
    return "\n".join(lines) + "\n"


def write_property_table(ds: xr.Dataset, path: str | Path) -> tuple[Path, Path]:
    """Write a table as NetCDF (``path``) and CSV (same name, ``.csv``), atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A table from :func:`effective_property_table`.
    path : str or Path
        The NetCDF file (its suffix is replaced by ``.nc``).

    Returns
    -------
    (Path, Path)
        The NetCDF and CSV files.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.homogenization import (effective_diffusivity_table, effective_property_table,
    ...                                        write_property_table)
    >>> from rhizoscale.image.generators import sand_packing
    >>> packing = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=0)
    >>> table = effective_property_table(packing, [0.2, 0.41], [0.0, 0.1])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     nc, csv = write_property_table(table, Path(tmp) / "d_eff.nc")
    ...     d_eff = effective_diffusivity_table(nc, mucilage_fraction=0.1)
    ...     print(csv.read_text().splitlines()[1])
    theta,mucilage_fraction,d_eff,d_min,d_max,millington_quirk
    >>> round(d_eff(0.2), 4), round(d_eff(0.1), 4)           # linear in theta, 0 at theta = 0
    (0.0555, 0.0277)
    """
    from ..io import atomic_write, write_netcdf
    path = Path(path)
    nc = write_netcdf(ds, path.with_suffix(".nc"))
    csv = path.with_suffix(".csv")
    with atomic_write(csv) as fh:
        fh.write(property_table_csv(ds))
    return nc, csv


#: ``D_eff(theta)`` from a table: the constitutive-relation product
#: (:class:`rhizoscale.products.TabulatedRelation`), a drop-in for ``millington_quirk``.
EffectiveDiffusivityTable = TabulatedRelation


def effective_diffusivity_table(path: str | Path, mucilage_fraction: float = 0.0,
                                component: str = "d_eff") -> TabulatedRelation:
    """Load a table written by :func:`write_property_table` as a function of theta.

    Parameters
    ----------
    path : path-like
        The ``.nc`` file.
    mucilage_fraction : float
        Which mucilage share to use (must be one of the tabulated ones).
    component : {"d_eff", "d_min", "d_max"}
        Isotropic equivalent (mean principal value) or the smallest/largest principal value.

    Returns
    -------
    TabulatedRelation
        ``f(theta, porosity=None, d_water=1.0)`` -> effective diffusivity in units of d_water.

    Raises
    ------
    InputError
        No such file, unknown component, or a mucilage share that is not tabulated.

    See Also
    --------
    write_property_table : has an example that writes and reads a table.
    rhizoscale.soil.millington_quirk : the empirical model it replaces.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.homogenization import effective_property_table, write_property_table
    >>> from rhizoscale.image.generators import sand_packing
    >>> table = effective_property_table(sand_packing((60, 60), 1e-3, mean_radius=0.01, seed=0),
    ...                                  [0.2, 0.41])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     nc, _ = write_property_table(table, Path(tmp) / "d_eff.nc")
    ...     d_eff = effective_diffusivity_table(nc)
    >>> d_eff.component, bool(0 < d_eff(0.3) < 1)          # relative to free water
    ('d_eff', True)
    """
    return read_relation(path, mucilage_fraction=mucilage_fraction, component=component)
