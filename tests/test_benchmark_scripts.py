"""The benchmark scripts still run (tiny sizes; the figures themselves are not checked here).

Benchmarks are long and live outside the timed suite; these runs only make sure that a
change to the package does not leave a benchmark script broken. Each checks the line the
script exists to print.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

CASES = {
    "growth": (["bench_growth.py", "--repeats", "1", "--days", "3"], "rhizoscale"),
    "rhizodeposition": (["bench_rhizodeposition.py", "1.0", "2", "--skip-cplantbox"], "mass in domain / present"),
    "rhizodeposition_scenario": (["bench_rhizodeposition.py", "1.0", "2", "--skip-cplantbox", "--scenario"],
                                 "cs1-vicia-faba end to end"),
    "cs1_growth_rate": (["bench_cs1_growth_rate.py", "--rates", "0.5", "2", "--point-grids", "0.2", "--voxel", "0.1"],
                        "maximum at"),
    "nutrients": (["bench_nutrients.py", "--days", "1"], "max |balance error|"),
    "diffusion": (["bench_diffusion.py", "24", "--tally"], "balance error"),
    "diffusion_sizes": (["bench_diffusion.py", "--sizes", "24,32"], "CG iterations per step"),
    "cs3_geometry": (["bench_cs3_geometry.py", "--quick", "--seeds", "1", "2"], "contact_with"),
    "warmup": (["bench_warmup.py", "--case", "plant"], "warm cache"),
    "scaling": (["scaling_sweep.py", "--threads", "1", "--cases", "tensor:20,diffusion:20"],
                "time never increases"),
    "microbes": (["bench_microbes.py", "--n", "24", "--cells", "2000", "--hours", "0.2"],
                 "agent-steps per second including DOC diffusion"),
    "cross_scale": (["bench_cross_scale.py", "--cells", "2", "4", "--steps", "20"], "observed order"),
    "sensitivity": (["bench_sensitivity.py", "--samples", "8", "--work", "0.01", "--trivial", "8"],
                    "throughput ratio 2 vs 1 workers"),
    "lbm": (["bench_lbm.py", "--sizes", "16", "--threads", "1", "--steps", "2", "--no-saturation",
             "--skip-lbmpy"], "bytes per fluid node"),
    "lbm_saturation_direct": (["bench_lbm.py", "--sizes", "8", "--threads", "1", "--steps", "2",
                               "--skip-lbmpy", "--saturation-direct", "--saturation-size", "24",
                               "--saturation-max-steps", "200"], "RESULT 24^3 S = 0.5"),
    "homogenization": (["bench_homogenization.py", "--n3d", "20", "--n2d", "48", "--skip-taufactor",
                        "--skip-porespy"], "rhizoscale mirror"),
    "homogenization_sizes": (["bench_homogenization.py", "--sizes", "20,28"], "flat (O(N^3)"),
    "mucilage": (["bench_mucilage.py", "--beads", "1500", "--steps", "5", "--curve-concentration", "3",
                  "--curve-steps", "6", "--relax-steps", "10"], "M bead-steps/s"),
    "mucilage_cylinders": (["bench_mucilage.py", "--cylinders", "--beads", "1500", "--steps", "5",
                            "--curve-concentration", "3", "--curve-steps", "6", "--relax-steps", "10"],
                           "M bead-steps/s"),
    "diffusivity_table": (["bench_diffusivity_table.py", "--shape", "48", "48", "--water-contents", "0.19", "0.41",
                           "--fractions", "0", "0.1", "--mean-grain-radius", "0.004"], "s per table entry"),
    "mucilage_resolved": (["bench_mucilage_resolved.py", "--synthetic", "--concentrations", "0", "3", "--seeds", "1",
                           "--force-steps", "1", "--relax-steps", "10", "--after-rupture-steps", "2"],
                          "resolved: stage, water"),
    "mucilage_span_radius": (["bench_mucilage_span_radius.py", "--radii", "30", "60", "--concentrations", "3",
                              "--volume-ratio", "0.002", "--grid", "3", "--bisections", "0"],
                             "largest scaled-ratio deviation"),
    "mucilage_sensitivity": (["bench_mucilage_sensitivity.py", "--constants", "bond_length", "--concentrations", "3",
                              "--volume-ratio", "0.002", "--grid", "3", "--bisections", "0"],
                             "constants that move it"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_script_runs(name):
    args, expected = CASES[name]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert expected in proc.stdout, proc.stdout[-2000:]
    assert "error" not in proc.stdout.lower().replace("balance error", "")
