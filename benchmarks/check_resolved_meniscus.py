"""Check: the resolved-mode meniscus fitted to an actual lattice Boltzmann bridge (issue 13).

A 3D pendular bridge between two spheres is placed and relaxed by the two-phase lattice
Boltzmann model (:mod:`rhizoscale.porescale`, Carnahan–Starling at T/Tc 0.8, Li et al.'s forcing as in the
``cs4-liquid-bridge`` example);
its liquid (density above the mid-density) becomes a water/air/solid image and
:meth:`rhizoscale.mucilage.network.Meniscus.from_image` fits the toroidal meridian to it.
Printed: the fitted neck radius ``r2`` and meridian radius ``r1`` against the LBM's own
neck — the radius of the liquid's cross-section in the mid-plane, ``sqrt(A / pi)``, and
its outermost liquid node there — and the closed-form toroidal bridge of the same volume
(zero contact angle) for reference. Lengths in lattice nodes (1 node = 1 µm in the image).

    PYTHONPATH=src python benchmarks/check_resolved_meniscus.py                    # R 12, gap 5
    PYTHONPATH=src python benchmarks/check_resolved_meniscus.py --radius 8 --steps 100   # smoke test
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius", type=float, default=12.0, help="sphere radius [nodes]")
    ap.add_argument("--gap", type=float, default=5.0, help="surface gap [nodes]")
    ap.add_argument("--volume-ratio", type=float, default=3.0, help="bridge volume placed / R^3 (much of it "
                    "evaporates into the gas at first, as in the cs4-liquid-bridge example)")
    ap.add_argument("--steps", type=int, default=1000, help="lattice relaxation steps")
    ap.add_argument("--wall-density", type=float, default=0.12, help="virtual wall density [lattice]")
    ap.add_argument("--forcing", default="li", help="forcing scheme (li or edm)")
    args = ap.parse_args()
    from rhizoscale.core.image import Image
    from rhizoscale.image.generators.granular import AIR, SOLID, WATER, granular_phases
    from rhizoscale.mucilage.bridge import toroidal_bridge
    from rhizoscale.mucilage.network import Meniscus
    from rhizoscale.porescale import CarnahanStarlingEOS, TwoPhaseLBM
    from rhizoscale.porescale.liquid_bridge import _initial_bridge, two_particles
    from rhizoscale.porescale.wetting import coexistence
    eos = CarnahanStarlingEOS(0.8)
    rho_g, rho_l = coexistence(eos, args.forcing)
    labels = two_particles(args.radius, args.gap, ndim=3, margin=4)
    volume = args.volume_ratio * args.radius**3
    rho0 = np.where(_initial_bridge(labels, volume), rho_l, rho_g)
    lbm = TwoPhaseLBM(labels, rho0, eos, wall_density=args.wall_density, forcing=args.forcing)
    t0 = time.perf_counter()
    lbm.step(args.steps)
    wall = time.perf_counter() - t0
    rho = np.nan_to_num(lbm.density(), nan=0.0)
    liquid = (rho > 0.5 * (rho_g + rho_l)) & (labels == 0)
    image = Image(np.where(labels > 0, SOLID, np.where(liquid, WATER, AIR)).astype(np.uint8), (1e-4,) * 3,
                  granular_phases())
    men = Meniscus.from_image(image)
    nx = labels.shape[-1]
    mid = nx // 2 if nx % 2 else None
    # the mid-plane between the spheres: the voxel slab(s) at the box centre along x
    cols = [nx // 2] if mid is not None else [nx // 2 - 1, nx // 2]
    area = np.mean([liquid[:, :, c].sum() for c in cols])
    zz, yy = np.indices(labels.shape[:2]) + 0.5
    radial = np.hypot(zz - labels.shape[0] / 2, yy - labels.shape[1] / 2)
    outer = max(float(radial[liquid[:, :, c]].max(initial=0.0)) + 0.5 for c in cols)
    v_lbm = float(liquid.sum())
    print(f"LBM bridge: R {args.radius:g}, gap {args.gap:g} nodes, {labels.shape} nodes, wall density "
          f"{args.wall_density:g}, {args.steps} steps in {wall:.1f} s; liquid {v_lbm:.0f} nodes "
          f"(placed {volume:.0f})")
    if not men.active:
        print("fitted meniscus: none (the liquid does not connect the spheres)")
        return
    print(f"LBM neck (mid-plane): sqrt(A/pi) = {np.sqrt(area / np.pi):.2f}, outermost liquid node "
          f"{outer:.2f} nodes")
    print(f"fitted toroidal meniscus: r2 (neck) = {men.r2:.2f}, r1 = {men.r1:.2f}, half length "
          f"{men.half_length:.2f} nodes; r2 / LBM neck sqrt(A/pi) = {men.r2 / np.sqrt(area / np.pi):.3f}")
    try:
        b = toroidal_bridge(v_lbm, args.gap, args.radius, 0.0)
        print(f"closed-form toroidal bridge of the LBM's volume (contact angle 0): r2 = {b.r2:.2f}, "
              f"r1 = {b.r1:.2f}, half length {b.half_length:.2f} nodes")
    except Exception as err:      # the LBM volume may lie outside the pendular range
        print(f"closed-form toroidal bridge of the LBM's volume: not defined ({err})")


if __name__ == "__main__":
    main()
