"""Linked pipelines: case-study scenarios whose products feed each other (``case: pipeline``).

A pipeline scenario lists steps, each an ordinary case scenario with an ``id``, and maps
products of earlier steps to inputs (scenario keys or parameter-set values) of later
ones::

    case: pipeline
    name: cs4-to-cs2
    steps:
      - id: pore
        scenario: cs4.yaml                 # a file (relative to this one) ...
      - id: uptake
        scenario:                          # ... or the scenario inline
          case: cs2-phosphate-uptake
          days: 2
          soil_diffusivity: {model: table}
        inputs:
          soil_diffusivity.table: pore.d_eff_mucilage_0.1
    parameters:                            # dotted overrides, STEP.PATH
      uptake.citrate.exudation_rate: 2.0e-6

Before any step runs, the pipeline is checked: step ids unique, every input names an
earlier step and (where the upstream case declares its products) a product it makes, no
cycles, every input key exists in its step's scenario, a scalar product's units equal
the units of the key it feeds, a relation goes only to a key that takes one. Errors are
one line naming the file, the step and the field.

How a product crosses: a scalar becomes the value of the key (like a ``parameters:``
override); any other product (a relation, a field, a boundary series, an image) is
handed on in memory: the key receives the reference ``product:STEP.NAME@KEY``
(:data:`rhizoscale.products.PRODUCT_SCHEME`) and the case reads it with the same
function that reads the file (:func:`rhizoscale.products.read_relation`). The scenario
of every step thus stays plain data, and its hash covers the hashes of its inputs.

Caching: each step's products are stored under the hash of its resolved scenario (its
own keys, overrides and the values or references of its inputs, the references
carrying the upstream hashes) and the rhizoscale version. A changed step reruns, and so
does everything downstream of it (their input references change); nothing else does.
Stored products are plain data: scalars in JSON, relations, fields, images and series in
NetCDF; never pickles.
"""

from __future__ import annotations

import graphlib
import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import InputError
from ..products import (BoundarySeries, Products, Scalar, TabulatedRelation, image_from_dataset,
                        product_reference, provided_products, relation_from_dataset, relation_to_dataset)

__all__ = ["Pipeline", "PipelineStep", "PipelineResult", "pipeline_from_dict", "load_pipeline",
           "input_field", "declared_products", "load_step_products", "RUN_COUNTS"]

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
#: runs of each step id in this process (what the caching tests count)
RUN_COUNTS: dict[str, int] = {}
#: step products shared by the pipelines of one process with ``run(memo=True)`` (by key)
_SHARED_MEMO: dict[str, Products] = {}
_MEMO_SIZE = 8


@dataclass
class PipelineStep:
    """One step: its id, scenario mapping, inputs ``{key: "step.product"}``, where it was read."""

    id: str
    data: dict
    inputs: dict[str, str]
    source: str
    base_dir: Path | None
    upstream: dict[str, tuple[str, str]] = field(default_factory=dict)   # key -> (step, product)


def _units_of(info) -> str | None:
    """Units a pydantic field declares: ``json_schema_extra['units']`` or a trailing ``[...]``."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if isinstance(extra.get("units"), (list, tuple)):     # a product key: the units it accepts
        return " | ".join(str(u) for u in extra["units"])
    if extra.get("units"):
        return str(extra["units"])
    m = re.search(r"\[([^\[\]]+)\]\s*$", info.description or "")
    return m.group(1).strip() if m else None


def input_field(scenario, path: str) -> tuple[bool, str | None, str | None]:
    """Does dotted ``path`` exist in a validated scenario? Returns ``(exists, units, product kind)``.

    ``path`` is a scenario key (``rhizotron.width``) or a value in one of the case's
    parameter sets (``citrate.decay_rate``); ``product kind`` is what a key that takes a
    product declares (``json_schema_extra={"product": "relation"}``), else None.
    """
    parts = path.split(".")
    node: Any = scenario.parameter_sets.get(parts[0]) if len(parts) > 1 else None
    if node is not None:
        parts = parts[1:]
    else:
        node = scenario.config
    info = None
    for part in parts:
        model = type(node) if isinstance(node, BaseModel) else _section_class(info) if node is None else None
        if model is not None:
            # a section (possibly not given, e.g. an optional ``image:`` that the input fills)
            fields = model.model_fields
            if part not in fields:
                return False, None, None
            info = fields[part]
            node = getattr(node, part) if node is not None else None
        elif isinstance(node, (list, tuple)) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
            info = None
        else:
            return False, None, None
    if info is None:
        return True, None, None
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return True, _units_of(info), extra.get("product")


def _key_takes_product(case, path: str) -> bool:
    """Does dotted ``path`` of ``case``'s Config declare that it takes a product
    (``json_schema_extra={"product": ...}``)? Read from the class, before validation."""
    from ..scenario import _case_module
    try:
        model = _case_module(case, None).Config
    except Exception:       # an unknown case is reported where the scenario is validated
        return False
    info = None
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return False
        info = model.model_fields[part]
        model = _section_class(info)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return bool(extra.get("product"))


def _section_class(info):
    """The section model an (optional) field holds, e.g. ``ImageSection`` for
    ``image: Optional[ImageSection]``; None for other fields."""
    import typing
    if info is None:
        return None
    options = typing.get_args(info.annotation) or (info.annotation,)
    return next((a for a in options if isinstance(a, type) and issubclass(a, BaseModel)), None)


def declared_products(scenario) -> dict[str, tuple[str, str]] | None:
    """Products a step will make, ``{name: (kind, units)}``, if its case declares them
    (module function ``declared_products(config)``); None when it does not."""
    from ..scenario import _case_module
    module = _case_module(scenario.case, scenario.source)
    fn = getattr(module, "declared_products", None)
    return None if fn is None else dict(fn(scenario.config))


def _a(kind: str) -> str:
    """'a field', 'an image'."""
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _normal_units(u: str | None) -> str | None:
    return None if u is None else " ".join(str(u).replace("*", " ").split())


def _product_kind(products: Products, name: str) -> tuple[str, Any, str | None] | None:
    """``(kind, object, units)`` of product ``name`` (None if it has none of that name)."""
    if name in products.scalars:
        s = products.scalars[name]
        return "scalar", s, s.units
    for kind, store in (("relation", products.relations), ("field", products.fields),
                        ("series", products.series), ("image", products.images)):
        if name in store:
            obj = store[name]
            units = "1" if kind == "relation" else (obj.data.attrs.get("units") if kind == "series" else None)
            return kind, obj, units
    return None


def _all_product_names(products: Products) -> list[str]:
    return [*products.scalars, *products.relations, *products.fields, *products.series, *products.images]


class Pipeline:
    """A validated pipeline: steps in dependency order (see the module docs).

    Use :func:`pipeline_from_dict` / :func:`load_pipeline` to make one.
    """

    case = "pipeline"

    def __init__(self, name: str, seed: int, steps: list[PipelineStep], source: str,
                 parameters: dict | None = None, cache: str | None = None):
        self.name, self.seed, self.steps, self.source = name, seed, steps, source
        self.parameters = dict(parameters or {})
        self.cache = cache
        self._memo: dict[str, Products] = {}
        #: step id -> its scenario as checked (inputs from products as placeholders) and
        #: the products its case declares (None: not declared); set by :meth:`check`
        self.checked: dict[str, Any] = {}
        self.declared: dict[str, dict | None] = {}

    # ------------------------------------------------------------------ scenarios
    def step(self, step_id: str) -> PipelineStep:
        return next(s for s in self.steps if s.id == step_id)

    def _step_data(self, step: PipelineStep, overrides: dict) -> dict:
        data = json.loads(json.dumps(step.data))     # a deep copy of plain YAML data
        data.setdefault("seed", self.seed)
        params = dict(data.get("parameters") or {})
        for path, value in self.parameters.items():
            sid, _, rest = path.partition(".")
            if sid == step.id:
                params[rest] = value
        for path, value in overrides.items():
            if self._is_scenario_key(step, data, path):
                _set_key(data, path.split("."), value)
            else:
                params[path] = value
        if params:
            data["parameters"] = params
        return data

    @staticmethod
    def _is_scenario_key(step, data, path: str) -> bool:
        """Does an input go into the scenario's keys (a top-level key, or a key inside a
        section such as ``soil_diffusivity.table``) rather than a parameter set's value
        (``citrate.decay_rate``)? Keys are set before validation, so a section whose
        validity needs the input (``{model: table}`` needs ``table``) validates."""
        from ..scenario import _case_module
        first, _, rest = path.partition(".")
        if not rest:
            return True
        try:
            fields = _case_module(str(data.get("case")), step.source).Config.model_fields
        except InputError:
            return False
        ann = fields[first].annotation if first in fields else None
        import typing
        options = typing.get_args(ann) or (ann,)      # Optional[Section] -> (Section, None)
        return any(isinstance(a, type) and issubclass(a, BaseModel) for a in options)

    def step_scenario(self, step: PipelineStep, overrides: dict | None = None):
        """The step's validated :class:`~rhizoscale.scenario.Scenario` with ``overrides``
        (input values or references) applied; errors name the file and the step."""
        from ..scenario import scenario_from_dict
        try:
            return scenario_from_dict(self._step_data(step, overrides or {}), source=step.source,
                                      base_dir=step.base_dir)
        except InputError as err:
            raise _in_step(err, self.source, step) from None

    def with_parameters(self, parameters: dict) -> "Pipeline":
        """A copy with more dotted overrides ``STEP.PATH: value`` (checked, see :func:`check_parameters`)."""
        new = Pipeline(self.name, self.seed, self.steps, self.source, {**self.parameters, **parameters},
                       self.cache)
        new._memo = self._memo          # the same steps give the same products
        new.check()
        return new

    # ------------------------------------------------------------------ checks before running
    def check(self) -> None:
        """Validate every step and input before anything runs (see the module docs)."""
        ids = {s.id for s in self.steps}
        for path in self.parameters:
            sid = path.partition(".")[0]
            if sid not in ids or "." not in path:
                raise InputError(f"parameters of a pipeline are STEP.PATH with STEP one of {sorted(ids)}",
                                 source=self.source, field=f"parameters.{path}")
        declared: dict[str, dict | None] = {}
        for step in self.steps:
            placeholders = {}
            for key, (up, name) in step.upstream.items():
                kinds = declared.get(up)
                if kinds is not None and name not in kinds:
                    raise InputError(f"step {up!r} makes no product {name!r} (it makes {', '.join(kinds) or 'none'})",
                                     source=self.source, field=f"steps.{step.id}.inputs.{key}")
                if kinds is not None and kinds[name][0] != "scalar":
                    placeholders[key] = product_reference(up, name, "pending")
            try:
                sc = self.step_scenario(step, placeholders)
            except InputError as err:
                hit = next((k for k in placeholders if (err.field or "").endswith(f".{k}")), None)
                if hit is None:
                    raise
                up, name = step.upstream[hit]
                if _key_takes_product(step.data.get("case"), hit):
                    # the key takes a product and refused it for its own reason (e.g. a key
                    # of another mode): that reason, with the reference the user wrote
                    raise InputError(err.message.replace(repr(placeholders[hit]), repr(f"{up}.{name}")),
                                     source=err.source, field=err.field) from None
                raise InputError(f"{up}.{name} is {_a(declared[up][name][0])}; {hit!r} does not take a product",
                                 source=self.source, field=f"steps.{step.id}.inputs.{hit}") from None
            for key, (up, name) in step.upstream.items():
                self._check_input(step, key, up, name, sc, declared.get(up))
            declared[step.id] = declared_products(sc)
            self.checked[step.id] = sc
        self.declared = declared

    def _check_input(self, step, key, up, name, scenario, kinds, actual: tuple | None = None) -> None:
        where = dict(source=self.source, field=f"steps.{step.id}.inputs.{key}")
        exists, units, wants = input_field(scenario, key)
        if not exists:
            raise InputError(f"no key {key!r} in the {scenario.case} scenario of step {step.id!r}", **where)
        kind, p_units = actual if actual is not None else (kinds.get(name) if kinds else (None, None))
        if kind is None:
            return
        if wants is not None and kind != wants and not (wants == "relation" and kind == "field"):
            raise InputError(f"{up}.{name} is {_a(kind)}; {key!r} takes {_a(wants)}", **where)
        if kind == "scalar":
            if wants is not None:
                raise InputError(f"{up}.{name} is a scalar; {key!r} takes a {wants}", **where)
            if units is not None and _normal_units(units) != _normal_units(p_units):
                raise InputError(f"units of {up}.{name} [{p_units}] do not match the units of {key!r} "
                                 f"[{units}] (no conversion is guessed)", **where)
        elif wants is None:
            raise InputError(f"{up}.{name} is {_a(kind)}; {key!r} does not take a product", **where)
        elif units is not None and p_units is not None and \
                _normal_units(p_units) not in [_normal_units(u) for u in units.split(" | ")]:
            raise InputError(f"units of {up}.{name} [{p_units}] are not among those {key!r} takes "
                             f"[{units}]", **where)

    # ------------------------------------------------------------------ running
    def run(self, *, out_dir: str | Path | None = None, cache: str | Path | None = None, progress=None,
            overwrite: bool = False, resume: bool = False, memo: bool = False) -> "PipelineResult":
        """Run every step in dependency order; return the products of each.

        ``out_dir``: each step's outputs in ``out_dir/STEP`` (which also serve as its cache)
        and the pipeline's ``summary.json``. ``cache``: a folder of cached step products
        (default: the scenario's ``cache:`` key; none: products are kept in memory only,
        per process). ``memo``: share step products with every pipeline run in this
        process (what a sensitivity worker does: steps no parameter reaches run once).
        """
        if memo:
            self._memo = _SHARED_MEMO
        if out_dir is not None:
            return self._run_into(Path(out_dir), progress=progress, overwrite=overwrite, resume=resume)
        cache = cache if cache is not None else self.cache
        return self._run_steps(lambda step, key: Path(cache) / f"{step.id}-{key}" if cache else None,
                               progress=progress)

    def _run_steps(self, folder_of, progress=None, write_outputs: bool = False,
                   resume: bool = False) -> "PipelineResult":
        from ..outputs import scenario_hash
        from ..scenario import scenario_record
        from .. import __version__
        result = PipelineResult(self)
        for step in self.steps:
            overrides, provided, prov = {}, {}, {}
            for key, (up, name) in step.upstream.items():
                kind, obj, units = _product_kind(result.products[up], name) or (None, None, None)
                if kind is None:
                    raise InputError(f"step {up!r} made no product {name!r} (it made "
                                     f"{', '.join(_all_product_names(result.products[up]))})",
                                     source=self.source, field=f"steps.{step.id}.inputs.{key}")
                if kind == "scalar":
                    overrides[key] = obj.value
                else:
                    ref = product_reference(up, name, result.keys[up])
                    overrides[key] = ref
                    provided[ref] = obj
                prov[key] = {"from": f"{up}.{name}", "kind": kind, "units": units,
                             "upstream_key": result.keys[up]}
            scenario = self.step_scenario(step, overrides)
            for key, (up, name) in step.upstream.items():
                self._check_input(step, key, up, name, scenario, None,
                                  actual=(prov[key]["kind"], prov[key]["units"]))
            record = scenario_record(scenario)
            key = hashlib.sha256(f"{scenario_hash(record)}:{__version__}".encode()).hexdigest()[:16]
            folder = folder_of(step, key)
            t0 = time.perf_counter()
            products, reused = None, "computed"
            if key in self._memo:
                products, reused = self._memo[key], "memory"
            elif folder is not None and _complete(folder, key):
                products, reused = load_step_products(folder), "stored"
            if products is None:
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.pop(next(iter(self._memo)))
                if progress is not None:
                    progress.message(f"step {step.id}: {scenario.case} (key {key})")
                with provided_products(provided):
                    products = self._run_one(step, scenario, record, key, folder, prov, progress,
                                             write_outputs, resume)
                self._memo[key] = products
            result.add(step, scenario, key, products, reused, prov, time.perf_counter() - t0)
            if progress is not None and reused != "computed":
                progress.message(f"step {step.id}: products reused ({reused}, key {key})")
        return result

    def _run_one(self, step, scenario, record, key, folder, prov, progress, write_outputs, resume=False):
        from ..scenario import _case_module
        from ..solvers import thread_limit
        RUN_COUNTS[step.id] = RUN_COUNTS.get(step.id, 0) + 1
        module = _case_module(scenario.case, scenario.source)
        with thread_limit(getattr(scenario.config, "threads", None)):   # the step's own threads key
            return self._run_module(module, step, scenario, record, key, folder, prov, progress,
                                    write_outputs, resume)

    def _run_module(self, module, step, scenario, record, key, folder, prov, progress, write_outputs, resume):
        from ..errors import ResourceError
        from ..outputs import RunContext, run_with_outputs
        from ..scenario import _naming_scenario
        try:
            if folder is None:
                from ..scenario import keep_warnings
                ctx = RunContext(seed=scenario.seed, progress=progress, parameters=scenario.parameter_sets)
                products = module.run(scenario.config, ctx)
                keep_warnings(products, ctx)
                return products
            kept = {}
            provenance = {"pipeline": self.name, "pipeline_file": self.source, "step": step.id,
                          "cache_key": key, "inputs": prov}
            # a step interrupted in an earlier run of this pipeline continues from its checkpoints
            go_on = resume and _interrupted(folder, record)
            run_with_outputs(_StepModule(module, kept, provenance, write_outputs), scenario.config, record,
                             folder, parameters=scenario.parameter_sets, progress=progress,
                             overwrite=not go_on, resume=go_on)
            return kept["products"]
        except InputError as err:
            raise _in_step(err, self.source, step) from None   # which step: steps.ID.field
        except ResourceError as err:
            raise _naming_scenario(err, step.source) from None

    def _run_into(self, out: Path, *, progress=None, overwrite=False, resume=False) -> "PipelineResult":
        from ..outputs import OutputFolder, to_jsonable
        record = self.record()
        folder = OutputFolder(out, record, overwrite=overwrite or resume, resume=False).open()
        t0 = time.perf_counter()
        try:
            result = self._run_steps(lambda step, key: out / step.id, progress=progress, write_outputs=True,
                                     resume=resume)
        except BaseException as err:
            # finished (and interrupted) steps stay: a rerun with --resume or --overwrite reuses them
            folder.files.extend(sorted(d.name for d in out.iterdir() if d.is_dir() and not d.name.startswith(".")))
            from ..simulation import RunInterrupted
            folder.abandon("interrupted" if isinstance(err, (RunInterrupted, KeyboardInterrupt)) else "failed")
            raise
        for stale in out.iterdir():          # step folders of steps no longer in the pipeline
            if stale.is_dir() and not stale.name.startswith(".") and stale.name not in result.keys \
                    and (stale / "summary.json").is_file():
                shutil.rmtree(stale)
        summary = result.summary()
        summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
        folder.files.extend(sorted(result.keys))
        return to_jsonable(folder.finish({"scenario": record, **summary}))

    def record(self) -> dict:
        """The pipeline as plain data (hashed for its output folder)."""
        steps = [{"id": s.id, "source": s.source, "scenario": s.data, "inputs": s.inputs} for s in self.steps]
        return {"case": "pipeline", "name": self.name, "seed": self.seed, "source": self.source,
                "config": {"steps": steps}, "parameters": self.parameters}


class _StepModule:
    """A case module whose run also keeps the products and writes the pipeline provenance."""

    def __init__(self, module, kept: dict, provenance: dict, write_outputs: bool):
        self.module, self.kept, self.provenance, self.write_outputs = module, kept, provenance, write_outputs

    def run(self, config, ctx):
        products = self.module.run(config, ctx)
        self.kept["products"] = products
        out = Products(products.case, fields=products.fields, scalars=products.scalars, images=products.images,
                       relations=products.relations, series=products.series,
                       root_systems=products.root_systems if self.write_outputs else {},
                       figures=products.figures if self.write_outputs else {},
                       exports=dict(products.exports) if self.write_outputs else {},
                       info={**products.info, "pipeline": self.provenance}, warnings=products.warnings)
        from ..io.netcdf import write_netcdf
        for name, rel in products.relations.items():
            if isinstance(rel, TabulatedRelation):
                out.exports[f"relation_{name}.nc"] = lambda path, rel=rel: write_netcdf(relation_to_dataset(rel), path)
        return out


def _set_key(data: dict, parts: list[str], value) -> None:
    node = data
    for part in parts[:-1]:
        nxt = node.get(part)
        node[part] = nxt = dict(nxt) if isinstance(nxt, dict) else {}
        node = nxt
    node[parts[-1]] = value


def _interrupted(folder: Path, record: dict) -> bool:
    """Does ``folder`` hold an interrupted run of this very step scenario?"""
    from ..outputs import MANIFEST, scenario_hash
    f = folder / MANIFEST
    try:
        run = json.loads(f.read_text(encoding="utf-8")).get("run", {})
    except (OSError, ValueError):
        return False
    return run.get("status") == "interrupted" and run.get("scenario_hash") == scenario_hash(record)


def _complete(folder: Path, key: str) -> bool:
    f = folder / "summary.json"
    if not f.is_file():
        return False
    try:
        s = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return s.get("run", {}).get("status") == "complete" and \
        s.get("details", {}).get("pipeline", {}).get("cache_key") == key


def load_step_products(folder: str | Path) -> Products:
    """The products of a finished step from its folder (plain data: JSON and NetCDF)."""
    from ..io.netcdf import read_netcdf
    folder = Path(folder)
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    out = Products(s["run"].get("case") or "step", info=s.get("details", {}))
    for name, q in s.get("quantities", {}).items():
        v = q["value"]
        out.scalars[name] = Scalar(float("nan") if v is None else v, q["units"], q.get("description", ""))
    for name in s.get("relations", {}):
        f = folder / f"relation_{name}.nc"
        if f.is_file():
            out.relations[name] = relation_from_dataset(read_netcdf(f))
    for fname in s.get("files", []):
        f = folder / fname
        if not fname.endswith(".nc") or fname.startswith("relation_"):
            continue
        ds = read_netcdf(f)
        kind = ds.attrs.get("product")
        if kind == "image":
            out.images[fname] = image_from_dataset(ds, source=str(f))
        elif kind == "boundary series":
            q = next(iter(ds.data_vars))
            out.series[fname] = BoundarySeries(ds[q], q, str(ds.attrs.get("location", "")))
        else:
            out.fields[fname] = ds
    return out


class PipelineResult:
    """Products of every step (``products[step]``), their cache keys and provenance."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.products: dict[str, Products] = {}
        self.keys: dict[str, str] = {}
        self.steps: list[dict] = []

    def add(self, step, scenario, key, products, reused, prov, seconds):
        self.products[step.id] = products
        self.keys[step.id] = key
        self.steps.append({"id": step.id, "case": scenario.case, "name": scenario.name, "cache_key": key,
                           "products_from": reused, "inputs": prov, "wall_time_s": round(seconds, 3),
                           "products": {n: {"kind": _product_kind(products, n)[0], "units": _product_kind(products, n)[2]}
                                        for n in _all_product_names(products)}})

    def scalars(self) -> dict[str, Scalar]:
        """Every scalar as ``STEP.NAME``."""
        return {f"{sid}.{n}": s for sid, p in self.products.items() for n, s in p.scalars.items()}

    def as_products(self) -> Products:
        """One :class:`Products` with every scalar named ``STEP.NAME`` (what a sensitivity analysis reads)."""
        out = Products("pipeline", info={"steps": self.steps})
        out.scalars.update(self.scalars())
        for sid, p in self.products.items():
            out.relations.update({f"{sid}.{n}": r for n, r in p.relations.items()})
            out.series.update({f"{sid}.{n}": r for n, r in p.series.items()})
            out.warnings.extend(f"{sid}: {w}" for w in p.warnings)
        return out

    def summary(self) -> dict:
        """Pipeline summary: steps (case, cache key, where the products came from, inputs with
        provenance) and every quantity as ``STEP.NAME``."""
        consumers: dict[str, list[str]] = {}
        for st in self.steps:
            for key, p in st["inputs"].items():
                consumers.setdefault(p["from"], []).append(f"{st['id']}.{key}")
        products = {}
        for st in self.steps:
            for n, d in st["products"].items():
                products[f"{st['id']}.{n}"] = {**d, "step": st["id"], "cache_key": st["cache_key"],
                                               "used_by": consumers.get(f"{st['id']}.{n}", [])}
        return {"steps": self.steps, "products": products,
                "quantities": {k: s.as_dict() for k, s in self.scalars().items()}}


def _in_step(err: InputError, source: str, step: PipelineStep) -> InputError:
    """An error inside a step's scenario, named as ``pipeline file: steps.ID[.field]``."""
    inner = err.source if err.source not in (None, step.source, source) else None
    fld = f"steps.{step.id}" + (f".{err.field}" if err.field else "")
    msg = err.message if inner is None else f"{inner}: {err.message}"
    where = source if step.source == source else f"{source}: {step.source}"
    return InputError(msg, source=where, field=fld)


def pipeline_from_dict(data: dict, source: object = "pipeline", base_dir: Path | None = None) -> Pipeline:
    """Validate a ``case: pipeline`` mapping (see the module docs); nothing runs."""
    from ..parameters._base import load_yaml
    source = str(source)
    data = dict(data)
    data.pop("case", None)
    name = str(data.pop("name", Path(source).stem))
    seed = data.pop("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", source=source, field="seed")
    parameters = data.pop("parameters", None) or {}
    if not isinstance(parameters, dict):
        raise InputError("must map STEP.PATH to values", source=source, field="parameters")
    cache = data.pop("cache", None)
    if cache is not None:
        cache = str(Path(base_dir or ".") / cache) if not Path(cache).is_absolute() else str(cache)
    raw = data.pop("steps", None)
    if data:
        raise InputError(f"unknown key(s) {sorted(data)} (a pipeline has name, seed, steps, parameters, cache)",
                         source=source, field=sorted(data)[0])
    if not isinstance(raw, list) or not raw:
        raise InputError("a pipeline needs a list of steps", source=source, field="steps")
    steps: dict[str, PipelineStep] = {}
    for i, item in enumerate(raw):
        where = f"steps.{i}"
        if not isinstance(item, dict) or "id" not in item:
            raise InputError("each step is a mapping with an id", source=source, field=where)
        item = dict(item)
        sid = str(item.pop("id"))
        if not _ID.match(sid):
            raise InputError(f"step id {sid!r} must be a name (letters, digits, _ and -, no dots)",
                             source=source, field=f"{where}.id")
        if sid in steps:
            raise InputError(f"step id {sid!r} used twice", source=source, field=f"{where}.id")
        inputs = item.pop("inputs", None) or {}
        if not isinstance(inputs, dict):
            raise InputError("inputs map scenario keys to STEP.PRODUCT", source=source, field=f"steps.{sid}.inputs")
        step_source, step_base = source, base_dir
        if "scenario" in item:
            sc = item.pop("scenario")
            if item:
                raise InputError(f"give the step's keys inside 'scenario' (found {sorted(item)})",
                                 source=source, field=f"steps.{sid}")
            if isinstance(sc, (str, Path)):
                path = Path(sc) if Path(sc).is_absolute() else Path(base_dir or ".") / sc
                if not path.is_file():
                    raise InputError(f"scenario file {str(path)!r} not found", source=source,
                                     field=f"steps.{sid}.scenario")
                sc, step_source, step_base = load_yaml(path), str(path), path.parent
            if not isinstance(sc, dict):
                raise InputError("a scenario mapping or file", source=source, field=f"steps.{sid}.scenario")
        else:
            sc = item
        if sc.get("case") == "pipeline":
            raise InputError("a step is a case scenario, not a pipeline", source=source, field=f"steps.{sid}.case")
        upstream = {}
        for key, ref in inputs.items():
            up, dot, prod = str(ref).partition(".")
            if not dot or not prod:
                raise InputError(f"{ref!r}: an input is STEP.PRODUCT", source=source,
                                 field=f"steps.{sid}.inputs.{key}")
            upstream[str(key)] = (up, prod)
        steps[sid] = PipelineStep(sid, sc, {str(k): str(v) for k, v in inputs.items()}, step_source, step_base,
                                  upstream)
    for st in steps.values():
        for key, (up, prod) in st.upstream.items():
            if up not in steps:
                raise InputError(f"unresolved input {up}.{prod}: no step {up!r} (steps: {', '.join(steps)})",
                                 source=source, field=f"steps.{st.id}.inputs.{key}")
            if up == st.id:
                raise InputError("a step cannot feed itself", source=source, field=f"steps.{st.id}.inputs.{key}")
    graph = {st.id: {up for up, _ in st.upstream.values()} for st in steps.values()}
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        cycle = err.args[1]
        raise InputError(f"the inputs form a cycle: {' -> '.join(reversed(cycle))}", source=source,
                         field=f"steps.{cycle[0]}.inputs") from None
    # keep the written order where the dependencies allow it
    position = {sid: i for i, sid in enumerate(steps)}
    order = _stable_order(graph, position)
    pipe = Pipeline(name, seed, [steps[s] for s in order], source, parameters, cache)
    pipe.check()
    return pipe


def _stable_order(graph: dict, position: dict) -> list[str]:
    done, order = set(), []
    while len(order) < len(graph):
        ready = [s for s in graph if s not in done and graph[s] <= done]
        nxt = min(ready, key=position.get)
        order.append(nxt)
        done.add(nxt)
    return order


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and check a pipeline YAML file (relative paths are relative to it)."""
    from ..parameters._base import load_yaml
    path = Path(path)
    return pipeline_from_dict(load_yaml(path), source=path, base_dir=path.parent)
