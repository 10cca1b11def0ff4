"""
Global sensitivity analysis on Dask — Sobol' indices, checked, then a linked pipeline
======================================================================================

A sensitivity study varies parameters named by dotted paths and reads quantities of
interest by name. Samples run on a Dask cluster — here a local one: one worker process
per core, listening on 127.0.0.1 only — and each sample's result is stored as it
completes, so an interrupted study resumes where it stopped.

First the Ishigami function, whose Sobol' indices are known exactly (Ishigami & Homma
1990): the estimates (SALib, Saltelli's design) should fall within their bootstrap
intervals of the exact values, and the one interaction, ``x1 × x3``, should show in the
second-order indices. Then the same machinery on a pipeline of two case studies.
"""

# %%
# Dask starts worker *processes*: a script that starts a local cluster keeps its work
# under ``if __name__ == "__main__":`` (the workers import the script again).
import math

import matplotlib.pyplot as plt
import numpy as np

from rhizoscale.sensitivity import SensitivityStudy, study_from_dict
from rhizoscale.sensitivity.cluster import connect
from rhizoscale.sensitivity.functions import ishigami, ishigami_indices


def main():
    client, cluster = connect(n_workers=2)
    try:
        space = {f"x{i}": [-math.pi, math.pi] for i in (1, 2, 3)}
        result = SensitivityStudy(ishigami, space, ["y"], n=512, seed=1).run(client=client)
        ind, exact = result.indices["y"], ishigami_indices()
        for k in ("S1", "ST"):
            print(k, "estimate", np.round(ind[k], 3), "+/-", np.round(ind[f"{k}_conf"], 3),
                  "exact", np.round(exact[k], 3))
        print("significant interactions:", result.interactions("y"))

        # %%
        # A pipeline: the pore scale (CS4, a small 2D sand section) gives D_eff(θ) at a
        # mucilage share; the plant scale (CS2, a few days in a small rhizotron) uses it.
        # The study varies the mucilage share (pore step) and the P sorption capacity
        # (uptake step) and reads the plant's P uptake. Paths and ranges are checked before
        # any sample runs.
        pipeline = {
            "case": "pipeline",
            "steps": [
                {"id": "pore", "scenario": {
                    "case": "cs4-homogenisation", "seed": 2, "shape": [100, 100], "voxel_size": 3.0e-3,
                    "porosity": 0.5, "water_content": 0.3, "table_water_contents": [0.2, 0.3, 0.4],
                    "table_mucilage_fractions": [0.0], "periodisations": ["translation"], "random_media": False,
                    "outputs": {"figures": False, "vtk": False}}},
                {"id": "uptake", "scenario": {
                    "case": "cs2-phosphate-uptake", "time": {"stop": "2 d", "dt": "4 h", "outputs": ["2 d"]},
                    "resolution_cm": 1.0, "rhizotron": {"width": 10, "thickness": 2, "depth": 12, "angle_deg": 49},
                    "output_interval_days": 2, "compare_without_exudation": False,
                    "soil_diffusivity": {"model": "table"}, "outputs": {"figures": False, "vtk": False}},
                 "inputs": {"soil_diffusivity.table": "pore.d_eff"}},
            ]}
        study = study_from_dict({"scenario": pipeline, "method": "sobol", "samples": 4, "second_order": False,
                                 "parameters": {"pore.mucilage_fraction": [0.0, 0.3],
                                                "uptake.soil.smax_phosphate": [2.5, 10.0]},
                                 "quantities": ["uptake.p_uptake_with_exudation"]}, source="gallery")
        linked = study.run(client=client)
        q = "uptake.p_uptake_with_exudation"
        print(q, "ST:", {n: round(float(v), 3) for n, v in zip(linked.names, linked.indices[q]["ST"])})
    finally:
        client.close()
        cluster.close()

    # %%
    # The figure: estimated first-order and total indices of the Ishigami function with
    # their 95 % bootstrap intervals, and the exact values.
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    x = np.arange(3)
    ax.bar(x - 0.2, ind["S1"], 0.4, yerr=ind["S1_conf"], capsize=3, label="$S_1$ (estimate)")
    ax.bar(x + 0.2, ind["ST"], 0.4, yerr=ind["ST_conf"], capsize=3, label="$S_T$ (estimate)")
    ax.plot(x - 0.2, exact["S1"], "k_", ms=20, mew=2, label="exact")
    ax.plot(x + 0.2, exact["ST"], "k_", ms=20, mew=2)
    ax.set_xticks(x, ["x1", "x2", "x3"])
    ax.set_ylabel("Sobol' index")
    ax.set_title(f"Ishigami function, {result.y.shape[0]} runs on 2 workers")
    ax.legend()
    plt.show()


if __name__ == "__main__":
    main()
