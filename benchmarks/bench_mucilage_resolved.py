"""Resolved vs fast mode of the mucilage network (issue 13), and the voxel-interface force.

1. The voxel-interface pull against the toroidal closed form: beads (r = 1 um) within a
   bead radius of a voxelised toroidal meniscus (R = 30 um, V = 0.1 R^3, gap 3 um), total
   axial force on one half, voxels of 1, 1/2, 1/3 um.
2. The stage (and water) at which the pore loses its liquid connection, resolved mode
   (the stage images' interfaces) vs fast mode (toroidal bridge at the images' geometry,
   same water schedule), water only and per concentration, over seeds.

Stage images: ``--stages FILE`` (a ``bridge_stage_images.nc`` of cs4-liquid-configuration,
e.g. ``rhizoscale run src/rhizoscale/examples/cs4-mucilage-resolved.yaml --out D`` writes
``D/lbm/bridge_stage_images.nc``), or ``--synthetic`` (voxelised toroidal bridges, then a
split one; no LBM).

    PYTHONPATH=src python benchmarks/bench_mucilage_resolved.py --stages D/lbm/bridge_stage_images.nc \
        --contact-angle 0.70 --seeds 1 2 3 4 5 6
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def force_table(steps):
    from scipy.ndimage import map_coordinates
    from rhizoscale.mucilage.bridge import meniscus_distance, toroidal_bridge
    from rhizoscale.mucilage.network import voxel_bridge
    from rhizoscale.mucilage.resolved import interface_field, interface_forces
    R, gap, gamma, r = 30.0, 3.0, 0.072, 1.0
    b = toroidal_bridge(0.1 * R**3, gap, R)
    rng = np.random.default_rng(0)
    n = 20000
    x = rng.uniform(-0.7 * b.half_length, 0.7 * b.half_length, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    u = rng.uniform(-r, r, n)
    print(f"voxel-interface pull vs toroidal closed form (R {R:g} um, r1 {b.r1:.2f}, r2 {b.r2:.2f}, "
          f"bead radius {r:g} um, {n} beads within a radius of the surface)")
    print("voxel [um] | rms |s_vox - s| [um] | axial force, one half: voxel / exact - 1 | radial: voxel / exact - 1")
    for k in steps:
        h = 1.0 / k
        bk = toroidal_bridge(0.1 * (k * R) ** 3, k * gap, k * R)
        w = int(2 * (bk.r1 + bk.r2) + 12 * k)
        shape = (w, w, int(4 * k * R + k * gap + 10 * k))
        s, g = interface_field(voxel_bridge(bk, shape), h)
        cz, cy, cx = np.asarray(shape) / 2.0 * h
        centres = np.array([[cx - (R + gap / 2), cy, cz], [cx + R + gap / 2, cy, cz]])
        rho = b.r1 + b.r2 - np.sqrt(b.r1**2 - x**2)
        on = np.stack([cx + x, cy + rho * np.cos(phi), cz + rho * np.sin(phi)], 1)
        _, normal = meniscus_distance(on, b, centres)
        pts = on - u[:, None] * normal
        se, ne = meniscus_distance(pts, b, centres)
        exact = 2 * np.pi * gamma * r * (1 - (se / r) ** 2)[:, None] * ne
        vox = interface_forces(pts, np.full(n, r), s, g, h, (0.0, 0.0, 0.0), gamma, centres, np.full(2, R))
        sv = map_coordinates(s, (pts / h - 0.5)[:, ::-1].T, order=1)
        right = x > 0
        radial = np.stack([np.cos(phi), np.sin(phi)], 1)
        rad_v = np.einsum("ij,ij->i", vox[:, 1:], radial).sum()
        rad_e = np.einsum("ij,ij->i", exact[:, 1:], radial).sum()
        print(f"{h:.3f} | {np.sqrt(np.mean((sv - se) ** 2)):.3f} | "
              f"{vox[right, 0].sum() / exact[right, 0].sum() - 1:+.4f} | {rad_v / rad_e - 1:+.4f}")


def synthetic_stages():
    from rhizoscale.mucilage.bridge import toroidal_bridge
    from rhizoscale.mucilage.network import voxel_bridge
    from rhizoscale.mucilage.resolved import AIR, WATER, LiquidStages
    imgs = [voxel_bridge(toroidal_bridge(v, 4.0, 20.0), (30, 30, 90)) for v in (900.0, 600.0, 400.0)]
    cut = imgs[-1].copy()
    cut[:, :, 43:47][cut[:, :, 43:47] == WATER] = AIR
    imgs.append(cut)
    return LiquidStages.from_arrays(np.stack(imgs), 1.0, [float((im == WATER).sum()) for im in imgs])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", help="bridge_stage_images.nc of cs4-liquid-configuration")
    ap.add_argument("--synthetic", action="store_true", help="voxelised toroidal stages instead (no LBM)")
    ap.add_argument("--concentrations", type=float, nargs="+", default=[0.0, 1.0, 3.0, 8.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--contact-angle", type=float, default=0.0, help="the fast mode's contact angle [rad]")
    ap.add_argument("--relax-steps", type=int, default=100)
    ap.add_argument("--after-rupture-steps", type=int, default=10)
    ap.add_argument("--force-steps", type=int, nargs="*", default=[1, 2, 3],
                    help="voxels of 1/k um for the force table (none: skip it)")
    a = ap.parse_args()
    if a.force_steps:
        force_table(a.force_steps)
    import xarray as xr
    from rhizoscale.mucilage.drying import MucilageBridgeModel
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    from rhizoscale.mucilage.resolved import LiquidStages, ResolvedBridgeModel, StagedFastModel
    from rhizoscale.parameters import load_parameter_set
    if a.synthetic:
        st = synthetic_stages()
    elif a.stages:
        with xr.open_dataset(a.stages) as ds:
            st = LiquidStages.from_dataset(ds.load())
    else:
        ap.error("give --stages FILE or --synthetic")
    p = load_parameter_set(MucilageNetworkParameters, "mucilage_network").with_overrides(
        {"contact_angle": a.contact_angle}, source="bench_mucilage_resolved")
    first = [k for k in range(st.n) if not st.connected(k)]
    print(f"stages: {st.n}, liquid volume {np.round(st.liquid_volume, 1).tolist()} um3, the images' bridge "
          f"ruptures at stage {first[0] if first else 'none'}")
    print("concentration [mg/g] | seed | resolved: stage, water [um3] | fast: stage, water [um3] | wall [s]")
    for c in a.concentrations:
        for seed in a.seeds:
            t = time.perf_counter()
            m = ResolvedBridgeModel(c, st, p, relax_steps=a.relax_steps, seed=seed,
                                    after_rupture_steps=a.after_rupture_steps)
            f = MucilageBridgeModel(c, float(st.liquid_volume[0]), m.separation,
                                    p.with_overrides({"particle_radius": m.radius}, source="images"),
                                    evaporation_rate=1.0, relax_steps=a.relax_steps, seed=seed)
            sf = StagedFastModel(f, [m.stage_water(k) for k in range(m.last_stage + 1)])
            m.advance_to(m.last_stage)
            sf.advance_to(m.last_stage)
            print(f"{c:g} | {seed} | {m.connection_lost[0]:g}, {m.connection_lost[1]:.4g} | "
                  f"{sf.connection_lost[0]:g}, {sf.connection_lost[1]:.4g} | {time.perf_counter() - t:.2f}")
    print("disconnection stages listed (nan: still connected at the last stage)")


if __name__ == "__main__":
    main()
