"""The model–simulation–product contract: schedules, checkpoints, resume, products with
units, the case registry, output folders and the import rules of the layout."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pydantic import Field

from rhizoscale.errors import InputError
from rhizoscale.outputs import OutputFolder
from rhizoscale.products import Products, TabulatedRelation, check_units
from rhizoscale.scenario import (CaseConfig, register_case, run_products, run_scenario,
                                 scenario_from_dict)
from rhizoscale.simulation import (Checkpointer, IterationInterval, RunInterrupted, Simulation,
                                   SpecifiedTimes, TimeInterval, WallTimeLimitReached,
                                   load_checkpoint, save_checkpoint)
from small_examples import example_names, small_example

SRC = Path(__file__).resolve().parents[1] / "src" / "rhizoscale"
GOLDEN = json.loads((Path(__file__).parent / "data" / "small_example_quantities.json").read_text())


class Decay:
    """dc/dt = -k c, stepped exactly: the oracle is exp(-k t) whatever the steps."""

    def __init__(self, k: float):
        self.k, self.c, self.time = k, 1.0, 0.0

    def step(self, dt):
        self.c *= math.exp(-self.k * dt)
        self.time += dt

    def checkpoint_state(self):
        return {"c": self.c, "time": self.time}

    def restore_state(self, s):
        self.c, self.time = float(s["c"]), float(s["time"])


# ---------------------------------------------------------------------------- simulation
def test_steps_land_on_every_schedule_and_state_is_exact():
    sim = Simulation(Decay(0.7), stop_time=3.0, dt=0.4)
    seen, extra = [], []
    sim.add_callback("out", lambda s: seen.append(s.time), TimeInterval(1.0))
    sim.add_callback("extra", lambda s: extra.append(s.time), SpecifiedTimes([0.5, 2.25]))
    sim.add_callback("every3", lambda s: None, IterationInterval(3))
    sim.run()
    assert seen == pytest.approx([0.0, 1.0, 2.0, 3.0], abs=1e-12)
    assert extra == pytest.approx([0.5, 2.25], abs=1e-12)
    assert sim.model.c == pytest.approx(math.exp(-0.7 * 3.0), rel=1e-13)
    assert sim.time == pytest.approx(3.0)


def test_wall_time_limit_checkpoints_and_resume_is_bit_identical(tmp_path):
    def run(resume_path=None, limit=None):
        model = Decay(0.3)
        sim = Simulation(model, stop_time=5.0, dt=0.37, name="decay", wall_time_limit=limit,
                         checkpoint=Checkpointer(tmp_path / "decay.npz", IterationInterval(1)))
        rec = []

        class Recorder:
            def __call__(self, s):
                rec.append(s.model.c)

            def checkpoint_state(self):
                return {"values": np.asarray(rec)}

            def restore_state(self, st):
                rec[:] = list(np.atleast_1d(st["values"]))

        sim.add_callback("rec", Recorder(), IterationInterval(1))
        if resume_path is not None:
            assert sim.resume_from(resume_path)
        sim.run()
        return model.c, rec, sim.iteration

    c_full, rec_full, it_full = run()
    with pytest.raises(WallTimeLimitReached, match="checkpoint"):
        run(limit=0.0)
    state = load_checkpoint(tmp_path / "decay.npz")
    assert int(state["simulation"]["iteration"]) == 1
    c_res, rec_res, it_res = run(resume_path=tmp_path / "decay.npz")
    assert c_res == c_full and rec_res == rec_full and it_res == it_full


def test_a_model_that_is_done_ends_the_run_early_and_resumes_finished(tmp_path):
    """A model with its own end condition (``done``) stops the run before stop_time; the
    run counts as finished, and resuming its checkpoint takes no further step."""
    class Settling(Decay):
        @property
        def done(self):
            return self.c < 0.5

    cp = Checkpointer(tmp_path / "settle.npz", IterationInterval(100))
    sim = Simulation(Settling(1.0), stop_time=10.0, dt=0.25, checkpoint=cp, name="settle")
    sim.run()
    first_below = math.ceil(math.log(2.0) / 0.25)            # steps until exp(-t) < 1/2
    assert sim.finished and sim.iteration == first_below and sim.time == 0.25 * first_below
    again = Simulation(Settling(1.0), stop_time=10.0, dt=0.25, name="settle")
    assert again.resume_from(cp.path)
    again.run()
    assert again.iteration == first_below and again.model.c == sim.model.c


def test_checkpoints_are_plain_data_never_pickles(tmp_path):
    p = save_checkpoint(tmp_path / "c.npz", {"a": np.arange(3), "b": {"x": 1.5, "s": "text"}})
    back = load_checkpoint(p)
    assert back["a"].tolist() == [0, 1, 2] and float(back["b"]["x"]) == 1.5 and str(back["b"]["s"]) == "text"
    with pytest.raises(TypeError, match="not plain data"):
        save_checkpoint(tmp_path / "d.npz", {"obj": object()})
    # a file holding a pickled object array is refused, not executed
    np.save(tmp_path / "evil.npy", np.array([object()], dtype=object), allow_pickle=True)
    import zipfile
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.write(tmp_path / "evil.npy", "model/x.npy")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "evil.npz")


def test_ctrl_c_says_where_the_last_checkpoint_is(tmp_path):
    class Interrupting(Decay):
        def step(self, dt):
            if self.time > 1.0:
                raise KeyboardInterrupt
            super().step(dt)

    sim = Simulation(Interrupting(1.0), stop_time=3.0, dt=0.5, name="toy",
                     checkpoint=Checkpointer(tmp_path / "toy.npz", IterationInterval(1)))
    with pytest.raises(RunInterrupted, match="last checkpoint .*toy.npz at t = 1"):
        sim.run()


# ---------------------------------------------------------------------------- resume
def _netcdf_files(folder):
    return sorted(p.name for p in Path(folder).glob("*.nc"))


def _assert_same_outputs(a, b):
    assert _netcdf_files(a) == _netcdf_files(b)
    # every file, not only the NetCDF ones: a resumed run once lost the agent snapshots
    # taken before the cut (cs5) and wrote no CSV for them
    assert sorted(p.name for p in Path(a).iterdir()) == sorted(p.name for p in Path(b).iterdir())
    for path in sorted(Path(a).glob("*.csv")):
        assert path.read_text() == (Path(b) / path.name).read_text(), path.name
    for name in _netcdf_files(a):
        with xr.open_dataset(Path(a) / name) as da, xr.open_dataset(Path(b) / name) as db:
            assert da.identical(db), name          # values bit for bit, coordinates, attributes
    qa = json.loads((Path(a) / "summary.json").read_text())["quantities"]
    qb = json.loads((Path(b) / "summary.json").read_text())["quantities"]
    assert qa == qb


@pytest.mark.parametrize("name", ["cs1-vicia-faba", "cs2-oilseed-rape", "cs3-root-hairs", "cs4-mucilage-bridge",
                                  "cs4-liquid-bridge", "cs4-water-distribution", "cs5-respiration"])
def test_interrupted_run_resumes_bit_identically(tmp_path, name):
    data = small_example(name)
    if name == "cs4-mucilage-bridge":   # drying through the bridge's rupture in few steps
        data.update(time={"stop": "10 s", "dt": "2 s", "outputs": ["0 s", "10 s"]}, outputs={"figures": False})
    if name == "cs2-oilseed-rape":
        data.update(time={"stop": 1.0, "dt": "2 h", "outputs": [0.5, 1.0]}, output_interval_days=0.5)
    if name == "cs1-vicia-faba":      # old mass by the heat-kernel semigroup: state to resume
        data.update(direct_age=1.0)
    if name in ("cs4-liquid-bridge", "cs4-water-distribution"):   # stops at stages / blocks
        data.update(outputs={"figures": False})
    sc = scenario_from_dict(data, source=name)
    run_scenario(sc, tmp_path / "full")
    stops = 0
    while True:     # a wall-time limit of 0 s stops after every step: resume until done
        try:
            run_scenario(sc, tmp_path / "cut", resume=stops > 0, wall_time_limit=0.0)
            break
        except WallTimeLimitReached:
            stops += 1
            assert not (tmp_path / "cut" / "summary.json").exists()
            assert list((tmp_path / "cut" / ".checkpoints").glob("*.npz"))
    assert stops >= 4
    _assert_same_outputs(tmp_path / "full", tmp_path / "cut")
    if name == "cs1-vicia-faba":      # the last fields, recomputed from the model after a resume
        assert (tmp_path / "full" / "fields.vti").read_bytes() == (tmp_path / "cut" / "fields.vti").read_bytes()
    assert not (tmp_path / "cut" / ".checkpoints").exists()       # removed when complete


# ---------------------------------------------------------------------------- products
@pytest.mark.parametrize("name", example_names())
def test_every_example_gives_products_with_units_and_unchanged_key_figures(tmp_path, name):
    """Small versions of every shipped example: units on every NetCDF variable and
    coordinate and on every summary quantity; key figures as before the contract (the
    golden values were recorded from the pre-contract code's summaries)."""
    summary = run_scenario(scenario_from_dict(small_example(name), source=name), tmp_path)
    for nc in Path(tmp_path).glob("*.nc"):
        with xr.open_dataset(nc) as ds:
            check_units(ds, nc.name)
    listed = set(summary["files"])
    present = {p.name for p in Path(tmp_path).iterdir() if not p.name.startswith(".")}
    assert listed == present
    if summary["run"].get("case") == "sensitivity":
        # a study: indices of every quantity, each parameter's S1 and ST as key figures
        got = {f"{q}.{k}.{par}": v for q, rec in summary["quantities"].items()
               for k in ("S1", "ST", "mu_star") if k in rec for par, v in rec[k].items()}
        assert summary["computed"] + summary["reused"] == summary["n_samples"] > 0
        assert set(got) == set(GOLDEN[name])
        for k, v in GOLDEN[name].items():
            assert got[k] == pytest.approx(v, rel=1e-7, abs=1e-12), k
        return
    assert summary["quantities"], "a case study must name its quantities of interest"
    for q, rec in summary["quantities"].items():
        assert isinstance(rec["units"], str) and rec["units"], q
        assert rec["description"], q
    from rhizoscale.link import declared_products
    sc = scenario_from_dict(small_example(name), source=name)
    declared = declared_products(sc) if sc.case != "pipeline" else None
    if declared is not None:        # what pipelines and sensitivity analyses check against
        made = {k: ("scalar", v["units"]) for k, v in summary["quantities"].items()}
        made.update({k: ("relation", "1") for k in summary["relations"]})
        assert {k: declared.get(k) for k in made} == made       # every product made was declared ...
        files = {f for f in summary["files"] if f.endswith(".nc")}
        assert files <= set(declared)
        from rhizoscale.scenario import _case_module
        conditional = {k for k in declared if k.startswith("rate_of_largest_hotspot_")}  # data-dependent
        conditional |= set(getattr(_case_module(sc.case, name), "DATA_DEPENDENT_PRODUCTS", ()))
        assert set(declared) - conditional <= set(made) | files  # ... and every declared one made
    got = {k: v["value"] for k, v in summary["quantities"].items()}
    # the memory estimate is checked before the run starts (tests/test_memory.py); a
    # pipeline has one per step (STEP.memory_estimate), each step's details in STEP/
    pipeline = summary["scenario"]["case"] == "pipeline"
    steps = [s["id"] for s in summary["steps"]] if pipeline else [None]
    for step in steps:
        key = f"{step}.memory_estimate" if step else "memory_estimate"
        memory = summary["quantities"][key]
        assert memory["units"] == "GiB" and 0 < memory["value"] < 2, memory
        details = json.loads((tmp_path / step / "summary.json").read_text())["details"] if step \
            else summary["details"]
        assert details["memory_estimate_gib"] == memory["value"]
        got.pop(key)
    assert set(got) == set(GOLDEN[name])
    for k, v in GOLDEN[name].items():
        if v is None:
            assert got[k] is None, k
        else:
            assert got[k] == pytest.approx(v, rel=1e-7, abs=1e-14), k
    run = summary["run"]
    assert run["status"] == "complete" and run["scenario_hash"] and run["rhizoscale_version"]
    listed = set(summary["files"])
    present = {p.name for p in Path(tmp_path).iterdir() if not p.name.startswith(".")}
    assert listed == present
    for step in steps if pipeline else []:
        inner = json.loads((tmp_path / step / "summary.json").read_text())
        assert inner["details"]["pipeline"]["step"] == step and inner["run"]["status"] == "complete"
        assert set(inner["files"]) == {p.name for p in (tmp_path / step).iterdir() if not p.name.startswith(".")}


def test_field_without_units_is_refused():
    ds = xr.Dataset({"c": (("x",), np.zeros(3), {"units": "ug cm-3"})}, coords={"x": np.arange(3.0)})
    with pytest.raises(ValueError, match="no units on x"):
        Products("toy").add_field("f.nc", ds)


def test_tabulated_relation_interpolates_and_refuses_extrapolation():
    rel = TabulatedRelation([0.1, 0.3], [0.02, 0.10], porosity=0.4)
    assert rel(0.2) == pytest.approx(0.06)
    assert rel(0.05) == pytest.approx(0.01)          # linear to 0 at theta = 0
    assert rel(0.2, d_water=3.0) == pytest.approx(0.18)
    with pytest.raises(InputError, match="outside the table range"):
        rel(0.35)


# ---------------------------------------------------------------------------- a new case
class ToyConfig(CaseConfig):
    """A well-mixed pool losing solute at a rate set by the soil's D_eff: dc/dt = -k D c."""

    table: str = Field(..., description="effective-diffusivity table from case study 4")
    theta: float = Field(0.15, gt=0)
    rate: float = Field(2.0, gt=0, description="[d-1] per unit relative diffusivity")
    days: float = Field(3.0, gt=0)


class ToyModel(Decay):
    pass


class ToyCase:
    Config = ToyConfig

    @staticmethod
    def run(config, ctx):
        from rhizoscale.products import read_relation
        d = read_relation(config.table)(config.theta)
        sim = Simulation(ToyModel(config.rate * d), stop_time=config.days, dt=0.25, name="toy")
        ctx.simulate(sim)
        out = Products("toy-pool")
        out.add_scalar("pool", sim.model.c, "1", "remaining fraction of the pool")
        out.add_scalar("d_eff", d, "1", "D_eff / D_water from case study 4")
        return out


def test_a_new_case_registers_without_core_changes_and_chains_after_cs4(tmp_path):
    register_case("toy-pool", ToyCase)
    cs4 = small_example("cs4-mucilage-diffusion")
    cs4.update(random_media=False)
    s4 = run_scenario(scenario_from_dict(cs4, source="cs4"), tmp_path / "cs4")
    table = tmp_path / "cs4" / "effective_diffusivity_table.nc"
    toy = run_scenario(scenario_from_dict({"case": "toy-pool", "table": str(table)}, source="toy"),
                       tmp_path / "toy")
    d = toy["quantities"]["d_eff"]["value"]
    # the same relation handed over in memory, without files
    products = run_products(scenario_from_dict(cs4, source="cs4"))
    assert products.relations["d_eff_mucilage_0"](0.15) == pytest.approx(d, rel=1e-12)
    assert 0 < d < s4["quantities"]["porosity"]["value"]
    assert toy["quantities"]["pool"]["value"] == pytest.approx(math.exp(-2.0 * d * 3.0), rel=1e-12)


# ---------------------------------------------------------------------------- folders
def _tiny_scenario(name="a", days=2):
    return scenario_from_dict({"case": "plant-growth", "name": name, "days": days, "figures": False,
                               "vtk": False}, source=f"{name}.yaml")


def test_a_folder_holding_another_run_is_refused_then_replaced_cleanly(tmp_path):
    out = tmp_path / "o"
    run_scenario(_tiny_scenario("a"), out)
    with pytest.raises(InputError, match="holds a complete run of 'a'.*--overwrite"):
        run_scenario(_tiny_scenario("b", days=3), out)
    stray = out / "root_length_density.nc"        # a file the first run listed ...
    run_scenario(scenario_from_dict({"case": "plant-growth", "name": "a", "days": 2, "figures": False,
                                     "vtk": False, "grid": {"lower": [-5, -5, -5], "upper": [5, 5, 0],
                                                            "resolution": 1.0}}, source="a.yaml"),
                 out, overwrite=True)
    assert stray.exists()
    summary = run_scenario(_tiny_scenario("b", days=3), out, overwrite=True)
    assert not stray.exists()                     # ... is gone: nothing of the old run is left
    assert summary["scenario"]["name"] == "b"
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == set(summary["files"])


def test_second_concurrent_run_fails_at_once(tmp_path):
    first = OutputFolder(tmp_path, {"case": "x", "name": "x", "seed": 1, "config": {}}).open()
    with pytest.raises(InputError, match="another rhizoscale run is writing"):
        OutputFolder(tmp_path, {"case": "x", "name": "x", "seed": 1, "config": {}}).open()
    first.abandon("failed")
    OutputFolder(tmp_path, {"case": "x", "name": "x", "seed": 1, "config": {}},
                 overwrite=True).open().abandon("failed")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_sensitivity_study_folder_is_not_taken_for_a_run(tmp_path, overwrite):
    """`rhizoscale run --out STUDY [--overwrite]`: the study's summary.json is not a run's
    (it used to say 'holds a unknown run of None' and, with --overwrite, replace it)."""
    (tmp_path / "study.json").write_text('{"design_hash": "abc"}')
    (tmp_path / "summary.json").write_text('{"study": "mine"}')
    with pytest.raises(InputError, match="holds a sensitivity study") as err:
        OutputFolder(tmp_path, {"case": "x", "name": "x", "seed": 1, "config": {}}, overwrite=overwrite).open()
    assert err.value.field == "--out"
    assert (tmp_path / "summary.json").read_text() == '{"study": "mine"}'
    assert not (tmp_path / ".rhizoscale-run.json").exists()


def test_leftovers_of_killed_runs_are_removed_and_bad_folders_refused(tmp_path):
    (tmp_path / ".fields.nc.abc123.nc.part").write_text("half a file")
    OutputFolder(tmp_path, {"case": "x", "name": "x", "seed": 1, "config": {}}).open().abandon("failed")
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(InputError, match="not a folder"):
        run_scenario(_tiny_scenario(), afile)
    folder = OutputFolder(tmp_path / "p", {"case": "x", "name": "x", "seed": 1, "config": {}}).open()
    for bad in ("../escape.nc", "/tmp/abs.nc", "sub/dir.nc", ""):
        with pytest.raises(InputError, match="plain file names"):
            folder.file(bad)
    folder.abandon("failed")


def test_resume_refuses_another_scenario(tmp_path):
    out = tmp_path / "o"
    folder = OutputFolder(out, {"case": "plant-growth", "name": "a", "seed": 1, "config": {"days": 2}}).open()
    folder.abandon("interrupted")
    with pytest.raises(InputError, match="another scenario"):
        run_scenario(_tiny_scenario("b", days=3), out, resume=True)


# ---------------------------------------------------------------------------- layout
CASE_PACKAGES = ("rhizodeposition", "nutrients", "diffusion", "homogenization", "mucilage", "microbes", "porescale")
RUN_LAYER = ("cli", "outputs", "scenario")
#: packages that drive scenarios (pipelines, sensitivity studies, the reproduce report): run layer too
RUN_LAYER_PACKAGES = ("link", "sensitivity", "reproduce")
#: run-layer files inside case packages: the scenario, and the claims of the paper it reproduces
CASE_RUN_FILES = ("scenario.py", "claims.py")


def _imports(path: Path) -> set[str]:
    """Modules imported by a file, as dotted names relative to rhizoscale."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = path.relative_to(SRC).parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[:len(pkg) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
                names.add(mod)
                names.update(f"{mod}.{a.name}" if mod else a.name for a in node.names)
            elif node.module and node.module.startswith("rhizoscale"):
                names.add(node.module.removeprefix("rhizoscale").lstrip("."))
        elif isinstance(node, ast.Import):
            names.update(a.name.removeprefix("rhizoscale").lstrip(".") for a in node.names
                         if a.name.startswith("rhizoscale"))
    return names


def test_no_case_package_imports_another_and_physics_never_imports_the_run_layer():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        imports = _imports(path)
        top = rel.parts[0] if len(rel.parts) > 1 else None
        if top == "core":          # the data model stands on nothing but errors and io
            allowed = {"core", "errors", "io", ""}
            bad = {i for i in imports if i.split(".")[0] not in allowed}
            assert not bad, f"{rel} (core layer) imports {bad}"
        if top in CASE_PACKAGES:
            others = {i.split(".")[0] for i in imports} & (set(CASE_PACKAGES) - {top})
            assert not others, f"{rel} imports case package(s) {others}"
        if rel.name not in CASE_RUN_FILES and rel.stem not in RUN_LAYER and rel.name != "__main__.py" \
                and top not in RUN_LAYER_PACKAGES:
            bad = {i for i in imports if i.split(".")[0] in RUN_LAYER + RUN_LAYER_PACKAGES}
            assert not bad, f"{rel} (physics) imports the run layer: {bad}"


def test_image_product_keeps_voxel_size_origin_and_phases_through_netcdf(tmp_path):
    from rhizoscale.image import Image, Phase
    from rhizoscale.io.netcdf import read_netcdf, write_netcdf
    from rhizoscale.products import image_from_dataset, image_to_dataset
    rng = np.random.default_rng(0)
    im = Image(rng.integers(0, 3, (4, 5, 6)).astype(np.uint8), (0.1, 0.2, 0.3),
               (Phase("air", 0, 0.0, "air"), Phase("soil water", 1, 2.5e-6, "pore"),
                Phase("root", 2, 0.0, "root")), origin=(-1.0, 0.5, 2.0))
    write_netcdf(image_to_dataset(im), tmp_path / "im.nc")
    ds = read_netcdf(tmp_path / "im.nc")
    check_units(ds)
    # origin is a point (x, y, z); voxel sizes follow the array axes (z, y, x)
    assert ds["x"].values[0] == pytest.approx(-1.0 + 0.15) and ds["z"].values[0] == pytest.approx(2.0 + 0.05)
    assert np.allclose(im.to_grid().centers("y"), ds["y"].values)
    back = image_from_dataset(ds)
    assert np.array_equal(back.labels, im.labels)
    assert back.voxel_size == im.voxel_size and back.origin == im.origin
    assert [(p.name.replace("_", " "), p.label, p.diffusivity, p.role) for p in back.phases] == \
        [(p.name, p.label, p.diffusivity, p.role) for p in im.phases]


def test_docstring_examples_of_the_contract_run():
    import doctest

    import rhizoscale.products
    import rhizoscale.simulation
    for mod in (rhizoscale.simulation, rhizoscale.products):
        res = doctest.testmod(mod)
        assert res.attempted > 0 and res.failed == 0, mod.__name__


def test_an_installed_package_adds_a_case_through_its_entry_point(tmp_path, monkeypatch):
    """What a third-party package declares in pyproject.toml as
    ``[project.entry-points."rhizoscale.cases"] toy-decay = "toy_decay_case"``."""
    (tmp_path / "toy_decay_case.py").write_text(
        "from rhizoscale.products import Products\n"
        "from rhizoscale.scenario import CaseConfig\n"
        "class Config(CaseConfig):\n"
        "    rate: float = 1.0\n"
        "def run(config, ctx):\n"
        "    out = Products('toy-decay')\n"
        "    out.add_scalar('rate', config.rate, 'd-1', 'decay rate')\n"
        "    return out\n")
    dist = tmp_path / "toy_decay_case-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-decay-case\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rhizoscale.cases]\ntoy-decay = toy_decay_case\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from rhizoscale.scenario import case_names
    assert "toy-decay" in case_names()
    products = run_products(scenario_from_dict({"case": "toy-decay", "rate": 2.5}, source="t.yaml"))
    assert products.value("rate") == 2.5


def test_ctrl_c_stops_the_command_line_run_and_resume_finishes_it_identically(tmp_path):
    """Ctrl-C (SIGINT) in the middle of `rhizoscale run`: exit 3 within seconds, a message
    naming the checkpoint, no summary; `--resume` then gives the uninterrupted outputs.
    SIGTERM (kill, a batch system ending the job) takes the same path: before, it ended the
    process at once and left the folder marked "running"."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml
    data = small_example("cs2-oilseed-rape")
    data.update(time={"stop": 3.0, "dt": "30 min", "outputs": [1, 2]}, resolution_cm=0.5, compare_without_exudation=False,
                outputs={"figures": False, "vtk": False})
    sc = tmp_path / "s.yaml"
    sc.write_text(yaml.safe_dump(data))
    cmd = [sys.executable, "-m", "rhizoscale", "run", str(sc), "--checkpoint-interval", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    full = subprocess.run(cmd + ["--out", str(tmp_path / "full")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert full.returncode == 0, full.stderr
    # the third: SIGTERM to a job started in the background of a script, which inherits
    # SIGINT ignored (it kept running: the re-raised SIGINT was dropped)
    for sig, name, ignore_int in ((signal.SIGINT, "int", False), (signal.SIGTERM, "term", False),
                                  (signal.SIGTERM, "term-bg", True)):
        cut = tmp_path / f"cut-{name}"
        start = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_int else None
        proc = subprocess.Popen(cmd + ["--out", str(cut)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, preexec_fn=start)
        deadline = time.time() + 120
        while not list((cut / ".checkpoints").glob("*.npz")) and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        t0 = time.time()
        out, err = proc.communicate(timeout=60)
        assert time.time() - t0 < 10
        if proc.returncode == 0:
            pytest.skip("the run finished before the signal arrived")
        assert proc.returncode == 3, (sig, err)
        assert "interrupted" in err and ".checkpoints" in err and "--resume" in err, err
        assert "Traceback" not in err
        assert not (cut / "summary.json").exists()
        assert not list(cut.glob(".*.part"))
        manifest = json.loads((cut / ".rhizoscale-run.json").read_text())
        assert manifest["run"]["status"] == "interrupted", (sig, manifest["run"])
        res = subprocess.run(cmd + ["--out", str(cut), "--resume"], capture_output=True,
                             text=True, env=env, timeout=300)
        assert res.returncode == 0, res.stderr
        _assert_same_outputs(tmp_path / "full", cut)


def test_a_run_that_failed_before_writing_anything_does_not_block_its_folder(tmp_path):
    from rhizoscale.errors import ResourceError
    big = scenario_from_dict({"case": "plant-growth", "days": 2, "figures": False, "vtk": False,
                              "grid": {"lower": [-50, -50, -100], "upper": [50, 50, 0], "resolution": 0.01},
                              "memory_limit_gb": 0.5}, source="big.yaml")
    with pytest.raises(ResourceError):
        run_scenario(big, tmp_path / "o")
    assert not (tmp_path / "o").exists()          # nothing that looks like a result is left
    (tmp_path / "o").mkdir()
    with pytest.raises(ResourceError):
        run_scenario(big, tmp_path / "o")         # a folder the user made stays, marked failed
    summary = run_scenario(_tiny_scenario("a"), tmp_path / "o")      # no --overwrite needed
    assert summary["run"]["status"] == "complete"


# ------------------------------------------------------------------------- model state
def _assert_units_everywhere(ds):
    for name, var in {**ds.data_vars, **ds.coords}.items():
        assert var.attrs.get("units"), f"no units on {name}"


def test_stepping_models_expose_their_state_with_units():
    """state() of CS1, CS2 and CS3 models: a Dataset with units, equal to the model's own
    arrays, and (CS1) the same after a checkpoint/restore as before it."""
    from rhizoscale.core.grid import RegularGrid
    from rhizoscale.diffusion.exudates import ExudateDiffusionModel
    from rhizoscale.image.generators import rhizosphere_sample
    from rhizoscale.nutrients.coupling import CoupledUptakeModel
    from rhizoscale.nutrients.parameters import load_citrate, load_phosphate, load_soil
    from rhizoscale.parameters import load_parameter_set
    from rhizoscale.plant.generators import straight_root_system
    from rhizoscale.rhizodeposition import ExudateParameters, RhizodepositionModel

    roots = straight_root_system(1.0, 3.0, start=(0.5, 0.5, -0.1))
    grid = RegularGrid.from_resolution((0, 0, -4), (1, 1, 0), 0.1)
    cs1 = RhizodepositionModel(roots, grid, load_parameter_set(ExudateParameters, "mucilage"))
    with pytest.raises(InputError, match="first output time"):
        cs1.state()
    cs1.advance_to(2.0)
    st = cs1.state()
    _assert_units_everywhere(st)
    assert float(st["time"]) == 2.0 and st["concentration"].dims == ("z", "y", "x")
    assert np.array_equal(st["concentration"].values, cs1.snapshot.concentration)
    assert float(st["mass_in_domain"]) > 0
    saved = cs1.checkpoint_state()
    again = RhizodepositionModel(roots, grid, load_parameter_set(ExudateParameters, "mucilage"))
    again.restore_state(saved)
    xr.testing.assert_identical(again.state(), st)

    cs2 = CoupledUptakeModel(roots, RegularGrid.from_resolution((0, 0, -4), (1, 1, 0), 0.5), load_soil(),
                             load_phosphate(), load_citrate(), n_radial_cells=6)
    for _ in range(8):
        cs2.step(3 * 3600.0)
    st = cs2.state()
    _assert_units_everywhere(st)
    assert float(st["time"]) == pytest.approx(1.0)
    assert np.array_equal(st["phosphate"].values.ravel(), cs2.soil3d.c[0])
    assert float(st["cumulative_uptake"]) == cs2.cum_uptake > 0

    image = rhizosphere_sample((12, 16, 16), 3e-3, root_radius=0.008, contact_fraction=0.2,
                               hair_contact_fraction=0.3, hair_length=0.01, hair_radius=2e-3, seed=1).with_hairs
    cs3 = ExudateDiffusionModel(image, t_end=60.0)
    cs3.advance_to(cs3.time_steps[0])
    st = cs3.state()
    _assert_units_everywhere(st)
    assert st["concentration"].shape == image.shape
    assert np.allclose(st["x"].values, image.centers("x"))
    soil_mass = np.nansum(st["concentration"].values) * np.prod(image.voxel_size)
    assert float(st["mass_in_soil"]) == pytest.approx(soil_mass, rel=1e-9)
