"""Root architecture parameters in the RootBox/CPlantBox tradition.

A plant is described by a *seed* (where roots start, basal and shoot-borne roots) and a
list of *root types*, each identified by CPlantBox's ``subType`` number. Field names follow
CPlantBox (``lb``, ``la``, ``ln``, ``lmax``, ``r``, ``a``, ``theta``, ``tropismT``,
``tropismN``, ``tropismS``, ``dx``, ``gf``); the standard deviation of a field (the ``dev``
attribute in CPlantBox XML files) is the field name with ``_sd`` appended.

Type 1 is the taproot. Roots from the seed other than the taproot use ``seed.basal_type``
(CPlantBox's default 4) and ``seed.shootborne_type`` (default 5); a missing type falls back
to the taproot's parameters, as in CPlantBox.

References
----------
Leitner D, Klepsch S, Bodner G, Schnepf A (2010) A dynamic root system growth model based
on L-Systems. Plant Soil 332:177-192.
Schnepf A, Leitner D, Landl M, Lobet G, Mai TH, Morandage S, Sheng C, Zörner M,
Vanderborght J, Vereecken H (2018) CRootBox: a structural-functional modelling framework
for root systems. Ann Bot 121:1033-1053.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field

from ._base import StrictModel
from ..errors import InputError
from ._base import ParameterSet, quantity

__all__ = [
    "Successor",
    "RootTypeParameters",
    "SeedParameters",
    "PlantParameters",
    "TROPISM_NAMES",
    "GROWTH_FUNCTIONS",
    "check_plant_parameters",
]

#: CPlantBox tropism type numbers supported by the growth model
TROPISM_NAMES = {0: "plagiotropism", 1: "gravitropism", 2: "exotropism"}
#: CPlantBox growth function numbers supported by the growth model
GROWTH_FUNCTIONS = {1: "negative exponential", 2: "linear"}


class _Strict(StrictModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


class Successor(_Strict):
    """One successor rule of a root type: which laterals emerge at each branching point.

    At every branching point ``number`` laterals are created; each one's type is drawn from
    ``subtypes`` with ``probabilities`` (a shortfall of the sum below 1 is the probability
    of no lateral), as in CPlantBox's ``successor`` parameters.

    Parameters
    ----------
    subtypes : list of int
        Lateral root types (CPlantBox ``subType``).
    probabilities : list of float
        Probability of each lateral type [1] (empty: equal shares).
    number : int
        Laterals per branching point (CPlantBox ``numLat``) [1].

    References
    ----------
    Schnepf, A., Leitner, D., Landl, M., et al. (2018). CRootBox: a structural-functional
    modelling framework for root systems. Annals of Botany, 121(5), 1033-1053.

    Examples
    --------
    >>> from rhizoscale.parameters import Successor
    >>> Successor(subtypes=[2, 3], probabilities=[0.7, 0.3])
    Successor(subtypes=[2, 3], probabilities=[0.7, 0.3], number=1)
    """

    subtypes: list[int] = Field(..., min_length=1, description="Lateral root types (subType)")
    probabilities: list[float] = Field(default_factory=list,
                                       description="Probability of each lateral type [1]")
    number: int = Field(1, ge=0, description="Laterals per branching point (CPlantBox numLat) [1]")


class RootTypeParameters(_Strict):
    """Parameters of one root type (CPlantBox ``RootRandomParameter``).

    Field names follow CPlantBox (``lb`` basal zone, ``la`` apical zone, ``ln`` inter-branch
    distance, ``lmax`` maximal length [cm]; ``r`` initial elongation rate [cm d-1]; ``a``
    radius [cm]; ``theta`` insertion angle [rad]; ``tropismT/N/S`` tropism type, strength
    and flexibility; ``dx`` axial resolution [cm]; ``gf`` growth function), standard
    deviations as ``<name>_sd``; units are listed in the table below.

    References
    ----------
    Schnepf, A., et al. (2018). CRootBox: a structural–functional modelling framework for
    root systems. Ann. Bot., 121, 1033–1053.

    Examples
    --------
    >>> from rhizoscale.plant import load_plant_parameters
    >>> taproot = load_plant_parameters("vicia_faba").root_type(1)
    >>> taproot.r, taproot.lmax                  # cm d-1, cm
    (2.0710001, 150.0)
    """

    name: str = Field("root", description="Name of the root type")
    subType: int = Field(..., ge=1, description="Root type number (1 = taproot)")
    lb: float = quantity(0.0, units="cm", description="Basal zone (no laterals)", ge=0)
    lb_sd: float = quantity(0.0, units="cm", description="Standard deviation of lb", ge=0)
    la: float = quantity(0.0, units="cm", description="Apical zone (no laterals)", ge=0)
    la_sd: float = quantity(0.0, units="cm", description="Standard deviation of la", ge=0)
    ln: float = quantity(0.0, units="cm", description="Inter-branch distance", ge=0)
    ln_sd: float = quantity(0.0, units="cm", description="Standard deviation of ln", ge=0)
    lmax: float = quantity(..., units="cm", description="Maximal root length", ge=0)
    lmax_sd: float = quantity(0.0, units="cm", description="Standard deviation of lmax", ge=0)
    r: float = quantity(..., units="cm d-1", description="Initial growth rate", ge=0)
    r_sd: float = quantity(0.0, units="cm d-1", description="Standard deviation of r", ge=0)
    a: float = quantity(..., units="cm", description="Root radius", gt=0)
    a_sd: float = quantity(0.0, units="cm", description="Standard deviation of a", ge=0)
    theta: float = quantity(0.0, units="rad", description="Insertion angle to the parent root",
                            ge=0)
    theta_sd: float = quantity(0.0, units="rad", description="Standard deviation of theta", ge=0)
    tropismT: int = Field(1, ge=0, description="Tropism type: 0 plagio-, 1 gravi-, 2 exotropism")
    tropismN: float = quantity(0.0, units="1", description="Tropism strength (trials per sqrt(cm))",
                               ge=0)
    tropismS: float = quantity(0.0, units="rad cm-1/2",
                               description="Tropism flexibility: sd of the angular change", ge=0)
    dx: float = quantity(0.5, units="cm", description="Maximal segment length", gt=0)
    gf: int = Field(2, ge=1, description="Growth function: 1 negative exponential, 2 linear")
    successors: list[Successor] = Field(default_factory=list, description="Successor rules")

    @property
    def has_laterals(self) -> bool:
        return any(s.number > 0 for s in self.successors)


class SeedParameters(_Strict):
    """Seed: start point and the roots other than the taproot that emerge from it.

    Parameters
    ----------
    **fields
        The fields listed below (CPlantBox ``SeedRandomParameter`` names; position [cm],
        times [d]).

    Examples
    --------
    >>> from rhizoscale.plant import load_plant_parameters
    >>> load_plant_parameters("vicia_faba").seed.position      # cm
    (0.0, 0.0, -0.60000002)
    """

    position: tuple[float, float, float] = quantity((0.0, 0.0, -3.0), units="cm",
                                                    description="Seed position (x, y, z)")
    firstB: float = quantity(1e9, units="d", description="Emergence of the first basal root", ge=0)
    delayB: float = quantity(1e9, units="d", description="Delay between basal roots", ge=0)
    maxB: int = Field(0, ge=0, description="Maximal number of basal roots")
    basal_type: int = Field(4, ge=1, description="Root type of basal roots (CPlantBox default 4)")
    nC: int = Field(0, ge=0, description="Shoot-borne roots per root crown")
    firstSB: float = quantity(1e9, units="d", description="Emergence of the first shoot-borne root",
                              ge=0)
    delaySB: float = quantity(1e9, units="d", description="Delay between shoot-borne roots", ge=0)
    delayRC: float = quantity(1e9, units="d", description="Delay between root crowns", ge=0)
    shootborne_type: int = Field(5, ge=1, description="Root type of shoot-borne roots (default 5)")


class PlantParameters(ParameterSet):
    """A plant's root architecture parameters: the seed and the root types.

    ``reader_warnings`` lists what a file reader ignored (e.g. the leaf and stem parameters
    of a CPlantBox XML file), so that it can be reported to the user.

    Parameters
    ----------
    seed : SeedParameters
        The seed.
    root_types : list of RootTypeParameters
        One entry per root type (``subType`` 1 is the taproot).
    reader_warnings : list of str
        What the reader ignored in the file.

    References
    ----------
    Schnepf, A., Leitner, D., Landl, M., et al. (2018). CRootBox: a structural-functional
    modelling framework for root systems. Annals of Botany, 121(5), 1033-1053.

    Examples
    --------
    >>> from rhizoscale.plant import load_plant_parameters
    >>> faba = load_plant_parameters("vicia_faba")
    >>> faba.name, [rt.subType for rt in faba.root_types]
    ('vicia_faba', [1, 2, 3])
    >>> slower = faba.with_root_type(1, r=1.0)              # a validated copy
    >>> slower.root_type(1).r, faba.root_type(1).r
    (1.0, 2.0710001)
    """

    seed: SeedParameters = Field(default_factory=SeedParameters, description="Seed parameters")
    root_types: list[RootTypeParameters] = Field(..., min_length=1, description="Root types")
    reader_warnings: list[str] = Field(default_factory=list,
                                       description="What the reader ignored in the file")

    def root_type(self, subtype: int) -> RootTypeParameters:
        """The parameters of root type ``subtype`` (KeyError if it is not defined)."""
        for rt in self.root_types:
            if rt.subType == subtype:
                return rt
        raise KeyError(subtype)

    def subtypes(self) -> list[int]:
        return [rt.subType for rt in self.root_types]

    def with_root_type(self, subtype: int, **changes) -> "PlantParameters":
        """A copy with some values of root type ``subtype`` replaced (validated)."""
        data = self.model_dump()
        for rt in data["root_types"]:
            if rt["subType"] == subtype:
                rt.update(changes)
                break
        else:
            raise InputError(f"no root type with subType {subtype}", source=self.name)
        return type(self).model_validate(data)


def check_plant_parameters(p: PlantParameters, source: object | None = None,
                           require_taproot: bool = True) -> None:
    """Cross-field checks that one field's validation cannot do; raise :class:`InputError`.

    Checks that subtypes are unique, a taproot (type 1) exists, successors name existing
    types with one probability each summing to at most 1, and that the tropism and growth
    function numbers are implemented.

    Parameters
    ----------
    p : PlantParameters
        The parameters to check.
    source : object, optional
        The file they came from (named in errors; default the set's name).
    require_taproot : bool
        Require a root type with ``subType`` 1.

    Raises
    ------
    InputError
        The first problem found, naming ``root_types[i].field``.

    Examples
    --------
    >>> from rhizoscale.parameters.root_architecture import check_plant_parameters
    >>> from rhizoscale.plant import load_plant_parameters
    >>> faba = load_plant_parameters("vicia_faba")
    >>> check_plant_parameters(faba)                       # fine: returns None
    >>> no_taproot = faba.model_copy(update={"root_types": faba.root_types[1:]})
    >>> check_plant_parameters(no_taproot)
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: vicia_faba: root_types: no taproot: a root type with subType 1 is required
    """
    src = source if source is not None else p.name
    seen: dict[int, int] = {}
    for i, rt in enumerate(p.root_types):
        where = f"root_types[{i}]"
        if rt.subType in seen:
            raise InputError(f"subType {rt.subType} defined twice (also root_types[{seen[rt.subType]}])",
                             source=src, field=f"{where}.subType")
        seen[rt.subType] = i
    if require_taproot and 1 not in seen:
        raise InputError("no taproot: a root type with subType 1 is required", source=src,
                         field="root_types")
    for i, rt in enumerate(p.root_types):
        where = f"root_types[{i}]"
        if rt.gf not in GROWTH_FUNCTIONS:
            raise InputError(f"growth function {rt.gf} is not implemented (1 negative exponential, "
                             "2 linear)", source=src, field=f"{where}.gf")
        if rt.tropismT not in TROPISM_NAMES:
            raise InputError(f"tropism type {rt.tropismT} is not implemented (0 plagio-, 1 gravi-, "
                             "2 exotropism)", source=src, field=f"{where}.tropismT")
        for j, s in enumerate(rt.successors):
            sw = f"{where}.successors[{j}]"
            probs = s.probabilities or [1.0 / len(s.subtypes)] * len(s.subtypes)
            if len(probs) != len(s.subtypes):
                raise InputError("one probability per successor type is needed", source=src,
                                 field=f"{sw}.probabilities")
            if any(q < 0 or q > 1 for q in probs) or sum(probs) > 1 + 1e-6:
                raise InputError(f"probabilities must be in [0, 1] and sum to at most 1 (got {probs})",
                                 source=src, field=f"{sw}.probabilities")
            for st in s.subtypes:
                if st not in seen:
                    raise InputError(f"successor type {st} is not defined", source=src,
                                     field=f"{sw}.subtypes")


def source_name(path: str | Path) -> str:
    """Short file name used in error messages."""
    return Path(path).name
