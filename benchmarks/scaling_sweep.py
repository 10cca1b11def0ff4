"""Strong-scaling sweep of the shared multigrid: wall time versus Numba threads.

Runs, for each thread count, one fresh process (``NUMBA_NUM_THREADS`` set, so the process
never has more threads than asked for) per case and prints one table of wall time,
speed-up over the fewest threads, CG iterations and peak memory per voxel:

* ``tensor:N`` -- case study 4: the full 3x3 effective diffusion tensor (translation
  periodisation) of an N^3 blobs image of porosity 0.4 (Gaussian-filtered noise cut at
  its 40 % quantile, the construction of PoreSpy's ``blobs``; generated once, shared by
  every run);
* ``diffusion:N`` -- case study 3: one hour of exudate diffusion on a generated N^3
  rhizosphere sample (the set-up of ``bench_diffusion.py``; sample generated once).

The time is that of the solver call (the tensor: connectivity, operator, multigrid
set-up and the three solves; diffusion: the whole transient run), after a warm-up run
that compiles or loads the Numba kernels. Memory: peak RSS (``ru_maxrss``) minus the RSS
after imports and the input image, per voxel.

    PYTHONPATH=src python benchmarks/scaling_sweep.py                  # 1,2,4,8,16; tensor:300, diffusion:200
    PYTHONPATH=src python benchmarks/scaling_sweep.py --threads 1,2 --cases tensor:96,diffusion:64
    PYTHONPATH=src python benchmarks/scaling_sweep.py --profile ...    # + time per kernel and level

Several sizes of one case (``--cases tensor:64,tensor:128,tensor:256``) also print the
cost growth: time and memory per voxel and iterations versus N (flat for an O(N^3)
solver). On 16 cores the default sweep takes about 4-5 minutes (measured: tensor 300^3
1->16 threads 35, 31, 15, 9.9, 7.5 s; diffusion 200^3 28, 16, 12, 8.8, 7.5 s, plus input
generation 23 s and the compile-once warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def blobs(n: int, porosity: float = 0.4, blobiness: float = 1.0, seed: int = 1) -> np.ndarray:
    """Binary blobs image (True = pore): Gaussian-filtered uniform noise, cut at a quantile."""
    from scipy import ndimage
    rng = np.random.default_rng(seed)
    noise = rng.random((n, n, n), dtype=np.float32)
    smooth = ndimage.gaussian_filter(noise, sigma=n / (40.0 * blobiness))
    return smooth < np.quantile(smooth, porosity)


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _install_profiler():
    """Wrap the solver kernels to sum their wall time per (kernel, grid size)."""
    import rhizoscale.solvers.krylov as kr
    import rhizoscale.solvers.multigrid as mg
    import rhizoscale.solvers.stencil as stn
    totals: dict = {}

    def wrap(mod, name):
        fn = getattr(mod, name)

        def timed(*args, **kw):
            t = time.perf_counter()
            out = fn(*args, **kw)
            key = f"{name}[{args[0].size}]"
            a = totals.setdefault(key, [0.0, 0])
            a[0] += time.perf_counter() - t
            a[1] += 1
            return out
        setattr(mod, name, timed)

    for name in ("_convert", "_convert_dot", "_rb_sweep", "_rbgs", "_residual_restrict",
                 "_prolong_add", "_coarsen", "dot"):
        if hasattr(mg, name):
            wrap(mg, name)
    for name in ("dot", "axpy_dot", "xpby"):
        wrap(kr, name)
    wrap(stn, "matvec_dot")
    orig_cycle = mg.Multigrid._cycle

    def cycle(self, k, b, x, from_zero=True):
        if k == len(self.levels) - 1:
            t = time.perf_counter()
            out = orig_cycle(self, k, b, x, from_zero)
            a = totals.setdefault(f"coarsest[{b.size}]", [0.0, 0])
            a[0] += time.perf_counter() - t
            a[1] += 1
            return out
        return orig_cycle(self, k, b, x, from_zero)
    mg.Multigrid._cycle = cycle
    return totals


def worker(case: str, path: str, profile: bool) -> dict:
    import numba
    if case == "tensor":
        from rhizoscale.homogenization import effective_diffusion_tensor
        image = np.load(path)
        n_voxels = image.size
        small = np.ascontiguousarray(image[:24, :24, :24]).astype(np.float64)

        def run():
            return effective_diffusion_tensor(image.astype(np.float64), rtol=1e-6,
                                              periodisation="translation")
        effective_diffusion_tensor(small, rtol=1e-6, solver="multigrid")   # compile / load
    else:
        from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
        with open(path, "rb") as f:
            image = pickle.load(f)
        n_voxels = int(np.prod(image.shape))

        def run():
            return simulate_exudate_diffusion(image, t_end=3600.0, first_step=36.0,
                                              growth=1.5, rtol=1e-6)
        from rhizoscale.image.generators import rhizosphere_sample
        tiny = rhizosphere_sample((24, 24, 24), 0.14 / 24, root_radius=0.03, hair_length=0.05,
                                  hair_radius=0.0045, seed=1)
        simulate_exudate_diffusion(tiny.with_hairs, t_end=72.0, first_step=36.0)  # compile / load
    totals = _install_profiler() if profile else None
    base = _current_rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    res = run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"case": case, "threads": numba.get_num_threads(), "wall_s": wall, "cpu_s": cpu,
           "n_voxels": n_voxels,
           "bytes_per_voxel": (_rss_bytes() - base) / n_voxels,
           "threading_layer": numba.threading_layer()}
    if case == "tensor":
        out["iterations"] = list(res.iterations)
        out["diag"] = np.diag(res.tensor).tolist()
    else:
        out["iterations"] = int(res.transient.iterations.sum())
        out["diag"] = [float(res.mass_into_soil)]
    if totals is not None:
        out["profile"] = sorted(((k, v[0], v[1]) for k, v in totals.items()),
                                key=lambda r: -r[1])[:14]
    return out


def prepare(case: str, n: int, folder: Path) -> str:
    if case == "tensor":
        path = folder / f"blobs{n}.npy"
        if not path.exists():
            np.save(path, blobs(n))
        return str(path)
    from rhizoscale.image.generators import rhizosphere_sample
    path = folder / f"rhizosphere{n}.pkl"
    if not path.exists():
        h = 0.14 / n
        s = rhizosphere_sample((n, n, n), h, root_radius=0.03, hair_length=0.05,
                               hair_radius=max(9e-4, 0.75 * h), seed=1)
        with open(path, "wb") as f:
            pickle.dump(s.with_hairs, f)
    return str(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--cases", default="tensor:300,diffusion:200")
    ap.add_argument("--profile", action="store_true", help="time per kernel and grid size")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the untimed run that compiles the kernels first")
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "PATH"))
    args = ap.parse_args()
    if args.worker:
        print("ROW " + json.dumps(worker(*args.worker, args.profile)), flush=True)
        return
    threads = [int(t) for t in args.threads.split(",")]
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases.split(",")]
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_warmup:
            # compile (or load) the serial and threaded builds once, untimed: on a fresh
            # install the first threaded run would otherwise include the compilation
            t = time.perf_counter()
            for case in sorted({c for c, _ in cases}):
                path = prepare(case, 64, Path(tmp))
                subprocess.run([sys.executable, __file__, "--worker", case, path],
                               capture_output=True, text=True,
                               env={**os.environ, "NUMBA_NUM_THREADS": str(max(threads))})
            print(f"warm-up (compile or load the kernels): {time.perf_counter() - t:.1f} s",
                  flush=True)
        for case, n in cases:
            t = time.perf_counter()
            path = prepare(case, n, Path(tmp))
            print(f"{case} {n}^3: input generated in {time.perf_counter() - t:.1f} s", flush=True)
            for nt in threads:
                env = {**os.environ, "NUMBA_NUM_THREADS": str(nt)}
                cmd = [sys.executable, __file__, "--worker", case, path]
                if args.profile:
                    cmd.append("--profile")
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
                if proc.returncode or not line:
                    print(f"{case} {n}^3 threads {nt}: failed\n{proc.stderr[-1500:]}", flush=True)
                    continue
                row = json.loads(line[-1][4:])
                row["n"] = n
                rows.append(row)
                print(f"  {nt:3d} threads: {row['wall_s']:7.2f} s (cpu {row['cpu_s']:.1f} s), "
                      f"iterations {row['iterations']}, {row['bytes_per_voxel']:.1f} B/voxel, "
                      f"{row['threading_layer']}", flush=True)
                for k, s, c in row.get("profile", []):
                    print(f"        {k:32s} {s:8.3f} s  {c:6d} calls  {1e3 * s / c:8.3f} ms/call")
    print()
    print(f"{'case':>10s} {'N':>5s} {'threads':>7s} {'wall [s]':>9s} {'speed-up':>8s} "
          f"{'cpu [s]':>8s} {'iterations':>14s} {'B/voxel':>8s} {'ns/voxel':>9s}")
    for case, n in cases:
        sel = [r for r in rows if r["case"] == case and r["n"] == n]
        if not sel:
            continue
        for r in sel:
            speedup = sel[0]["wall_s"] / r["wall_s"]
            it = r["iterations"] if isinstance(r["iterations"], int) else sum(r["iterations"])
            print(f"{case:>10s} {n:5d} {r['threads']:7d} {r['wall_s']:9.2f} "
                  f"{speedup:7.2f}x {r['cpu_s']:8.1f} {it:14d} {r['bytes_per_voxel']:8.1f} "
                  f"{1e9 * r['wall_s'] / r['n_voxels']:9.1f}")
        walls = [r["wall_s"] for r in sel]
        mono = all(b <= a * 1.05 for a, b in zip(walls, walls[1:]))
        print(f"{case:>10s} {n:5d}: time never increases with threads (5 % noise): {mono}; "
              f"speed-up {sel[0]['threads']} -> {sel[-1]['threads']} threads: "
              f"{walls[0] / walls[-1]:.2f}x")
    sizes = {}
    for r in rows:
        if r["threads"] == max(threads):
            sizes.setdefault(r["case"], []).append(r)
    for case, sel in sizes.items():
        if len(sel) > 1:   # cost growth: O(N^3) when ns/voxel and iterations stay flat
            print(f"{case} on {max(threads)} threads, growth with size: " + ", ".join(
                f"N={r['n']}: {1e9 * r['wall_s'] / r['n_voxels']:.0f} ns/voxel, "
                f"{r['bytes_per_voxel']:.0f} B/voxel, iterations {r['iterations']}"
                for r in sel))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
