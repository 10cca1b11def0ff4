"""Every shipped example at a small size (for the contract and key-figure tests).

The overrides shrink grids, durations and samples; they keep each example's structure
(the same case, parameter sets, outputs), so a small run exercises the same code.
"""

from __future__ import annotations

import copy

import yaml

from rhizoscale.scenario import available_examples, example_text

SMALL = {
    "demo": {"time": {"stop": 5}, "replicates": 2,
             "grid": {"lower": [-6, -6, -16], "upper": [6, 6, 0], "resolution": 2.0}},
    "cs1-single-root": {"straight_root": {"velocity": 1.0, "days": 3},
                        "grid": {"lower": [-1, -1, -4], "upper": [1, 1, 0.5], "resolution": 0.2},
                        "growth_rates": [0.5, 1.0], "single_root_resolution": 0.05,
                        "panel_rates": [0.5, 1.0]},
    "cs1-vicia-faba": {"time": {"stop": "4 d", "outputs": [2, 4]}, "grid": {"lower": [-5, -5, -12], "upper": [5, 5, 0],
                                           "resolution": 0.25},
                       "memory_limit_gb": 2},
    "cs2-oilseed-rape": {"time": {"stop": 2, "dt": "2 h", "outputs": [1, 2]},
                         "resolution_cm": 1.0},
    "cs3-root-hairs": {"sample": {"shape": [35, 33, 45], "voxel_size": 4.0e-3},   # the paper's ROI
                       "time": {"stop": "600 s"}},
    "linked": {"parameters": {"pore.shape": [120, 120], "pore.table_water_contents": [0.1, 0.3],
                              "uptake.time": {"stop": 1, "dt": "2 h", "outputs": [1]},
                              "uptake.resolution_cm": 1.0, "uptake.compare_without_exudation": False}},
    "sens-p-uptake": {"samples": 2, "second_order": False},
    "cs4-liquid-bridge": {"ndim": 2, "particle_radius": 8, "gap": 5, "initial_volume": 1.2,
                          "removal": 0.35, "relax_steps": 300, "first_relax": 600,
                          "max_stages": 12, "wall_density": 0.3, "contact_angle": None},
    "cs4-water-distribution": {"shape": [40, 40], "mean_grain_radius": 0.006,
                               "saturations": [0.7, 0.4], "max_steps": 400,
                               "wall_density": 0.12, "contact_angle": None},
    "cs4-mucilage-diffusion": {"shape": [120, 120], "table_water_contents": [0.1, 0.19],
                               "random_media_width": 16, "random_media_realisations": 1},
    "cs4-diffusivity-table": {"shape": [150, 150], "water_contents": [0.12, 0.19, 0.41],
                              "mucilage_fractions": [0.0, 0.1]},
    "cs4-mucilage-bridge": {"concentrations": [3.0], "liquid_volume": 4000.0, "separation": 8.0,
                            "evaporation_rate": 400.0, "relax_steps": 20, "image_voxel_size": 4.0,
                            "time": {"stop": "10 s", "dt": "0.5 s", "outputs": ["0 s", "6 s", "10 s"]}},
    "cs4-mucilage-resolved": {"parameters": {"lbm.particle_radius": 6, "lbm.gap": 5, "lbm.relax_steps": 150,
                                             "lbm.first_relax": 300, "network.concentrations": [3.0],
                                             "network.relax_steps": 30, "network.after_rupture_steps": 4}},
    "cs5-respiration": {"lattice": {"shape": [8, 16, 16], "voxel_size": 10.0, "porosity": 0.4,
                                    "grain_radius": 60.0},
                        "time": {"stop": "3 h", "dt": "30 min", "outputs": ["1 h"]}, "record_interval": 0.5},
    "cs5-rhizosphere": {"lattice": {"shape": [6, 36, 36], "voxel_size": 10.0, "porosity": 0.4,
                                    "grain_radius": 60.0, "root_radius": 100.0},
                        "time": {"stop": "2 h", "dt": "30 min", "outputs": ["1 h"]}, "record_interval": 1.0},
}


def small_example(name: str) -> dict:
    """The example ``name`` as a mapping, with the small-size overrides applied."""
    data = yaml.safe_load(example_text(name))
    data = copy.deepcopy(data)
    data.update(copy.deepcopy(SMALL.get(name, {})))   # callers may change nested sections
    return data


def example_names() -> list[str]:
    return available_examples()
