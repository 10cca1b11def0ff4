"""Does the network's spanning ratio S*/R hold at other grain radii? And the search's time estimate (issue 13).

The ``cs4-diffusivity-table`` chain runs one :func:`rhizoscale.mucilage.network_span` search
at the image's mean grain radius and scales ``S*/R`` to every neck's pair radius. The
network's beads have absolute sizes (``polymer_per_bead``, ``bond_length``): the bead
*density* is set by the concentration alone, but a larger bridge holds more beads, so the
network's percolation sharpens with the grain radius. This script runs the search at
several radii and concentrations, prints each ratio and its deviation from the ratio at the
reference radius (the one the chain would scale), and the search's estimated time
(:func:`rhizoscale.mucilage.span_seconds`) next to the measured one.

    PYTHONPATH=src python benchmarks/bench_mucilage_span_radius.py                     # c 1, 1.5, 3; R 60-240 um
    PYTHONPATH=src python benchmarks/bench_mucilage_span_radius.py --radii 30 60 --concentrations 3 \\
        --volume-ratio 0.002 --grid 3 --bisections 0                                    # smoke test
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radii", type=float, nargs="+", default=[60.0, 120.0, 240.0], help="grain radii [um]")
    ap.add_argument("--reference", type=float, default=None, help="radius the chain scales from [um] "
                    "(default: the middle of --radii)")
    ap.add_argument("--concentrations", type=float, nargs="+", default=[1.0, 1.5, 3.0], help="[mg/g]")
    ap.add_argument("--volume-ratio", type=float, default=0.02)
    ap.add_argument("--water-left", type=float, default=0.25)
    ap.add_argument("--grid", type=int, default=10)
    ap.add_argument("--bisections", type=int, default=4)
    args = ap.parse_args()
    from rhizoscale.mucilage import network_span, span_bead_steps, span_seconds
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.parameters import load_parameter_set
    p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    radii = sorted(args.radii)
    ref = args.reference if args.reference is not None else radii[len(radii) // 2]
    if ref not in radii:
        radii = sorted(radii + [ref])
    search = dict(volume_ratio=args.volume_ratio, grid=args.grid, bisections=args.bisections)
    network_span(3.0, p, radius=20.0, volume_ratio=0.002, grid=1, bisections=0)    # compile (another cache key)
    print(f"threads {os.environ.get('NUMBA_NUM_THREADS', 'all')}, load average {os.getloadavg()[0]:.1f}; "
          f"volume ratio {args.volume_ratio:g}, water left {args.water_left:g}, reference radius {ref:g} um")
    print(f"{'c mg/g':>7} {'R um':>7} {'beads':>8} {'S*/R':>8} {'water':>7} {'wet':>7} {'vs ref':>8} "
          f"{'est s':>7} {'meas s':>7}")
    worst = {}
    for c in args.concentrations:
        spans = {}
        for r in radii:
            beads, _ = span_bead_steps(c, p, radius=r, **search)
            est = span_seconds(c, p, radius=r, **search)
            t0 = time.perf_counter()
            s = network_span(c, p, radius=r, water_left=args.water_left, **search)
            spans[r] = (s, beads, est, time.perf_counter() - t0)
        for r in radii:
            s, beads, est, meas = spans[r]
            err = s.gap_ratio / spans[ref][0].gap_ratio - 1
            worst[c] = max(worst.get(c, 0.0), abs(err))
            print(f"{c:7.3g} {r:7.0f} {beads:8.0f} {s.gap_ratio:8.4f} {s.lian_gap_ratio:7.4f} {s.wet_gap_ratio:7.4f} "
                  f"{err:+8.1%} {est:7.2f} {meas:7.2f}")
    resolution = spans[ref][0].wet_gap_ratio / args.grid / 2 ** args.bisections
    print(f"search resolution {resolution:.4f} (wet/grid/2^bisections); largest scaled-ratio deviation per "
          "concentration: " + ", ".join(f"{c:g} mg/g {w:.1%}" for c, w in worst.items()))


if __name__ == "__main__":
    main()
