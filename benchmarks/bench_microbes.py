"""Benchmark of case study 5: agent-steps per second including DOC diffusion, scaling with
cells and lattice size, bytes per cell, and the time of one simulated day.

Usage: python benchmarks/bench_microbes.py [--n 128] [--cells 1000000] [--hours 0.5]
       [--dt 0.1] [--saturation 0.5] [--scaling]

A sand packing (porosity 0.4, grains of 100 µm radius, 10 µm voxels) holds water films at
the given saturation (``image.generators.liquid_configuration``); cells are placed by the
calibrated Thomas process; DOC starts at 5 mg C L^-1 in the water. ``--hours`` of
simulated time are run in steps of ``--dt`` and the time of one simulated day is
extrapolated from them (said so in the output). Timings on the shared 2-core machine
vary with its load; run with NUMBA_NUM_THREADS=2 (taskset -c 0,1) for the target setting.
"""

import argparse
import resource
import time

import numba
import numpy as np

from rhizoscale.image.generators import liquid_configuration, sand_packing
from rhizoscale.microbes import MicrobeLattice, MicrobeModel, load_bacteria
from rhizoscale.microbes.model import AGENT_BYTES

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=128)
ap.add_argument("--cells", type=float, default=1e6)
ap.add_argument("--hours", type=float, default=0.5)
ap.add_argument("--dt", type=float, default=0.1)
ap.add_argument("--saturation", type=float, default=0.5)
ap.add_argument("--scaling", action="store_true", help="also time smaller lattices and cell counts")
args = ap.parse_args()

PARAMS = load_bacteria()


def build(n, cells, saturation, seed=1):
    h_cm = 10e-4
    pk = sand_packing((n, n, n), h_cm, porosity=0.4, mean_radius=0.01, seed=seed)
    im = liquid_configuration(pk, saturation * pk.porosity) if saturation < 1 else pk.image
    lat = MicrobeLattice.from_image(im)
    doc = np.where(lat.water, 0.005 * lat.voxel_volume, 0.0)
    return MicrobeModel.from_parameters(lat, PARAMS, seed=seed, n_cells=int(cells), doc=doc,
                                        max_step=args.dt, diffusion_rtol=1e-6)


def time_run(model, hours, dt):
    model.step(dt)                       # compile / warm up, not timed
    for k in model.timings:
        model.timings[k] = 0.0
    model.agent_steps = 0
    t0 = time.perf_counter()
    steps = max(1, round(hours / dt))
    for _ in range(steps):
        model.step(dt)
    return time.perf_counter() - t0, steps


print(f"rhizoscale CS5 benchmark: {numba.get_num_threads()} Numba threads (shared machine: timings vary)")
t0 = time.perf_counter()
model = build(args.n, args.cells, args.saturation)
print(f"lattice {args.n}^3 of 10 um, water fraction {model.lattice.water.mean():.3f}; "
      f"{len(model.agents):,} cells placed; set-up {time.perf_counter() - t0:.1f} s")
wall, steps = time_run(model, args.hours, args.dt)
tm = model.timings
rate = model.agent_steps / wall
print(f"{steps} steps of {args.dt} h: {wall:.1f} s (diffusion {tm['diffusion']:.1f} s, "
      f"{model.diffusion.iterations} CG iterations in all; agents {tm['agents']:.1f} s; "
      f"carbon pools {tm['carbon pools']:.1f} s)")
print(f"agent-steps per second including DOC diffusion: {rate / 1e6:.2f} M "
      f"(target 10 M); agents alone: {model.agent_steps / tm['agents'] / 1e6:.2f} M")
day = wall / (steps * args.dt) * 24.0
print(f"one simulated day ({24 / args.dt:.0f} steps), extrapolated from {steps * args.dt:g} h: "
      f"{day / 60:.1f} min (target 15 min)")
arrays = model.agents.nbytes / max(len(model.agents), 1)
print(f"bytes per cell: {arrays:.0f} in the agent arrays, {AGENT_BYTES} with the kernel's "
      f"scratch (target <= 100)")
print(f"carbon balance error {model.carbon_balance_error():.1e}; cells now {len(model.agents):,}")
print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")

if args.scaling:
    print("scaling (2 steps each):")
    print(f"{'lattice':>8} {'cells':>10} {'M agent-steps/s':>16} {'diffusion s/step':>17} {'agents s/step':>14}")
    for n, cells in ((32, 1e4), (64, 1e4), (64, 1e5), (128, 1e5), (64, 1e6)):
        m = build(n, cells, args.saturation)
        w, s = time_run(m, 2 * args.dt, args.dt)
        print(f"{n:>7}^3 {len(m.agents):>10,} {m.agent_steps / w / 1e6:>16.2f} "
              f"{m.timings['diffusion'] / s:>17.3f} {m.timings['agents'] / s:>14.3f}")
