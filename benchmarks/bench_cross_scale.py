"""Cross-scale oracle in 3D: transient filling of a strip of periodic cubic cells (a cubic
solid inclusion in each) solved on the fine voxels versus the homogenised problem with the
cell's effective tensor (issue 15; the 2D version is tests/test_link.py).

The largest difference of the filled fraction must shrink as the cells shrink relative to
the strip (scale separation); the observed order between successive cell counts is
printed with the wall time of each fine solve.

    python benchmarks/bench_cross_scale.py [--voxels 4] [--cells 2 4 8 16] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voxels", type=int, default=4, help="voxels per cell edge")
    ap.add_argument("--cells", type=int, nargs="+", default=[2, 4, 8, 16], help="cells along the strip")
    ap.add_argument("--steps", type=int, default=100, help="time steps")
    args = ap.parse_args()
    from rhizoscale.link.cross_scale import fine_versus_homogenised, inclusion_cell
    cell = inclusion_cell(args.voxels, ndim=3)
    print(f"load average {os.getloadavg()[0]:.1f} (the machine may be shared; times are wall times)")
    errors = []
    for n in args.cells:
        t0 = time.perf_counter()
        r = fine_versus_homogenised(cell, n, steps=args.steps)
        errors.append(r["error"])
        print(f"{n:3d} cells ({args.voxels}^3 voxels each, {args.voxels ** 3 * n + args.voxels ** 2} voxels): "
              f"max |m_fine - m_hom| = {r['error']:.3e}, D_xx = {r['d_eff']:.4f}, porosity {r['porosity']:.3f}, "
              f"{time.perf_counter() - t0:.2f} s")
    e = np.array(errors)
    orders = np.log2(e[:-1] / e[1:]) / np.log2(np.array(args.cells[1:]) / np.array(args.cells[:-1]))
    print("observed order in eps/L between successive cell counts: " + ", ".join(f"{o:.2f}" for o in orders))
    print("difference shrinks as the cells shrink: " + ("yes" if np.all(np.diff(e) < 0) else "NO"))


if __name__ == "__main__":
    main()
