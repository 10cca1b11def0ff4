"""CS1: where does the single-root hotspot volume peak against the elongation rate?

The paper (Schnepf et al. 2022, CS1 Fig. 4; Landl et al. 2021) finds the rhizodeposit
hotspot volume maximal at intermediate root growth rates, its panels spanning
0.1–2 cm d⁻¹; our shipped ``cs1-single-root`` example puts the mucilage maximum at
0.2 cm d⁻¹ (exact voxel averages on 0.1 mm voxels). This script computes the mucilage (and
optionally citrate) hotspot volume of one straight root against its rate under several
readings of the authors' set-up, none tuned to the paper:

* ``voxel average``: exact voxel averages (the shipped method) at ``--voxel`` cm, day ``--days``;
* ``lmax 10 cm``: the root stops at 10 cm (``lmax`` of CPlantBox's ``straight_root.xml``,
  which the authors' straight-root scripts read; linear growth), day ``--days``;
* ``length 4 cm``: every root compared at a common length of 4 cm (day 4/v);
* ``point values h=…``: the concentration *at grid nodes* (what CPlantBox's
  ExudationModel evaluates), counted as ``h³`` per node above the threshold, on grids of
  ``--point-grids`` cm with the root path on a grid line (``on``) or midway between grid
  lines (``off``); the authors' straight-root scripts use 0.05 cm grids.

Usage::

    python benchmarks/bench_cs1_growth_rate.py                 # a few minutes on 1 core
    python benchmarks/bench_cs1_growth_rate.py --rates 0.2 2 --point-grids 0.2 --voxel 0.05   # smoke

Prints one line per reading: the volumes [cm³] per rate and the rate of the maximum.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rhizoscale.core.grid import RegularGrid
from rhizoscale.core.root_system import RootSystem
from rhizoscale.parameters import load_parameter_set
from rhizoscale.rhizodeposition import (ExudateParameters, concentration_points, hotspot_volume,
                                        rhizodeposition_fields)


def straight_root(v: float, days: float, lmax: float | None = None) -> RootSystem:
    """A straight root growing down at ``v`` [cm d-1] from the origin, stopping at ``lmax`` [cm]."""
    stop = days if lmax is None else min(days, lmax / v)
    n = max(2, int(np.ceil(v * stop / 0.1)) + 1)
    t = np.linspace(0.0, stop, n)
    pts = np.zeros((n, 3))
    pts[:, 2] = -v * t
    return RootSystem.from_polylines([pts], [t], 0.05, time=days)


def _box(rs: RootSystem, p: ExudateParameters, days: float) -> float:
    """Half-width [cm] around the path that holds the hotspot: 3 diffusion lengths, >= 2 mm."""
    return max(0.2, 3 * np.sqrt(2 * p.diffusivity_retarded / max(p.decay_retarded, 1.0 / days)))


def voxel_volume(rs: RootSystem, p: ExudateParameters, days: float, h: float) -> float:
    half = np.ceil(_box(rs, p, days) / h) * h
    depth = float(-rs.nodes[:, 2].min())
    g = RegularGrid.from_resolution((-half, -half, -depth - half), (half, half, half), h)
    c = list(rhizodeposition_fields(rs, g, p, [days]))[-1].concentration
    return hotspot_volume(c, p.threshold_liquid, g.cell_volume)


def point_volume(rs: RootSystem, p: ExudateParameters, days: float, h: float, offset: float) -> float:
    half = np.ceil(_box(rs, p, days) / h) * h
    depth = float(-rs.nodes[:, 2].min())
    xs = np.arange(-half, half + 1e-9, h) + offset * h
    zs = np.arange(-depth - half, half, h) + 0.37 * h          # no node exactly at a path node
    X, Y, Z = np.meshgrid(xs, xs, zs, indexing="ij")
    c = concentration_points(rs, np.c_[X.ravel(), Y.ravel(), Z.ravel()], days, p)
    return float(np.count_nonzero(c > p.threshold_liquid)) * h ** 3


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0])
    ap.add_argument("--days", type=float, default=10.0)
    ap.add_argument("--voxel", type=float, default=0.02, help="voxel size of the exact voxel averages [cm]")
    ap.add_argument("--point-grids", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    ap.add_argument("--exudates", nargs="+", default=["mucilage"])
    args = ap.parse_args(argv)
    rates, days = args.rates, args.days
    print(f"single straight roots, day {days:g}, rates {rates} cm/d; hotspot volume [cm3] per rate")
    for name in args.exudates:
        p = load_parameter_set(ExudateParameters, name)
        readings = {
            f"voxel average {10 * args.voxel:g} mm, day {days:g}":
                lambda v: voxel_volume(straight_root(v, days), p, days, args.voxel),
            f"lmax 10 cm (straight_root.xml), voxel average, day {days:g}":
                lambda v: voxel_volume(straight_root(v, days, 10.0), p, days, args.voxel),
            "length 4 cm (day 4/v), voxel average":
                lambda v: voxel_volume(straight_root(v, 4.0 / v), p, 4.0 / v, args.voxel),
        }
        for h in args.point_grids:
            for off, tag in ((0.0, "on"), (0.5, "off")):
                readings[f"point values h={h:g} cm, path {tag} grid lines, day {days:g}"] = \
                    (lambda h, off: lambda v: point_volume(straight_root(v, days), p, days, h, off))(h, off)
        for label, fn in readings.items():
            t0 = time.perf_counter()
            vols = [fn(v) for v in rates]
            i = int(np.argmax(vols))
            peak = f"maximum at {rates[i]:g} cm/d" if max(vols) > 0 else "no hotspot"
            print(f"{name:9s} {label:55s} " + " ".join(f"{x:.4f}" for x in vols)
                  + f"  {peak}  ({time.perf_counter() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
