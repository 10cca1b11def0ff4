"""What a claim of the paper is, and how a verdict is reached.

A :class:`Claim` names one quantitative statement of the paper (Schnepf et al. 2022,
"Linking rhizosphere processes across scales", and the case-study papers it reports), the
paper's value with its units and where the paper gives it, the :class:`Study` (scenario)
whose products hold our value, a ``measure`` that reads our value from those products, and
a rule that turns the two into a verdict:

* ``reproduced`` — within the rule's tolerance, or the stated trend holds;
* ``partly`` — within a wider tolerance, or only part of the trend holds;
* ``not reproduced`` — outside both;
* ``missing`` — no value of ours (the case study does not exist yet, or its run failed).

Rules compare with the paper's value; they never feed it back into a run. Free
parameters are never tuned to a claimed number: scenarios are the shipped examples.

Example
-------
>>> rule = RelativeTolerance(0.05, 0.25)
>>> rule.judge(192.68, Measured(192.3))[1]
'reproduced'
>>> Trend("mucilage peak above citrate").judge(None, Measured("x", holds=False))[1]
'not reproduced'
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = ["VERDICTS", "PaperValue", "Measured", "Study", "Claim", "RelativeTolerance",
           "AbsoluteTolerance", "Bound", "Trend", "Missing", "merge"]

VERDICTS = ("reproduced", "partly", "not reproduced", "missing")


@dataclass(frozen=True)
class PaperValue:
    """The paper's value: a number (``units``) or a statement, and where the paper gives it."""

    value: Any
    units: str = ""
    source: str = ""

    def text(self) -> str:
        if isinstance(self.value, (int, float)):
            return f"{self.value:.6g} {self.units}".strip()
        return f"{self.value} {self.units}".strip()


@dataclass
class Measured:
    """Our value: a number (``units``) or a short text; for trends whether they hold."""

    value: Any
    units: str = ""
    holds: bool | None = None
    partly: bool = False
    note: str = ""
    #: ours / paper of a characteristic value (e.g. the mean principal value of a tensor),
    #: for trends whose digits the rule also compares (``Trend(values_within=...)``)
    ratio: float | None = None

    def text(self) -> str:
        v = self.value
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:.4g} {self.units}".strip()
        return f"{v} {self.units}".strip()


def _number(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass(frozen=True)
class RelativeTolerance:
    """abs(ours − paper) / abs(paper) ≤ ``reproduced`` → reproduced, ≤ ``partly`` → partly."""

    reproduced: float
    partly: float
    why: str = ""

    def text(self) -> str:
        return (f"relative difference ≤ {self.reproduced:.3g} reproduced, ≤ {self.partly:.3g} partly"
                + (f" ({self.why})" if self.why else ""))

    def judge(self, paper, m: Measured) -> tuple[float | None, str]:
        if m.value is None:
            return None, "missing"
        p, o = _number(paper), _number(m.value)
        if p is None or o is None:  # ours is a statement ("not reached"): not the paper's number
            return None, "not reproduced"
        d = (o - p) / abs(p) if p != 0 else (0.0 if o == 0 else math.inf)
        verdict = "reproduced" if abs(d) <= self.reproduced else "partly" if abs(d) <= self.partly \
            else "not reproduced"
        return d, verdict


@dataclass(frozen=True)
class AbsoluteTolerance:
    """abs(ours − paper) ≤ ``reproduced`` → reproduced, ≤ ``partly`` → partly (e.g. shares)."""

    reproduced: float
    partly: float
    why: str = ""

    def text(self) -> str:
        return (f"absolute difference ≤ {self.reproduced:g} reproduced, ≤ {self.partly:g} partly"
                + (f" ({self.why})" if self.why else ""))

    def judge(self, paper, m: Measured) -> tuple[float | None, str]:
        if m.value is None:
            return None, "missing"
        p, o = _number(paper), _number(m.value)
        if o is None:  # ours is a statement ("no hotspot"): the paper's number does not hold
            return None, "not reproduced"
        d = o - p
        return d, ("reproduced" if abs(d) <= self.reproduced else "partly" if abs(d) <= self.partly
                   else "not reproduced")


@dataclass(frozen=True)
class Bound:
    """The paper gives a bound (``more than``/``less than``): reproduced when ours is beyond
    it, partly when within ``partly`` (relative) short of it."""

    direction: str  # "above" or "below"
    partly: float = 0.0
    why: str = ""

    def text(self) -> str:
        s = f"ours {self.direction} the paper's bound reproduced"
        if self.partly:
            s += f", within {self.partly:.3g} (relative) short of it partly"
        return s + (f" ({self.why})" if self.why else "")

    def judge(self, paper, m: Measured) -> tuple[float | None, str]:
        if m.value is None:
            return None, "missing"
        p, o = _number(paper), _number(m.value)
        if o is None:
            return None, "not reproduced"
        d = (o - p) / abs(p) if p else o - p
        ok = o > p if self.direction == "above" else o < p
        close = abs(d) <= self.partly
        return d, "reproduced" if ok else "partly" if close else "not reproduced"


@dataclass(frozen=True)
class Trend:
    """The paper states a sign, an order or a shape: reproduced when it holds in ours
    (``Measured.holds``), partly when ``Measured.partly``.

    With ``values_within`` the paper also gives digits: the trend holding is then
    reproduced only when ``Measured.ratio`` (ours / paper of a characteristic value) is
    within ``values_within`` of 1; a trend that holds with values further off (or not
    compared) is ``partly`` — "trend reproduced, values differ".

    >>> Trend("diagonal", values_within=0.1).judge(None, Measured("x", holds=True, ratio=0.3))
    (-0.7, 'partly')
    """

    condition: str
    values_within: float | None = None

    def text(self) -> str:
        s = f"trend: {self.condition}"
        if self.values_within is not None:
            s += (f"; and the value within {100 * self.values_within:.3g} % of the paper's, "
                  "else partly (trend reproduced, values differ)")
        return s

    def judge(self, paper, m: Measured) -> tuple[float | None, str]:
        if m.holds is None:
            return None, "missing"
        d = None if m.ratio is None or not math.isfinite(m.ratio) else round(m.ratio - 1.0, 12)
        if not m.holds:
            return d, "partly" if m.partly else "not reproduced"
        if self.values_within is None:
            return d, "reproduced"
        return d, "reproduced" if d is not None and abs(d) <= self.values_within else "partly"


@dataclass(frozen=True)
class Missing:
    """No value of ours yet (the case study is not in this version)."""

    reason: str

    def text(self) -> str:
        return "missing: " + self.reason

    def judge(self, paper, m: Measured) -> tuple[float | None, str]:
        return None, "missing"


def merge(base: Mapping, overrides: Mapping) -> dict:
    """``base`` with ``overrides`` merged in, sections recursively (a copy)."""
    out = copy.deepcopy(dict(base))
    for k, v in overrides.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


@dataclass(frozen=True)
class Study:
    """A scenario whose products give one or more claims.

    ``scenario`` is the full-size mapping (usually a shipped example); ``quick`` the
    overrides for ``--quick`` (merged section by section, documented by ``quick_note``).
    ``id`` names the scenario file in the report (``scenarios/<id>.yaml``).
    """

    id: str
    scenario: Mapping
    quick: Mapping = field(default_factory=dict)
    note: str = ""
    quick_note: str = ""
    show_figures: bool = True

    def mapping(self, quick: bool = False) -> dict:
        return merge(self.scenario, self.quick) if quick else copy.deepcopy(dict(self.scenario))


@dataclass(frozen=True)
class Claim:
    """One quantitative statement of the paper and how ours is measured and judged.

    ``measure(products)`` receives ``{study id: Products}`` for the ``studies`` named and
    returns a :class:`Measured`. ``figure`` (optional) names a figure of a study's
    products (``"study-id:file.png"``) shown beside the table.
    """

    id: str
    case_study: str
    statement: str
    paper: PaperValue
    rule: Any
    studies: tuple[str, ...] = ()
    measure: Callable[[Mapping[str, Any]], Measured] | None = None
    note: str = ""
    quick_note: str = ""
