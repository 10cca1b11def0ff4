"""Sensitivity of the mucilage network's spanning gap to its chosen constants (issue 13).

One at a time, every constant the parameter set ``mucilage_network`` flags ``chosen:``
(and the two chosen settings of the diffusivity chain's search, ``volume_ratio`` and
``water_left``) is set to 0.5 and 1.5 times its value (clipped into its valid range; a
zero value is skipped, said so) and :func:`rhizoscale.mucilage.network_span` searches the
widest gap a drying bridge keeps connected, over the grain radius — the number the
``cs4-diffusivity-table`` chain scales to every neck. At zero mucilage the span is Lian's
rupture distance of the water left, ``(q v)^(1/3)``: only ``volume_ratio`` and
``water_left`` can move it. Output: a tornado figure (one panel per concentration) and a
table of the changes; a constant "matters" when either change moves the span by more than
``--threshold`` of the base value.

    PYTHONPATH=src python benchmarks/bench_mucilage_sensitivity.py --out docs/figures/cs4_network_sensitivity.png
    PYTHONPATH=src python benchmarks/bench_mucilage_sensitivity.py --constants bond_length --concentrations 3 \\
        --volume-ratio 0.002 --grid 3 --bisections 0          # smoke test
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SETTINGS = ("volume_ratio", "water_left")


def chosen_constants(params) -> list[str]:
    """Numeric constants flagged ``chosen:`` in the parameter set (plus the search settings)."""
    out = []
    for name in params.chosen():
        value = getattr(params, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(name)
    return out + list(SETTINGS)


def _clip(params, name: str, value: float) -> float:
    """Clip ``value`` into the field's bounds (gt/ge/lt/le of the pydantic field)."""
    if name == "water_left":
        return float(np.clip(value, 0.01, 0.99))
    if name == "volume_ratio":
        return float(value)
    field = type(params).model_fields[name]
    for m in field.metadata:
        for attr, fix in (("lt", lambda b: b * (1 - 1e-3)), ("le", lambda b: b)):
            b = getattr(m, attr, None)
            if b is not None:
                value = min(value, fix(b))
    return float(value)


def span(params, c: float, settings: dict, **search) -> float:
    from rhizoscale.mucilage import network_span
    return network_span(c, params, volume_ratio=settings["volume_ratio"], water_left=settings["water_left"],
                        **search).gap_ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concentrations", type=float, nargs="+", default=[1.0, 3.0], help="mg g-1")
    ap.add_argument("--constants", nargs="*", default=None, help="default: every chosen constant")
    ap.add_argument("--factors", type=float, nargs=2, default=[0.5, 1.5])
    ap.add_argument("--volume-ratio", type=float, default=0.02)
    ap.add_argument("--water-left", type=float, default=0.25)
    ap.add_argument("--grid", type=int, default=10)
    ap.add_argument("--bisections", type=int, default=4)
    ap.add_argument("--threshold", type=float, default=0.05, help="relative change that 'matters'")
    ap.add_argument("--out", default=None, help="figure path (PNG)")
    args = ap.parse_args()
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.parameters import load_parameter_set
    base = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    names = args.constants or chosen_constants(base)
    search = {"grid": args.grid, "bisections": args.bisections}
    settings0 = {"volume_ratio": args.volume_ratio, "water_left": args.water_left}
    t0 = time.perf_counter()
    results = {}
    for c in args.concentrations:
        ref = span(base, c, settings0, **search)
        rows = []
        for name in names:
            value0 = settings0[name] if name in SETTINGS else getattr(base, name)
            if value0 == 0:
                print(f"{c:g} mg/g  {name:26s} is 0: ±50 % is 0, skipped")
                continue
            out = []
            for f in args.factors:
                value = _clip(base, name, f * value0)
                if name in SETTINGS:
                    s = span(base, c, {**settings0, name: value}, **search)
                else:
                    s = span(base.with_overrides({name: value}, source="sensitivity"), c, settings0, **search)
                out.append((value, s))
            rows.append((name, value0, out))
            lo, hi = out[0][1], out[1][1]
            matters = max(abs(lo - ref), abs(hi - ref)) > args.threshold * ref
            print(f"{c:g} mg/g  {name:26s} {value0:10.4g}: x{args.factors[0]:g} -> {lo:.4f}, "
                  f"x{args.factors[1]:g} -> {hi:.4f} (base {ref:.4f}){'  MATTERS' if matters else ''}")
        results[c] = (ref, rows)
    wall = time.perf_counter() - t0
    print(f"spanning gap / R searched for {len(names)} constants x {len(args.factors)} values x "
          f"{len(args.concentrations)} concentrations in {wall:.1f} s")
    for c, (ref, rows) in results.items():
        big = [n for n, _, out in rows if max(abs(s - ref) for _, s in out) > args.threshold * ref]
        print(f"{c:g} mg/g: base span {ref:.4f} R; constants that move it by more than "
              f"{args.threshold:.0%}: {', '.join(big) if big else 'none'}")
    if args.out:
        _figure(results, args, args.out)
        print(f"figure written to {args.out}")


def _figure(results, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    names = [n for n, _, _ in next(iter(results.values()))[1]]

    def effect(name):       # largest relative change over the concentrations: one row order for all panels
        out = 0.0
        for ref, rows in results.values():
            for n, _, vals in rows:
                if n == name:
                    out = max(out, max(abs(s - ref) for _, s in vals) / ref)
        return out

    order = sorted(names, key=effect)
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results) + 1.6, 0.28 * len(order) + 1.4),
                             sharey=True, squeeze=False)
    for ax, (c, (ref, rows)) in zip(axes[0], results.items()):
        by = {n: vals for n, _, vals in rows}
        for y, name in enumerate(order):
            for (value, s), colour, dy in zip(by[name], ("tab:blue", "tab:red"), (-0.18, 0.18)):
                ax.barh(y + dy, s - ref, left=ref, color=colour, alpha=0.85, height=0.36)
        ax.axvline(ref, color="k", lw=0.8)
        ax.set_title(f"{c:g} mg/g (base {ref:.3f})", fontsize=9)
        ax.set_xlabel("spanning gap / grain radius")
    axes[0][0].set_yticks(range(len(order)), order, fontsize=7)
    axes[0][0].legend(handles=[Patch(color="tab:blue", label=f"× {args.factors[0]:g}"),
                               Patch(color="tab:red", label=f"× {args.factors[1]:g}")], fontsize=7,
                      loc="lower right")
    fig.suptitle(f"mucilage network: one-at-a-time sensitivity of the spanning gap "
                 f"(v = {args.volume_ratio:g} R³, q = {args.water_left:g})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
