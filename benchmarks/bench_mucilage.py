"""Benchmark: bead-spring mucilage network between two grains (case study 4, issue 13).

Targets: >= 10 M bead-steps per second on 2 cores for a network of 1e5 beads between
particles (overdamped steps with bonds, adhesion, excluded volume and the capillary pull
of a liquid surface); a full drying curve of one concentration in <= 2 min on 2 cores.
No reference tool runs side by side: the DEM codes that treat liquid bridges (LIGGGHTS,
MercuryDPM, YADE) have no polymer network and do not install from PyPI.

    PYTHONPATH=src python benchmarks/bench_mucilage.py                 # 1e5 beads, example curve
    PYTHONPATH=src python benchmarks/bench_mucilage.py --beads 2000 --curve-concentration 3 --curve-steps 10
    PYTHONPATH=src python benchmarks/bench_mucilage.py --cylinders     # between parallel cylinders (2D medium)

``--cylinders``: the same network between two parallel cylinders of the chain's grain radius
(120 µm) in a periodic slab along them (minimum images, wrapped cell lists; the slab's length
set so that it holds the beads), the exact 2D bridge's capillary pull; the drying curve is the
cylinder model's (the 2D bridge at the suction of the example's 3D bridge, default slab).
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np


def network_of(beads: int, concentration: float = 8.0, seed: int = 1):
    """A drying-bridge model whose bridge holds about ``beads`` beads (grain radius scaled)."""
    from rhizoscale.mucilage.drying import MucilageBridgeModel
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.parameters import load_parameter_set
    p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    c = concentration * 1e-3
    volume = beads * p.polymer_per_bead * (1 + c / p.polymer_density) / c
    radius = (volume / 0.02) ** (1 / 3)              # V / R^3 = 0.02 as in the example
    p = p.with_value("particle_radius", radius)
    return MucilageBridgeModel(concentration, volume, 0.15 * radius, p, evaporation_rate=1.0,
                               relax_steps=0, seed=seed)


def cylinder_network_of(beads: int, concentration: float = 8.0, seed: int = 1):
    """A drying 2D bridge between parallel cylinders (R = 120 µm) whose slab holds about ``beads``."""
    from rhizoscale.mucilage.cylinder_drying import CylinderBridgeModel
    from rhizoscale.mucilage.cylinders import equal_suction_area
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.parameters import load_parameter_set
    p = load_parameter_set(MucilageNetworkParameters, "mucilage_network").with_value("particle_radius", 120.0)
    c = concentration * 1e-3
    volume = beads * p.polymer_per_bead * (1 + c / p.polymer_density) / c
    area = equal_suction_area(0.02) * 120.0 ** 2
    return CylinderBridgeModel(concentration, area, 0.15 * 120.0, p, evaporation_rate=1.0, period=volume / area,
                               relax_steps=0, seed=seed)


def bead_steps_per_second(model, steps: int, threads: int) -> float:
    net = model.network
    friction = 6 * np.pi * model.viscosity * 1e-6 * net.radius
    dt = 0.1 * friction.min() / model.mech.k_wall
    men = model.meniscus()
    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        net.overdamped(2, dt, friction, model.mech, model.centres, model.pradius, men)     # compile / warm
        best, best_cpu = np.inf, np.inf
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            net.overdamped(steps, dt, friction, model.mech, model.centres, model.pradius, men)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    finally:
        numba.set_num_threads(old)
    return net.n * steps / best, net.n * steps / best_cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beads", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--curve-concentration", type=float, default=8.0, help="mg/g; the example's densest")
    ap.add_argument("--curve-steps", type=int, default=90, help="drying steps (the example: 90)")
    ap.add_argument("--relax-steps", type=int, default=100)
    ap.add_argument("--cylinders", action="store_true", help="the network between parallel cylinders (periodic slab)")
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared machine: "
          f"timings vary with load), numba threads {numba.get_num_threads()}")
    t0 = time.perf_counter()
    model = cylinder_network_of(args.beads) if args.cylinders else network_of(args.beads)
    net = model.network
    where = (f"parallel cylinders of radius {model.radius:.0f} um, periodic slab of {model.period:.0f} um"
             if args.cylinders else f"grain radius {model.radius:.0f} um")
    print(f"network: {net.n} beads, {len(net.bond_i)} bonds, {int(net.tether_alive.sum())} adhering, "
          f"{where} (built in {time.perf_counter() - t0:.1f} s)")
    threads = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})
    for th in threads:
        rate, per_cpu = bead_steps_per_second(model, args.steps, th)
        print(f"overdamped steps, {th} thread(s): {rate / 1e6:.2f} M bead-steps/s wall (target >= 10 on 2 cores); "
              f"{per_cpu / 1e6:.2f} M bead-steps per CPU-second")
    # a full drying curve of one concentration, as in the example (water only not included)
    from rhizoscale.mucilage.drying import MucilageBridgeModel
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.parameters import load_parameter_set
    p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    t0 = time.perf_counter()
    if args.cylinders:
        from rhizoscale.mucilage.cylinder_drying import CylinderBridgeModel
        from rhizoscale.mucilage.cylinders import equal_suction_area
        area = equal_suction_area(2e4 / p.particle_radius ** 3) * p.particle_radius ** 2
        m = CylinderBridgeModel(args.curve_concentration, area, 15.0, p, evaporation_rate=area * 24.0 / 50.0,
                                relax_steps=args.relax_steps, seed=1)
    else:
        m = MucilageBridgeModel(args.curve_concentration, 2e4, 15.0, p, evaporation_rate=500.0,
                                relax_steps=args.relax_steps, seed=1)
    dt = 45.0 / args.curve_steps
    for k in range(1, args.curve_steps + 1):
        m.advance_to(k * dt)
    wall = time.perf_counter() - t0
    print(f"drying curve, {args.curve_concentration:g} mg/g, {m.network.n} beads, {args.curve_steps} steps x "
          f"{args.relax_steps} relaxation steps: {wall:.1f} s (target <= 120 s); water balance "
          f"{m.water_balance_error():.1e}, disconnected at t = {m.connection_lost[0]:g} s")


if __name__ == "__main__":
    main()
