"""Benchmark: 1 h of exudate diffusion on a generated N^3 rhizosphere image.

Usage: python benchmarks/bench_diffusion.py [N] [--solver multigrid|amg] [--growth G]
(N = edge in voxels, default 256). Prints the time for generation, operator assembly,
multigrid setup and CG, CG iterations per step, peak memory (ru_maxrss) and the mass
balance. The target setting is 2 cores: NUMBA_NUM_THREADS=2 (taskset -c 0,1); on a
shared machine NUMBA_NUM_THREADS=1 can be faster (threads waiting for each other).
"""

import argparse
import resource
import time

import numba

from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
from rhizoscale.image.generators import rhizosphere_sample

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int, nargs="?", default=256)
ap.add_argument("--solver", default="multigrid", choices=["multigrid", "amg"])
ap.add_argument("--growth", type=float, default=1.5)
ap.add_argument("--first", type=float, default=36.0, help="first step [s]")
ap.add_argument("--rtol", type=float, default=1e-6)
args = ap.parse_args()
n = args.n
h = 0.14 / n                      # paper-like ROI: 1.4 mm along the root
t0 = time.perf_counter()
s = rhizosphere_sample((n, n, n), h, root_radius=0.03, hair_length=0.05,
                       hair_radius=max(9e-4, 0.75 * h), seed=1)
t1 = time.perf_counter()
print(f"{n}^3 voxels of {h * 1e4:.2f} um; sample generated in {t1 - t0:.1f} s "
      f"({s.hair_count} hairs, contact {s.contact_without_hairs['contact_fraction']:.3f} / "
      f"{s.contact_with_hairs['contact_fraction_with_hairs']:.3f}); solver {args.solver}, "
      f"{numba.get_num_threads()} Numba threads")
t0 = time.perf_counter()
r = simulate_exudate_diffusion(s.with_hairs, t_end=3600.0, solver=args.solver,
                               growth=args.growth, first_step=args.first, rtol=args.rtol)
t1 = time.perf_counter()
st = r.transient.stats
other = t1 - t0 - st["amg_setup_s"] - st["solve_s"]
print(f"with hairs: total {t1 - t0:.1f} s = assembly/masks/output {other:.1f} s + "
      f"preconditioner setup {st['amg_setup_s']:.1f} s + time stepping (CG) {st['solve_s']:.1f} s; "
      f"{st['unknowns']:,} unknowns, {st['steps']} steps, "
      f"{int(r.transient.iterations.sum())} CG iterations {list(map(int, r.transient.iterations))}; "
      f"mass {r.mass_into_soil:.5f} ug, balance error {r.transient.mass_balance_error:.1e}")
print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
