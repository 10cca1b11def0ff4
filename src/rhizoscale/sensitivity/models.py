"""What a sensitivity study evaluates: a scenario or pipeline at given parameter values.

Any Python callable ``f(**values) -> {quantity: value}`` is a model (values keyed by
parameter path). :class:`ScenarioModel` makes one of a scenario or a ``case: pipeline``
mapping: each sample is the scenario with ``parameters:`` overrides (dotted paths; in a
pipeline ``STEP.PATH``), run in memory, and its named scalars are the quantities
(``STEP.NAME`` in a pipeline). Pipeline steps that no parameter reaches are computed
once per worker process and reused (their cache key does not change).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["ScenarioModel", "QuantityValues"]


class QuantityValues(dict):
    """A model's quantities (``{name: value}``) with the warnings its run gave.

    A plain dict of values is a valid model result too; this one also carries
    ``warnings`` (list of str), which a study records per sample.
    """

    def __init__(self, values=(), warnings=()):
        super().__init__(values)
        self.warnings = list(warnings)

    def __reduce__(self):          # pickled with its warnings (Dask sends it between processes)
        return (QuantityValues, (dict(self), self.warnings))


class ScenarioModel:
    """A scenario (or pipeline) as a function of its dotted parameters.

    Parameters
    ----------
    data : dict
        The scenario mapping (as read from YAML), ``case: pipeline`` included.
    quantities : list of str
        Names of the scalars to return (``STEP.NAME`` for a pipeline).
    source : str
        The file the scenario came from (named in errors).
    base_dir : path-like, optional
        Folder that relative file names in the scenario are relative to.
    """

    def __init__(self, data: dict, quantities, source: str = "scenario", base_dir=None):
        self.data = copy.deepcopy(dict(data))
        self.quantities = list(quantities)
        self.source = str(source)
        self.base_dir = None if base_dir is None else str(base_dir)
        # cases registered at run time in this process go with the model to the workers
        from ..scenario import _REGISTERED
        cases = [self.data.get("case")] + [s.get("case") or (s.get("scenario") or {}).get("case")
                                           for s in self.data.get("steps") or [] if isinstance(s, dict)
                                           and isinstance(s.get("scenario", {}), dict)]
        self.registered = {c: _REGISTERED[c] for c in cases if c in _REGISTERED}

    @classmethod
    def from_file(cls, path, quantities) -> "ScenarioModel":
        from ..parameters._base import load_yaml
        path = Path(path)
        return cls(load_yaml(path), quantities, source=str(path), base_dir=path.parent)

    def scenario(self, values: dict | None = None):
        """The validated scenario with ``values`` (path -> value) as ``parameters:`` overrides."""
        from ..scenario import scenario_from_dict
        data = copy.deepcopy(self.data)
        if values:
            data["parameters"] = {**(data.get("parameters") or {}), **values}
        return scenario_from_dict(data, source=self.source,
                                  base_dir=None if self.base_dir is None else Path(self.base_dir))

    def __call__(self, **values) -> dict:
        from ..scenario import _REGISTERED, register_case
        for name, case in self.registered.items():
            if name not in _REGISTERED:
                register_case(name, case)
        sc = self.scenario({k: float(v) for k, v in values.items()})
        if sc.case == "pipeline":
            products = sc.run(memo=True).as_products()
        else:
            from ..scenario import run_products
            products = run_products(sc)
        scalars = products.scalars
        out = QuantityValues(warnings=products.warnings)
        for q in self.quantities:
            if q not in scalars:
                raise InputError(f"the run made no quantity {q!r} (it made {', '.join(scalars)})",
                                 source=self.source, field="quantities")
            v = scalars[q].value
            out[q] = np.nan if v is None else float(v)
        return out

    # ------------------------------------------------------------------ checks before any sample
    def check(self, space, spec_source: object = None) -> None:
        """Refuse, before any sample runs, parameter paths that do not exist, ranges whose
        ends are not valid values, and quantities the scenario does not make (where its
        case declares its products). One line naming the file, step and field."""
        from ..link.pipeline import declared_products, input_field
        base = self.scenario()
        for p in space.parameters:
            self._check_path(base, p.path, spec_source, input_field)
            lo, hi = p.bounds()
            for label, v in (("low end", lo), ("high end", hi)):
                try:
                    self.scenario({p.path: v})
                except InputError as err:
                    raise InputError(f"{label} {v:g} of the range is not valid: {err}", source=spec_source,
                                     field=f"parameters.{p.path}") from None
            # the samples fall between the ends, at real values: a whole-number key (relax_steps)
            # would fail in every sample, on the workers; refuse it here
            mid = lo + 0.4142 * (hi - lo)
            try:
                self.scenario({p.path: mid})
            except InputError as err:
                raise InputError(f"a value {mid:g} inside the range is not valid (the samples take real values "
                                 f"between the ends): {err.message}", source=spec_source,
                                 field=f"parameters.{p.path}") from None
        pipeline = base.case == "pipeline"
        made = dict(base.declared) if pipeline else {None: declared_products(base)}
        for q in self.quantities:
            step, _, name = q.partition(".") if pipeline else (None, "", q)
            if pipeline and step not in made:
                raise InputError(f"no step {step!r} in the pipeline (quantities are STEP.NAME)",
                                 source=spec_source, field=f"quantities.{q}")
            decl = made.get(step)
            if decl is not None and (name not in decl or decl[name][0] != "scalar"):
                scalars = [k for k, v in decl.items() if v[0] == "scalar"]
                where = f"step {step!r} ({base.checked[step].case})" if pipeline else base.case
                raise InputError(f"{where} makes no quantity {name!r} (it makes {', '.join(scalars)})",
                                 source=spec_source, field=f"quantities.{q}")

    def _check_path(self, base, path: str, spec_source, input_field) -> None:
        where = dict(source=spec_source, field=f"parameters.{path}")
        if base.case == "pipeline":
            sid, _, rest = path.partition(".")
            if sid not in base.checked or not rest:
                raise InputError(f"a pipeline's parameters are STEP.PATH with STEP one of "
                                 f"{', '.join(base.checked)}", **where)
            sc = base.checked[sid]
            if not _time_key(sc, rest, where) and not input_field(sc, rest)[0]:
                raise InputError(f"no key or parameter {rest!r} in step {sid!r} ({sc.case})", **where)
        elif not _time_key(base, path, where) and not input_field(base, path)[0]:
            raise InputError(f"no key or parameter {path!r} in the {base.case} scenario", **where)


def _time_key(scenario, path: str, where: dict) -> bool:
    """Is ``path`` a key of the shared ``time:`` section this case takes (``time.stop``)?
    A sampled time is a number in days (like ``time: {stop: 2}``); a case that counts
    that time in other units, where a bare number is refused, is named here."""
    section, _, key = path.partition(".")
    if section != "time":
        return False
    keys = getattr(type(scenario.config), "TIME_KEYS", {})
    if key not in keys:
        raise InputError(f"time.{key} is not a time key of {scenario.case} (it takes "
                         f"{', '.join(keys) or 'none: it has no time axis'})", **where)
    if keys[key][1] != "d":
        raise InputError(f"{scenario.case} counts time.{key} in {keys[key][1]}: sample its own key "
                         f"{keys[key][0]!r} [{keys[key][1]}] instead (a sampled number would mean days)",
                         **where)
    return True
