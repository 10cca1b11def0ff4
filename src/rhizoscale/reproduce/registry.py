"""Where claims come from: the built-in modules, every ``rhizoscale.<package>.claims``
module, entry points ``rhizoscale.claims``, and the placeholders of :mod:`.pending`.

A claims module defines ``STUDIES`` (a list of :class:`~.claim.Study`) and ``CLAIMS`` (a
list of :class:`~.claim.Claim`). A new case study adds its claims by shipping
``rhizoscale/<package>/claims.py``: no central list is edited. A module that fails to
import is reported (its claims are missing), not fatal.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

from .claim import Claim, Study
from .pending import pending_claims

BUILTIN = ("rhizoscale.reproduce.cs1", "rhizoscale.reproduce.cs2", "rhizoscale.reproduce.cs3",
           "rhizoscale.reproduce.cs4")
CASE_ORDER = ("CS1", "CS2", "CS3", "CS4", "CS5")


@dataclass
class Registry:
    studies: dict[str, Study] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    def add_module(self, module) -> None:
        for st in getattr(module, "STUDIES", []):
            if st.id in self.studies and self.studies[st.id] != st:
                self.problems.append(f"{module.__name__}: study {st.id!r} defined twice; the first is kept")
                continue
            self.studies[st.id] = st
        known = {c.id for c in self.claims}
        for c in getattr(module, "CLAIMS", []):
            if c.id in known:
                self.problems.append(f"{module.__name__}: claim {c.id!r} defined twice; the first is kept")
                continue
            self.claims.append(c)
            self.origin[c.id] = module.__name__
            known.add(c.id)

    def check_studies(self) -> None:
        """Note claims naming studies no module defines (a claim may name another
        package's study: checked once every module is in)."""
        for c in self.claims:
            missing = [s for s in c.studies if s not in self.studies]
            if missing and c.measure is not None:
                self.problems.append(f"{self.origin.get(c.id, '?')}: claim {c.id!r} names unknown studies {missing}")


def _case_claim_modules() -> list[str]:
    import rhizoscale
    names = []
    for info in pkgutil.iter_modules(rhizoscale.__path__):
        if info.ispkg and info.name != "reproduce":
            name = f"rhizoscale.{info.name}.claims"
            try:
                if importlib.util.find_spec(name) is not None:
                    names.append(name)
            except (ImportError, ValueError):
                continue
    return names


def _entry_points() -> list:
    from importlib.metadata import entry_points
    try:
        return list(entry_points(group="rhizoscale.claims"))
    except Exception:  # pragma: no cover - broken metadata of another package
        return []


def collect(modules: tuple[str, ...] | None = None) -> Registry:
    """Every claim, in case-study order, placeholders last-resort for missing ids."""
    reg = Registry()
    names = list(BUILTIN) + _case_claim_modules() if modules is None else list(modules)
    for name in names:
        try:
            reg.add_module(importlib.import_module(name))
        except Exception as err:  # a broken contribution must not hide the others
            reg.problems.append(f"{name}: cannot import ({type(err).__name__}: {err})")
    if modules is None:
        for ep in _entry_points():
            try:
                reg.add_module(ep.load())
            except Exception as err:
                reg.problems.append(f"entry point {ep.name}: cannot load ({type(err).__name__}: {err})")
    reg.check_studies()
    have = {c.id for c in reg.claims}
    reg.claims.extend(c for c in pending_claims() if c.id not in have)
    order = {c: i for i, c in enumerate(CASE_ORDER)}
    reg.claims.sort(key=lambda c: order.get(c.case_study, len(order)))  # stable within a case
    return reg
