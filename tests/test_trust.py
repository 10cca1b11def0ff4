"""Issue 11, "runs a user can trust": dependencies, CLI details, bad input, progress,
warm-up and compressed VTK output."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "rhizoscale"

# distribution name -> the module it is imported as
_IMPORT_NAME = {"pyyaml": "yaml", "scikit-image": "skimage", "netcdf4": "netCDF4", "pyevtk": "pyevtk",
                "salib": "SALib"}


def _imported_modules() -> set[str]:
    found = set()
    for f in SRC.rglob("*.py"):
        for m in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_][\w]*)", f.read_text(encoding="utf-8"), re.M):
            found.add(m.group(1))
        # xarray engines are named by string: engine="netcdf4" needs netCDF4
        for m in re.finditer(r"engine=\"(\w+)\"", f.read_text(encoding="utf-8")):
            found.add({"netcdf4": "netCDF4"}.get(m.group(1), m.group(1)))
    return found


def test_every_required_dependency_is_imported():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    imported = _imported_modules()
    unused = []
    for req in meta["dependencies"]:
        dist = re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].strip().lower()
        if _IMPORT_NAME.get(dist, dist.replace("-", "_")) not in imported:
            unused.append(dist)
    assert not unused, f"required but imported nowhere in src/: {unused}"


# ---------------------------------------------------------------------- command line
import numpy as np  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from rhizoscale import __version__  # noqa: E402
from rhizoscale.cli import app  # noqa: E402
from rhizoscale.errors import InputError  # noqa: E402

runner = CliRunner()


def _one_error_line(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, res.output
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"rhizoscale {__version__}"


def test_help_shows_the_units_of_every_option():
    import typer.main
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        shown = runner.invoke(app, [name, "--help"], terminal_width=200).output
        for param in cmd.params:
            helptext = getattr(param, "help", None) or ""
            for units in re.findall(r"\\\[([^\]]+)\]", helptext):
                assert f"[{units}]" in shown, (name, param.name, units, shown)
            # rich eats an unescaped [units] as markup: write \\[units]
            assert not re.findall(r"(?<!\\)\[[^\]]+\]", helptext), (name, param.name, helptext)
    assert "Simulation time [d]" in runner.invoke(app, ["grow", "--help"], terminal_width=200).output


def test_example_goes_to_stdout_when_redirected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["example", "demo"])  # CliRunner's stdout is not a terminal
    assert res.exit_code == 0, res.output
    assert "case:" in res.stdout
    import yaml
    assert yaml.safe_load(res.stdout)["case"]
    assert list(tmp_path.iterdir()) == []


def test_example_does_not_overwrite_without_force(tmp_path):
    target = tmp_path / "mine.yaml"
    target.write_text("my edits\n")
    res = runner.invoke(app, ["example", "demo", "--out", str(target)])
    _one_error_line(res, "mine.yaml", "--force")
    assert target.read_text() == "my edits\n"
    res = runner.invoke(app, ["example", "demo", "--out", str(target), "--force"])
    assert res.exit_code == 0 and "case:" in target.read_text()


@pytest.mark.parametrize("form", ["existing", "slash"])
def test_grow_out_folder_writes_root_system_rsml_inside(tmp_path, form):
    folder = tmp_path / "results"
    if form == "existing":
        folder.mkdir()
        arg = str(folder)
    else:
        arg = str(folder) + "/"
    res = runner.invoke(app, ["grow", "--days", "2", "--out", arg, "--vtk"])
    assert res.exit_code == 0, res.output
    assert (folder / "root_system.rsml").is_file() and (folder / "root_system.vtp").is_file()
    assert folder.is_dir()


def test_grow_shows_what_a_cplantbox_file_ignored(tmp_path):
    from test_cplantbox_xml import FIXTURE
    xml = tmp_path / "fixture.xml"
    xml.write_text(FIXTURE.format(lmax=50))
    res = runner.invoke(app, ["grow", "--params", str(xml), "--days", "2", "--out", str(tmp_path / "r.rsml")])
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.output.splitlines() if ln.startswith("warning:")]
    assert any("mysteryKnob" in w and "fixture.xml" in w for w in warnings), res.output
    assert any("stem" in w for w in warnings)
    from rhizoscale.plant import load_plant_parameters
    assert any("mysteryKnob" in w for w in load_plant_parameters(xml).reader_warnings)


def test_run_reports_what_a_cplantbox_file_ignored(tmp_path):
    import json
    from test_cplantbox_xml import FIXTURE
    (tmp_path / "fixture.xml").write_text(FIXTURE.format(lmax=50))
    sc = tmp_path / "s.yaml"
    sc.write_text("case: plant-growth\nplant: fixture.xml\ndays: 2\nvtk: false\nfigures: false\n")
    res = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "mysteryKnob" in res.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any("mysteryKnob" in w for w in summary["warnings"])


# ---------------------------------------------------------------------- bad input
def test_scenario_that_is_not_utf8(tmp_path):
    sc = tmp_path / "latin1.yaml"
    sc.write_bytes("case: plant-growth\nname: caf\xe9\n".encode("latin-1"))
    res = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")])
    _one_error_line(res, "latin1.yaml", "line 2", "UTF-8")


def test_yaml_loader_refuses_non_utf8_and_folders(tmp_path):
    from rhizoscale.parameters import load_yaml
    bad = tmp_path / "p.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\xfe\n")
    with pytest.raises(InputError, match="line 2: not UTF-8"):
        load_yaml(bad)
    with pytest.raises(InputError, match="folder"):
        load_yaml(tmp_path)


def test_2d_image_where_3d_is_needed(tmp_path):
    from rhizoscale.image import Phase
    from rhizoscale.image.io import read_image
    np.save(tmp_path / "slice.npy", np.zeros((20, 30), np.uint8))
    phases = [Phase("soil", 0, 1.0, "pore")]
    with pytest.raises(InputError) as err:
        read_image(tmp_path / "slice.npy", 1e-3, phases, ndim=3, field="images.with_hairs")
    assert err.value.source.endswith("slice.npy") and err.value.field == "images.with_hairs"
    assert "3D" in err.value.message and "(20, 30)" in err.value.message
    # a voxel size with three values for a 2D image is an input error, not a NumPy error
    with pytest.raises(InputError, match="voxel size"):
        read_image(tmp_path / "slice.npy", (1e-3, 1e-3, 1e-3), phases)


_RSML = """<rsml><metadata><unit>cm</unit></metadata><scene><plant>
<root id="tap"><geometry><polyline><point x="0" y="0" z="0"/><point x="0" y="0" z="-1"/></polyline></geometry>
<root id="lat7"><geometry><polyline>{lateral}</polyline></geometry></root></root>
</plant></scene></rsml>"""


@pytest.mark.parametrize("lateral, what", [
    ('<point x="0" y="0" z="-0.5"/>', "single point"),
    ('<point x="0" y="0" z="-0.5"/><point x="0" y="0" z="-0.5"/>', "zero length"),
])
def test_rsml_root_without_length_is_refused(tmp_path, lateral, what):
    from rhizoscale.io.rsml import read_rsml
    path = tmp_path / "roots.rsml"
    path.write_text(_RSML.format(lateral=lateral))
    with pytest.raises(InputError) as err:
        read_rsml(path, age=5)
    assert "lat7" in err.value.message and what in err.value.message
    assert err.value.source.endswith("roots.rsml") and err.value.field == "plant[0].root[0].root[0]"
    sc = tmp_path / "s.yaml"
    sc.write_text("case: plant-growth\nrsml: roots.rsml\nage: 5\n")
    _one_error_line(runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")]), "roots.rsml", "lat7")


def test_rsml_lateral_with_one_node_beyond_its_branching_point_round_trips(tmp_path):
    from rhizoscale import RootSystem
    from rhizoscale.io.rsml import read_rsml, write_rsml
    tap = np.array([[0, 0, 0], [0, 0, -1], [0, 0, -2.0]])
    lat = np.array([[0.3, 0, -1.0]])
    rs = RootSystem.from_polylines([tap, lat], [np.array([0, 1, 2.0]), np.array([1.5])], [0.1, 0.05],
                                   parents=[-1, 0], parent_nodes=[None, 1], time=2.0)
    back = read_rsml(write_rsml(rs, tmp_path / "r.rsml"))
    assert back.n_roots == 2 and back.total_length() == pytest.approx(rs.total_length())


@pytest.mark.parametrize("text, needles", [
    ("case: plant-growth\nrsml: adir\n", ["s.yaml", "rsml", "folder"]),
    ("case: plant-growth\nplant: adir\n", ["s.yaml", "plant", "folder"]),
    ("case: plant-growth\nplant: vicia_faba\ngrid: {lower: [0, 0, 0], upper: [1, 1, 1], resolution: -1}\n",
     ["s.yaml", "grid.resolution", "greater than 0"]),
    ("case: plant-growth\nplant: vicia_faba\ngrid: {lower: [0, 0, 0], upper: [1, 1, -1], resolution: 0.1}\n",
     ["s.yaml", "grid.upper", "above lower"]),
    ("case: cs1-rhizodeposition\ngrid: {resolution: 0}\n", ["s.yaml", "grid.resolution"]),
    ("case: cs1-rhizodeposition\nrsml: adir\n", ["s.yaml", "rsml", "folder"]),
    ("case: cs1-rhizodeposition\nplant: nothere.xml\n", ["s.yaml", "plant", "not found"]),
    ("case: cs1-rhizodeposition\nexudates: [nothing]\n", ["s.yaml", "exudates", "no parameter set named"]),
    ("case: cs1-rhizodeposition\noverrides: {mucilage: {Q: -1}}\n", ["s.yaml", "overrides.mucilage.Q"]),
    ("case: cs1-rhizodeposition\noverrides: {mucilage: {QQ: 1}}\n", ["s.yaml", "overrides.mucilage.QQ", "unknown"]),
    # a unit typed where a plain number is expected: the key as the user wrote it (no
    # ".float" of the union member pydantic tried) and what to write instead
    ("case: cs4-diffusivity-table\nbridge_span: [2]\n",           # not "instance of SpanSettings"
     ["s.yaml", "bridge_span:", "a section of keys is expected"]),
    ("case: cs1-rhizodeposition\ngrid: {resolution: 1 mm}\n",
     ["s.yaml", "grid.resolution:", "plain number", "in cm (this key's unit", "'1 mm'"]),
    # a time key outside the time: section takes a plain number: its unit is named
    ("case: cs5-microbes\nexperiment: respiration\nagent_step: 10 min\n",
     ["s.yaml", "agent_step:", "plain number", "in h (this key's unit", "time: section", "'10 min'"]),
    ("case: cs4-liquid-configuration\nmode: bridge\ncontact_angle: 50 deg\n",
     ["s.yaml", "contact_angle:", "plain number", "in deg (this key's unit", "'50 deg'"]),
    ("case: cs1-rhizodeposition\nsoil_diffusivity: {table: s.yaml, d_water: {mucilage: 1}, thickness: 2 mm, thickness_relation: s.yaml}\n",
     ["s.yaml", "soil_diffusivity.thickness:", "plain number", "'2 mm'"]),
])
def test_bad_scenarios_found_by_hand(tmp_path, text, needles):
    (tmp_path / "adir").mkdir()
    sc = tmp_path / "s.yaml"
    sc.write_text(text)
    _one_error_line(runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")]), *needles)


@pytest.mark.parametrize("args, needles", [
    (["--backend", "nope"], ["--backend", "nope"]),
    (["--out", "/proc/version"], ["/proc/version", "--out", "cannot write"]),
    (["--params", "bad.xml"], ["bad.xml", "line 1, column", "malformed XML (not well-formed (invalid token))"]),
])
def test_grow_bad_input_found_by_hand(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.xml").write_bytes(b"\xff\xfe<plant/>")
    if args[:1] == ["--out"] and not Path("/proc/version").exists():
        pytest.skip("needs /proc")
    line = _one_error_line(runner.invoke(app, ["grow", "--days", "1", *args]), *needles)
    assert line.count("line 1") <= 1


def test_readme_error_example_is_what_the_program_prints(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"For a `scenario\.yaml` holding\s+`([^`]+)`\s+it prints\s+`(error: [^`]+)`", readme)
    assert m, "README lost its example error"
    monkeypatch.chdir(tmp_path)
    Path("scenario.yaml").write_text(m.group(1))
    res = runner.invoke(app, ["run", "scenario.yaml", "--out", "o"], terminal_width=300)
    assert res.exit_code == 2
    assert m.group(2) in res.output.splitlines(), (m.group(2), res.output)


# ---------------------------------------------------------------------- progress
class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_without_a_terminal_prints_plain_lines():
    import io
    from rich.console import Console
    from rhizoscale.cli import RichProgress
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=200)
    assert not console.is_terminal
    clock = _Clock()
    progress = RichProgress(console, clock=clock)
    with progress.task("solving", total=100) as cb:
        for k in range(1, 101):  # 1 % every 2 s: a line every 10 % (20 s) comes before 30 s
            clock.t += 2
            cb(k)
    with progress.task("slow step", total=1000) as cb:
        for k in range(1, 11):  # 0.1 % every 10 s: a line every 30 s
            clock.t += 10
            cb(k)
    with progress.task("no total") as cb:
        clock.t += 31
        cb(1)
    lines = buf.getvalue().splitlines()
    solving = [ln for ln in lines if ln.startswith("solving")]
    assert solving[0] == "solving: started" and solving[-1] == "solving: done in 3 min 20 s"
    middle = solving[1:-1]
    assert [ln.split(": ")[1].split("%")[0] for ln in middle] == [str(p) for p in range(10, 100, 10)]
    assert "about 3 min 00 s left" in middle[0]  # 10 % after 20 s
    slow = [ln for ln in lines if ln.startswith("slow step")]
    assert len(slow) == 2 + 3  # start, at 30, 60 and 90 s, end
    assert any("no total: running for 31 s" in ln for ln in lines)
    assert "\x1b" not in buf.getvalue()  # no terminal codes in a log file


def test_progress_on_a_terminal_shows_time_left():
    import io
    from rich.console import Console
    from rhizoscale.cli import RichProgress
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=200)
    with RichProgress(console).task("solving", total=10) as cb:
        cb(5)
    assert "eta" in buf.getvalue()


def test_messages_and_warnings_print_as_plain_one_line_text():
    """A warning naming a path in brackets ("[/tmp/x.nc]") used to crash the command line
    (rich read it as a closing markup tag); long warnings were broken over lines."""
    import io
    from rich.console import Console
    from rhizoscale.cli import RichProgress
    from rhizoscale.outputs import RunContext
    buf = io.StringIO()
    ctx = RunContext(seed=1, progress=RichProgress(Console(file=buf, force_terminal=False, width=60)))
    text = "profile_days [2.0] are after the end; see [/tmp/a.nc] [and 1 more problem] " + "long " * 20
    ctx.warn(text)
    ctx.message("[bold]not markup[/bold]")
    assert buf.getvalue().splitlines() == ["warning: " + text, "[bold]not markup[/bold]"]
    assert ctx.warnings == [text]


# ---------------------------------------------------------------------- warm-up
def test_warmup_with_a_cold_cache_says_so_and_then_compiles(tmp_path):
    import json
    import os
    import subprocess
    import sys
    code = """
import json
from rhizoscale.warmup import cold_cases, compile_note, warm_up
out = {"cold_before": cold_cases(), "note_before": compile_note(["plant growth"])}
r = warm_up(["plant growth"])[0]
out.update(compiled=r.compiled, cached=r.cached, cold_after=cold_cases(),
           note_after=compile_note(["plant growth"]))
print(json.dumps(out))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "plant growth" in out["cold_before"] and len(out["cold_before"]) == 5
    assert out["note_before"].startswith("first run after install: compiling numerical kernels (about ")
    assert "rhizoscale warmup" in out["note_before"]
    assert out["compiled"] > 0 and out["cached"] > 0
    assert "plant growth" not in out["cold_after"] and out["note_after"] is None
    assert any((tmp_path / "numba-cache").rglob("*.nbi"))


def test_grow_says_when_it_will_compile(tmp_path, monkeypatch):
    import rhizoscale.warmup as w
    monkeypatch.setattr(w, "cold_cases", lambda cases=None: list(cases or w.KERNEL_MODULES))
    res = runner.invoke(app, ["grow", "--days", "1", "--out", str(tmp_path / "r.rsml")])
    assert res.exit_code == 0, res.output
    assert res.output.count("first run after install: compiling numerical kernels") == 1
    monkeypatch.setattr(w, "cold_cases", lambda cases=None: [])
    res = runner.invoke(app, ["grow", "--days", "1", "--out", str(tmp_path / "r.rsml")])
    assert "first run after install" not in res.output


def test_the_compile_note_follows_the_case_s_own_kernels(monkeypatch):
    """A CS1 run on a straight root never compiles the root-growth kernels: the note must
    not repeat on every run once CS1's own kernels are cached; equal typical times read
    'about 5 s per case study' (was 'about 5-5 s')."""
    import rhizoscale.cli as cli
    import rhizoscale.warmup as w
    said = []
    monkeypatch.setattr(cli.console, "print", lambda *a, **k: said.append(str(a[0])))
    monkeypatch.setattr(w, "cold_cases", lambda cases=None: [c for c in (cases or w.KERNEL_MODULES)
                                                             if c == "plant growth"])
    cli._compile_note("cs1-rhizodeposition")
    assert said == []
    cli._compile_note("plant-growth")
    assert len(said) == 1 and "(about " in said[0]
    said.clear()
    monkeypatch.setattr(w, "cold_cases", lambda cases=None: list(cases or w.KERNEL_MODULES))
    monkeypatch.setattr(w, "TYPICAL_COMPILE_S", {k: 5.0 for k in w.KERNEL_MODULES})
    cli._compile_note("cs1-rhizodeposition")
    assert len(said) == 1 and "(about 5 s per case study, once;" in said[0], said


def test_warmup_command(tmp_path):
    res = runner.invoke(app, ["warmup", "--case", "plant"])
    assert res.exit_code == 0, res.output
    assert "plant growth:" in res.output and "done in" in res.output
    _one_error_line(runner.invoke(app, ["warmup", "--case", "cs9"]), "--case", "cs9")


def test_run_refuses_bad_output_folders_before_computing(tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text("case: plant-growth\ndays: 2\nfigures: false\nvtk: false\n")
    afile = tmp_path / "afile"
    afile.write_text("")
    res = runner.invoke(app, ["run", str(sc), "--out", str(afile)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    line = [ln for ln in res.output.splitlines() if ln.startswith("error:")][0]
    assert str(afile) in line and "--out" in line and "not a folder" in line
    res = runner.invoke(app, ["run", str(sc), "--out", str(afile / "sub")])
    assert res.exit_code == 2 and "cannot create" in res.output
    res = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o"), "--overwrite", "--resume"])
    assert res.exit_code == 2


def test_errors_found_while_running_name_the_scenario_file(tmp_path):
    from rhizoscale.errors import InputError
    from rhizoscale.scenario import _naming_scenario
    err = _naming_scenario(InputError("resolution must be > 0", source="grid", field="resolution"), "s.yaml")
    assert str(err).startswith("s.yaml: grid: resolution")
    sc = tmp_path / "s.yaml"
    sc.write_text("case: cs3-root-hairs\nsample: {shape: [2, 30, 30]}\n")
    res = runner.invoke(app, ["run", str(sc), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "sample.shape" in res.output and str(sc) in res.output
    assert not (tmp_path / "o").exists()           # refused before anything was created


@pytest.mark.parametrize("name,key", [("cs5-respiration", "literature"), ("cs4-mucilage-bridge", "literature"),
                                      ("cs4-diffusivity-table", "network_literature")])
def test_a_bad_parameter_set_name_is_reported_under_the_key_the_user_typed(name, key):
    """It was reported under the internal slot (``bacteria:``, ``network:``), a key the
    scenario does not have."""
    from small_examples import small_example

    from rhizoscale.errors import InputError
    from rhizoscale.scenario import run_products, scenario_from_dict
    data = small_example(name)
    data[key] = "nope"
    with pytest.raises(InputError) as err:
        run_products(scenario_from_dict(data, source="s.yaml"))
    assert str(err.value).startswith(f"s.yaml: {key}: no parameter set named 'nope'"), err.value


def test_a_2d_image_product_where_3d_is_needed(tmp_path):
    """A 2D image handed on as NetCDF (e.g. a 2D CS4 water configuration fed to CS5) is
    refused naming the file and field; it used to run and end in 'no cells placed'."""
    from rhizoscale.core.image import Image, Phase
    from rhizoscale.products import image_to_dataset
    from rhizoscale.scenario import ImageSection
    img = Image(np.ones((20, 30), np.uint8), 1e-3, (Phase("water", 1, 1.0, "pore"),))
    image_to_dataset(img).to_netcdf(tmp_path / "water2d.nc")
    section = ImageSection(file=str(tmp_path / "water2d.nc"))
    with pytest.raises(InputError) as err:
        section.load({"water": ("pore", 1.0)}, ndim=3)
    assert err.value.field == "image.file" and err.value.source.endswith("water2d.nc")
    assert "3D" in err.value.message and "(20, 30)" in err.value.message
    assert section.load({"water": ("pore", 1.0)}, ndim=2).labels.shape == (20, 30)


@pytest.mark.parametrize("data, key", [
    ({"case": "cs5-microbes", "experiment": "respiration", "diffusion_step": True}, "diffusion_step"),
    ({"case": "cs4-liquid-configuration", "mode": "bridge", "gap": False}, "gap"),
    # nested sections and parameter sets too (they were plain pydantic models)
    ({"case": "cs1-rhizodeposition", "grid": {"lower": [-1, -1, -2], "upper": [1, 1, 0], "resolution": True}},
     "grid.resolution"),
    ({"case": "cs1-rhizodeposition", "grid": {"lower": [-1, -1, -2], "upper": [1, 1, 0],
                                               "resolution": [0.1, True, 0.1]}}, "grid.resolution"),
    ({"case": "cs1-rhizodeposition", "parameters": {"mucilage.k": True}}, "parameters.mucilage.k")])
def test_yes_no_where_a_number_is_expected_is_refused(data, key):
    """YAML's true/false was read as 1/0 by a number key (`diffusion_step: true`)."""
    from rhizoscale.scenario import scenario_from_dict
    with pytest.raises(InputError) as err:
        scenario_from_dict(data)
    assert err.value.field == key and "not a yes/no value" in err.value.message
    assert "Value error" not in err.value.message                # pydantic's prefix is not shown
    data = {**data, "outputs": {"vtk": False}}                   # yes/no keys still take them
    data.pop(key.split(".")[0])
    assert scenario_from_dict(data).config.outputs.vtk is False
