"""Parameter sets of case study 2: soil, phosphate, citrate.

Units follow Schnepf, Leitner & Klepsch (2012): amounts in µmol, lengths in cm, time in
s, soil mass in g. Concentrations in the soil solution are µmol cm-3 (of solution),
sorbed amounts µmol g-1 (of dry soil), totals µmol cm-3 (of bulk soil). Scenarios give
durations in days; the scenario module converts at the edge.

Named sets ship as YAML in ``rhizoscale/parameters/data``: ``cs2_soil_low_sorption``,
``cs2_soil_medium_sorption``, ``cs2_soil_high_sorption``, ``phosphate_brassica_napus``,
``citrate`` (its ``uptake`` section). Every value there carries its source; values we had to choose say
``chosen: ...``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from ..parameters import ParameterSet, load_parameter_set, quantity

__all__ = [
    "SoilParameters",
    "PhosphateParameters",
    "CitrateParameters",
    "load_soil",
    "load_phosphate",
    "load_citrate",
]


class SoilParameters(ParameterSet):
    """Soil physical state and competitive Langmuir sorption of phosphate and citrate.

    Parameters
    ----------
    **fields
        The fields listed below (units in brackets); the water content must not exceed
        the porosity.

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).
    .. [2] Kirk, G. J. D. (1999). A model of phosphate solubilization by organic anion
       excretion from plant roots. European Journal of Soil Science, 50, 369-378.

    Examples
    --------
    >>> soil = load_soil("cs2_soil_medium_sorption")
    >>> soil.water_content, soil.bulk_density, soil.units("bulk_density")
    (0.3, 1.3, 'g cm-3')
    >>> soil.source("bulk_density")
    'chosen: (1 - porosity) x 2.65 g cm-3 particle density, rounded'
    >>> soil.with_overrides({"water_content": 0.6})
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: ...water content 0.6 exceeds porosity 0.5...
    """

    water_content: float = quantity(0.3, units="cm3 cm-3", description="volumetric water content theta", gt=0, le=1)
    porosity: float = quantity(0.5, units="cm3 cm-3", description="total porosity phi", gt=0, le=1)
    bulk_density: float = quantity(1.3, units="g cm-3", description="dry bulk density rho", gt=0)
    smax_phosphate: float = quantity(5.0, units="umol g-1", description="Langmuir sorption capacity for phosphate", ge=0)
    k_phosphate: float = quantity(20.0, units="cm3 umol-1", description="Langmuir affinity of phosphate", ge=0)
    smax_citrate: float = quantity(1.0, units="umol g-1", description="Langmuir sorption capacity for citrate", ge=0)
    k_citrate: float = quantity(10.0, units="cm3 umol-1", description="Langmuir affinity of citrate", ge=0)
    initial_phosphate: float = quantity(2e-3, units="umol cm-3",
                                        description="initial phosphate concentration in the soil solution", ge=0)

    @model_validator(mode="after")
    def _water_fits(self):
        if self.water_content > self.porosity:
            raise ValueError(f"water content {self.water_content} exceeds porosity {self.porosity}")
        return self


class PhosphateParameters(ParameterSet):
    """Phosphate diffusion in water and Michaelis–Menten uptake by the root surface.

    Parameters
    ----------
    **fields
        The fields listed below (units in brackets).

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    >>> p = load_phosphate("phosphate_brassica_napus")
    >>> p.d_water, p.units("d_water"), p.imax, p.units("imax"), p.km, p.units("km")
    (8.46e-06, 'cm2 s-1', 3.26e-06, 'umol cm-2 s-1', 0.0058, 'umol cm-3')
    """

    d_water: float = quantity(8.46e-6, units="cm2 s-1", description="diffusion coefficient in free water", gt=0)
    imax: float = quantity(3.26e-6, units="umol cm-2 s-1", description="maximal uptake rate per root surface", ge=0)
    km: float = quantity(5.8e-3, units="umol cm-3", description="Michaelis constant (above cmin)", gt=0)
    cmin: float = quantity(2e-4, units="umol cm-3", description="concentration below which uptake stops", ge=0)


class CitrateParameters(ParameterSet):
    """Citrate diffusion in water, exudation by the root surface and decomposition.

    Read from the ``uptake`` section of the substance file ``citrate``.

    Parameters
    ----------
    **fields
        The fields listed below (units in brackets).

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    >>> import numpy as np
    >>> citrate = load_citrate("citrate")
    >>> citrate.exudation_rate, citrate.units("exudation_rate")
    (3e-06, 'umol cm-2 s-1')
    >>> round(float(np.log(2) / citrate.decay_rate / 3600), 1)      # half-life [h]
    11.7
    """

    SECTION = "uptake"

    d_water: float = quantity(6.2e-6, units="cm2 s-1", description="diffusion coefficient in free water", gt=0)
    exudation_rate: float = quantity(3e-6, units="umol cm-2 s-1", description="citrate efflux per root surface", ge=0)
    decay_rate: float = quantity(1.64e-5, units="s-1",
                                 description="first-order decomposition rate of dissolved citrate", ge=0)
    exudation_zone: float | None = quantity(
        None, units="cm",
        description="exude only within this distance behind each tip (None: whole root surface)", gt=0)


def _load(cls, name_or_path):
    return load_parameter_set(cls, name_or_path)


def load_soil(name_or_path: str | Path = "cs2_soil_medium_sorption") -> SoilParameters:
    """Load a soil set (shipped name or YAML path).

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        ``cs2_soil_low_sorption``, ``cs2_soil_medium_sorption``,
        ``cs2_soil_high_sorption`` or a YAML file.

    Returns
    -------
    SoilParameters

    Examples
    --------
    >>> [load_soil(f"cs2_soil_{s}_sorption").smax_phosphate for s in ("low", "medium", "high")]
    [1.5, 5.0, 15.0]
    """
    return _load(SoilParameters, name_or_path)


def load_phosphate(name_or_path: str | Path = "phosphate_brassica_napus") -> PhosphateParameters:
    """Load a phosphate set (shipped name or YAML path).

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A shipped set's name or a YAML file.

    Returns
    -------
    PhosphateParameters

    Examples
    --------
    >>> load_phosphate().cmin                       # [umol cm-3]
    0.0002
    """
    return _load(PhosphateParameters, name_or_path)


def load_citrate(name_or_path: str | Path = "citrate") -> CitrateParameters:
    """Load a citrate set (shipped name or YAML path).

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A shipped substance file's name (its ``uptake`` section) or a YAML file.

    Returns
    -------
    CitrateParameters

    Examples
    --------
    >>> load_citrate().d_water                      # [cm2 s-1]
    6.2e-06
    """
    return _load(CitrateParameters, name_or_path)
