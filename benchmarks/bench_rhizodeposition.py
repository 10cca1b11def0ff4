"""Benchmark of case study 1: Vicia faba 21 d, mucilage and citrate, daily fields.

Usage: python benchmarks/bench_rhizodeposition.py [resolution_cm=0.1] [days=21]

Prints wall time per exudate, hotspot volume and overlap share on the last day, mass
balance, and peak memory (resource.getrusage). CPlantBox's ExudationModel comparison is
not implemented yet (see docs/cs1-rhizodeposition.md).
"""

import resource
import sys
import time

import numpy as np

from rhizoscale.grid import RegularGrid
from rhizoscale.parameters import load_parameter_set
from rhizoscale.plant import grow_root_system
from rhizoscale.rhizodeposition.analysis import hotspot_volume, overlap_share
from rhizoscale.rhizodeposition.field import rhizodeposition_fields
from rhizoscale.rhizodeposition.green import root_paths
from rhizoscale.rhizodeposition.parameters import ExudateParameters


def main(res=0.1, days=21):
    t0 = time.perf_counter()
    rs = grow_root_system("vicia_faba", days, seed=1)
    print(f"growth: {time.perf_counter() - t0:.1f} s, {rs}")
    grid = RegularGrid.from_resolution((-10, -10, -45), (10, 10, 0), res)
    print(f"grid {grid.shape} = {grid.n_cells:,} cells")
    paths = root_paths(rs)
    times = np.arange(1, days + 1, dtype=float)
    total = 0.0
    for name in ("mucilage", "citrate"):
        p = load_parameter_set(ExudateParameters, name)
        t1 = time.perf_counter()
        for snap in rhizodeposition_fields(paths, grid, p, times, direct_age=None):
            pass
        dt = time.perf_counter() - t1
        total += dt
        c = snap.concentration
        thr = p.threshold_liquid
        print(f"{name}: {dt:.1f} s for {len(times)} daily fields; day {snap.time:g}: "
              f"hotspot {hotspot_volume(c, thr, grid.cell_volume):.2f} cm3, overlap share "
              f"{overlap_share(c, snap.single_root_max, thr):.3f} (complete: {snap.single_root_complete}), "
              f"max c {c.max():.4g} ug cm-3, mass in domain / present {snap.mass_in_domain / snap.expected_mass:.8f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"total field time {total:.1f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.1, int(sys.argv[2]) if len(sys.argv) > 2 else 21)
