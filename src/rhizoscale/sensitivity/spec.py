"""Sensitivity studies from YAML (what ``rhizoscale sensitivity spec.yaml`` reads)::

    scenario: linked.yaml          # a case scenario or pipeline: a file or the mapping inline
    method: sobol                  # or morris
    samples: 64                    # Sobol' N (a power of 2) or Morris trajectories
    seed: 1
    second_order: true
    parameters:                    # dotted paths (STEP.PATH in a pipeline)
      uptake.citrate.exudation_rate: [1.0e-6, 5.0e-6]
      uptake.soil.water_content: {dist: normal, mean: 0.3, sd: 0.02}
    quantities: [uptake.p_uptake_with_exudation]

Every path, range and quantity is checked before any sample runs; errors are one line
naming the file, the step and the field.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .models import ScenarioModel
from .study import SensitivityStudy

__all__ = ["load_study", "study_from_dict"]

_KEYS = {"scenario", "method", "samples", "seed", "second_order", "num_levels", "num_resamples",
         "conf_level", "parameters", "quantities", "name", "case"}


def study_from_dict(data: dict, source: object = "sensitivity", base_dir: Path | None = None) -> SensitivityStudy:
    """A checked :class:`SensitivityStudy` of the scenario a specification names."""
    from ..parameters._base import load_yaml
    if not isinstance(data, dict):
        raise InputError("a sensitivity specification is a mapping", source=source)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InputError(f"unknown key (a specification has {', '.join(sorted(_KEYS - {'case', 'name'}))})",
                         source=source, field=unknown[0])
    if data.get("case", "sensitivity") != "sensitivity":
        raise InputError("a sensitivity specification has case: sensitivity (or no case)", source=source,
                         field="case")
    sc = data.get("scenario")
    if sc is None:
        raise InputError("missing key: the scenario (file or mapping) to analyse", source=source, field="scenario")
    sc_source, sc_base = str(source), base_dir
    if isinstance(sc, str):
        path = Path(sc) if Path(sc).is_absolute() else Path(base_dir or ".") / sc
        if not path.is_file():
            raise InputError(f"scenario file {str(path)!r} not found", source=source, field="scenario")
        sc, sc_source, sc_base = load_yaml(path), str(path), path.parent
    if not isinstance(sc, dict):
        raise InputError("a scenario file or mapping", source=source, field="scenario")
    quantities = data.get("quantities")
    if isinstance(quantities, str):
        quantities = [quantities]
    if not isinstance(quantities, list) or not quantities:
        raise InputError("name the quantities of interest (a list)", source=source, field="quantities")
    model = ScenarioModel(sc, quantities, source=sc_source, base_dir=sc_base)
    kw = {}
    for key, cast in (("seed", int), ("second_order", bool), ("num_levels", int), ("num_resamples", int),
                      ("conf_level", float)):
        if key in data:
            kw[key] = data[key]
    study = SensitivityStudy(model, data.get("parameters"), quantities, method=str(data.get("method", "sobol")),
                             n=data.get("samples", 64), source=source, **kw)
    if "name" in data:
        study.name = str(data["name"])
    try:
        model.scenario()
    except InputError as err:
        raise InputError(err.message, source=f"{source}: {err.source}" if err.source != str(source) else source,
                         field=err.field) from None
    study.check()
    return study


def load_study(path: str | Path) -> SensitivityStudy:
    """Read and check a sensitivity specification (relative paths relative to it)."""
    from ..parameters._base import load_yaml
    path = Path(path)
    return study_from_dict(load_yaml(path), source=path, base_dir=path.parent)
