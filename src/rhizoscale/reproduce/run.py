"""Run the studies the claims need, judge every claim, write ``claims.json`` and the report."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

from ..errors import RhizoscaleError
from ..progress import NullProgress
from .claim import VERDICTS, Claim, Measured
from .registry import Registry, collect

__all__ = ["reproduce", "judge", "REPORT", "CLAIMS_JSON", "SCENARIOS"]

REPORT, CLAIMS_JSON, SCENARIOS = "report.html", "claims.json", "scenarios"


def judge(claim: Claim, products: dict, *, quick: bool = False, failures: dict | None = None) -> dict:
    """One claim's row: paper, ours, difference, verdict, note (never raises)."""
    failures = failures or {}
    notes = [claim.note] if claim.note else []
    failed = [s for s in claim.studies if s in failures]
    if claim.measure is None or failed:
        m = Measured(None)
        if failed:
            notes.append("run failed: " + "; ".join(f"{s}: {failures[s]}" for s in failed))
    else:
        try:
            m = claim.measure(products)
        except Exception as err:  # a measure that breaks must not hide the other claims
            m = Measured(None)
            notes.append(f"measure failed: {type(err).__name__}: {err}")
    diff, verdict = claim.rule.judge(claim.paper.value, m)
    reason = getattr(claim.rule, "reason", None)
    if reason:
        notes.append(reason)
    if m.note:
        notes.append(m.note)
    if quick and verdict != "missing":
        notes.append("quick mode: reduced size, verdict indicative only")
    return {
        "id": claim.id, "case_study": claim.case_study, "statement": claim.statement,
        "paper": {"value": claim.paper.value, "units": claim.paper.units, "source": claim.paper.source,
                  "text": claim.paper.text()},
        "ours": {"value": m.value if isinstance(m.value, (int, float, str)) or m.value is None else str(m.value),
                 "units": m.units, "text": m.text()},
        "difference": diff, "verdict": verdict, "quick": bool(quick), "rule": claim.rule.text(),
        "note": " ".join(n.rstrip(".") + "." for n in notes if n),
        "scenarios": [f"{SCENARIOS}/{s}.yaml" for s in claim.studies],
    }


def _write_scenario(path: Path, study, mapping: dict, quick: bool) -> None:
    head = [f"# {study.id}: {study.note}" if study.note else f"# {study.id}"]
    if quick:
        head.append(f"# --quick: {study.quick_note or 'reduced size'}")
    head.append(f"# rerun alone: rhizoscale run {path.name} --out {study.id}")
    path.write_text("\n".join(head) + "\n" + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")


def _png(fig, dpi: int = 80) -> str:
    import base64
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def reproduce(out_dir: str | Path, *, quick: bool = False, progress=None, only: list[str] | None = None,
              registry: Registry | None = None, figures: bool = True) -> dict:
    """Run every claim (or those whose id or case study is in ``only``) into ``out_dir``.

    Writes ``scenarios/<study>.yaml`` (each reruns alone with ``rhizoscale run``),
    ``claims.json`` and a self-contained ``report.html``. Returns the JSON document.
    Studies run one after another; a study's products are dropped once every claim
    that reads them is judged (full-size CS1 fields are ~0.5 GB).
    """
    from ..outputs import RunContext
    from ..scenario import load_scenario, run_products
    from .report import write_report
    progress = progress or NullProgress()
    reg = registry or collect()
    claims = [c for c in reg.claims if only is None or c.id in only or c.case_study in only]
    order: list[str] = []
    for c in claims:
        if c.measure is not None:
            order += [s for s in c.studies if s not in order and s in reg.studies]
    out = Path(out_dir)
    (out / SCENARIOS).mkdir(parents=True, exist_ok=True)
    products, failures, timings, figs = {}, {}, {}, {}
    rows: dict[str, dict] = {}
    for i, sid in enumerate(order):
        st = reg.studies[sid]
        mapping = st.mapping(quick)
        mapping.setdefault("name", sid)
        if not figures or not st.show_figures:
            mapping.setdefault("outputs", {})["figures"] = False
        path = out / SCENARIOS / f"{sid}.yaml"
        _write_scenario(path, st, mapping, quick)
        progress.message(f"[{i + 1}/{len(order)}] {sid}{' (quick)' if quick else ''}")
        t0 = time.perf_counter()
        try:
            scenario = load_scenario(path)
            ctx = RunContext(seed=scenario.seed, progress=progress, parameters=scenario.parameter_sets)
            products[sid] = run_products(scenario, ctx)
        except RhizoscaleError as err:
            failures[sid] = str(err)
        except Exception as err:  # noqa: BLE001 - reported in the row, the others go on
            failures[sid] = f"{type(err).__name__}: {err}"
            progress.message(traceback.format_exc(limit=3))
        timings[sid] = round(time.perf_counter() - t0, 1)
        if sid in products and figures and st.show_figures:
            figs[sid] = {name: _png(f) for name, f in products[sid].figures.items() if name.endswith(".png")}
        if sid in products:
            products[sid].figures.clear()
        done = set(order[:i + 1])
        for c in claims:
            if c.id not in rows and set(c.studies) <= done | set(failures):
                rows[c.id] = judge(c, products, quick=quick, failures=failures)
        needed = {s for c in claims if c.id not in rows for s in c.studies}
        for s in list(products):
            if s not in needed:
                del products[s]
    for c in claims:  # claims without studies (missing) or naming unknown studies
        if c.id not in rows:
            rows[c.id] = judge(c, products, quick=quick, failures=failures)
    results = [rows[c.id] for c in claims]
    counts = {v: sum(r["verdict"] == v for r in results) for v in VERDICTS}
    from .. import __version__
    doc = {"rhizoscale": __version__, "quick": bool(quick), "counts": counts,
           "studies": {s: {"scenario": f"{SCENARIOS}/{s}.yaml", "wall_time_s": timings.get(s),
                           "error": failures.get(s)} for s in order},
           "problems": list(reg.problems), "claims": results}
    (out / CLAIMS_JSON).write_text(json.dumps(_jsonable(doc), indent=1, ensure_ascii=False), encoding="utf-8")
    write_report(out / REPORT, doc, figs, reg)
    return doc


def _jsonable(obj: Any) -> Any:
    from ..outputs import to_jsonable
    return to_jsonable(obj)
