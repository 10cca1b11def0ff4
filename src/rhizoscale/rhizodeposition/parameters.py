"""Parameters of one rhizodeposit (exudate) released by a growing root system.

The transport model is ``theta R dc/dt = theta D lap(c) - theta k c + q`` for the
liquid-phase concentration ``c`` [ug cm-3 of soil solution]; see
:mod:`rhizoscale.rhizodeposition.green`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ..errors import InputError
from ..parameters import ParameterSet, quantity

__all__ = ["ExudateParameters", "THRESHOLD_UNITS", "threshold_to_liquid"]

#: units accepted for hotspot thresholds
THRESHOLD_UNITS = ("ug cm-3", "mg g-1", "ug g-1", "umol g-1")


class ExudateParameters(ParameterSet):
    """Release, transport and hotspot threshold of one rhizodeposit.

    Read from the ``rhizodeposition`` section of a substance file (``citrate``) or from
    the top level of a file that holds only this model (``mucilage``).

    ``Q`` is per root tip for a point source and per cm of release zone for a line
    source. ``D`` is the effective diffusion coefficient in soil (impedance included).
    Decay acts on the dissolved phase, so the effective rate on total mass is ``k / R``.
    Shipped sets: ``mucilage`` (point source) and ``citrate`` (line source over the last
    5 cm), from the Landl et al. (2021) scripts in CPlantBox (unverified against the paper).

    References
    ----------
    Landl, M., et al. (2021). Front. Plant Sci. (case study 1).

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters
    >>> citrate = load_parameter_set(ExudateParameters, "citrate")
    >>> citrate.release, citrate.Q, citrate.units("Q")
    ('line', 18.4, 'ug d-1 (per tip) or ug cm-1 d-1 (line)')
    >>> citrate.threshold_liquid                    # the authors' analysis value (docs/reproduce.md)
    55.0
    >>> round(citrate.with_overrides({"threshold": 5, "threshold_units": "umol g-1"}).threshold_liquid, 1)
    222.7
    """

    SECTION = "rhizodeposition"

    release: Literal["point", "line"] = "point"
    Q: float = quantity(33.38, units="ug d-1 (per tip) or ug cm-1 d-1 (line)",
                        description="Release rate", ge=0)
    D: float = quantity(1.04e-3, units="cm2 d-1",
                        description="Effective diffusion coefficient in soil (impedance included)", gt=0)
    theta: float = quantity(0.3, units="1", description="Volumetric water content", gt=0, le=1)
    R: float = quantity(1.0, units="1", description="Retardation factor (1 + buffer power)", ge=1)
    k: float = quantity(0.22, units="d-1", description="First-order decay rate of the dissolved phase", ge=0)
    release_length: float = quantity(0.0, units="cm",
                                     description="Length of the release zone behind the tip (line source)", ge=0)
    stopped_roots: Literal["stop", "continue"] = "stop"
    source_width: float = quantity(
        0.0, units="cm",
        description="Standard deviation of the Gaussian over which mass is released around the "
                    "root axis (0 = exact point/line source)", ge=0)
    threshold: float = quantity(1300.0, units="as threshold_units", description="Hotspot threshold", gt=0)
    threshold_units: str = "ug cm-3"
    bulk_density: float = quantity(1.18, units="g cm-3", description="Dry bulk density of the soil", gt=0)
    molar_mass: float = quantity(0.0, units="g mol-1",
                                 description="Molar mass (for thresholds in umol g-1; 0 = unknown)", ge=0)

    @model_validator(mode="after")
    def _consistent(self):
        if self.release == "line" and self.release_length <= 0:
            raise ValueError("release_length: a line source needs release_length > 0")
        if self.threshold_units not in THRESHOLD_UNITS:
            raise ValueError(f"threshold_units: unknown units {self.threshold_units!r}; use one of "
                             + ", ".join(THRESHOLD_UNITS))
        if self.threshold_units == "umol g-1" and self.molar_mass <= 0:
            raise ValueError("molar_mass: a threshold in umol g-1 needs the molar mass")
        return self

    @property
    def diffusivity_retarded(self) -> float:
        """``D / R`` [cm2 d-1], the diffusivity of total mass."""
        return self.D / self.R

    @property
    def decay_retarded(self) -> float:
        """``k / R`` [d-1], the decay rate of total mass."""
        return self.k / self.R

    @property
    def threshold_liquid(self) -> float:
        """Hotspot threshold as a liquid-phase concentration [ug cm-3]."""
        return threshold_to_liquid(self.threshold, self.threshold_units, theta=self.theta, R=self.R,
                                   bulk_density=self.bulk_density, molar_mass=self.molar_mass)


def threshold_to_liquid(value: float, units: str, *, theta: float, R: float, bulk_density: float,
                        molar_mass: float = 0.0) -> float:
    """Convert a hotspot threshold to a liquid-phase concentration [ug cm-3].

    A threshold per gram of dry soil is read as the *total* amount (dissolved plus sorbed)
    per dry soil mass ``w``; the total amount per soil volume is ``w * rho_b`` and equals
    ``theta R c`` (R = 1 + buffer power), so ``c = w rho_b / (theta R)``.

    Parameters
    ----------
    value : float
        Threshold in ``units``.
    units : {"ug cm-3", "mg g-1", "ug g-1", "umol g-1"}
        ``ug cm-3``: liquid concentration (returned as is); ``mg g-1``/``ug g-1``: mass per
        dry soil mass; ``umol g-1``: moles per dry soil mass (needs ``molar_mass``).
    theta : float
        Volumetric water content [1].
    R : float
        Retardation factor [1].
    bulk_density : float
        Dry bulk density [g cm-3].
    molar_mass : float
        Molar mass [g mol-1] (= ug umol-1).

    Returns
    -------
    float
        Liquid-phase concentration [ug cm-3].

    Raises
    ------
    InputError
        Unknown units, or ``umol g-1`` without a molar mass.

    Examples
    --------
    The mucilage threshold of Landl et al. (2021), 0.33 mg per g of dry soil:

    >>> from rhizoscale.rhizodeposition import threshold_to_liquid
    >>> threshold_to_liquid(0.33, "mg g-1", theta=0.3, R=1.0, bulk_density=1.18)
    1298.0
    """
    if units == "ug cm-3":
        return float(value)
    if units == "mg g-1":
        per_gram = 1e3 * value
    elif units == "ug g-1":
        per_gram = float(value)
    elif units == "umol g-1":
        if molar_mass <= 0:
            raise InputError("a threshold in umol g-1 needs a molar mass > 0", field="molar_mass")
        per_gram = value * molar_mass
    else:
        raise InputError(f"unknown threshold units {units!r}; use one of " + ", ".join(THRESHOLD_UNITS),
                         field="threshold_units")
    return per_gram * bulk_density / (theta * R)
