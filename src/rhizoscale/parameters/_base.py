"""Validated parameter models: units on every field, a literature source on every value.

Every physical parameter in rhizoscale is a field of a pydantic model declared with
:func:`quantity`, which records its units (also shown in the description) and its
admissible range. A parameter *set* is an instance of such a model plus a ``sources``
map from field path to citation. Values we had to choose ourselves carry a source that
starts with ``"chosen:"`` so that they are easy to find and to flag in reports.

Named sets ship as YAML files in ``rhizoscale/parameters/data``; each value may be
written plainly or as ``{value: ..., units: ..., source: ...}``. The units written in a
file must match the model's units exactly: rhizoscale never guesses a conversion.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ..errors import InputError

__all__ = [
    "ParameterSet",
    "quantity",
    "load_yaml",
    "load_parameter_set",
    "available_parameter_sets",
    "format_location",
    "raise_input_error",
    "parameter_set_from_dict",
]

P = TypeVar("P", bound="ParameterSet")

#: prefix of a source that marks a value we chose (not from the literature)
CHOSEN = "chosen:"


def quantity(default: Any = ..., *, units: str, description: str = "", **constraints: Any):
    """A model field with physical units.

    Parameters
    ----------
    default : object
        Default value (``...`` for a required field).
    units : str
        Units in plain text, e.g. ``"cm d-1"``; ``"1"`` for dimensionless.
    description : str
        What the quantity is.
    **constraints
        Pydantic constraints (``ge``, ``gt``, ``le``, ``lt``).

    Returns
    -------
    pydantic.fields.FieldInfo
        The field; its description ends with ``[units]`` and the units are kept in its
        JSON-schema extra (read back by :meth:`ParameterSet.units`).

    Examples
    --------
    >>> from rhizoscale.parameters import ParameterSet, quantity
    >>> class Root(ParameterSet):
    ...     radius: float = quantity(0.05, units="cm", description="Root radius", gt=0)
    >>> Root().radius, Root.units("radius"), Root.model_fields["radius"].description
    (0.05, 'cm', 'Root radius [cm]')
    """
    return Field(
        default,
        description=f"{description} [{units}]".strip(),
        json_schema_extra={"units": units},
        **constraints,
    )


def format_location(loc: tuple) -> str:
    """Turn a pydantic location ``("root_types", 1, "lmax")`` into ``root_types[1].lmax``.

    Parameters
    ----------
    loc : tuple of str and int
        A pydantic error location.

    Returns
    -------
    str

    Examples
    --------
    >>> from rhizoscale.parameters._base import format_location
    >>> format_location(("root_types", 1, "lmax"))
    'root_types[1].lmax'
    """
    out = ""
    for part in loc:
        if isinstance(part, str) and _UNION_TAG.fullmatch(part):
            continue            # pydantic names the member of a union it tried ("float", "list[float]")
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


#: a field path such as ``grid``, ``root_types[1].lmax`` or ``overrides.mucilage.Q``
#: the tags pydantic adds to a location for the member of a union type it tried
_UNION_TAG = re.compile(r"(float|int|str|bool|none|bytes)|[\w-]+\[.*\]")
#: a number followed by a unit, e.g. "2 mm" typed where a plain number is expected
_NUMBER_WITH_UNIT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*([A-Za-zµ°%/]+)\s*")
_FIELD_PATH = re.compile(r"[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*")


#: the unit a field's description gives in brackets, e.g. "simulated time [h]"
_DESCRIBED_UNIT = re.compile(r"\[([^\]\s][^\]]{0,15})\]")


def _described_unit(model, where: tuple) -> str | None:
    """The bracketed unit of the field at ``where`` in ``model`` (a pydantic model class),
    from its description; None when the field or a unit is not found."""
    import typing

    field = None
    for part in where:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        for ann in candidates:
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
                break
    if field is None or not field.description:
        return None
    m = _DESCRIBED_UNIT.search(field.description)
    if m is None or m.group(1).strip() in ("1", "lattice", "-"):
        return None
    return m.group(1).strip()


def raise_input_error(err: ValidationError, source: object, aliases: dict | None = None,
                      model=None) -> None:
    """Re-raise a pydantic ValidationError as one :class:`InputError` naming file and field.

    Parameters
    ----------
    err : pydantic.ValidationError
        The validation error (its first problem is reported, with a count of the others).
    source : object
        The file or object being read (named in the message).
    aliases : dict, optional
        Top-level key -> ``(name the user wrote, value as written)``: a key filled from a
        shared scenario section (``time.dt`` -> a case's ``drying_step``) is reported
        under the name and with the value the user typed.
    model : pydantic model class, optional
        The model validated: a unit typed where a plain number is expected is answered
        with the unit its field's description gives (``[h]``).

    Raises
    ------
    InputError
        Always.
    """
    first = err.errors()[0]
    where = tuple(first.get("loc", ()))
    shown = first.get("input")
    if aliases and len(where) == 1 and where[0] in aliases:
        shown = aliases[where[0]][1]
    loc = format_location(where)
    msg = first.get("msg", "invalid value")
    show_input = "input" in first and first.get("type") not in ("missing",)
    if first.get("type") == "value_error":
        # our own validators raise ValueError("field: problem") for checks across fields
        msg = msg.removeprefix("Value error, ")
        head, sep, rest = msg.partition(": ")
        if sep and _FIELD_PATH.fullmatch(head):
            loc = f"{loc}.{head}" if loc else head
            msg = rest
            show_input = False  # the input is the whole mapping, not the field's value
    if not where and isinstance(shown, dict):
        show_input = False      # a check across fields: the input is the whole scenario
    unit_hint = (first.get("type") in ("float_parsing", "int_parsing") and isinstance(shown, str)
                 and _NUMBER_WITH_UNIT.fullmatch(shown))
    if unit_hint:
        unit = _described_unit(model, where) if model is not None else None
        if unit is not None:
            msg = (f"a plain number is expected here, in {unit} (this key's unit; only the "
                   f"time: section takes units such as '15 min') (got {shown!r})")
        else:
            msg = (f"a plain number is expected here, in the unit the documentation gives for "
                   f"this key (lengths in cm unless stated; only the time: section takes units "
                   f"such as '15 min') (got {shown!r})")
        show_input = False
    if first.get("type") in ("model_type", "model_attributes_type", "dict_type"):
        # pydantic names its class ("a valid dictionary or instance of SpanSettings")
        msg = f"a section of keys is expected here (key: value lines, or {{key: value}}) (got {shown!r})"
        show_input = False
    if first.get("type") == "extra_forbidden":
        msg = "unknown key (check the spelling; see the documentation for the allowed keys)"
    elif show_input:
        msg = f"{msg} (got {shown!r})"
    if aliases and loc:
        head, dot, rest = loc.partition(".")
        head, bracket, index = head.partition("[")
        if head in aliases:
            loc = aliases[head][0] + bracket + index + dot + rest
    more = len(err.errors()) - 1
    if more:
        msg += f" [and {more} more problem{'s' if more > 1 else ''}]"
    raise InputError(msg, source=source, field=loc or None) from None


class StrictModel(BaseModel):
    """Base of every validated input model (scenario sections, parameter sets): unknown
    keys and NaN are errors, and so is YAML's ``true``/``false`` given to a key that takes
    only numbers (pydantic would read it as 1/0: ``diffusion_step: true``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _true_is_not_a_number(cls, value, info: ValidationInfo):
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, bool) for v in values) and info.field_name in cls.model_fields and \
                _numbers_only(cls.model_fields[info.field_name].annotation):
            raise ValueError("a number is expected here, not a yes/no value")
        return value


def _numbers_only(annotation) -> bool:
    """True when a field takes only numbers (int, float, optionally None, or a tuple of them)."""
    import types
    import typing
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _numbers_only(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return bool(kinds) and all(_numbers_only(a) for a in kinds)
    if origin in (tuple, list):
        kinds = [a for a in args if a is not Ellipsis]
        return bool(kinds) and all(_numbers_only(a) for a in kinds)
    return annotation in (int, float)


class ParameterSet(StrictModel):
    """Base class of all parameter models.

    NaN and infinite values are rejected, unknown keys are rejected, and assignment is
    validated. ``sources`` maps a field path (``"Q"``, ``"root_types[0].r"``) to the
    literature source of its value.

    Every value in a shipped set has a source; the ones the developers chose (not taken
    from the literature) start with ``"chosen:"`` and are listed by :meth:`chosen`.

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> sorted(mucilage.chosen())
    ['bulk_density', 'source_width']
    >>> faster = mucilage.with_overrides({"k": 0.5})            # validated copy
    >>> faster.k, faster.source("k"), mucilage.k
    (0.5, 'user override', 0.22)
    >>> mucilage.table()[1][:3]                                 # (field, value, units, source)
    ('Q', 33.38, 'ug d-1 (per tip) or ug cm-1 d-1 (line)')
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)

    #: the section of a substance file (one file per substance, one section per model)
    #: that holds this model's values; None: the file's top level
    SECTION: ClassVar[str | None] = None

    name: str = Field("custom", description="Name of this parameter set")
    sources: dict[str, str] = Field(default_factory=dict, description="Field path -> literature source")

    @classmethod
    def units(cls, field: str) -> str:
        """Units of ``field`` as declared in the model."""
        extra = cls.model_fields[field].json_schema_extra or {}
        return extra.get("units", "")

    def source(self, field: str) -> str:
        """Literature source of ``field`` in this set (``"unspecified"`` if none is known)."""
        return self.sources.get(field, "unspecified")

    def chosen(self) -> dict[str, str]:
        """The values flagged as chosen by us rather than taken from the literature."""
        return {k: v for k, v in self.sources.items() if v.lower().startswith(CHOSEN)}

    def with_overrides(self: P, overrides: dict[str, Any] | None, *, source: object = "overrides") -> P:
        """A copy with some values replaced (validated); their sources become ``"user override"``."""
        if not overrides:
            return self
        data = self.model_dump()
        sources = dict(self.sources)
        for key, value in overrides.items():
            if key not in type(self).model_fields or key in ("sources",):
                raise InputError("unknown parameter", source=source, field=key)
            data[key] = value
            sources[key] = "user override"
        data["sources"] = sources
        try:
            return type(self).model_validate(data)
        except ValidationError as err:
            raise_input_error(err, source)

    def with_value(self: P, path: str, value: Any, *, source: object = "parameters") -> P:
        """A copy with the value at a dotted ``path`` replaced (validated again).

        ``path`` reaches any value, nested models and list items included:
        ``"Q"``, ``"root_types.0.r"`` (list indices are numbers). The value's source
        becomes ``"user override"``. Errors are :class:`InputError` naming ``source``
        and the path.

        Examples
        --------
        >>> from rhizoscale.plant import load_plant_parameters
        >>> p = load_plant_parameters("vicia_faba").with_value("root_types.0.r", 3.0)
        >>> p.root_types[0].r
        3.0
        """
        parts = [int(x) if x.lstrip("-").isdigit() else x for x in str(path).split(".")]
        if not parts or parts[0] in ("sources", "name", ""):
            raise InputError("not a parameter", source=source, field=str(path))
        data = self.model_dump()
        node: Any = data
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            here = ".".join(map(str, parts[:k + 1]))
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                if last:
                    node[part] = value
                else:
                    node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
                if last:
                    node[part] = value
                else:
                    node = node[part]
            else:
                have = (", ".join(map(str, node)) if isinstance(node, dict)
                        else f"indices 0..{len(node) - 1}" if isinstance(node, list) else "a value")
                raise InputError(f"no parameter {here!r} in {self.name!r} (it has {have})",
                                 source=source, field=str(path))
        data["sources"] = {**self.sources, format_location(tuple(parts)): "user override"}
        try:
            return type(self).model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")   # our validators' text
            raise InputError(f"{msg} (got {value!r})", source=source, field=str(path)) from None

    def table(self) -> list[tuple[str, Any, str, str]]:
        """Rows ``(field, value, units, source)`` for the scalar fields of this set."""
        rows = []
        for name, info in type(self).model_fields.items():
            if name in ("name", "sources"):
                continue
            extra = info.json_schema_extra or {}
            rows.append((name, getattr(self, name), extra.get("units", ""), self.source(name)))
        return rows


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file; a syntax error becomes an :class:`InputError` naming the line.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    object
        The parsed document (``yaml.safe_load``).

    Raises
    ------
    InputError
        Missing or unreadable file, or malformed YAML (with line and column).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.parameters import load_yaml
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "broken.yaml"
    ...     _ = path.write_text("k: [0.22, 1.42")
    ...     load_yaml(path)
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: ...broken.yaml: line 1, column 15: malformed YAML (expected ',' or ']', but got '<stream end>')
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", source=path) from None
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", source=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise InputError(f"line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}); save the file "
                         "as UTF-8", source=path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise InputError(f"{where}malformed YAML ({problem})", source=path) from None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class behind an annotation (plain, Optional or list[...]), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_quantity_dict(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= {"value", "units", "source"}


def _unwrap(model: type[BaseModel], data: Any, prefix: str, sources: dict, origin: object) -> Any:
    """Strip ``{value, units, source}`` wrappers, checking units and collecting sources."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        info = model.model_fields.get(key)
        if info is None:
            out[key] = value  # pydantic reports the unknown key with its location
            continue
        if _is_quantity_dict(value):
            expected = (info.json_schema_extra or {}).get("units")
            given = value.get("units")
            if given is not None and expected is not None and str(given).strip() != expected:
                raise InputError(
                    f"units {given!r} do not match the expected {expected!r} "
                    "(convert the value; rhizoscale does not guess conversions)",
                    source=origin, field=path,
                )
            if "source" in value:
                sources[path] = str(value["source"])
            out[key] = value["value"]
            continue
        sub = _model_of(info.annotation)
        if sub is not None and isinstance(value, dict):
            out[key] = _unwrap(sub, value, path, sources, origin)
        elif sub is not None and isinstance(value, list):
            out[key] = [
                _unwrap(sub, item, f"{path}[{i}]", sources, origin) for i, item in enumerate(value)
            ]
        else:
            out[key] = value
    return out


def parameter_set_from_dict(cls: type[P], data: dict, *, origin: object = "parameters") -> P:
    """Build a parameter set from a (YAML-like) mapping with optional value wrappers.

    Each value may be plain or ``{value: ..., units: ..., source: ...}``; the units must
    equal the model's exactly (no conversion is ever guessed) and the sources are
    collected into ``sources``. A ``values:`` sub-mapping (the layout of the shipped YAML
    files) and the keys ``model``/``description`` are accepted.

    Parameters
    ----------
    cls : type
        The parameter model.
    data : dict
        The mapping.
    origin : object
        What the data came from (named in errors).

    Returns
    -------
    ParameterSet
        An instance of ``cls``.

    Raises
    ------
    InputError
        Not a mapping, wrong units, unknown keys or invalid values (naming the field).

    Examples
    --------
    >>> from rhizoscale.parameters import parameter_set_from_dict
    >>> from rhizoscale.rhizodeposition import ExudateParameters
    >>> slow = parameter_set_from_dict(
    ...     ExudateParameters, {"name": "slow mucilage", "values": {"k": {"value": 0.1, "units": "d-1",
    ...                                                                   "source": "my lab, 2024"}}})
    >>> slow.k, slow.source("k")
    (0.1, 'my lab, 2024')
    >>> parameter_set_from_dict(ExudateParameters, {"k": {"value": 0.1, "units": "h-1"}})
    Traceback (most recent call last):
    ...
    rhizoscale.errors.InputError: parameters: k: units 'h-1' do not match the expected 'd-1' (convert the value; rhizoscale does not guess conversions)
    """
    if not isinstance(data, dict):
        raise InputError("expected a mapping of parameter names to values", source=origin)
    data = dict(data)
    section = getattr(cls, "SECTION", None)
    if section is not None and section in data:
        # a substance file: this model's values are in its own section
        part = data[section]
        if not isinstance(part, dict):
            raise InputError("expected a mapping", source=origin, field=section)
        data = {"name": data.get("name"), **part}
        if data["name"] is None:
            data.pop("name")
    elif section is not None and "values" not in data and any(
            isinstance(v, dict) and "values" in v for v in data.values()):
        sections = [k for k, v in data.items() if isinstance(v, dict) and "values" in v]
        raise InputError(f"no section {section!r} for {cls.__name__} (the file has {', '.join(sections)})",
                         source=origin, field=section)
    data.pop("model", None)
    data.pop("description", None)
    values = data.pop("values", None)
    if values is not None:
        if not isinstance(values, dict):
            raise InputError("expected a mapping", source=origin, field="values")
        data.update(values)
    sources = dict(data.pop("sources", {}) or {})
    data = _unwrap(cls, data, "", sources, origin)
    data["sources"] = sources
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise_input_error(err, origin)


def _data_dir():
    return resources.files("rhizoscale.parameters") / "data"


def available_parameter_sets() -> list[str]:
    """Names of the parameter sets shipped with rhizoscale.

    Returns
    -------
    list of str
        Sorted names (files ``rhizoscale/parameters/data/<name>.yaml``).

    Examples
    --------
    >>> from rhizoscale.parameters import available_parameter_sets
    >>> "mucilage" in available_parameter_sets() and "vicia_faba" in available_parameter_sets()
    True
    """
    folder = _data_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


#: names of shipped sets that were merged into one set per substance
ALIASES = {"citrate_cs2": "citrate"}


def load_parameter_set(cls: type[P], name_or_path: str | Path) -> P:
    """Load a shipped parameter set by name, or a user's YAML file by path.

    Parameters
    ----------
    cls : type
        The parameter model (e.g. :class:`~rhizoscale.rhizodeposition.ExudateParameters`).
    name_or_path : str or path
        A shipped set's name (see :func:`available_parameter_sets`) or a YAML file.

    Returns
    -------
    ParameterSet
        An instance of ``cls`` with the source of every value.

    Raises
    ------
    InputError
        Unknown name, missing or malformed file, wrong units or invalid values.

    Examples
    --------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.rhizodeposition import ExudateParameters
    >>> mucilage = load_parameter_set(ExudateParameters, "mucilage")
    >>> mucilage.k, mucilage.units("k"), mucilage.source("k")
    (0.22, 'd-1', 'Landl et al. 2021 scripts in CPlantBox (unverified against the paper)')
    """
    if isinstance(name_or_path, str) and name_or_path in ALIASES:
        name_or_path = ALIASES[name_or_path]
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        data = load_yaml(path)
        origin: object = path
    else:
        resource = _data_dir() / f"{name_or_path}.yaml"
        if not resource.is_file():
            raise InputError(
                f"no parameter set named {name_or_path!r}; shipped sets: "
                + ", ".join(available_parameter_sets()),
                source="parameters",
            )
        data = yaml.safe_load(resource.read_text(encoding="utf-8"))
        origin = f"{name_or_path} (shipped parameter set)"
    if isinstance(data, dict) and "name" not in data and isinstance(name_or_path, str):
        data["name"] = Path(name_or_path).stem
    return parameter_set_from_dict(cls, data, origin=origin)




