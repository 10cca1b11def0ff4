"""Sensitivity analysis: Sobol' indices of the Ishigami and G functions against their
exact values, Morris ranking, resuming a stopped study without recomputing stored
samples, a worker killed mid-study, and scenario/pipeline studies checked before any
sample runs. Runs on a real 2-worker LocalCluster."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.sensitivity import (ScenarioModel, SensitivityStudy, StudyInterrupted, study_from_dict)
from rhizoscale.sensitivity.functions import ishigami, ishigami_indices, sobol_g, sobol_g_indices
from rhizoscale.sensitivity.store import SampleStore

cloudpickle.register_pickle_by_value(sys.modules[__name__])      # the workers cannot import tests/
PI = math.pi
ISHIGAMI = {"x1": [-PI, PI], "x2": [-PI, PI], "x3": [-PI, PI]}


@pytest.fixture(scope="module")
def client():
    from rhizoscale.sensitivity.cluster import connect
    client, cluster = connect(n_workers=2)
    yield client
    client.close()
    cluster.close()


def test_the_local_cluster_listens_on_loopback_only_and_splits_the_cores(client):
    import psutil

    from rhizoscale.sensitivity.cluster import available_cores

    def listening():
        p = psutil.Process()
        conns = p.net_connections(kind="inet") if hasattr(p, "net_connections") else p.connections(kind="inet")
        return sorted({c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN}), \
            os.environ.get("RHIZOSCALE_WORKER_NUMBA_THREADS")

    per_worker = client.run(listening)
    assert len(per_worker) == 2
    expected = max(1, available_cores() // 2)
    for ips, threads in per_worker.values():
        assert ips and set(ips) <= {"127.0.0.1"}, ips
        assert threads == str(expected)
    assert set(client.run_on_scheduler(lambda: listening()[0])) <= {"127.0.0.1"}


_NUMBA_FIRST = """
import os
import numba                      # imported before the cluster, as the command line does
from rhizoscale.sensitivity.cluster import connect
from rhizoscale.sensitivity.study import evaluate_batch


def probe(x):
    import numba
    @numba.njit(parallel=True)
    def total(a):
        s = 0.0
        for i in numba.prange(a.size):
            s += a[i]
        return s
    @numba.njit
    def twice(a):
        return 2.0 * a
    return {"threads": numba.get_num_threads(), "sum": total(__import__("numpy").ones(100)),
            "twice": twice(x)}


if __name__ == "__main__":
    before = os.environ.get("NUMBA_NUM_THREADS")
    client, cluster = connect(n_workers=2)
    futures = [client.submit(evaluate_batch, probe, [i], [[1.5]], ["x"], ["threads", "sum", "twice"], pure=False)
               for i in range(4)]
    print(sorted({tuple(map(float, f.result()[1][0])) for f in futures}))
    # the calling process keeps its environment and can still compile
    @numba.njit
    def here(a):
        return a + 1.0
    print(os.environ.get("NUMBA_NUM_THREADS") == before, here(1.0))
    client.close(); cluster.close()
"""


def test_workers_limit_numba_threads_without_breaking_compilation(tmp_path):
    """Dask's ``env=`` is applied after the worker has imported what ``__main__`` imports:
    a NUMBA_NUM_THREADS set that way made the worker's next compilation fail ("Cannot set
    NUMBA_NUM_THREADS ... once the threads have been launched", a first study on a fresh
    install), and Dask's pre-spawn environment changed the calling process's own
    environment (its next compilation failed). Each task limits its thread's Numba count
    instead: 1 thread per worker on 2 cores, compiling works in workers and in the caller."""
    import subprocess

    from rhizoscale.sensitivity.cluster import available_cores
    script = tmp_path / "numba_first.py"
    script.write_text(_NUMBA_FIRST)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    n = max(1, available_cores() // 2)
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == str([(float(n), 100.0, 3.0)]), lines
    assert lines[-1] == "True 2.0", lines


def _within_interval(est, conf, exact, slack=0.01):
    """|estimate - exact| within SALib's bootstrap 95 % half-width (+ 0.01 for the
    interval's own sampling error); the interval must be narrow enough to mean something."""
    est, conf, exact = map(np.asarray, (est, conf, exact))
    assert np.all(conf < 0.12), conf
    assert np.all(np.abs(est - exact) <= conf + slack), (est, exact, conf)


def test_ishigami_indices_match_the_exact_values(client):
    # N = 1024 base samples (8192 runs): bootstrap half-widths ~0.03-0.09 for S1/ST, ~0.1 for S2
    res = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=1024, seed=3).run(client=client)
    ind, exact = res.indices["y"], ishigami_indices()
    _within_interval(ind["S1"], ind["S1_conf"], exact["S1"])
    _within_interval(ind["ST"], ind["ST_conf"], exact["ST"])
    _within_interval(ind["S2"][0, 2], ind["S2_conf"][0, 2], exact["S2"][0, 2])
    _within_interval(ind["S2"][0, 1], ind["S2_conf"][0, 1], 0.0)
    assert [(a, b) for a, b, _, _ in res.interactions("y")] == [("x1", "x3")]   # the one interaction
    assert res.computed == 8192 and res.reused == 0


def test_sobol_g_function_indices_match_the_analytic_ones(client):
    a = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0)
    space = {f"x{i}": [0.0, 1.0] for i in range(6)}
    res = SensitivityStudy(sobol_g, space, ["y"], n=1024, seed=1, second_order=True).run(client=client)
    ind, exact = res.indices["y"], sobol_g_indices(a)
    _within_interval(ind["S1"], ind["S1_conf"], exact["S1"])
    _within_interval(ind["ST"], ind["ST_conf"], exact["ST"])
    _within_interval(ind["S2"][0, 1], ind["S2_conf"][0, 1], exact["S2"][0, 1])


def test_morris_ranks_the_g_function_inputs_by_their_importance(client):
    space = {f"x{i}": [0.0, 1.0] for i in range(6)}
    res = SensitivityStudy(sobol_g, space, ["y"], method="morris", n=40, seed=2).run(client=client)
    mu = res.indices["y"]["mu_star"]
    assert list(np.argsort(-mu)[:4]) == [0, 1, 2, 3]          # a = 0 < 1 < 4.5 < 9
    assert mu[4] < 0.05 * mu[0] and mu[5] < 0.05 * mu[0]       # a = 99: negligible


class Recording:
    """Ishigami that appends every evaluated point to a file (counts evaluations)."""

    def __init__(self, log):
        self.log = str(log)

    def __call__(self, **x):
        with open(self.log, "a") as fh:
            fh.write(json.dumps([x["x1"], x["x2"], x["x3"]]) + "\n")
        return ishigami(**x)


def _evaluated(log, samples):
    rows = {tuple(r): i for i, r in enumerate(samples.tolist())}
    if not Path(log).exists():
        return []
    return [rows[tuple(json.loads(line))] for line in Path(log).read_text().splitlines()]


def test_a_stopped_study_resumes_without_recomputing_stored_samples(client, tmp_path):
    study = SensitivityStudy(Recording(tmp_path / "log"), ISHIGAMI, ["y"], n=64, seed=5)
    full = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=64, seed=5).run(client=client)
    n = study.n_samples
    with pytest.raises(StudyInterrupted, match="resume"):
        study.run(tmp_path / "study", client=client, batch_size=16, stop_after=n // 2)
    stored = SampleStore(tmp_path / "study", study.spec(), study.samples, ["y"]).done()
    assert n // 2 <= len(stored) < n
    # a batch already running when the study stopped is cancelled but finishes on its
    # worker (its values are not stored): wait for it, or its log lines land in `second`
    import time
    deadline = time.monotonic() + 120
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    first = _evaluated(tmp_path / "log", study.samples)
    with open(tmp_path / "study" / "results.f64", "ab") as fh:      # a record torn by a kill
        fh.write(b"\x00" * 12)
    res = study.run(tmp_path / "study", client=client, batch_size=16)
    second = _evaluated(tmp_path / "log", study.samples)[len(first):]
    assert res.reused == len(stored) and res.computed == n - len(stored)
    assert not set(second) & set(stored)                 # nothing stored is computed again
    assert sorted(second) == sorted(set(range(n)) - set(stored))
    assert np.array_equal(res.y, full.y)
    for k in ("S1", "ST", "S2", "S1_conf"):
        assert np.array_equal(res.indices["y"][k], full.indices["y"][k], equal_nan=True)
    assert (tmp_path / "study" / "indices.nc").is_file()
    # the folder holds this study only
    other = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=64, seed=6)
    with pytest.raises(InputError, match="holds another study"):
        other.run(tmp_path / "study", client=client)
    assert not [p for p in (tmp_path / "study").iterdir() if p.suffix in (".pkl", ".pickle")]


def test_a_second_study_on_a_folder_in_use_is_refused(client, tmp_path):
    """Two studies appending to one folder would interleave their records (it happened
    with a study restarted while the first was still shutting down)."""
    study = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=8, seed=5)
    running = SampleStore(tmp_path / "study", study.spec(), study.samples, ["y"]).open()
    try:
        with pytest.raises(InputError, match="in use by another study"):
            study.run(tmp_path / "study", client=client)
        assert not (tmp_path / "study" / "results.f64").exists()
    finally:
        running.close()
    res = study.run(tmp_path / "study", client=client)           # free again
    assert res.computed == study.n_samples
    again = study.run(tmp_path / "study", client=client)         # the lock was let go
    assert again.reused == study.n_samples


class DiesOnce:
    """Ishigami whose worker process dies the first time any worker evaluates x1 > 0."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __call__(self, **x):
        if x["x1"] > 0:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.close(fd)
                os._exit(1)
            except FileExistsError:
                pass
        return ishigami(**x)


def test_a_worker_killed_mid_study_does_not_change_the_indices(client, tmp_path):
    full = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=32, seed=7).run(client=client)
    res = SensitivityStudy(DiesOnce(tmp_path / "died"), ISHIGAMI, ["y"], n=32, seed=7).run(
        client=client, batch_size=8)
    assert (tmp_path / "died").exists()
    assert np.array_equal(res.y, full.y)
    assert np.array_equal(res.indices["y"]["ST"], full.indices["y"]["ST"])


# ---------------------------------------------------------------------------- scenarios
def _toy_pipeline():
    import test_link  # (registers the toy cases; a ScenarioModel takes them to the workers)
    cloudpickle.register_pickle_by_value(test_link)
    return {"case": "pipeline", "steps": [
        {"id": "a", "case": "toy-source", "length": 1.0},
        {"id": "b", "case": "toy-sink", "inputs": {"size": "a.double_length", "table": "a.rel"}}]}


@pytest.mark.parametrize("change, message", [
    (lambda s: s["parameters"].update({"b.fctor": [0, 1]}), "parameters.b.fctor: no key or parameter 'fctor'"),
    (lambda s: s["parameters"].update({"c.factor": [0, 1]}), "parameters.c.factor: a pipeline's parameters"),
    (lambda s: s["parameters"].update({"a.length": [-1.0, 2.0]}), r"parameters.a.length: low end -1 .*greater than 0"),
    (lambda s: s.update(quantities=["b.nothing"]), "quantities.b.nothing: step 'b' .*makes no quantity 'nothing'"),
    (lambda s: s.update(quantities=["z.out"]), "quantities.z.out: no step 'z'"),
    (lambda s: s.update(method="fast"), "method: unknown method"),
    (lambda s: s.update(samples=100), "samples: Sobol' sequences need a power of 2"),
    (lambda s: s["parameters"].update({"b.time.stop": [1, 2]}), r"parameters.b.time.stop: time.stop is not a time key "
                                                                 r"of toy-sink \(it takes none"),
])
def test_bad_studies_are_refused_before_any_sample_runs(change, message):
    spec = {"scenario": _toy_pipeline(), "parameters": {"a.length": [1, 2], "b.factor": [0.5, 1.5]},
            "quantities": ["b.out"], "samples": 8, "second_order": False}
    change(spec)
    with pytest.raises(InputError, match=message) as info:
        study_from_dict(spec, source="spec.yaml")
    assert str(info.value).startswith("spec.yaml") and "\n" not in str(info.value)


def test_a_whole_number_key_is_refused_before_any_sample_runs():
    """relax_steps: [5, 30] passed the ends' check, then failed in every sample on the
    workers (a distributed traceback) at 21.67."""
    spec = {"scenario": {"case": "cs4-mucilage-bridge"}, "parameters": {"relax_steps": [5, 30]},
            "quantities": ["disconnection_water_c3"], "samples": 8, "second_order": False}
    with pytest.raises(InputError, match=r"parameters.relax_steps: a value 15.355 inside the range is not "
                                         r"valid .*integer") as info:
        study_from_dict(spec, source="spec.yaml")
    assert "\n" not in str(info.value)


def test_a_pipeline_study_runs_on_the_cluster_and_finds_the_product_structure(client, tmp_path):
    """b.out = factor * (2 length) * slope * 0.3: log-additive, so a study in log space
    has no interactions; in linear space S_i of a product of uniforms is known."""
    spec = {"scenario": _toy_pipeline(), "samples": 256, "seed": 1,
            "parameters": {"a.length": [1.0, 2.0], "b.factor": [1.0, 2.0], "a.slope": [0.1, 0.2]},
            "quantities": ["b.out"]}
    study = study_from_dict(spec, source="spec.yaml")
    res = study.run(tmp_path / "s", client=client, batch_size=64)
    ind = res.indices["b.out"]
    # y = c x1 x2 x3 with x_i ~ U(1, 2) (scaled): V_i / V from E[x^2] = 7/3, E[x] = 3/2
    m2, m1 = 7 / 3, 9 / 4
    v = m2 ** 3 - m1 ** 3
    s1 = (m2 - m1) * m1 ** 2 / v
    _within_interval(ind["S1"], ind["S1_conf"], [s1] * 3)
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["computed"] == res.computed == study.n_samples


# ---------------------------------------------------------------------------- command line
def test_command_line_refuses_bad_specifications_in_one_line(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from rhizoscale.cli import app
    spec = {"scenario": {"case": "plant-growth", "time": {"stop": 2}}, "samples": 4,
            "parameters": {"plant.root_types.0.rr": [1, 2]}, "quantities": ["total_length"]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(app, ["sensitivity", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "s.yaml: parameters.plant.root_types.0.rr" in res.output, res.output
    assert not (tmp_path / "o").exists()                       # nothing ran, nothing written
    spec["parameters"] = {"plant.root_types.0.r": [-1, 2]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(app, ["sensitivity", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "parameters.plant.root_types.0.r: low end -1" in res.output, res.output
    spec["parameters"] = {"plant.root_types.0.r": [1, 2]}
    spec["quantities"] = ["p_uptake"]
    spec["case"] = "sensitivity"            # `rhizoscale run` takes a study too
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "quantities.p_uptake: plant-growth makes no quantity" in res.output, res.output


def test_command_line_study_of_a_pipeline_runs_and_resumes(client, tmp_path):
    """`rhizoscale sensitivity --scheduler ADDRESS` (the module's cluster, by address: no
    new cluster started); a second call finds every sample stored."""
    import yaml
    from typer.testing import CliRunner

    from rhizoscale.cli import app
    spec = {"scenario": _toy_pipeline(), "samples": 8, "parameters": {"a.length": [1, 2], "b.factor": [1, 2]},
            "quantities": ["b.out"], "method": "morris"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    args = ["sensitivity", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"),
            "--scheduler", client.scheduler.address]
    from rhizoscale.sensitivity import load_study
    study = load_study(tmp_path / "s.yaml")
    running = SampleStore(tmp_path / "o", study.spec(), study.samples, study.quantities).open()
    try:                    # a folder in use: one error line, and no progress line before it
        res = CliRunner().invoke(app, args)
    finally:
        running.close()
    assert res.exit_code == 2 and "in use by another study" in res.output, res.output
    assert "samples" not in res.output.split("in use")[0].split("runs ->")[-1], res.output
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "samples: started" in res.output or "samples" in res.output.split("->", 1)[1], res.output
    assert "mu_star" in res.output and (tmp_path / "o" / "indices.nc").is_file()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "24 samples reused" in again.output and "0 computed" in again.output
    fresh = CliRunner().invoke(app, args + ["--overwrite"])        # discards the stored samples
    assert fresh.exit_code == 0 and "reused" not in fresh.output, fresh.output


# ---------------------------------------------------------------------------- REV
def test_rev_of_a_periodic_image_is_its_period(client):
    """Subvolumes of a periodic image whose edge is a multiple of the period are, with
    periodic (translation) cell problems, the same medium shifted: every one gives the
    tensor of the cell (cv = 0 up to the solver); other sizes scatter. The REV is the
    smallest size from which on every size is a multiple of the period."""
    from rhizoscale.homogenization.cell_problem import effective_diffusion_tensor
    from rhizoscale.link.cross_scale import inclusion_cell
    from rhizoscale.link.rev import rev_analysis
    cell = inclusion_cell(8)
    image = np.tile(cell, (4, 4))
    rev = rev_analysis(image, [6, 8, 12, 16], voxel_size=0.01, n_subvolumes=4,
                       periodisation="translation", tolerance=1e-6, client="serial")
    cv = dict(zip(rev.data["size"].values.tolist(), rev.data["cv"].values))
    assert all(cv[s] < 1e-7 for s in (8, 16)), cv
    assert cv[6] > 1e-3 and cv[12] > 1e-3, cv
    assert rev.rev == 16 and rev.rev_bounds == (12, 16)
    exact = np.trace(effective_diffusion_tensor(cell, 0.01, rtol=1e-10).tensor) / 2
    assert rev.d_eff_at_rev[0] == pytest.approx(exact, rel=1e-6)
    assert rev.d_eff_at_rev[1] <= rev.d_eff_at_rev[0] <= rev.d_eff_at_rev[2]
    # the subvolumes on the cluster: the same numbers
    on_dask = rev_analysis(image, [6, 12], voxel_size=0.01, n_subvolumes=2, periodisation="translation",
                           client=client)
    serial = rev_analysis(image, [6, 12], voxel_size=0.01, n_subvolumes=2, periodisation="translation",
                          client="serial")
    assert np.array_equal(on_dask.data["d_eff"].values, serial.data["d_eff"].values)


# ---------------------------------------------------------------------------- designs
def test_time_keys_are_sampled_in_days_through_the_time_section():
    """``time.stop`` of a case's shared ``time:`` section is a parameter path (a number in
    days); a case that counts that time in other units is named, before any sample."""
    from small_examples import small_example
    cs2 = small_example("cs2-oilseed-rape")
    spec = {"scenario": cs2, "samples": 2, "second_order": False, "parameters": {"time.stop": [1.0, 2.0]},
            "quantities": ["p_uptake_with_exudation"]}
    study = study_from_dict(spec, source="spec.yaml")
    assert study.model.scenario({"time.stop": 1.25}).config.days == 1.25
    cs3 = small_example("cs3-root-hairs")
    spec.update(scenario=cs3, quantities=["mass_ratio_with_to_without_hairs"])
    with pytest.raises(InputError, match=r"spec.yaml: parameters.time.stop: cs3-root-hairs counts time.stop in s: "
                                         r"sample its own key 'duration'"):
        study_from_dict(spec, source="spec.yaml")
    # ... and that advice works: the own key replaces the time.stop the scenario wrote
    # (it was refused as 'time.stop: also given as duration', a dead end)
    spec.update(parameters={"duration": [60.0, 600.0]})
    study = study_from_dict(spec, source="spec.yaml")
    assert cs3["time"] == {"stop": "600 s"}
    assert study.model.scenario({"duration": 120.0}).config.duration == 120.0


def test_a_sobol_design_too_small_for_second_order_indices_is_said_before_it_runs():
    """N below MIN_SECOND_ORDER_N with second order: a warning naming samples (the Ishigami
    S13 = 0.244 is not resolved there: its interval contains 0); none at N = 256 or
    without second order."""
    import warnings

    from rhizoscale.sensitivity import SensitivityWarning
    from rhizoscale.sensitivity.study import MIN_SECOND_ORDER_N
    with pytest.warns(SensitivityWarning, match=r"spec.yaml: samples: N = 16 cannot resolve second-order"):
        small = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=16, source="spec.yaml")
    y = np.array([ishigami(**dict(zip(ISHIGAMI, x)))["y"] for x in small.samples])[:, None]
    ind = small.analyze(y)["y"]
    assert abs(ind["S2"][0, 2]) < ind["S2_conf"][0, 2]                 # S13 not resolved at N = 16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=MIN_SECOND_ORDER_N)
        SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=16, second_order=False)
    y = np.array([ishigami(**dict(zip(ISHIGAMI, x)))["y"] for x in big.samples])[:, None]
    ind = big.analyze(y)["y"]
    assert ind["S2"][0, 2] - ind["S2_conf"][0, 2] > 0                  # resolved at N = 256


class Warns:
    """Ishigami that warns (as a scenario run does) when x1 > 2."""

    def __call__(self, **x):
        from rhizoscale.sensitivity.models import QuantityValues
        return QuantityValues(ishigami(**x), warnings=["x1 is large"] if x["x1"] > 2 else [])


def test_sample_warnings_reach_the_study_summary_and_survive_a_resume(client, tmp_path):
    """What a sample's run warns about used to be dropped on the worker: a study could
    rest on runs that said their numbers were doubtful without a word. The summary now
    counts each message over the samples, and a resumed study keeps the stored ones."""
    study = SensitivityStudy(Warns(), ISHIGAMI, ["y"], n=16, seed=5)
    expected = sorted(i for i, row in enumerate(study.samples) if row[0] > 2)
    assert 0 < len(expected) < study.n_samples
    with pytest.raises(StudyInterrupted):
        study.run(tmp_path / "study", client=client, batch_size=8, stop_after=study.n_samples // 2)
    res = study.run(tmp_path / "study", client=client, batch_size=8)
    assert res.reused > 0
    (rec,) = res.sample_warnings
    assert rec["message"] == "x1 is large" and rec["n_samples"] == len(expected)
    assert rec["samples"] == expected[:20]
    summary = json.loads((tmp_path / "study" / "summary.json").read_text())
    assert summary["sample_warnings"] == res.sample_warnings


def test_overwrite_discards_a_stored_study_instead_of_refusing_it(client, tmp_path):
    first = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=8, seed=5)
    first.run(tmp_path / "study", client=client)
    (tmp_path / "study" / "notes.txt").write_text("mine")
    other = SensitivityStudy(ishigami, ISHIGAMI, ["y"], n=8, seed=6)
    with pytest.raises(InputError, match="--overwrite to discard it"):
        other.run(tmp_path / "study", client=client)
    res = other.run(tmp_path / "study", client=client, overwrite=True)
    assert res.reused == 0 and res.computed == other.n_samples
    assert np.array_equal(res.y, other.run(client=client).y)
    assert (tmp_path / "study" / "notes.txt").read_text() == "mine"     # not the study's: left alone
    again = first.run(tmp_path / "study", client=client, overwrite=True)  # same design: recomputed
    assert again.reused == 0 and again.computed == first.n_samples


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_run_folder_is_refused_as_a_study_folder_and_left_intact(tmp_path, overwrite):
    """--out pointing at a `rhizoscale run` folder: its summary.json is neither deleted
    (--overwrite) nor overwritten by the study's, and no lock file is left in it; the
    folder is refused naming --out."""
    from rhizoscale.sensitivity.store import SampleStore
    run = tmp_path / "run"
    run.mkdir()
    (run / ".rhizoscale-run.json").write_text("{}")
    (run / "summary.json").write_text('{"run": "mine"}')
    with pytest.raises(InputError, match="not a sensitivity study's folder") as err:
        SampleStore(run, {"method": "morris"}, np.zeros((2, 1)), ["q"]).open(overwrite=overwrite)
    assert err.value.field == "--out"
    assert (run / "summary.json").read_text() == '{"run": "mine"}'
    # nothing added either (a .lock file was left behind)
    assert sorted(p.name for p in run.iterdir()) == [".rhizoscale-run.json", "summary.json"]


def test_a_scenario_samples_warnings_come_back_with_its_values():
    """A case's ctx.warn (here: equilibrium criteria not met in 200 lattice steps) reaches
    the sample's result, as a single case and as a pipeline step; in-memory runs dropped
    them, so summary.json's sample_warnings stayed empty for every real scenario."""
    scenario = {"case": "cs4-liquid-configuration", "mode": "water-distribution", "shape": [40, 40],
                "mean_grain_radius": 0.006, "saturations": [0.5], "max_steps": 200, "wall_density": 0.12,
                "outputs": {"figures": False, "vtk": False, "tiff": False}}
    res = ScenarioModel(scenario, ["water_voxel_share_S50"])(wall_density=0.12)
    assert any("equilibrium criteria not met" in w for w in res.warnings)
    pipe = {"case": "pipeline", "steps": [{"id": "pore", "scenario": scenario}]}
    res = ScenarioModel(pipe, ["pore.water_voxel_share_S50"])(**{"pore.wall_density": 0.12})
    assert any(w.startswith("pore: saturation 0.5: equilibrium criteria not met") for w in res.warnings)
