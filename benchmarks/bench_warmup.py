"""First-run compile cost: `rhizoscale warmup` with a cold and with a warm Numba cache.

Each measurement is a fresh process (`python -m rhizoscale warmup`) with
NUMBA_CACHE_DIR pointing to a new temporary folder, as after installing: the first
compiles every kernel the case studies use, the second loads them from that cache.
Wall times include starting Python and importing rhizoscale; the CPU time (user + system
of the process) is printed too: on a shared machine it says more than the wall time.

    python benchmarks/bench_warmup.py                 # all case studies
    python benchmarks/bench_warmup.py --case plant    # one (repeat --case for more)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _warmup(cache: str, cases: list[str]) -> tuple[float, float, str]:
    args = [sys.executable, "-m", "rhizoscale", "warmup"]
    for c in cases:
        args += ["--case", c]
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    t0, c0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        sys.exit(f"rhizoscale warmup failed:\n{proc.stdout}{proc.stderr}")
    return seconds, cpu, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", default=[],
                        help="plant, cs1, cs2, cs3 or cs4 (default: all)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rhizoscale-numba-") as cache:
        cold, cold_cpu, cold_log = _warmup(cache, opts.case)
        warm, warm_cpu, warm_log = _warmup(cache, opts.case)
    print(f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}, cases: "
          f"{', '.join(opts.case) or 'all'}")
    print("cold cache (first run after install):")
    print("".join(f"  {ln}\n" for ln in cold_log.splitlines() if ln.startswith("  ")), end="")
    print("warm cache:")
    print("".join(f"  {ln}\n" for ln in warm_log.splitlines() if ln.startswith("  ")), end="")
    print(f"warmup wall time: cold cache {cold:.1f} s, warm cache {warm:.1f} s "
          f"(compiling costs {cold - warm:.1f} s once); CPU time: cold {cold_cpu:.1f} s, warm "
          f"{warm_cpu:.1f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
