"""Benchmark of case study 5: agent-steps per second including DOC diffusion (multi-rate:
cells every --agent-dt, DOC diffusion every --diffusion-dt), where the time goes, the
agent kernel at 1 and 2 threads, scaling with cells and lattice size, bytes per cell, and
the time of one simulated day.

Usage: python benchmarks/bench_microbes.py [--n 128] [--cells 1000000] [--hours 0.3]
       [--agent-dt 0.0027778] [--diffusion-dt 0.15] [--saturation 0.5]
       [--solver amg|geometric|both] [--scaling] [--day] [--threads-check]

A sand packing (porosity 0.4, grains of 100 µm radius, 10 µm voxels) holds water films at
the given saturation (``image.generators.liquid_configuration``); cells are placed by the
calibrated Thomas process; DOC starts at 5 mg C L^-1 in the water. The cells step every
``--agent-dt`` (default 10 s: the random walk of the motile strain, 1000 µm^2 h^-1, is
resolved up to 6000 µm^2 h^-1 in 10 µm voxels, and a cell takes at most 0.2 % of its
carbon per step), the DOC diffuses every ``--diffusion-dt`` (default 0.15 h, the model's
default ``0.1 / q_max``); ``model.step`` is called once per diffusion step. ``--hours`` of
simulated time are timed after one untimed diffusion step (compilation, the AMG
hierarchy); the time of one simulated day is extrapolated from them (said so in the
output), or measured with ``--day`` (24 h simulated). ``--solver both`` runs the two
diffusion solvers on the same lattice and cells, one after the other, and prints their
ratio. ``--threads-check`` times the agent kernel alone on copies of the cells at 1 and 2
Numba threads, alternating (more threads must never be slower). Timings on the shared
2-core machine vary with its load (printed); run with NUMBA_NUM_THREADS=2 for the target
setting.
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
ap.add_argument("--agent-dt", type=float, default=1 / 360, help="agent step [h] (default 10 s)")
ap.add_argument("--diffusion-dt", type=float, default=None,
                help="DOC diffusion step [h] (default: the model's, 0.1 / q_max)")
ap.add_argument("--threads-check", action="store_true",
                help="time the agent kernel at 1 and 2 threads (alternating)")
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
                                        max_step=args.agent_dt, diffusion_step=args.diffusion_dt,
                                        diffusion_rtol=1e-6, diffusion_solver=solver)


def time_run(model, hours):
    dt = model.diffusion_step            # one diffusion step per call
    model.step(dt)                       # compile / build the hierarchy, not timed
    for k in model.timings:
        model.timings[k] = 0.0
    model.agent_steps = 0
    its = model.diffusion.iterations
    t0, c0 = time.perf_counter(), time.process_time()
    calls = max(1, round(hours / dt))
    for _ in range(calls):
        model.step(dt)
    model.cpu_seconds = time.process_time() - c0          # all threads of this process
    return time.perf_counter() - t0, calls, model.diffusion.iterations - its


def depletion_number(model):
    """max over occupied water voxels of h_d * sum_i(q_i m_i) / (K_s V + DOC_v): above ~0.1
    the cells of a voxel empty it within a diffusion step (docs: the safe ratio)."""
    a = model.agents
    tr = model.traits
    q, ks = tr[a.species, 0], tr[a.species, 1]
    V = model.lattice.voxel_volume
    dem = np.bincount(a.voxel, weights=q * a.mass / (ks * V + model.doc.ravel()[a.voxel]),
                      minlength=model.doc.size)
    occupied = dem[dem > 0] * model.diffusion_step
    return float(np.median(occupied)), float(np.percentile(occupied, 99))


def report(model, wall, calls, its, label):
    tm = model.timings
    without = tm["agents"] + tm["carbon pools"]
    h_a, h_d = model.max_step, model.diffusion_step
    k = max(1, int(np.floor(h_d / h_a * (1 + 1e-12))))
    print(f"[{label}] agent step {h_a * 3600:.3g} s, diffusion step {h_d * 3600:.0f} s "
          f"(k = {k} agent steps per diffusion step)")
    print(f"[{label}] {calls} diffusion steps ({calls * k} agent steps): {wall:.1f} s; per "
          f"diffusion step: diffusion {tm['diffusion'] / calls:.2f} s ({its / calls:.0f} CG "
          f"iterations), agents {tm['agents'] / calls:.3f} s, carbon pools "
          f"{tm['carbon pools'] / calls:.3f} s")
    cpu = model.cpu_seconds
    print(f"[{label}] agent-steps per second including DOC diffusion: "
          f"{model.agent_steps / wall / 1e6:.2f} M (target 10 M); without diffusion: "
          f"{model.agent_steps / without / 1e6:.2f} M")
    print(f"[{label}] CPU time of the timed part {cpu:.1f} s (wall {wall:.1f} s): "
          f"{model.agent_steps / cpu / 1e6:.2f} M agent-steps per CPU-second including "
          f"diffusion (on an idle machine the wall time is at most the CPU time)")
    med, p99 = depletion_number(model)
    print(f"[{label}] voxel depletion number per diffusion step (docs: safe below ~0.1): "
          f"median {med:.2g}, 99th percentile {p99:.2g} over occupied voxels")
    simulated = calls * h_d
    how = "measured" if simulated >= 24.0 - 1e-9 else f"extrapolated from {simulated:.3g} h"
    print(f"[{label}] one simulated day, {how}: {wall / simulated * 24.0 / 60:.1f} min wall, "
          f"{cpu / simulated * 24.0 / 60:.1f} min CPU (target 15 min)")
    return wall


def threads_check(model, repeats=5):
    """The agent kernel alone at 1 and 2 threads on copies of the same cells, alternating."""
    from rhizoscale.microbes.kernels import agent_step
    a0, lat = model.agents, model.lattice
    times = {1: [], 2: []}
    for r in range(repeats + 1):
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            a = a0.take(np.arange(len(a0)))
            doc, dp = model.doc.ravel().copy(), model.doc_pom.ravel().copy()
            co2, nec = np.zeros(doc.size), np.zeros(doc.size)
            t = time.perf_counter()
            agent_step(a.id, a.voxel, a.mass, a.species, a.state, a.starve, a.lag, model.traits,
                       doc, dp, model._water_u8, model._root_adj_u8, co2, nec, lat.shape,
                       lat.voxel_size, model.max_step, model.seed, 10**6 + r, model._ws)
            if r:
                times[threads].append(time.perf_counter() - t)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    t1, t2 = np.array(times[1]), np.array(times[2])
    print(f"agent kernel alone, {len(a0):,} cells: 1 thread {np.median(t1) * 1e3:.0f} ms, "
          f"2 threads {np.median(t2) * 1e3:.0f} ms per step; paired ratio 2/1 threads median "
          f"{np.median(t2 / t1):.2f} (min {np.min(t2 / t1):.2f}, max {np.max(t2 / t1):.2f}; "
          f"{repeats} pairs; must not exceed 1)")


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
    wall, calls, its = time_run(model, args.hours)
    walls[solver] = report(model, wall, calls, its, solver)
if len(walls) == 2:
    print(f"time ratio amg / geometric (same lattice, cells and steps): "
          f"{walls['amg'] / walls['geometric']:.2f}")
arrays = model.agents.nbytes / max(len(model.agents), 1)
print(f"bytes per cell: {arrays:.0f} in the agent arrays, {AGENT_BYTES} with the kernel's "
      f"scratch (target <= 100); cells now {len(model.agents):,}")
print(f"carbon balance error {model.carbon_balance_error():.1e}")
if args.threads_check:
    threads_check(model)
print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")

if args.scaling:
    print(f"scaling ({args.solver if args.solver != 'both' else 'amg'} solver, 2 timed "
          f"diffusion steps each; s per diffusion step):")
    print(f"{'lattice':>8} {'cells':>10} {'M a-steps/s':>12} {'w/o diff.':>10} "
          f"{'diffusion s':>12} {'agents s':>9}")
    solver = "amg" if args.solver == "both" else args.solver
    for n, cells in ((32, 1e4), (64, 1e4), (64, 1e5), (128, 1e5), (64, 1e6), (128, 1e6)):
        if n > args.n:
            continue
        m = build(n, cells, args.saturation, solver)
        w, s, _ = time_run(m, 2 * m.diffusion_step)
        without = m.timings["agents"] + m.timings["carbon pools"]
        print(f"{n:>7}^3 {len(m.agents):>10,} {m.agent_steps / w / 1e6:>12.2f} "
              f"{m.agent_steps / without / 1e6:>10.2f} {m.timings['diffusion'] / s:>12.3f} "
              f"{m.timings['agents'] / s:>9.3f}")
