"""Benchmark: the cs4-diffusivity-table chain (issue 13): time per table entry, the whole
shipped example, peak memory against the estimate.

Each table entry is one (θ, mucilage share) configuration: film liquid, mucilage bridges
and one cell problem per periodisation. The pieces are timed apart: the pore image and its
neck geometry (once), the network's spanning-gap search (once per concentration, cached),
the table (entries), the summary tensors and figures of ``run``. Peak memory is the
process's peak resident set (``ru_maxrss``) above what it held after the imports, beside
``estimate_memory``. No reference tool: no public code chains a pore image, mucilage
bridges and homogenisation.

    PYTHONPATH=src python benchmarks/bench_diffusivity_table.py                  # the shipped example
    PYTHONPATH=src python benchmarks/bench_diffusivity_table.py --shape 60 60 --water-contents 0.19 0.41 \\
        --fractions 0 0.1                                                      # smoke test
"""

from __future__ import annotations

import argparse
import resource
import sys
import time


def _rss_mib() -> float:
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs="+", default=None, help="default: the example's")
    ap.add_argument("--water-contents", type=float, nargs="+", default=None)
    ap.add_argument("--fractions", type=float, nargs="+", default=None)
    ap.add_argument("--mean-grain-radius", type=float, default=None, help="cm")
    args = ap.parse_args()
    from rhizoscale.link.diffusivity_table import _Chain, diffusivity_table, estimate_memory, run
    from rhizoscale.outputs import RunContext
    from rhizoscale.reproduce.examples import example
    from rhizoscale.scenario import scenario_from_dict
    mapping = example("cs4-diffusivity-table")
    for key, value in (("shape", args.shape), ("water_contents", args.water_contents),
                       ("mucilage_fractions", args.fractions), ("mean_grain_radius", args.mean_grain_radius)):
        if value is not None:
            mapping[key] = value
    config = scenario_from_dict(mapping).config
    base = _rss_mib()
    ctx = RunContext(seed=mapping.get("seed", 1))
    t0 = time.perf_counter()
    chain = _Chain(config, ctx)
    t_chain = time.perf_counter() - t0
    t0 = time.perf_counter()
    span = chain.span() if any(f > 0 for f in config.mucilage_fractions) and config.max_bridge_gap is None else None
    t_span = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = diffusivity_table(chain, config)
    t_table = time.perf_counter() - t0
    entries = len(config.water_contents) * len(config.mucilage_fractions)
    nper = len(config.periodisations)
    t0 = time.perf_counter()
    products = run(config, RunContext(seed=ctx.seed))
    t_run = time.perf_counter() - t0
    peak = _rss_mib() - base
    estimate = estimate_memory(config)
    print(f"image {'x'.join(map(str, config.shape))} voxels, {len(chain.grains.radii)} grains, "
          f"{entries} entries x {nper} periodisations")
    print(f"pore image and neck geometry: {t_chain:.2f} s")
    if span is not None:
        print(f"network spanning-gap search ({config.mucilage_concentration:g} mg/g, {len(span.gaps)} drying "
              f"runs): {t_span:.2f} s -> {span.gap_ratio:.4f} of the pair radius")
    print(f"table: {t_table:.2f} s, {t_table / entries:.3f} s per table entry "
          f"({t_table / entries / nper:.3f} s per cell problem with its configuration)")
    print(f"whole example run (chain, span cached, table, summary tensors, figures): {t_run:.2f} s")
    parts = ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in estimate.parts.items())
    print(f"peak memory above imports: {peak:.0f} MiB (estimate_memory: {estimate.gib * 1024:.0f} MiB: {parts})")
    print(f"d_eff at theta {config.water_content:g}: water only "
          f"{products.value('d_eff_mean_water_only_translation'):.4g}, with mucilage "
          f"{products.value('d_eff_mean_with_mucilage_translation'):.4g}; table entries {table.d_eff.size}")


if __name__ == "__main__":
    main()
