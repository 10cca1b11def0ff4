"""The self-contained HTML report (tables per case study, figures as base64 PNG)."""

from __future__ import annotations

import html
from pathlib import Path

from .claim import VERDICTS
from .gaps import GAPS, citrate_threshold_readings

COLOURS = {"reproduced": "#1a7f37", "partly": "#b08800", "not reproduced": "#cf222e", "missing": "#6e7781"}
CASE_TITLES = {"CS1": "Case study 1 — rhizodeposition by a growing root system",
               "CS2": "Case study 2 — phosphate uptake with citrate exudation",
               "CS3": "Case study 3 — root hairs and exudate diffusion on an image",
               "CS4": "Case study 4 — mucilage, liquid connectivity and effective diffusion",
               "CS5": "Case study 5 — microbes around a root"}
MEANINGS = {
    "reproduced": "within the claim's tolerance (a number) or the stated trend holds",
    "partly": "within a wider tolerance, or only part of the trend holds",
    "not reproduced": "outside both tolerances, or the trend does not hold",
    "missing": "no value of ours: the case study is not in this version, or its run failed"}
CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#1f2328}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:0.9em}th,td{border:1px solid #d0d7de;
padding:4px 6px;vertical-align:top;text-align:left}th{background:#f6f8fa}.v{font-weight:bold;white-space:nowrap}
.small{color:#57606a;font-size:0.85em}img{max-width:100%;border:1px solid #d0d7de;margin:0.5em 0}
figure{display:inline-block;max-width:48%;margin:0.5em;vertical-align:top}figcaption{font-size:0.8em;color:#57606a}"""


def _e(x) -> str:
    return html.escape(str(x))


def _diff(row) -> str:
    d = row["difference"]
    if d is None:
        return "—"
    if row["rule"].startswith("absolute"):
        return f"{d:+.3g}"
    return f"{100 * d:+.1f} %"


def _verdict(row) -> str:
    v = row["verdict"]
    label = v + (" (quick)" if row.get("quick") and v != "missing" else "")
    return f'<span class="v" style="color:{COLOURS[v]}">{_e(label)}</span>'


def write_report(path: Path, doc: dict, figures: dict, registry) -> None:
    """Write ``report.html`` from the claims document and the figures {study: {name: base64}}."""
    rows = doc["claims"]
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rhizoscale reproduce</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>rhizoscale {_e(doc['rhizoscale'])}: the paper's claims, reproduced</h1>",
             "<p>Each row: a quantitative claim of Schnepf et al. (2022, Plant Soil, <i>Linking rhizosphere "
             "processes across scales</i>) and the case-study papers it reports, the paper's value and where it "
             "is given, ours, the difference, the verdict and the rule that gave it. Every value of ours comes "
             "from the scenario linked in its row (rerun alone with <code>rhizoscale run</code>); no free "
             "parameter was tuned to a claimed number.</p>"]
    if doc["quick"]:
        parts.append("<p><b>Quick mode</b>: every study ran at a reduced size (see each scenario's header); "
                     "verdicts are marked (quick) and are indicative only.</p>")
    parts.append("<table><tr><th>verdict</th><th>claims</th><th>meaning</th></tr>" + "".join(
        f"<tr><td>{_verdict({'verdict': v, 'quick': False})}</td><td>{doc['counts'][v]}</td><td>{_e(MEANINGS[v])}</td></tr>"
        for v in VERDICTS) + "</table>")
    for case in dict.fromkeys(r["case_study"] for r in rows):
        parts.append(f"<h2>{_e(CASE_TITLES.get(case, case))}</h2><table><tr><th>claim</th><th>paper</th>"
                     "<th>ours</th><th>difference</th><th>verdict</th><th>note</th><th>scenario</th></tr>")
        for r in (r for r in rows if r["case_study"] == case):
            links = " ".join(f'<a href="{_e(s)}">{_e(Path(s).stem)}</a>' for s in r["scenarios"]) or "—"
            parts.append(
                f"<tr><td>{_e(r['statement'])}<div class='small'>{_e(r['id'])}</div></td>"
                f"<td>{_e(r['paper']['text'])}<div class='small'>{_e(r['paper']['source'])}</div></td>"
                f"<td>{_e(r['ours']['text'])}</td><td>{_e(_diff(r))}</td><td>{_verdict(r)}</td>"
                f"<td>{_e(r['note'])}<div class='small'>rule: {_e(r['rule'])}</div></td><td>{links}</td></tr>")
        parts.append("</table>")
        for sid, figs in figures.items():
            if any(r["case_study"] == case and f"{sid}.yaml" in " ".join(r["scenarios"]) for r in rows):
                for name, b64 in figs.items():
                    parts.append(f"<figure><img alt='{_e(name)}' src='data:image/png;base64,{b64}'>"
                                 f"<figcaption>{_e(sid)}: {_e(name)}</figcaption></figure>")
    parts.append("<h2>Fidelity gaps</h2>")
    for title, status, text in GAPS:
        parts.append(f"<h3>{_e(title)} ({_e(status)})</h3><p>{_e(text)}</p>")
        if title.startswith("CS1 citrate"):
            parts.append("<table><tr><th>reading of '5 µmol g⁻¹ soil'</th><th>threshold [µg cm⁻³ liquid]</th>"
                         "<th>remark</th></tr>" + "".join(
                             f"<tr><td>{_e(a)}</td><td>{b:.4g}</td><td>{_e(c)}</td></tr>"
                             for a, b, c in citrate_threshold_readings()) + "</table>")
    parts.append("<h2>Studies</h2><table><tr><th>study</th><th>scenario</th><th>wall time [s]</th><th>error</th></tr>")
    for sid, st in doc["studies"].items():
        parts.append(f"<tr><td>{_e(sid)}</td><td><a href='{_e(st['scenario'])}'>{_e(st['scenario'])}</a></td>"
                     f"<td>{_e(st['wall_time_s'])}</td><td>{_e(st['error'] or '')}</td></tr>")
    parts.append("</table>")
    if doc["problems"]:
        parts.append("<h2>Claim modules with problems</h2><ul>" + "".join(f"<li>{_e(p)}</li>" for p in doc["problems"])
                     + "</ul>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
