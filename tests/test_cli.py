"""The command line: scenarios, examples, errors that name the file and field."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rhizoscale.cli import app
from rhizoscale.io.rsml import write_rsml

runner = CliRunner()


@pytest.fixture
def rsml_file(tmp_path, branched_root_system):
    return write_rsml(branched_root_system, tmp_path / "roots.rsml")


def _scenario(tmp_path, text):
    p = tmp_path / "scenario.yaml"
    p.write_text(text)
    return p


def test_run_rsml_scenario_writes_outputs(tmp_path, rsml_file):
    sc = _scenario(tmp_path, """
case: plant-growth
name: from-rsml
rsml: roots.rsml
grid: {lower: [-3, -2, -11], upper: [5, 2, 0], resolution: 0.5}
output_times: [5, 10]
""")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(sc), "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["details"]["root_system"]["n_roots"] == 4
    assert summary["details"]["per_time"][0]["time_d"] == 5
    assert summary["details"]["length_inside_grid_cm"] == pytest.approx(summary["details"]["root_system"]["total_length_cm"])
    for name in ("root_system.rsml", "root_system.vtp", "root_length_density.nc", "root_system.png",
                 "depth_profile.png"):
        assert (out / name).is_file(), name
    import xarray as xr
    with xr.open_dataset(out / "root_length_density.nc") as ds:
        assert ds.root_length_density.dims == ("time", "z", "y", "x")
        assert ds.root_length_density.attrs["units"] == "cm cm-3"
    assert not list(out.glob("*.part"))


@pytest.mark.parametrize("text, needles", [
    ("case: plant-growth\nrsml: roots.rsml\ngridd: 1\n", ["scenario.yaml", "gridd", "unknown key"]),
    ("case: plant-growth\nrsml: roots.rsml\ndays: .nan\n", ["scenario.yaml", "days"]),
    ("case: plant-growth\nrsml: roots.rsml\ndays: -3\n", ["scenario.yaml", "days"]),
    ("name: x\n", ["scenario.yaml", "case"]),
    ("case: nope\n", ["scenario.yaml", "case", "unknown case"]),
    ("case: plant-growth\n  bad: [indent\n", ["scenario.yaml", "line"]),
    ("case: plant-growth\nrsml: roots.rsml\nconfinement: {type: box, lower: [0, 0, 0]}\n",
     ["scenario.yaml", "confinement", "upper"]),
    ("case: plant-growth\nrsml: missing.rsml\n", ["missing.rsml", "not found"]),
    ("case: plant-growth\nrsml: roots.rsml\noutput_times: [50]\n", ["output_times", "beyond"]),
    ("case: plant-growth\nseed: -1\nrsml: roots.rsml\n", ["seed"]),
])
def test_bad_scenarios_give_one_clear_error(tmp_path, rsml_file, text, needles):
    sc = _scenario(tmp_path, text)
    res = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    for n in needles:
        assert n in res.output, (n, res.output)


def test_example_lists_and_writes(tmp_path):
    res = runner.invoke(app, ["example"])
    assert res.exit_code == 0
    names = res.output.split()
    assert "demo" in names
    res = runner.invoke(app, ["example", "demo", "--out", str(tmp_path / "d.yaml")])
    assert res.exit_code == 0
    assert "case:" in (tmp_path / "d.yaml").read_text()
    res = runner.invoke(app, ["example", "no-such-example"])
    assert res.exit_code == 2 and "no example named" in res.output


def test_every_shipped_example_validates(tmp_path):
    from rhizoscale.scenario import available_examples, example_text, scenario_from_dict
    import yaml
    for name in available_examples():
        data = yaml.safe_load(example_text(name))
        scenario_from_dict(data, source=name, base_dir=tmp_path)


def test_info():
    res = runner.invoke(app, ["info"])
    assert res.exit_code == 0
    assert "plant-growth" in res.output


def test_grow_writes_rsml_that_round_trips(tmp_path):
    from rhizoscale.io.rsml import read_rsml
    from rhizoscale.plant import grow_root_system, load_plant_parameters
    out = tmp_path / "faba.rsml"
    res = runner.invoke(app, ["grow", "--params", "vicia_faba", "--days", "10", "--seed", "4",
                              "--out", str(out), "--vtk"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and out.with_suffix(".vtp").is_file()
    back = read_rsml(out)
    direct = grow_root_system(load_plant_parameters("vicia_faba"), 10, seed=4).renumbered()
    assert np.array_equal(back.nodes, direct.nodes)
    assert np.array_equal(back.node_time, direct.node_time)
    assert np.array_equal(back.root_parent_node, direct.root_parent_node)
    # writing what was read gives the same bytes
    again = write_rsml(back, tmp_path / "again.rsml")
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("args, needle", [
    (["--params", "no_such_set"], "no_such_set"),
    (["--days", "-1"], "days"),
    (["--params", "BAD"], "BAD.xml"),
])
def test_grow_bad_input(tmp_path, args, needle):
    if "BAD" in args:
        bad = tmp_path / "BAD.xml"
        bad.write_text("<plant><root subType='1'><parameter name='lmax' value='-3'/></root>")
        args = ["--params", str(bad)]
    res = runner.invoke(app, ["grow", *args, "--out", str(tmp_path / "x.rsml")])
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
