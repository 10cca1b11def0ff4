"""Benchmark: 21-day Vicia faba root system growth, rhizoscale vs CPlantBox (same XML).

Run: ``PYTHONPATH=src python benchmarks/bench_growth.py [--repeats 15]``.
Prints the median wall time of each and their ratio, plus the size of the systems.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from rhizoscale.parameters.cplantbox_xml import write_cplantbox_xml
from rhizoscale.plant import grow_root_system, load_plant_parameters


def _median_time(fn, repeats):
    times = []
    out = None
    for i in range(repeats):
        t = time.perf_counter()
        out = fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--days", type=float, default=21.0)
    args = ap.parse_args()
    params = load_plant_parameters("vicia_faba")
    grow_root_system(params, 1.0, seed=0)  # compile / load the Numba kernels
    ours, rs = _median_time(lambda i: grow_root_system(params, args.days, seed=i + 1), args.repeats)
    print(f"rhizoscale : {ours * 1e3:8.2f} ms median of {args.repeats}  ({rs})")
    try:
        import plantbox as pb
    except ImportError:
        print("CPlantBox not installed (pip install 'rhizoscale[cplantbox]'): no ratio")
        return
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "vicia_faba.xml"
        write_cplantbox_xml(params, xml)

        def cpb(i):
            plant = pb.Plant()
            plant.readParameters(str(xml))
            plant.setSeed(i + 1)
            plant.initialize(False)
            t = time.perf_counter()
            plant.simulate(args.days, False)
            return time.perf_counter() - t, plant

        sim_times, total_times = [], []
        for i in range(args.repeats):
            t = time.perf_counter()
            sim, plant = cpb(i)
            total_times.append(time.perf_counter() - t)
            sim_times.append(sim)
    theirs = statistics.median(sim_times)
    n = len([o for o in plant.getOrgans(2) if o.getNumberOfNodes() > 1])
    print(f"CPlantBox  : {theirs * 1e3:8.2f} ms median simulate() only "
          f"({statistics.median(total_times) * 1e3:.2f} ms with reading the XML); {n} roots")
    print(f"ratio rhizoscale / CPlantBox simulate(): {ours / theirs:.2f}")
    print(f"(measured on {os.cpu_count()} cores, possibly under load from other processes)")


if __name__ == "__main__":
    main()
