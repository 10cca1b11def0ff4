"""Benchmark: two-phase (Shan–Chen) lattice Boltzmann, case study 4 liquid configuration.

Prints
1. MLUPS of the D3Q19 two-phase step (Carnahan–Starling, exact-difference forcing, TRT)
   versus box size and thread count, and the memory held per fluid node (target: >= 30
   MLUPS on 2 cores, <= 200 B per fluid node);
2. the 128^3 granular sub-domain brought to 50 % saturation: seconds per lattice step
   measured on 128^3, steps to the equilibrium criteria counted on a smaller sample, and
   the projected time (target <= 10 min on 2 cores) — a projection, said so;
3. lbmpy's generated Shan–Chen D3Q19 kernel side by side when lbmpy (and a C compiler)
   is available, ratio printed;
4. with ``--laplace-3d``: the surface tension of 3D runs (D3Q19 droplets, cached) against
   the 2D one and an independent 3D drop's Laplace pressure predicted by each;
   with ``--saturation-direct``: the 128^3 sub-domain run to the equilibrium criteria
   (no projection), one line per check;
5. with ``--physics``: the 3D Laplace law (sigma from the slope, linearity) and drying
   bridges between two spheres against Lian et al. (1993) for ``--bridge-angles`` and
   ``--bridge-gaps`` (each gap gives one rupture volume) — about 10 min per bridge on a
   loaded 2-core machine; ``--bridges-only`` skips the Laplace part and the 2D/3D
   contact-angle comparison (the 3D calibration, ~5 D3Q19 drops, cached);
   ``--calibration 3d`` maps the bridge angles to wall densities by the 3D calibration.

    PYTHONPATH=src python benchmarks/bench_lbm.py --sizes 32 64 96 --threads 1 2
    PYTHONPATH=src python benchmarks/bench_lbm.py --sizes 24 --threads 1 --no-saturation
    PYTHONPATH=src python benchmarks/bench_lbm.py --sizes 8 --threads 1 --steps 2 \
        --no-saturation --skip-lbmpy --physics --bridges-only --bridge-angles 50
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numba
import numpy as np

from rhizoscale.porescale import (CarnahanStarlingEOS, ShanChenEOS, TwoPhaseLBM,
                                  mechanical_coexistence)
from rhizoscale.porescale.measure import equivalent_radius, laplace_pressure, liquid_volume

warnings.simplefilter("ignore")


def _walls(n, solid_fraction, seed, granular):
    shape = (n, n, n)
    if granular and solid_fraction > 0:
        from rhizoscale.image.generators import sand_packing
        from rhizoscale.porescale.saturation import solid_labels
        img = sand_packing(shape, 1e-3, porosity=1.0 - solid_fraction, mean_radius=0.006,
                           seed=seed).image
        return (solid_labels(img) > 0).astype(np.uint8)
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < solid_fraction).astype(np.uint8)


def mlups(n, threads, steps, solid_fraction=0.0, seed=0, granular=False):
    """Fluid-node updates per second [1e6/s] of the fused D3Q19 step (best of three
    blocks of ``steps``), bytes held per fluid node, seconds per step, solid share."""
    numba.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    walls = _walls(n, solid_fraction, seed, granular)
    rho = np.where(rng.random(walls.shape) < 0.5, 0.33, 0.03)
    m = TwoPhaseLBM(walls, rho, CarnahanStarlingEOS(0.8), wall_density=0.15, forcing="edm",
                    check_interval=0)
    m.step(2)                                         # compile / warm caches
    dt = math.inf
    for _ in range(3):
        t = time.perf_counter()
        m.step(steps)
        dt = min(dt, time.perf_counter() - t)
    return m.n_fluid * steps / dt / 1e6, m.bytes_per_fluid_node(), dt / steps, 1 - m.n_fluid / walls.size


#: bytes a fluid-node update moves at least (D3Q19, float32 populations): 19 reads and 19
#: writes of 4 B, plus the index (4 B) and psi (4 B) of the node
BYTES_PER_UPDATE = 2 * 19 * 4 + 4 + 4


def copy_rate(n, reps=None):
    """Nodes per second of a plain copy of the D3Q19 float32 populations: the memory
    bandwidth bound of this machine (a stream-collide step moves at least as much)."""
    reps = reps or max(5, int(2e7 // n**3))
    f = np.ones((19, n**3), np.float32)
    g = np.empty_like(f)
    np.copyto(g, f)
    t = time.perf_counter()
    for _ in range(reps):
        np.copyto(g, f)
    return n**3 * reps / (time.perf_counter() - t) / 1e6


def lbmpy_mlups(n, steps):
    try:
        import lbmpy
        import pystencils as ps
        import sympy as sp
        from lbmpy import ForceModel, LBMConfig, create_lb_update_rule
        from lbmpy.creationfunctions import create_stream_pull_with_output_kernel
        from lbmpy.maxwellian_equilibrium import get_weights
    except Exception as err:                          # noqa: BLE001 - report and skip
        return None, f"lbmpy not available ({type(err).__name__}: {err})"
    try:
        stencil = lbmpy.LBStencil(lbmpy.Stencil.D3Q19)
        weights = get_weights(stencil)               # c_s^2 = 1/3 weights
        dh = ps.create_data_handling((n,) * 3, periodicity=True, default_target=ps.Target.CPU)
        src = dh.add_array("src", values_per_cell=stencil.Q)
        dh.add_array_like("dst", "src")
        rho = dh.add_array("rho")
        psi = lambda d: 1.0 - sp.exp(-d)              # original Shan–Chen, G = -5
        force = sum((psi(rho[d]) * w * sp.Matrix(d) for d, w in zip(stencil, weights)),
                    sp.Matrix([0] * 3)) * psi(rho.center) * 5.0
        cfg = LBMConfig(stencil=stencil, relaxation_rate=1.0, compressible=True,
                        force_model=ForceModel.GUO, force=force, kernel_type="collide_only")
        collision = create_lb_update_rule(lbm_config=cfg, optimization={"symbolic_field": src})
        stream = create_stream_pull_with_output_kernel(collision.method, src, dh.fields["dst"],
                                                       {"density": rho})
        kc = ps.CreateKernelConfig(target=ps.Target.CPU, cpu_openmp=numba.get_num_threads())
        k_stream = ps.create_kernel(stream, config=kc).compile()
        k_coll = ps.create_kernel(collision, config=kc).compile()
        dh.fill("rho", 1.0)
        dh.fill("src", 1.0 / 19)
        sync_p = dh.synchronization_function(["src"])
        sync_r = dh.synchronization_function(["rho"])

        def one():
            sync_r()
            dh.run_kernel(k_coll)
            sync_p()
            dh.run_kernel(k_stream)
            dh.swap("src", "dst")
        one()
        t = time.perf_counter()
        for _ in range(steps):
            one()
        return n**3 * steps / (time.perf_counter() - t) / 1e6, "ok"
    except Exception as err:                          # noqa: BLE001
        return None, f"lbmpy kernel failed ({type(err).__name__}: {str(err)[:200]})"


def saturation_projection(n_big, n_small, threads):
    from rhizoscale.image.generators import sand_packing
    from rhizoscale.porescale.saturation import water_at_saturation
    numba.set_num_threads(threads)
    eos = CarnahanStarlingEOS(0.8)
    small = sand_packing((n_small,) * 3, 1e-3, porosity=0.45, mean_radius=0.006, seed=3).image
    t = time.perf_counter()
    res = water_at_saturation(small, 0.5, eos=eos, wall_density=0.12, check_every=200,
                              max_steps=6000, u_tol=5e-3, s_tol=2e-3)
    t_small = time.perf_counter() - t
    print(f"  {n_small}^3 sample: {res.steps} steps to criteria (max|u| < 5e-3, dS < 2e-3 per "
          f"200 steps), converged={res.converged}, S = {res.saturation:.3f}, {t_small:.1f} s")
    rate, bpn, s_per_step, _ = mlups(n_big, threads, 10, solid_fraction=0.55, granular=True)
    # interface relaxation is diffusive (t ~ L^2/nu): scale the step count with the grain
    # size, the same here, not with the box
    proj = res.steps * s_per_step
    print(f"  {n_big}^3 at 55 % solid: {s_per_step:.3f} s per step ({rate:.1f} MLUPS per fluid "
          f"node), projected time to the criteria = {proj / 60:.1f} min (PROJECTION: steps "
          f"counted on {n_small}^3, time per step measured on {n_big}^3)")


def saturation_direct(n, threads, max_steps, check_every=200, forcing="edm"):
    """The ``n``^3 granular sub-domain (porosity 0.45, grains of 6 voxels, seed 3) brought
    to 50 % saturation by the SaturationModel with its default equilibrium criteria, run
    to them (no projection): one line per check, then steps, wall and CPU time and the
    load average."""
    import os
    from rhizoscale.image.generators import sand_packing
    from rhizoscale.porescale.saturation import SaturationModel, solid_labels
    from rhizoscale.simulation import Simulation
    numba.set_num_threads(threads)
    img = sand_packing((n,) * 3, 1e-3, porosity=0.45, mean_radius=0.006, seed=3).image
    load0 = os.getloadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    m = SaturationModel(img, solid_labels(img), 0.5, eos=CarnahanStarlingEOS(0.8),
                        wall_density=0.12, forcing=forcing, check_every=check_every,
                        max_steps=max_steps)
    print(f"  {n}^3, {m.n_pore} pore nodes, {threads} threads, {forcing}, checks every "
          f"{check_every} steps; tolerances per 200 steps: phase change {m.phase_tol:g}, "
          f"voxel-saturation drift {m.s_tol:g}, kinetic energy change {m.ke_tol:g}; "
          f"load {load0[0]:.1f} at the start")
    print("    step  S_mass   S_voxel  phase_chg  dS_voxel  KE_rel_chg  max|u|    max|du|   "
          "wall[s] cpu[s] load")
    def report(t, stop):
        h, c = m.history[-1], m.criteria()
        print(f"  {h[0]:6d}  {h[1]:.5f}  {h[2]:.5f}  {h[5]:.2e}  {c['saturation_drift']:.1e}  "
              f"{h[7]:.2e}  {h[3]:.2e}  {h[4]:.2e}  {time.perf_counter() - w0:7.0f} "
              f"{time.process_time() - c0:6.0f} {os.getloadavg()[0]:.1f}", flush=True)
    Simulation(m, stop_time=m.stop_time(), dt=m.check_every, name="bench-saturation",
               progress=report).run()
    wall, cpu, load1 = time.perf_counter() - w0, time.process_time() - c0, os.getloadavg()
    c = m.criteria()
    print(f"  RESULT {n}^3 S = 0.5: converged={m.done} after {int(m.time)} steps, wall "
          f"{wall:.0f} s ({wall / 60:.1f} min), CPU {cpu:.0f} s, load {load0[0]:.1f} at the "
          f"start, {load1[0]:.1f} (1 min) / {load1[1]:.1f} (5 min) at the end; at the end: "
          f"phase change {c['phase_change']:.2e}, voxel-saturation drift "
          f"{c['saturation_drift']:.1e}, kinetic energy change "
          f"{c['kinetic_energy_change']:.2e}, max|u| {c['max_speed']:.2e}, max|du| "
          f"{c['max_velocity_change']:.2e}; target 10 min on 2 cores")


def laplace_3d():
    """The surface-tension calibration 3D runs use (D3Q19 droplets, ``LAPLACE_3D``,
    cached) against the 2D one (D2Q9, ``LAPLACE_2D``), and an independent 3D drop's
    Laplace pressure predicted by each (Li forcing, CS T/Tc = 0.8, the scenario default)."""
    from rhizoscale.porescale.calibration import (LAPLACE_2D, LAPLACE_3D, LaplaceDropModel,
                                                  measure_surface_tension)
    from rhizoscale.simulation import Simulation
    numba.set_num_threads(1)
    eos = CarnahanStarlingEOS(0.8)
    t, c = time.perf_counter(), time.process_time()
    st3 = measure_surface_tension(eos, forcing="li", **LAPLACE_3D)
    print(f"\n3D surface tension (D3Q19 drops {LAPLACE_3D}): sigma = {st3.sigma:.5g} lattice "
          f"units; R = {np.round(st3.radii, 2).tolist()}, dp R / 2 = "
          f"{np.round(np.asarray(st3.dp) * st3.radii / 2, 6).tolist()}, misfit "
          f"{st3.max_misfit:.2%}; {time.perf_counter() - t:.0f} s wall, "
          f"{time.process_time() - c:.0f} s CPU (0 when cached)")
    st2 = measure_surface_tension(eos, forcing="li", **LAPLACE_2D)
    x, y = 1 / np.asarray(st2.radii), np.asarray(st2.dp)
    origin2 = float((x * y).sum() / (x * x).sum())
    print(f"2D surface tension (D2Q9 drops {LAPLACE_2D}): slope {st2.sigma:.5g} (intercept "
          f"{st2.intercept:.3g}), through the origin {origin2:.5g}; dp R = "
          f"{np.round(y / x, 6).tolist()} at R = {np.round(st2.radii, 2).tolist()}")
    print(f"3D / 2D: {st3.sigma / st2.sigma:.4f} (2D slope), {st3.sigma / origin2:.4f} "
          f"(2D through the origin)")
    for R0, box in ((15, 48), (13, 44)):
        m = LaplaceDropModel(eos, R0, forcing="li", ndim=3, box=box, check_every=200,
                             dp_tol=2e-3)
        Simulation(m, stop_time=1200, dt=200).run()
        r, dp = m.radius_and_dp()
        print(f"  independent 3D drop R0 = {R0} in {box}^3: R = {r:.3f}, dp = {dp:.6g}; "
              f"2 sigma_3D / R = {2 * st3.sigma / r:.6g} ({dp / (2 * st3.sigma / r) - 1:+.2%}); "
              f"with the 2D slope sigma {2 * st2.sigma / r:.6g} "
              f"({dp / (2 * st2.sigma / r) - 1:+.2%}); {int(m.time)} steps")


def physics():
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    print("\n3D Laplace law (Shan-Chen G = -6, Guo, TRT), box 40^3:")
    eos = ShanChenEOS(G=-6.0)
    rg, rl = mechanical_coexistence(eos)
    inv_r, dp = [], []
    n = 40
    for radius in (8, 10, 12, 14):
        g = np.indices((n,) * 3)
        r2 = sum((gi - n / 2) ** 2 for gi in g)
        m = TwoPhaseLBM(np.zeros((n,) * 3, int), np.where(r2 <= radius**2, rl, rg), eos)
        m.step(1500)
        rho = m.density()
        R = equivalent_radius(liquid_volume(rho, rho.min(), rho.max()), 3)
        inv_r.append(1 / R)
        dp.append(laplace_pressure(rho, eos)[2])
        print(f"  R = {R:6.3f}  dp = {dp[-1]:.5e}  dp R / 2 = {dp[-1] * R / 2:.5f}")
    slope, icpt = np.polyfit(inv_r, dp, 1)
    fit = slope * np.asarray(inv_r) + icpt
    print(f"  sigma (slope/2) = {slope / 2:.5f}, intercept = {icpt:.2e}, max misfit = "
          f"{np.max(np.abs(fit - dp)) / max(dp) * 100:.2f} % of dp")



def _settings_3d():
    """The 3D calibration of the shipped bridge (the scenario's own settings)."""
    import yaml

    from rhizoscale.porescale.scenario import calibration_settings
    from rhizoscale.scenario import example_text, scenario_from_dict
    text = yaml.safe_load(example_text("cs4-liquid-bridge"))
    return calibration_settings(scenario_from_dict(text, source="bench").config)


def calibrations(eos):
    """The 2D (D2Q9) and 3D (D3Q19 spherical cap) wetting calibrations of the shipped
    bridge's fluid (cached; the 3D one is what 3D scenario runs use)."""
    from rhizoscale.porescale.wetting import calibrate_wetting
    kw2 = dict(forcing="li", tau=1.0, steps=2500, shape=(24, 56), radius=9.0)
    return calibrate_wetting(eos, **kw2), calibrate_wetting(eos, **_settings_3d())


def angle_of(cal, rw):
    """Contact angle [deg] of wall density ``rw`` by the calibration's interpolation."""
    order = np.argsort(cal.wall_density)
    return float(np.interp(rw, np.asarray(cal.wall_density)[order], np.asarray(cal.angle)[order]))


def wetting_2d_vs_3d():
    eos = CarnahanStarlingEOS(0.8)
    t = time.perf_counter()
    c2, c3 = calibrations(eos)
    print(f"\nContact angle, 2D (D2Q9 circle fit) vs 3D (D3Q19 spherical cap), CS T/Tc = 0.8, "
          f"Li forcing ({time.perf_counter() - t:.0f} s, 0 when cached):")
    for rw in c3.wall_density:
        print(f"  wall density {rw:.4f}: 2D {angle_of(c2, rw):6.1f} deg   3D "
              f"{angle_of(c3, rw):6.1f} deg")
    for theta in (50.0, 70.0, 110.0):
        print(f"  requested {theta:.0f} deg: wall density 2D {c2.wall_density_for(theta):.4f}, "
              f"3D {c3.wall_density_for(theta):.4f}; the 2D density gives "
              f"{angle_of(c3, c2.wall_density_for(theta)):.1f} deg in 3D")


def lian_bridges(angles=(50.0, 70.0), gaps=(12, 16), radius=14, hold_every=10, refine=3,
                 calibration="2d"):
    """Drying bridges between two spheres against Lian et al. (1993).

    Carnahan-Starling T/Tc = 0.8 with the Li forcing (the shipped example's fluid), wall
    densities from the cached sessile-drop calibration of the requested angles
    (``calibration``: "2d", D2Q9 drops as in sessions 5-6, or "3d", D3Q19 caps as the
    scenario's 3D runs now use); Lian's gap is computed with the angle of that wall
    density on the 3D calibration when it is cached. Each
    gap gives one rupture volume (the bridge is dried at that gap), so the gaps are the
    volumes compared. The liquid's excess mass is held at each stage's target during
    relaxation (``hold_every``) and the split is refined ``refine`` times (half the
    removal each); the rupture volume is bracketed by the liquid on both grains just after
    the split and the bridge at the last connected stage (:meth:`rupture_bracket`).
    """
    from rhizoscale.porescale.liquid_bridge import (bridge_model, lian_rupture_distance,
                                                    two_particles)
    from rhizoscale.porescale.wetting import (cached_calibration, calibrate_wetting,
                                              coexistence)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    eos = CarnahanStarlingEOS(0.8)
    rg, rl = coexistence(eos, "li")
    kw = dict(forcing="li", tau=1.0, steps=2500, shape=(24, 56), radius=9.0)
    kw3 = _settings_3d()
    cal3 = cached_calibration(eos, **kw3)
    if calibration == "3d":
        cal = cal3 or calibrate_wetting(eos, **kw3)
        cal3 = cal
    else:
        cal = cached_calibration(eos, **kw) or calibrate_wetting(eos, **kw)
    print(f"\nDrying bridges (CS T/Tc = 0.8, Li forcing, TRT), spheres R = {radius} nodes, liquid "
          f"held every {hold_every} steps, {refine} refinements, angles by the {calibration} "
          "calibration, vs Lian et al. (1993) d_rup = (1 + theta/2) V^(1/3):")
    rows = []
    for theta in angles:
        rw = cal.wall_density_for(theta)
        th = math.radians(theta)
        if cal3 is not None and calibration != "3d":
            theta3 = angle_of(cal3, rw)
            print(f"  wall density {rw:.4f}: {theta:.1f} deg in 2D, {theta3:.1f} deg in 3D "
                  f"(Lian's gap with the 3D angle: the ratio times "
                  f"{(1 + th / 2) / (1 + math.radians(theta3) / 2):.3f})")
        for gap in gaps:
            lab = two_particles(radius, gap, ndim=3, margin=4)
            v_lian = (gap / (1 + th / 2)) ** 3
            fac = lambda l, r, rw=rw: TwoPhaseLBM(l, r, eos, wall_density=rw, forcing="li")
            t = time.perf_counter()
            # the start (2.5 R^3, a bridge filling the gap) is the same for every case
            m = bridge_model(fac, lab, initial_volume=2.5 * radius**3, rho_gas=rg, rho_liquid=rl,
                             removal=0.25, relax_steps=500, first_relax=1000, refine=refine,
                             hold_every=hold_every, radius=radius, gap=gap)
            while not m.done and m.time < 40:
                m.step(1)
            res = m.result()
            lo, hi = res.rupture_bracket()
            if not res.split_with_liquid:
                print(f"  theta {theta:4.0f} deg, gap {gap}: no split with liquid on both grains "
                      f"(ruptured {res.ruptured}, last connected {hi:.0f} nodes)")
                continue
            d_hi, d_lo = lian_rupture_distance(hi, th), lian_rupture_distance(lo, th)
            rows.append((theta, gap, lo, hi, gap / d_hi, gap / d_lo))
            print(f"  theta {theta:4.0f} deg (wall density {rw:.4f}), gap d = {gap:3d}: rupture "
                  f"volume in [{lo:.0f}, {hi:.0f}] nodes (Lian: {v_lian:.0f}); d / d_Lian(V) in "
                  f"[{gap / d_hi:.3f}, {gap / d_lo:.3f}]; left/right {res.stages[-1].left:.0f}/"
                  f"{res.stages[-1].right:.0f} nodes; {len(res.stages)} stages, "
                  f"{time.perf_counter() - t:.0f} s")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 96])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--no-saturation", action="store_true")
    ap.add_argument("--saturation-size", type=int, default=128)
    ap.add_argument("--saturation-sample", type=int, default=48)
    ap.add_argument("--saturation-direct", action="store_true",
                    help="run the --saturation-size sub-domain to the equilibrium criteria "
                         "(no projection from a sample)")
    ap.add_argument("--saturation-max-steps", type=int, default=12000)
    ap.add_argument("--laplace-3d", action="store_true",
                    help="the 3D surface-tension calibration (D3Q19 drops, cached) against "
                         "the 2D one, and an independent 3D drop predicted by each")
    ap.add_argument("--skip-lbmpy", action="store_true")
    ap.add_argument("--physics", action="store_true")
    ap.add_argument("--bridges-only", action="store_true",
                    help="with --physics: only the Lian bridge comparison")
    ap.add_argument("--bridge-angles", type=float, nargs="+", default=[50.0, 70.0])
    ap.add_argument("--bridge-gaps", type=int, nargs="+", default=[12, 16])
    ap.add_argument("--bridge-radius", type=int, default=14)
    ap.add_argument("--calibration", choices=["2d", "3d"], default="2d",
                    help="with --physics: the wetting calibration that maps the bridge "
                         "angles to wall densities (2d: D2Q9 drops, as the session-6 "
                         "figures; 3d: D3Q19 caps, as 3D scenario runs)")
    a = ap.parse_args()
    print(f"numba threads available: {numba.config.NUMBA_NUM_THREADS}")
    print("D3Q19 two-phase (Carnahan-Starling, EDM forcing, TRT), float32 populations:")
    best = {}
    for n in a.sizes:
        for th in a.threads:
            if th > numba.config.NUMBA_NUM_THREADS:
                continue
            rate, bpn, _, _ = mlups(n, th, a.steps)
            best[th] = max(best.get(th, 0), rate)
            print(f"  {n:4d}^3  threads {th:2d}: {rate:7.2f} MLUPS   {bpn:.0f} bytes per fluid node"
                  f"   {rate * BYTES_PER_UPDATE / 1e3:.2f} GB/s moved")
    n = a.sizes[-1]
    cr = copy_rate(n)
    print(f"  memory bound reference: copying the {n}^3 populations once runs at {cr:.1f} M "
          f"nodes/s (one thread, NumPy) = {cr * 2 * 19 * 4 / 1e3:.1f} GB/s; a step moves >= "
          f"{BYTES_PER_UPDATE} B per node, so one thread's bandwidth bound is "
          f"{cr * 2 * 19 * 4 / BYTES_PER_UPDATE:.0f} MLUPS; the kernel reaches "
          f"{best[1] / (cr * 2 * 19 * 4 / BYTES_PER_UPDATE) * 100 if 1 in best else math.nan:.0f} "
          f"% of it on one thread")
    th = max(best)
    for label, kw in (("granular packing (spheres)", dict(granular=True)),
                      ("i.i.d. random voxels, worst case", dict(granular=False))):
        rate_s, bpn_s, _, sf = mlups(n, th, a.steps, solid_fraction=0.5, **kw)
        print(f"  {n}^3 at {sf * 100:.0f} % solid, {label}, {th} threads: {rate_s:.2f} MLUPS "
              f"per fluid node ({rate_s / best[th]:.2f} x the open box), {bpn_s:.0f} bytes per "
              f"fluid node")
    if not a.skip_lbmpy:
        n = a.sizes[-1]
        numba.set_num_threads(max(best))
        lb, why = lbmpy_mlups(n, a.steps)
        if lb is None:
            print(f"lbmpy: skipped — {why}")
        else:
            ours = mlups(n, max(best), a.steps)[0]
            print(f"lbmpy Shan-Chen D3Q19 (Guo, BGK, generated C) {n}^3: {lb:.2f} MLUPS; "
                  f"rhizoscale {ours:.2f} MLUPS; ratio rhizoscale/lbmpy = {ours / lb:.2f}")
    if not a.no_saturation:
        print(f"\n{a.saturation_size}^3 granular sub-domain to 50 % saturation:")
        if a.saturation_direct:
            saturation_direct(a.saturation_size, max(best), a.saturation_max_steps)
        else:
            saturation_projection(a.saturation_size, a.saturation_sample, max(best))
    if a.laplace_3d:
        laplace_3d()
    if a.physics:
        if not a.bridges_only:
            physics()
            wetting_2d_vs_3d()
        lian_bridges(a.bridge_angles, a.bridge_gaps, a.bridge_radius,
                     calibration=a.calibration)


if __name__ == "__main__":
    main()
