"""Reader for CPlantBox's parameter XML files (root system part).

CPlantBox stores a plant as ``<plant>`` with one ``<seed>`` and one ``<root subType=..>``
element per root type (newer files may write ``<organ type="root" subType=..>``); each
holds ``<parameter name=".." value=".." dev=".."/>`` entries, and successor rules as
``<parameter name="successor" ruleId=".." numLat=".." subType=".." percentage=".."/>``.
Only the root architecture is read. Everything else (stems, leaves, root hairs, colours,
parameters this growth model does not use) is ignored and listed in
``PlantParameters.reader_warnings``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import InputError
from ._base import parameter_set_from_dict
from .root_architecture import PlantParameters, check_plant_parameters

__all__ = ["read_cplantbox_xml", "write_cplantbox_xml"]

# XML parameter name -> (our field, has a standard deviation, integer)
_ROOT_FIELDS = {
    "lb": ("lb", True, False), "la": ("la", True, False), "ln": ("ln", True, False),
    "lmax": ("lmax", True, False), "r": ("r", True, False), "a": ("a", True, False),
    "theta": ("theta", True, False), "tropismT": ("tropismT", False, True),
    "tropismN": ("tropismN", False, False), "tropismS": ("tropismS", False, False),
    "dx": ("dx", False, False), "gf": ("gf", False, True),
}
_SEED_FIELDS = {
    "firstB": ("firstB", False), "delayB": ("delayB", False), "maxB": ("maxB", True),
    "nC": ("nC", True), "firstSB": ("firstSB", False), "delaySB": ("delaySB", False),
    "delayRC": ("delayRC", False),
}
# parameters whose default value changes nothing in the root architecture we grow
_HARMLESS_DEFAULTS = {"lnk": 0.0, "hairsElongation": None, "hairsLength": None, "hairsZone": None,
                      "dxMin": None, "colorR": None, "colorG": None, "colorB": None,
                      "ldelay": None, "simulationTime": None, "simtime": None, "nz": None,
                      "a": None, "dx": None, "delayTil": None, "firstTil": None, "maxTil": 0.0,
                      "delayDefinitionShoot": None, "delayDefinitionRoot": 0.0}


def _number(el: ET.Element, attr: str, src: str, field: str) -> float:
    text = el.get(attr)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"attribute {attr}={text!r} is not a number", source=src, field=field) from None
    if math.isnan(value):
        raise InputError(f"attribute {attr} is NaN", source=src, field=field)
    return value


def _organ_kind(el: ET.Element) -> str | None:
    if el.tag in ("root", "seed", "stem", "leaf"):
        return el.tag
    if el.tag == "organ":
        return el.get("type")
    return None


def read_cplantbox_xml(path: str | Path) -> PlantParameters:
    """Read the root architecture parameters from a CPlantBox XML file.

    Parameters
    ----------
    path : str or path
        A CPlantBox parameter file (root system or plant).

    Returns
    -------
    PlantParameters
        Validated parameters; ``reader_warnings`` lists what was ignored.

    Raises
    ------
    InputError
        Malformed XML (with the line), a missing or non-numeric value, or an invalid
        value (naming ``root_types[i].field``).

    References
    ----------
    Schnepf, A., et al. (2018). CRootBox: a structural–functional modelling framework for
    root systems. Ann. Bot., 121, 1033–1053 (the parameter file format).

    Examples
    --------
    See :func:`write_cplantbox_xml` for a round trip; growing from a CPlantBox file is
    ``grow_root_system(load_plant_parameters("Faba_synMRI.xml"), 21)``.
    """
    path = Path(path)
    src = str(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=src) from None
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", source=src) from None
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        line, col = getattr(err, "position", (None, None))
        what = str(getattr(err, "msg", err)).split(": line ")[0]  # the position is said once, first
        raise InputError(f"line {line}, column {col}: malformed XML ({what})", source=src) from None
    if root.tag not in ("plant", "Plant"):
        raise InputError(f"expected a <plant> root element, found <{root.tag}>", source=src)

    warnings: list[str] = []
    seed: dict = {}
    types: list[dict] = []
    for el in root:
        kind = _organ_kind(el)
        if kind is None:
            if el.tag not in ("reference",):
                warnings.append(f"ignored element <{el.tag}>")
            continue
        if kind in ("stem", "leaf"):
            warnings.append(f"ignored {kind} parameters (subType {el.get('subType')}): "
                            "only the root system is read")
            continue
        if kind == "seed":
            if seed:
                warnings.append("more than one seed: only the first is used")
                continue
            seed = _read_seed(el, src, warnings)
        elif kind == "root":
            types.append(_read_root(el, len(types), src, warnings))
        else:
            warnings.append(f"ignored organ type {kind!r}")
    if not types:
        raise InputError("no root types found (<root subType=..> elements)", source=src)
    defined = {t["subType"] for t in types}
    for i, t in enumerate(types):
        for rule in t.get("successors", []):
            missing = [st for st in rule["subtypes"] if st not in defined]
            if missing:
                warnings.append(f"root_types[{i}]: successor types {missing} are not defined "
                                "and were dropped")
                keep = [k for k, st in enumerate(rule["subtypes"]) if st in defined]
                rule["subtypes"] = [rule["subtypes"][k] for k in keep]
                rule["probabilities"] = [rule["probabilities"][k] for k in keep]
        t["successors"] = [r for r in t.get("successors", []) if r["subtypes"]]
    data = {"name": path.stem, "seed": seed, "root_types": types, "reader_warnings": warnings,
            "sources": {"root_types": f"CPlantBox XML file {path.name}",
                        "seed": f"CPlantBox XML file {path.name}"}}
    params = parameter_set_from_dict(PlantParameters, data, origin=src)
    check_plant_parameters(params, src, require_taproot=False)
    return params


def _read_seed(el: ET.Element, src: str, warnings: list[str]) -> dict:
    out: dict = {}
    pos = [0.0, 0.0, -3.0]
    ignored = []
    for p in el.iter("parameter"):
        name = p.get("name")
        field = f"seed.{name}"
        if name in ("seedPos.x", "seedPos.y", "seedPos.z"):
            pos["xyz".index(name[-1])] = _number(p, "value", src, field)
        elif name in _SEED_FIELDS:
            key, integer = _SEED_FIELDS[name]
            v = _number(p, "value", src, field)
            out[key] = int(round(v)) if integer else v
        elif name == "delayDefinitionRoot":
            v = _number(p, "value", src, field)
            if v != 0:
                warnings.append(f"seed: delayDefinitionRoot={v:g} ignored; lateral emergence uses "
                                "the distance-based delay (0)")
        elif name is not None:
            v = p.get("value")
            default = _HARMLESS_DEFAULTS.get(name, "unknown")
            if default == "unknown" or (default is not None and v is not None and float(v) != default):
                ignored.append(name)
    out["position"] = tuple(pos)
    if ignored:
        warnings.append("seed: ignored parameters " + ", ".join(ignored))
    return out


def _read_root(el: ET.Element, index: int, src: str, warnings: list[str]) -> dict:
    where = f"root_types[{index}]"
    try:
        subtype = int(el.get("subType"))
    except (TypeError, ValueError):
        raise InputError(f"subType={el.get('subType')!r} is not an integer", source=src,
                         field=f"{where}.subType") from None
    out: dict = {"name": el.get("name") or f"type{subtype}", "subType": subtype}
    rules: dict[str, dict] = {}
    ignored = []
    for p in el.iter("parameter"):
        name = p.get("name")
        if name is None:
            continue
        if name == "successor":
            ot = p.get("organType")
            if ot is not None and ot.strip() not in ("2", "root"):
                warnings.append(f"{where}: successor of organ type {ot} ignored")
                continue
            if (p.get("Where") or "").strip():
                warnings.append(f"{where}: successor 'Where' restriction ignored")
            st = p.get("subType", p.get("type"))
            try:
                st = int(float(st))
            except (TypeError, ValueError):
                raise InputError(f"successor subType={st!r} is not an integer", source=src,
                                 field=f"{where}.successors") from None
            rule = rules.setdefault(p.get("ruleId", "0"), {"subtypes": [], "probabilities": [],
                                                           "number": 1})
            rule["subtypes"].append(st)
            rule["probabilities"].append(
                _number(p, "percentage", src, f"{where}.successors") if p.get("percentage") else 1.0)
            if p.get("numLat"):
                rule["number"] = int(_number(p, "numLat", src, f"{where}.successors"))
            continue
        if name in _ROOT_FIELDS:
            key, has_sd, integer = _ROOT_FIELDS[name]
            v = _number(p, "value", src, f"{where}.{key}")
            out[key] = int(round(v)) if integer else v
            if key == "theta" and v > math.pi:
                warnings.append(f"{where}.theta = {v:g} rad is more than pi (degrees?); "
                                "used as radians, as CPlantBox does")
            if has_sd and p.get("dev") is not None:
                out[key + "_sd"] = _number(p, "dev", src, f"{where}.{key}_sd")
            continue
        if name == "rlt":
            v = _number(p, "value", src, f"{where}.rlt")
            if v < 1e6:
                warnings.append(f"{where}: root life time rlt={v:g} d ignored (roots do not die)")
            continue
        v = p.get("value")
        default = _HARMLESS_DEFAULTS.get(name, "unknown")
        try:
            differs = default == "unknown" or (default is not None and float(v) != default)
        except (TypeError, ValueError):
            differs = True
        if differs:
            ignored.append(name)
    if rules:
        out["successors"] = list(rules.values())
    if ignored:
        warnings.append(f"{where} ({out['name']}): ignored parameters " + ", ".join(ignored))
    return out


def write_cplantbox_xml(params: PlantParameters, path: str | Path) -> None:
    """Write the root architecture parameters as a CPlantBox XML file.

    Only what the rhizoscale growth model uses is written (the emergence delay is the
    distance-based one, ``delayDefinitionRoot = 0``). Used by the CPlantBox backend.

    Parameters
    ----------
    params : PlantParameters
        The parameters.
    path : str or Path
        Output file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.parameters import read_cplantbox_xml, write_cplantbox_xml
    >>> from rhizoscale.plant import load_plant_parameters
    >>> faba = load_plant_parameters("vicia_faba")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_cplantbox_xml(faba, Path(tmp) / "faba.xml")
    ...     back = read_cplantbox_xml(Path(tmp) / "faba.xml")
    >>> back.root_type(1).r == faba.root_type(1).r, back.reader_warnings
    (True, [])
    """
    plant = ET.Element("plant")
    seed = ET.SubElement(plant, "seed", name=params.name, subType="0")
    sp = params.seed

    def add(parent, name, value, dev=None):
        attrs = {"name": name, "value": repr(float(value))}
        if dev:
            attrs["dev"] = repr(float(dev))
        ET.SubElement(parent, "parameter", attrs)

    add(seed, "delayDefinitionRoot", 0)
    for axis, v in zip("xyz", sp.position):
        add(seed, f"seedPos.{axis}", v)
    for name in ("firstB", "delayB", "maxB", "nC", "firstSB", "delaySB", "delayRC"):
        add(seed, name, getattr(sp, name))
    for rt in params.root_types:
        el = ET.SubElement(plant, "root", name=rt.name, subType=str(rt.subType))
        for xml_name, (key, has_sd, _) in _ROOT_FIELDS.items():
            add(el, xml_name, getattr(rt, key), getattr(rt, key + "_sd") if has_sd else None)
        for rule_id, s in enumerate(rt.successors):
            probs = s.probabilities or [1.0 / len(s.subtypes)] * len(s.subtypes)
            for st, q in zip(s.subtypes, probs):
                ET.SubElement(el, "parameter", {
                    "name": "successor", "ruleId": str(rule_id), "numLat": str(s.number),
                    "Where": "", "subType": str(st), "organType": "2", "percentage": repr(float(q))})
    ET.indent(plant)
    Path(path).write_bytes(ET.tostring(plant, encoding="utf-8", xml_declaration=False))
