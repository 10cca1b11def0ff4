"""Benchmark of case study 5: agent-steps per second with and without DOC diffusion,
where the time goes, scaling with cells and lattice size, bytes per cell, and the time of
one simulated day.

Usage: python benchmarks/bench_microbes.py [--n 128] [--cells 1000000] [--hours 0.3]
       [--dt 0.1] [--saturation 0.5] [--solver amg|geometric|both] [--scaling] [--day]

A sand packing (porosity 0.4, grains of 100 µm radius, 10 µm voxels) holds water films at
the given saturation (``image.generators.liquid_configuration``); cells are placed by the
calibrated Thomas process; DOC starts at 5 mg C L^-1 in the water. ``--hours`` of
simulated time are run in steps of ``--dt`` after one untimed step (compilation, the AMG
hierarchy); the time of one simulated day is extrapolated from them (said so in the
output), or measured with ``--day`` (24 h simulated). ``--solver both`` runs the two diffusion solvers on the same lattice and cells,
one after the other, and prints their ratio. Timings on the shared 2-core machine vary with
its load (printed); run with NUMBA_NUM_THREADS=2 for the target setting.
"""

import argparse
import os
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
ap.add_argument("--hours", type=float, default=0.3)
ap.add_argument("--dt", type=float, default=0.1)
ap.add_argument("--saturation", type=float, default=0.5)
ap.add_argument("--solver", choices=("amg", "geometric", "both"), default="amg")
ap.add_argument("--scaling", action="store_true", help="also time smaller lattices and cell counts")
ap.add_argument("--day", action="store_true", help="run one whole simulated day (sets --hours 24)")
args = ap.parse_args()
if args.day:
    args.hours = 24.0

PARAMS = load_bacteria()
_LATTICES = {}


def lattice(n, saturation, seed=1):
    if (n, saturation) not in _LATTICES:
        pk = sand_packing((n, n, n), 10e-4, porosity=0.4, mean_radius=0.01, seed=seed)
        im = liquid_configuration(pk, saturation * pk.porosity) if saturation < 1 else pk.image
        _LATTICES[(n, saturation)] = MicrobeLattice.from_image(im)
    return _LATTICES[(n, saturation)]


def build(n, cells, saturation, solver, seed=1):
    lat = lattice(n, saturation, seed)
    doc = np.where(lat.water, 0.005 * lat.voxel_volume, 0.0)
    return MicrobeModel.from_parameters(lat, PARAMS, seed=seed, n_cells=int(cells), doc=doc,
                                        max_step=args.dt, diffusion_rtol=1e-6,
                                        diffusion_solver=solver)


def time_run(model, hours, dt):
    model.step(dt)                       # compile / build the hierarchy, not timed
    for k in model.timings:
        model.timings[k] = 0.0
    model.agent_steps = 0
    its = model.diffusion.iterations
    t0 = time.perf_counter()
    steps = max(1, round(hours / dt))
    for _ in range(steps):
        model.step(dt)
    return time.perf_counter() - t0, steps, model.diffusion.iterations - its


def report(model, wall, steps, its, label):
    tm = model.timings
    without = tm["agents"] + tm["carbon pools"]
    print(f"[{label}] {steps} steps of {args.dt} h: {wall:.1f} s; per step: diffusion "
          f"{tm['diffusion'] / steps:.2f} s ({its / steps:.0f} CG iterations), agents "
          f"{tm['agents'] / steps:.3f} s, carbon pools {tm['carbon pools'] / steps:.3f} s")
    print(f"[{label}] agent-steps per second including DOC diffusion: "
          f"{model.agent_steps / wall / 1e6:.2f} M (target 10 M); without diffusion: "
          f"{model.agent_steps / without / 1e6:.2f} M")
    simulated = steps * args.dt
    if simulated >= 24.0 - 1e-9:
        print(f"[{label}] one simulated day ({24 / args.dt:.0f} steps) measured: "
              f"{wall / simulated * 24.0 / 60:.1f} min (target 15 min)")
    else:
        print(f"[{label}] one simulated day ({24 / args.dt:.0f} steps), extrapolated from "
              f"{simulated:g} h: {wall / simulated * 24.0 / 60:.1f} min (target 15 min)")
    return wall


print(f"rhizoscale CS5 benchmark: {numba.get_num_threads()} Numba threads; load average "
      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine: timings vary)")
t0 = time.perf_counter()
lat = lattice(args.n, args.saturation)
print(f"lattice {args.n}^3 of 10 um, water fraction {lat.water.mean():.3f}; set-up "
      f"{time.perf_counter() - t0:.1f} s")
solvers = ("amg", "geometric") if args.solver == "both" else (args.solver,)
walls = {}
for solver in solvers:
    model = build(args.n, args.cells, args.saturation, solver)
    wall, steps, its = time_run(model, args.hours, args.dt)
    walls[solver] = report(model, wall, steps, its, solver)
if len(walls) == 2:
    print(f"time ratio amg / geometric (same lattice, cells and steps): "
          f"{walls['amg'] / walls['geometric']:.2f}")
arrays = model.agents.nbytes / max(len(model.agents), 1)
print(f"bytes per cell: {arrays:.0f} in the agent arrays, {AGENT_BYTES} with the kernel's "
      f"scratch (target <= 100); cells now {len(model.agents):,}")
print(f"carbon balance error {model.carbon_balance_error():.1e}")
print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")

if args.scaling:
    print(f"scaling ({args.solver if args.solver != 'both' else 'amg'} solver, 2 timed steps each):")
    print(f"{'lattice':>8} {'cells':>10} {'M a-steps/s':>12} {'w/o diff.':>10} "
          f"{'diffusion s/step':>17} {'agents s/step':>14}")
    solver = "amg" if args.solver == "both" else args.solver
    for n, cells in ((32, 1e4), (64, 1e4), (64, 1e5), (128, 1e5), (64, 1e6), (128, 1e6)):
        if n > args.n:
            continue
        m = build(n, cells, args.saturation, solver)
        w, s, _ = time_run(m, 2 * args.dt, args.dt)
        without = m.timings["agents"] + m.timings["carbon pools"]
        print(f"{n:>7}^3 {len(m.agents):>10,} {m.agent_steps / w / 1e6:>12.2f} "
              f"{m.agent_steps / without / 1e6:>10.2f} {m.timings['diffusion'] / s:>17.3f} "
              f"{m.timings['agents'] / s:>14.3f}")
