"""Case study 5: several replicates by seed (``replicates: N``; replicate k uses seed + k).

Units: µm, h, fg C.
"""

import json

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.scenario import run_products, run_scenario, scenario_from_dict


def _respiration(**kw):
    data = {"case": "cs5-microbes", "experiment": "respiration",
            "lattice": {"shape": [4, 12, 12]}, "additions": [0.4, 32.0], "n_cells": 150,
            "duration": 1.0, "dt": 0.5, "record_interval": 0.5, "snapshot_times": [0.0],
            "outputs": {"figures": False, "vtk": False}}
    data.update(kw)
    return scenario_from_dict(data)


def _text(products, name, tmp_path):
    path = tmp_path / name
    products.exports[name](path)
    return path.read_text()


def _same_fields(a, b, index=None):
    for name, ds in a.fields.items():
        other = b.fields[name] if index is None else b.fields[name].isel(replicate=index, drop=True)
        other = other.drop_vars("seed", errors="ignore")
        for var in ds.data_vars:
            np.testing.assert_array_equal(ds[var].values, other[var].values, err_msg=f"{name}: {var}")


def test_replicates_are_the_single_runs_of_seed_plus_k(tmp_path):
    single = run_products(_respiration(seed=4))
    next_seed = run_products(_respiration(seed=5))
    reps = run_products(_respiration(seed=4, replicates=2))
    again = run_products(_respiration(seed=4, replicates=2))
    # replicate 0 is the single run, replicate 1 the single run of seed + 1, bit for bit
    _same_fields(single, reps, 0)
    _same_fields(next_seed, reps, 1)
    _same_fields(reps, again)                                # same seed, same replicate set
    assert list(reps.fields["cs5_fields.nc"]["seed"].values) == [4, 5]
    for lab in ("addition_0.4", "addition_32"):
        assert (_text(reps, f"cs5_agents_{lab}_r0.csv", tmp_path)
                == _text(single, f"cs5_agents_{lab}.csv", tmp_path))
        # the two replicates start from different placements
        assert (_text(reps, f"cs5_agents_{lab}_r0_t0h.csv", tmp_path)
                != _text(reps, f"cs5_agents_{lab}_r1_t0h.csv", tmp_path))
    # key figures: the scalar is the mean, NAME_sd the sample SD, over the per-replicate values
    stats = reps.info["cs5"]["replicates"]
    assert stats["n"] == 2 and stats["seeds"] == [4, 5]
    for name in ("respired_addition_0.4", "respired_addition_32", "peak_biomass_increase_addition_32",
                 "additions_with_growth"):
        values = [single.value(name), next_seed.value(name)]
        q = stats["quantities"][name]
        assert q["values"] == values and q["n"] == 2
        assert reps.value(name) == q["mean"] == np.mean(values)
        assert reps.value(name + "_sd") == q["sd"] == np.std(values, ddof=1)
    assert reps.value("respired_addition_32_sd") > 0
    assert reps.value("carbon_balance_error_bound") <= 1e-12
    assert reps.info["cs5"]["per_replicate"][1] == next_seed.info["cs5"]


def test_replicates_in_the_output_folder_resume_and_bad_values_name_the_key(tmp_path):
    import xarray as xr
    from rhizoscale.simulation import WallTimeLimitReached
    # a snapshot at t = 0, taken before the first checkpoint, is kept by the resumed run
    sc = _respiration(seed=2, replicates=2, additions=[8.0], snapshot_times=[0])
    summary = run_scenario(sc, tmp_path / "out")
    with xr.open_dataset(tmp_path / "out" / "cs5_timeseries.nc") as ts:
        assert ts["co2"].dims == ("replicate", "run", "time") and list(ts["seed"].values) == [2, 3]
    agents = {"cs5_agents_addition_8_r0.csv", "cs5_agents_addition_8_r1.csv",
              "cs5_agents_addition_8_r0_t0h.csv", "cs5_agents_addition_8_r1_t0h.csv"}
    assert agents <= {p.name for p in (tmp_path / "out").iterdir()}
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["quantities"]["respired_addition_8_sd"]["value"] == summary["quantities"]["respired_addition_8_sd"]["value"]
    # stopped after every step and resumed: the same outputs (each replicate checkpoints apart)
    stops = 0
    while True:
        try:
            run_scenario(sc, tmp_path / "cut", resume=stops > 0, wall_time_limit=0.0)
            break
        except WallTimeLimitReached:
            stops += 1
    assert stops >= 4
    with pytest.raises(WallTimeLimitReached) as stop:     # the limit as given, the time in the case's unit
        run_scenario(sc, tmp_path / "msg", wall_time_limit=0.0)
    assert "--wall-time-limit of 0 s reached at t = 0.5 h" in str(stop.value), str(stop.value)
    for name in ("cs5_timeseries.nc", "cs5_fields.nc"):
        with xr.open_dataset(tmp_path / "out" / name) as a, xr.open_dataset(tmp_path / "cut" / name) as b:
            assert a.identical(b), name
    for name in agents:
        assert (tmp_path / "out" / name).read_text() == (tmp_path / "cut" / name).read_text()
    assert json.loads((tmp_path / "cut" / "summary.json").read_text())["quantities"] == saved["quantities"]
    # the estimate adds the end fields (6 float64 per voxel and run) of the finished replicates
    from rhizoscale.microbes.scenario import estimate_memory
    one, three = estimate_memory(_respiration().config), estimate_memory(_respiration(replicates=3).config)
    assert three.parts["outputs of the other replicates"] >= 2 * 2 * 48 * 4 * 12 * 12
    assert three.gib > one.gib and "outputs of the other replicates" not in one.parts
    for bad in (0, -1, 2.5, "2", True):
        with pytest.raises(InputError, match="replicates"):
            _respiration(replicates=bad)


def test_figures_of_several_replicates_say_which_replicate_they_draw():
    """The figures draw replicate 0 only; they said nothing of it."""
    reps = run_products(_respiration(seed=4, replicates=2, outputs={"figures": True, "vtk": False}))
    title = reps.figures["fig13_respiration.png"]._suptitle.get_text()
    assert "replicate 0 of 2 (seed 4" in title
    single = run_products(_respiration(seed=4, outputs={"figures": True, "vtk": False}))
    assert "replicate" not in single.figures["fig13_respiration.png"]._suptitle.get_text()
