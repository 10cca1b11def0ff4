"""Claims of case studies that are not in this version yet (verdict ``missing``).

Each entry names the package that will provide the claim. When that package exists and
ships a ``claims.py`` with a claim of the same id, the entry is replaced by the real
claim (see :mod:`rhizoscale.reproduce.registry`); nothing here needs editing.
"""

from __future__ import annotations

import importlib.util

from .claim import Claim, Missing, PaperValue

S22 = "Schnepf et al. 2022"

#: (claim id, case study, statement, paper value, source, package that will provide it)
PENDING: list[tuple[str, str, str, str, str, str]] = [
    # every claim the issue lists has a real claim now: CS4 bridge rupture
    # (rhizoscale.porescale.claims), mucilage persistence (rhizoscale.mucilage.claims) and
    # CS5 Fig. 13 (rhizoscale.microbes.claims). Add an entry here for a claim of a case
    # study not built yet, e.g.
    # ("cs6-x", "CS6", "statement", "value", S22 + ", CS6 Fig. 14", "rhizoscale.cs6package"),
]


def _available(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def pending_claims() -> list[Claim]:
    """The placeholders, each saying why it has no value."""
    out = []
    for cid, case, statement, value, source, package in PENDING:
        if _available(package):
            reason = (f"{package} exists but provides no claim {cid!r} yet "
                      f"(add it to {package}.claims)")
        else:
            reason = f"{package} is not in this version of rhizoscale (being built)"
        out.append(Claim(cid, case, statement, PaperValue(value, "", source), Missing(reason)))
    return out
