"""Case study 3: the generated sample's geometry against the paper's measured targets, and
the predicted carbon masses, mass ratio and 1 % distances over seeds.

The generator (``rhizoscale.image.generators.rhizosphere_sample``) is calibrated to the
paper's geometry only (ROI 1.4 x 1.3 x 1.8 mm; root 0.4 mm3, air around it 0.4 mm3,
macropores 1.1 mm3, aggregates 1.3 mm3; epidermis 3.9 mm2 of which 6.1 % touches soil,
17.7 % with hairs); the masses, their ratio and the distances are predictions. Each run
is the shipped example ``cs3-root-hairs`` with another seed (and, with ``--voxel``, the
same ROI at another voxel size); ``--set KEY=VALUE`` changes a ``sample`` key (e.g. an
uncalibrated one such as ``aggregate_size``) for a sensitivity row.

    python benchmarks/bench_cs3_geometry.py --seeds 1 2 3            # 20 um voxels, ~1 min
    python benchmarks/bench_cs3_geometry.py --seeds 1 2 3 --voxel 10  # 10 um, ~5 min
    python benchmarks/bench_cs3_geometry.py --quick                   # tiny, seconds
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import yaml

from rhizoscale.reproduce.examples import example
from rhizoscale.scenario import run_products, scenario_from_dict

PAPER = {"aggregate": 1.3, "macropore": 1.1, "root": 0.4, "air_gap": 0.4, "epidermis_mm2": 3.9,
         "contact_without": 0.061, "contact_with": 0.177, "mass_without": 0.067, "mass_with": 0.204,
         "ratio": 0.204 / 0.067, "d1_without_mm": 0.29, "d1_with_mm": 0.74}
ROI_CM = (0.14, 0.13, 0.18)


def one_run(seed: int, voxel_um: float, quick: bool, overrides: dict) -> dict:
    data = example("cs3-root-hairs")
    data.update(seed=seed, name=f"cs3-bench-{seed}", outputs={"figures": False, "vtk": False, "tiff": False})
    h = voxel_um * 1e-4
    data["sample"].update(shape=[max(4, int(round(e / h))) for e in ROI_CM], voxel_size=h)
    if quick:
        data["sample"].update(shape=[16, 24, 24], voxel_size=4e-3, root_radius=0.02, hair_length=0.03)
        data["time"] = {"stop": "300 s"}
    data["sample"].update(overrides)
    t0 = time.perf_counter()
    products = run_products(scenario_from_dict(data))
    wall = time.perf_counter() - t0
    c = products.info["cs3"]
    v = c["volumes_mm3"]
    s = c.get("sample", {})
    return {"seed": seed, "wall_s": wall,
            "aggregate": v["aggregate"], "macropore": v["macropore"], "root": v["root"], "air_gap": v["air_gap"],
            "epidermis_mm2": c["without_hairs"]["epidermis_area_cm2"] * 100,
            "contact_without": c["without_hairs"]["contact_fraction"],
            "contact_with": c["with_hairs"]["contact_fraction_with_hairs"],
            "hairs_per_mm": s.get("hair_density_per_mm", float("nan")),
            "mass_without": c["without_hairs"]["mass_into_soil"], "mass_with": c["with_hairs"]["mass_into_soil"],
            "ratio": c["mass_ratio_with_to_without_hairs"] or float("nan"),
            "d1_without_mm": c["without_hairs"]["distance_1_percent_cm"] * 10,
            "d1_with_mm": c["with_hairs"]["distance_1_percent_cm"] * 10}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--voxel", type=float, default=20.0, help="voxel edge [um] (ROI kept)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a sample key (YAML value)")
    ap.add_argument("--quick", action="store_true", help="tiny sample (smoke test)")
    args = ap.parse_args(argv)
    overrides = {k: yaml.safe_load(v) for k, v in (a.split("=", 1) for a in args.set)}
    rows = [one_run(s, args.voxel, args.quick, overrides) for s in args.seeds]
    keys = [k for k in rows[0] if k not in ("seed", "wall_s")]
    print(f"cs3 geometry and predictions, {args.voxel:g} um voxels{' (quick)' if args.quick else ''}"
          + (f", overrides {overrides}" if overrides else ""))
    print(f"{'quantity':16s} {'paper':>8s} " + " ".join(f"{'seed ' + str(r['seed']):>9s}" for r in rows)
          + f" {'mean':>9s} {'sd':>8s}")
    for k in keys:
        vals = np.array([r[k] for r in rows], float)
        ok = vals[np.isfinite(vals)]
        mean = f"{ok.mean():9.4g}" if ok.size else f"{'-':>9s}"
        sd = f"{ok.std(ddof=1):8.2g}" if ok.size > 1 else f"{'-':>8s}"
        print(f"{k:16s} {PAPER.get(k, float('nan')):8.4g} " + " ".join(f"{v:9.4g}" for v in vals) + f" {mean} {sd}")
    print("nan distance: the mean concentration stays above 1 % of c_in everywhere in the ROI")
    print("wall per run [s]: " + ", ".join(f"{r['wall_s']:.1f}" for r in rows))


if __name__ == "__main__":
    main()
