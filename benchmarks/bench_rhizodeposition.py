"""Benchmark of case study 1: Vicia faba 21 d, mucilage and citrate, daily fields.

Usage: python benchmarks/bench_rhizodeposition.py [resolution_cm=0.1] [days=21]
       [--skip-cplantbox] [--only-cplantbox] [--cplantbox-day 10] [--cplantbox-res 1 0.5]
       [--scenario]

``--scenario``: then the shipped example ``cs1-vicia-faba`` end to end (``rhizoscale run``:
root system, both exudates' daily fields and hotspot figures, checkpoints, fields.nc,
fields.vti, figures) at the given resolution and days, wall and CPU time and peak RSS
printed against the issue-16 target (<= 20 s on 2 cores at 1 mm, 21 d).

Prints wall time per exudate, hotspot volume and overlap share on the last day, mass
balance, and peak memory (resource.getrusage); then the time of point values
(``concentration_points``) at every node of CPlantBox's 1 cm and 5 mm grids of the domain
(points/s) for both exudates.

When CPlantBox (``plantbox``) is installed, it also runs CPlantBox's ``ExudationModel``
(moving point source, mucilage) on a root system grown by CPlantBox from its shipped
``Faba_synMRI.xml``, and ours on the same root system (converted with
``root_system_from_cplantbox``), the same 20 x 20 x 45 cm domain and day, and prints both
times, the speed ratios (voxel averages; point values at all their nodes) and the differences of the fields away from and near the root
paths (see docs/cs1-rhizodeposition.md for what differs between the two).
"""

import argparse
import contextlib
import os
import resource
import sys
import time

import numpy as np

from rhizoscale.grid import RegularGrid
from rhizoscale.parameters import load_parameter_set
from rhizoscale.plant import grow_root_system
from rhizoscale.rhizodeposition.analysis import hotspot_volume, overlap_share
from rhizoscale.rhizodeposition.field import rhizodeposition_fields
from rhizoscale.rhizodeposition.green import root_paths
from rhizoscale.rhizodeposition.parameters import ExudateParameters


def main(res=0.1, days=21):
    t0 = time.perf_counter()
    rs = grow_root_system("vicia_faba", days, seed=1)
    print(f"growth: {time.perf_counter() - t0:.1f} s, {rs}")
    grid = RegularGrid.from_resolution((-10, -10, -45), (10, 10, 0), res)
    print(f"grid {grid.shape} = {grid.n_cells:,} cells")
    paths = root_paths(rs)
    times = np.arange(1, days + 1, dtype=float)
    total = 0.0
    for name in ("mucilage", "citrate"):
        p = load_parameter_set(ExudateParameters, name)
        t1 = time.perf_counter()
        c1 = time.process_time()
        for snap in rhizodeposition_fields(paths, grid, p, times, direct_age=None,
                                           single_root_threshold=p.threshold_liquid):
            pass
        dt = time.perf_counter() - t1
        cpu = time.process_time() - c1
        total += dt
        c = snap.concentration
        thr = p.threshold_liquid
        print(f"{name}: {dt:.1f} s wall ({cpu:.1f} s CPU) for {len(times)} daily fields; day {snap.time:g}: "
              f"hotspot {hotspot_volume(c, thr, grid.cell_volume):.2f} cm3, overlap share "
              f"{overlap_share(c, snap.single_root_max, thr):.3f}, "
              f"max c {c.max():.4g} ug cm-3, mass in domain / present {snap.mass_in_domain / snap.expected_mass:.8f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"total field time {total:.1f} s, peak RSS {peak:.2f} GiB")
    point_values(rs, days)


def scenario_end_to_end(res=0.1, days=21):
    """The shipped example end to end, as ``rhizoscale run`` does it (in a new process:
    its own peak RSS), timed against the issue-16 target."""
    import subprocess
    import tempfile

    import yaml

    from rhizoscale.scenario import example_text

    data = yaml.safe_load(example_text("cs1-vicia-faba"))
    if (res, days) != (0.1, 21):
        data["grid"]["resolution"] = res
        data["time"] = {"stop": f"{days} d", "outputs": [f"{days} d"]}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cs1.yaml")
        with open(path, "w") as fh:
            yaml.safe_dump(data, fh)
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "rhizoscale.cli", "run", path, "--out", os.path.join(tmp, "out")],
                       check=True, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    rss = after.ru_maxrss / 2**20         # the largest child so far: this run (the first child)
    target = "" if (res, days) != (0.1, 21) else \
        f"; issue-16 target <= 20 s on 2 cores: {'met' if wall <= 20 else 'NOT met'} in this run"
    print(f"cs1-vicia-faba end to end ({res:g} cm, {days} d): {wall:.1f} s wall, {user:.1f} s user, "
          f"{system:.1f} s system, peak RSS {rss:.2f} GiB{target}")


def point_values(rs, day, spacings=(1.0, 0.5), width=20.0, depth=45.0):
    """Point values at every node of CPlantBox's ExudationModel grids (nodes linspace(-w/2,
    w/2) in x, y and linspace(-depth, 0) in z): time and throughput per exudate."""
    from rhizoscale.rhizodeposition.field import concentration_points

    paths = root_paths(rs)
    for name in ("mucilage", "citrate"):
        p = load_parameter_set(ExudateParameters, name)
        concentration_points(paths, [[0.0, 0.0, -1.0]], day, p)  # load the compiled kernels
        for h in spacings:
            nx, nz = int(round(width / h)) + 1, int(round(depth / h)) + 1
            z, y, x = np.meshgrid(np.linspace(-depth, 0, nz), np.linspace(-width / 2, width / 2, nx),
                                  np.linspace(-width / 2, width / 2, nx), indexing="ij")
            pts = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
            t0 = time.perf_counter()
            c = concentration_points(paths, pts, day, p)
            dt = time.perf_counter() - t0
            print(f"point values, {name}, day {day:g}, all {len(pts):,} nodes {h:g} cm apart: {dt:.3f} s "
                  f"({len(pts) / dt:,.0f} points/s), {np.count_nonzero(c):,} nodes > 0")


@contextlib.contextmanager
def _quiet_c_stdout():
    """Silence C-level stdout (ExudationModel prints a line per root)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _distance_to_paths(rs, points, h):
    """Distance [cm] from points to the root paths, to within h/16 (paths sampled densely)."""
    from scipy.spatial import cKDTree

    seg = rs.segments
    a, b = rs.nodes[seg[:, 0]], rs.nodes[seg[:, 1]]
    n = np.maximum(1, np.ceil(np.linalg.norm(b - a, axis=1) / (h / 8))).astype(int)
    rep = np.repeat(np.arange(len(seg)), n + 1)
    frac = np.concatenate([np.linspace(0.0, 1.0, k + 1) for k in n])
    samples = a[rep] + frac[:, None] * (b - a)[rep]
    return cKDTree(samples).query(points)[0]


def cplantbox_comparison(day=10.0, resolutions=(1.0, 0.5), width=20.0, depth=45.0, seed=1,
                         near_cm=0.05, far_cm=0.25, reference_res=0.1,
                         n_exact=40, n0_fine=50):
    """CPlantBox ExudationModel vs rhizodeposition_fields for mucilage on the same roots."""
    import plantbox as pb

    from rhizoscale.plant.cplantbox_backend import root_system_from_cplantbox
    from rhizoscale.rhizodeposition.field import concentration_points
    from rhizoscale.rhizodeposition.green import concentration_at

    xml = os.path.join(os.path.dirname(pb.__file__), "modelparameter", "structural", "rootsystem",
                       "Faba_synMRI.xml")
    crs = pb.RootSystem()  # ExudationModel takes a RootSystem (pb.Plant is not accepted)
    crs.readParameters(xml)
    crs.setSeed(seed)
    crs.initialize(False)
    crs.simulate(day, False)
    rs = root_system_from_cplantbox(crs, time=day)
    print(f"\nCPlantBox ExudationModel comparison: Faba_synMRI.xml seed {seed}, day {day:g}, "
          f"{rs.n_roots} roots, {rs.total_length():.1f} cm; mucilage (moving point source)")
    p = load_parameter_set(ExudateParameters, "mucilage")
    thr = p.threshold_liquid
    # warm-up (Numba compilation is cached on disk, but the first call still loads it)
    warm = RegularGrid.from_resolution((-2, -2, -4), (2, 2, 0), 0.5)
    for _ in rhizodeposition_fields(rs, warm, p, [day]):
        pass
    for h in resolutions:
        nx, nz = int(round(width / h)) + 1, int(round(depth / h)) + 1
        model = pb.ExudationModel(width, width, depth, nx, nx, nz, crs)
        model.Q, model.Dl, model.theta, model.R, model.k = p.Q, p.D, p.theta, p.R, p.k
        model.l, model.type = 0.0, 1  # type 1 = mps: moving point source along the root polyline
        t0 = time.perf_counter()
        with _quiet_c_stdout():
            theirs = np.asarray(model.calculate(day))
        t_theirs = time.perf_counter() - t0
        # their values are point values at the nodes linspace(-w/2, w/2, nx) (x, y) and
        # linspace(-depth, 0, nz) (z), stored x-major with z fastest
        theirs = theirs.reshape(nx, nx, nz).transpose(2, 1, 0)
        # our voxels are centred on their nodes
        grid = RegularGrid((-width / 2 - h / 2, -width / 2 - h / 2, -depth - h / 2),
                           (width / 2 + h / 2, width / 2 + h / 2, h / 2), (nz, nx, nx))
        t0 = time.perf_counter()
        for snap in rhizodeposition_fields(rs, grid, p, [day]):
            pass
        t_ours = time.perf_counter() - t0
        ours = snap.concentration
        zz, yy, xx = np.meshgrid(grid.centers("z"), grid.centers("y"), grid.centers("x"), indexing="ij")
        pts = np.stack([xx.ravel(), yy.ravel(), zz.ravel()], axis=1)
        dist = _distance_to_paths(rs, pts, h).reshape(ours.shape)
        # our exact point values (same particles, no voxel averaging) where anything is present
        sel = (ours > 1e-12 * ours.max()) | (theirs > 1e-12 * theirs.max())
        t0 = time.perf_counter()
        point = np.zeros_like(ours)
        point[sel] = concentration_points(rs, pts[sel.ravel()], day, p)
        t_point = time.perf_counter() - t0
        t0 = time.perf_counter()
        concentration_points(rs, pts, day, p)
        t_all = time.perf_counter() - t0
        print(f"  grid {h:g} cm: {grid.n_cells:,} nodes/voxels; CPlantBox {t_theirs:.2f} s, ours "
              f"{t_ours:.3f} s (voxel averages) -> speed ratio {t_theirs / t_ours:.0f}x; "
              f"our point values at their nodes with anything present {t_point:.2f} s, at all "
              f"their nodes {t_all:.3f} s -> point-value speed ratio {t_theirs / t_all:.0f}x")

        def rel(a, b, m):
            r = np.abs(a[m] - b[m]) / np.abs(b[m])
            return (f"median {np.median(r):.2e}, 95% {np.quantile(r, 0.95):.2e}, max {r.max():.2e}"
                    if r.size else "(none)")

        floor = 1e-3 * point.max()
        both = (point > floor) & (theirs > floor)
        print(f"    nodes > 2 voxels ({2 * h:g} cm) from every segment with both values > 1e-3 max: "
              f"{np.sum(both & (dist > 2 * h))} (mucilage plumes are sub-millimetre)")
        for lo, hi in ((far_cm, np.inf), (near_cm, far_cm), (0.0, near_cm)):
            m = both & (dist > lo) & (dist <= hi)
            ratio = theirs[m] / point[m]
            q = (f"CPlantBox / ours median {np.median(ratio):.3g}, 5-95% {np.quantile(ratio, 0.05):.3g}-"
                 f"{np.quantile(ratio, 0.95):.3g}" if m.any() else "")
            print(f"    point values, distance to paths in ({lo:g}, {hi:g}] cm, both > 1e-3 max "
                  f"({m.sum()} nodes): |CPlantBox - ours| / ours {rel(theirs, point, m)}; {q}")
        # exact values (adaptive quadrature) at a sample of the compared nodes: who is right?
        idx = np.flatnonzero(both.ravel())
        idx = idx[np.random.default_rng(0).permutation(len(idx))[:n_exact]]
        if len(idx):
            t0 = time.perf_counter()
            exact = concentration_at(rs, pts[idx], day, p, epsrel=1e-6)
            e_ours = np.abs(point.ravel()[idx] / exact - 1)
            e_theirs = np.abs(theirs.ravel()[idx] / exact - 1)
            print(f"    exact point values (adaptive quadrature, {len(idx)} of these nodes, "
                  f"{time.perf_counter() - t0:.1f} s): relative error ours median {np.median(e_ours):.1e} "
                  f"max {e_ours.max():.1e}; CPlantBox median {np.median(e_theirs):.1e} max {e_theirs.max():.1e}")
            if n0_fine:
                model.n0 = n0_fine
                t0 = time.perf_counter()
                with _quiet_c_stdout():
                    fine = np.asarray(model.calculate(day)).reshape(nx, nx, nz).transpose(2, 1, 0)
                e_fine = np.abs(fine.ravel()[idx] / exact - 1)
                print(f"    CPlantBox with n0 = {n0_fine} Gauss points per cm of root (default 5): "
                      f"{time.perf_counter() - t0:.2f} s, relative error median {np.median(e_fine):.1e} "
                      f"max {e_fine.max():.1e}")
                n0_fine = 0  # only on the first (coarsest) grid
        near = dist <= near_cm
        print(f"    max near paths (<= {near_cm:g} cm): CPlantBox {theirs[near].max():.4g}, our point values "
              f"{point[near].max():.4g}, our voxel averages {ours.max():.4g} ug cm-3")
        v = grid.cell_volume
        print(f"    hotspot volume at {thr:.4g} ug cm-3: CPlantBox {np.sum(theirs > thr) * v:.3f} cm3 "
              f"(nodes x h^3), ours {hotspot_volume(ours, thr, v):.3f} cm3 (voxel averages), "
              f"nodes x h^3 from our point values {np.sum(point > thr) * v:.3f} cm3; mass on grid "
              f"(values x h^3): CPlantBox {theirs.sum() * v * p.theta * p.R:.1f}, "
              f"ours {snap.mass_in_domain:.1f}, released and present {snap.expected_mass:.1f} ug")
    if reference_res:
        grid = RegularGrid.from_resolution((-width / 2, -width / 2, -depth), (width / 2, width / 2, 0),
                                           reference_res)
        t0 = time.perf_counter()
        for snap in rhizodeposition_fields(rs, grid, p, [day], direct_age=None):
            pass
        print(f"  ours at {reference_res:g} cm ({grid.n_cells:,} voxels, {time.perf_counter() - t0:.2f} s): "
              f"hotspot volume {hotspot_volume(snap.concentration, thr, grid.cell_volume):.3f} cm3, "
              f"max {snap.concentration.max():.4g} ug cm-3, mass {snap.mass_in_domain:.1f} ug")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("resolution", nargs="?", type=float, default=0.1, help="cm (default 0.1)")
    ap.add_argument("days", nargs="?", type=int, default=21, help="days (default 21)")
    ap.add_argument("--skip-cplantbox", action="store_true", help="skip the ExudationModel comparison")
    ap.add_argument("--only-cplantbox", action="store_true", help="run only the ExudationModel comparison")
    ap.add_argument("--cplantbox-day", type=float, default=10.0)
    ap.add_argument("--cplantbox-res", type=float, nargs="+", default=[1.0, 0.5])
    ap.add_argument("--scenario", action="store_true", help="then the shipped example end to end")
    args = ap.parse_args()
    if not args.only_cplantbox:
        main(args.resolution, args.days)
    if args.scenario:       # after main(): the Numba cache is warm for its child process
        scenario_end_to_end(args.resolution, args.days)
    if not args.skip_cplantbox:
        try:
            import plantbox  # noqa: F401
        except ImportError:
            print("CPlantBox (plantbox) not installed: ExudationModel comparison skipped")
        else:
            cplantbox_comparison(args.cplantbox_day, tuple(args.cplantbox_res))
