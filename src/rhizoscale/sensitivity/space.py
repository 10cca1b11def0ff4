"""Parameter spaces of a sensitivity analysis: dotted paths with ranges or distributions.

Samples are drawn in the unit hypercube (SALib's Saltelli/Sobol' and Morris designs) and
mapped to each parameter's distribution by its quantile function. Sobol' indices are
invariant under such monotone maps of single inputs, so the design and the estimators
stay SALib's; Morris elementary effects are then per unit of each parameter's quantile
range (for a uniform parameter: per its full range, SALib's scaled convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["Parameter", "ParameterSpace", "DISTRIBUTIONS"]

#: distribution -> the keys that define it
DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "triangular": ("low", "high", "mode"),
    "normal": ("mean", "sd"),
    "truncnormal": ("low", "high", "mean", "sd"),
    "lognormal": ("median", "sigma"),
}


@dataclass(frozen=True)
class Parameter:
    """One uncertain input: a dotted ``path`` (a scenario key, a parameter-set value, or in a
    pipeline ``STEP.PATH``; for a Python callable, just its argument name) and a
    distribution.

    Examples
    --------
    >>> p = Parameter("x", "uniform", {"low": 1.0, "high": 3.0})
    >>> p.ppf(np.array([0.0, 0.5, 1.0])).tolist()
    [1.0, 2.0, 3.0]
    """

    path: str
    dist: str
    args: dict

    @classmethod
    def from_spec(cls, path: str, spec, source: object = None) -> "Parameter":
        """``[low, high]`` (uniform) or ``{dist: ..., KEYS}`` (see :data:`DISTRIBUTIONS`)."""
        where = dict(source=source, field=f"parameters.{path}")
        if isinstance(spec, (list, tuple)) and len(spec) == 2:
            spec = {"low": spec[0], "high": spec[1]}
        if not isinstance(spec, dict):
            raise InputError("give [low, high] or {dist: NAME, ...}", **where)
        spec = dict(spec)
        dist = str(spec.pop("dist", "uniform"))
        if dist not in DISTRIBUTIONS:
            raise InputError(f"unknown distribution {dist!r} (use {', '.join(DISTRIBUTIONS)})", **where)
        keys = DISTRIBUTIONS[dist]
        if set(spec) != set(keys):
            raise InputError(f"a {dist} distribution takes {', '.join(keys)} (got {', '.join(spec) or 'none'})",
                             **where)
        try:
            args = {k: float(spec[k]) for k in keys}
        except (TypeError, ValueError):
            raise InputError(f"{', '.join(keys)} must be numbers", **where) from None
        if not all(math.isfinite(v) for v in args.values()):
            raise InputError("values must be finite", **where)
        if "low" in args and not args["low"] < args["high"]:
            raise InputError(f"low ({args['low']:g}) must be below high ({args['high']:g})", **where)
        if dist == "loguniform" and args["low"] <= 0:
            raise InputError("a loguniform range must be positive", **where)
        if dist == "triangular" and not args["low"] <= args["mode"] <= args["high"]:
            raise InputError("mode must lie in [low, high]", **where)
        if "sd" in args and args["sd"] <= 0 or "sigma" in args and args["sigma"] <= 0:
            raise InputError("the spread must be positive", **where)
        if dist == "lognormal" and args["median"] <= 0:
            raise InputError("a lognormal median must be positive", **where)
        return cls(str(path), dist, args)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles ``u`` in [0, 1]."""
        from scipy import stats
        a = self.args
        u = np.asarray(u, dtype=float)
        if self.dist == "uniform":
            return a["low"] + u * (a["high"] - a["low"])
        if self.dist == "loguniform":
            return np.exp(np.log(a["low"]) + u * (np.log(a["high"]) - np.log(a["low"])))
        if self.dist == "triangular":
            w = a["high"] - a["low"]
            return stats.triang.ppf(u, c=(a["mode"] - a["low"]) / w, loc=a["low"], scale=w)
        if self.dist == "normal":
            return stats.norm.ppf(u, loc=a["mean"], scale=a["sd"])
        if self.dist == "truncnormal":
            lo, hi = (a["low"] - a["mean"]) / a["sd"], (a["high"] - a["mean"]) / a["sd"]
            return stats.truncnorm.ppf(u, lo, hi, loc=a["mean"], scale=a["sd"])
        return a["median"] * np.exp(a["sigma"] * stats.norm.ppf(u))

    def bounds(self) -> tuple[float, float]:
        """The range a value can take (quantiles 0.001 and 0.999 for unbounded distributions)."""
        lo, hi = self.ppf(np.array([0.0, 1.0]))
        if not (math.isfinite(lo) and math.isfinite(hi)):
            lo, hi = self.ppf(np.array([1e-3, 1 - 1e-3]))
        return float(lo), float(hi)


class ParameterSpace:
    """The uncertain inputs of a study, in order (see :class:`Parameter`).

    Examples
    --------
    >>> space = ParameterSpace.from_spec({"a": [0, 1], "b": {"dist": "normal", "mean": 2, "sd": 0.1}})
    >>> space.names, space.problem()["num_vars"]
    (['a', 'b'], 2)
    """

    def __init__(self, parameters: list[Parameter]):
        if not parameters:
            raise InputError("a sensitivity analysis needs at least one parameter", field="parameters")
        names = [p.path for p in parameters]
        if len(set(names)) != len(names):
            raise InputError("a parameter is listed twice", field="parameters")
        self.parameters = list(parameters)

    @classmethod
    def from_spec(cls, spec: dict, source: object = None) -> "ParameterSpace":
        if not isinstance(spec, dict) or not spec:
            raise InputError("map dotted paths to ranges or distributions", source=source, field="parameters")
        return cls([Parameter.from_spec(k, v, source) for k, v in spec.items()])

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.parameters]

    def problem(self) -> dict:
        """SALib's problem in the unit hypercube (the designs are drawn there)."""
        return {"num_vars": len(self.parameters), "names": self.names,
                "bounds": [[0.0, 1.0]] * len(self.parameters)}

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Map unit-hypercube samples ``(n, d)`` to parameter values."""
        unit = np.atleast_2d(unit)
        return np.column_stack([p.ppf(unit[:, i]) for i, p in enumerate(self.parameters)])

    def record(self) -> list[dict]:
        return [{"path": p.path, "dist": p.dist, **p.args} for p in self.parameters]
