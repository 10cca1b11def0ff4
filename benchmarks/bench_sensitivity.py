"""Ensemble throughput on Dask: 1 vs 2 workers on CPU-bound samples, and the scheduling
overhead per sample.

Targets (issue 15): with CPU-bound samples, 2 workers on 2 cores give >= 1.8x the
throughput of 1; the overhead per sample (a sample that does nothing, one task per
sample, stored as it completes) is <= 50 ms.

    python benchmarks/bench_sensitivity.py [--samples 64] [--work 0.25] [--trivial 400] [--pairs 3]

``--pairs K`` times 1 and 2 workers K times in turn (1, 2, 1, 2, ...) and prints each
pair's ratio, their median, and the load average before each run.

The machine may be shared: run it when it is quiet, and read the ratio (measured back
to back on the same machine) rather than the absolute times.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


class Busy:
    """A CPU-bound sample: about ``seconds`` of single-threaded NumPy work (elementwise, so
    no BLAS threads: with 1 worker, the worker's Numba/BLAS threads would otherwise use
    every core and the comparison would measure threads, not processes)."""

    # In place: a new 800 kB array per operation is mmapped and zeroed by glibc in a fresh
    # worker process (its mmap threshold has not grown there), which made a worker's sample
    # ~1.5x slower than the same sample in this process and measured page faults, not the
    # scheduling of CPU-bound samples.

    def __init__(self, seconds: float):
        x = np.linspace(0, 1, 100_000)
        t0 = time.perf_counter()
        for _ in range(20):
            np.sin(x, out=x)
            x += 1e-3
        self.n = max(1, int(seconds / ((time.perf_counter() - t0) / 20)))

    def __call__(self, **x):
        y = np.linspace(0, 1, 100_000) * (1 + x["a"])
        for _ in range(self.n):
            np.sin(y, out=y)
            y += 1e-3
        return {"y": float(y.sum()) + x["b"]}


def trivial(**x):
    return {"y": x["a"] + x["b"]}


def timed_study(model, n_samples: int, workers: int, batch_size: int = 1):
    from rhizoscale.sensitivity import SensitivityStudy
    from rhizoscale.sensitivity.cluster import connect
    client, cluster = connect(n_workers=workers)
    try:
        client.submit(trivial, a=0.0, b=0.0).result()           # workers up and warm
        n = max(2, 2 ** int(np.ceil(np.log2(max(n_samples / 4, 2)))))  # Sobol' N: n (d + 2) = 4n runs
        study = SensitivityStudy(model, {"a": [0, 1], "b": [0, 1]}, ["y"], n=n, second_order=False)
        done = {}

        def progress(k, total):              # the sampling phase ends with the last sample
            if k == total:
                done["t"] = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            study.run(d, client=client, batch_size=batch_size, progress=progress)
            t_end = time.perf_counter()
            # (sampling time, end-to-end time with the indices, figures and files written)
            return done.get("t", t_end) - t0, t_end - t0, study.n_samples
    finally:
        client.close()
        cluster.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=64, help="CPU-bound samples per run (fewer: the fixed cost of a study lowers the ratio)")
    ap.add_argument("--work", type=float, default=0.25, help="seconds of work per CPU-bound sample")
    ap.add_argument("--trivial", type=int, default=400, help="samples of the overhead run")
    ap.add_argument("--pairs", type=int, default=1, help="1- and 2-worker runs in turn, paired")
    args = ap.parse_args()
    import os
    from rhizoscale.sensitivity.cluster import available_cores
    print(f"cores available: {available_cores()}")
    busy = Busy(args.work)
    t0 = time.perf_counter()
    busy(a=0.5, b=0.5)
    print(f"one CPU-bound sample in this process: {time.perf_counter() - t0:.3f} s")
    ratios, ends = [], []
    for k in range(args.pairs):
        load1 = os.getloadavg()[0]
        t1, e1, n = timed_study(busy, args.samples, 1)
        load2 = os.getloadavg()[0]
        t2, e2, _ = timed_study(busy, args.samples, 2)
        ratios.append(t1 / t2)
        ends.append(e1 / e2)
        print(f"pair {k + 1}: CPU-bound, {n} samples: 1 worker {t1:.2f} s ({n / t1:.2f} samples/s, load "
              f"{load1:.1f}), 2 workers {t2:.2f} s ({n / t2:.2f} samples/s, load {load2:.1f}): ratio {t1 / t2:.2f}; "
              f"end to end (indices, figures, files: about {e2 - t2:.1f} s more) {e1:.2f} / {e2:.2f} s = {e1 / e2:.2f}")
    print(f"throughput ratio 2 vs 1 workers (sampling): {float(np.median(ratios)):.2f}x (median of {len(ratios)} "
          f"pair{'s' if len(ratios) > 1 else ''}; target >= 1.8x); end to end {float(np.median(ends)):.2f}x")
    _, tt, nt = timed_study(trivial, args.trivial, 1)
    print(f"scheduling overhead per sample (one task each, stored as it completes): "
          f"{1e3 * tt / nt:.1f} ms over {nt} samples (target <= 50 ms)")


if __name__ == "__main__":
    main()
