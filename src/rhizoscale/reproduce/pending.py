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
PENDING = [
    ("cs4-bridge-rupture", "CS4", "A water bridge between two grains ruptures as it dries",
     "rupture (water)", S22 + ", CS4 Fig. 12; Lian et al. 1993", "rhizoscale.porescale"),
    ("cs4-mucilage-persistence", "CS4", "A mucilage bridge persists as the water is removed",
     "persists (mucilage)", S22 + ", CS4 Fig. 12; Haupenthal et al. 2021", "rhizoscale.mucilage"),
    ("cs5-fig13-small-pulse", "CS5", "Small exudate additions give a short respiration pulse without growth",
     "pulse, no growth", S22 + ", CS5 Fig. 13 (Portell et al. 2018)", "rhizoscale.microbes"),
    ("cs5-fig13-large-growth", "CS5", "Large exudate additions give microbial growth curves",
     "growth", S22 + ", CS5 Fig. 13 (Portell et al. 2018)", "rhizoscale.microbes"),
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
