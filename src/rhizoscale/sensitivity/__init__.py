"""Global sensitivity analysis of any scenario, pipeline or Python callable, on Dask.

* :class:`ParameterSpace` — dotted parameter paths with ranges or distributions;
* :class:`SensitivityStudy` — Morris screening and Saltelli/Sobol' indices (first, total,
  second order, bootstrap intervals; SALib), samples run on a Dask cluster and stored as
  they complete, so that a stopped study resumes;
* :class:`ScenarioModel` — a scenario or ``case: pipeline`` as a function of its
  parameters, returning its named scalars;
* :mod:`~rhizoscale.sensitivity.cluster` — the loopback-only local cluster, or a scheduler;
* :mod:`~rhizoscale.sensitivity.functions` — Ishigami and Sobol' G with exact indices;
* :func:`load_study` — a study from a YAML specification (``rhizoscale sensitivity``).
"""

from .models import ScenarioModel
from .space import DISTRIBUTIONS, Parameter, ParameterSpace
from .spec import load_study, study_from_dict
from .study import SensitivityResult, SensitivityStudy, SensitivityWarning, StudyInterrupted

__all__ = ["DISTRIBUTIONS", "Parameter", "ParameterSpace", "ScenarioModel", "SensitivityResult",
           "SensitivityStudy", "SensitivityWarning", "StudyInterrupted", "load_study", "study_from_dict"]
