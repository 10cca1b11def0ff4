"""Benchmark: 1 h of exudate diffusion on a generated 256^3 rhizosphere image.

Usage: python benchmarks/bench_diffusion.py [N]   (N = edge in voxels, default 256)
Prints time for generation, assembly, solve, CG iterations, AMG builds, peak memory,
and the mass balance. Restrict to 2 cores with ``taskset -c 0,1`` and
OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=2 to reproduce the target setting.
"""

import resource
import sys
import time

import numpy as np

from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
from rhizoscale.image.generators import rhizosphere_sample

n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
h = 0.14 / n                      # paper-like ROI: 1.4 mm along the root
t0 = time.perf_counter()
s = rhizosphere_sample((n, n, n), h, root_radius=0.03, hair_length=0.05,
                       hair_radius=max(9e-4, 0.75 * h), seed=1)
t1 = time.perf_counter()
print(f"{n}^3 voxels of {h * 1e4:.2f} um; sample generated in {t1 - t0:.1f} s "
      f"({s.hair_count} hairs, contact {s.contact_without_hairs['contact_fraction']:.3f} / "
      f"{s.contact_with_hairs['contact_fraction_with_hairs']:.3f})")
for name, img in (("with hairs", s.with_hairs),):
    t0 = time.perf_counter()
    r = simulate_exudate_diffusion(img, t_end=3600.0)
    t1 = time.perf_counter()
    st = r.transient.stats
    print(f"{name}: total {t1 - t0:.1f} s (AMG setup {st['amg_setup_s']:.1f} s in "
          f"{st['amg_builds']} builds, CG {st['solve_s']:.1f} s), {st['unknowns']:,} unknowns, "
          f"{st['steps']} steps, {int(r.transient.iterations.sum())} CG iterations; "
          f"mass {r.mass_into_soil:.4f} ug, balance error {r.transient.mass_balance_error:.1e}")
print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")
