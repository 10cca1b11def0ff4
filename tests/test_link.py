"""Linked pipelines: dependency order, products handed on (scalars by value, relations in
memory), caching by hash (what reruns after a change, counted), provenance, and bad
pipelines refused before anything runs."""

from __future__ import annotations

import json
import math
from typing import Optional

import numpy as np
import pytest
from pydantic import Field

from rhizoscale.errors import InputError
from rhizoscale.link import pipeline_from_dict
from rhizoscale.link.pipeline import RUN_COUNTS
from rhizoscale.products import Products, TabulatedRelation, read_relation
from rhizoscale.scenario import CaseConfig, register_case, run_products, run_scenario, scenario_from_dict


# ---------------------------------------------------------------------------- toy cases
class SourceConfig(CaseConfig):
    length: float = Field(1.0, gt=0, description="a length [cm]")
    slope: float = Field(0.1, gt=0, description="slope of the relation [1]")


class SourceCase:
    """Makes a scalar (2 * length, cm) and a relation y(theta) = slope * theta."""
    Config = SourceConfig

    @staticmethod
    def run(config, ctx):
        out = Products("toy-source")
        out.add_scalar("double_length", 2 * config.length, "cm", "twice the length")
        out.add_scalar("seconds", 60.0, "s", "a time")
        out.relations["rel"] = TabulatedRelation([0.1, 0.5], [0.1 * config.slope, 0.5 * config.slope],
                                                 porosity=0.5, source="toy-source")
        return out

    @staticmethod
    def declared_products(config):
        return {"double_length": ("scalar", "cm"), "seconds": ("scalar", "s"), "rel": ("relation", "1")}


class SinkConfig(CaseConfig):
    size: float = Field(1.0, gt=0, description="a size [cm]")
    table: Optional[str] = Field(None, description="relation", json_schema_extra={"product": "relation"})
    theta: float = Field(0.3, gt=0, description="water content [1]")
    factor: float = Field(1.0, description="multiplier [1]")


class SinkCase:
    """out = factor * size * rel(theta) (rel = 1 without a table)."""
    Config = SinkConfig

    @staticmethod
    def run(config, ctx):
        if config.factor == -1.0:
            raise RuntimeError("a step that fails")
        d = 1.0 if config.table is None else read_relation(config.table)(config.theta)
        out = Products("toy-sink")
        out.add_scalar("out", config.factor * config.size * d, "cm", "factor * size * rel(theta)")
        return out

    @staticmethod
    def declared_products(config):
        return {"out": ("scalar", "cm")}


register_case("toy-source", SourceCase)
register_case("toy-sink", SinkCase)


def _pipeline(**kw):
    data = {"case": "pipeline", "name": "toy", "steps": [
        {"id": "b", "case": "toy-sink", "factor": kw.get("factor_b", 1.0),
         "inputs": {"size": "a.double_length", "table": "a.rel"}},
        {"id": "a", "case": "toy-source", "length": kw.get("length", 1.5)},
        {"id": "c", "case": "toy-sink", "factor": kw.get("factor_c", 3.0), "inputs": {"size": "b.out"}},
        {"id": "other", "case": "toy-source", "length": 7.0}]}
    data.update(kw.get("extra", {}))
    return scenario_from_dict(data, source="toy.yaml")


def test_steps_run_in_dependency_order_and_products_cross_by_value_and_in_memory():
    pipe = _pipeline()
    assert [s.id for s in pipe.steps] == ["a", "b", "c", "other"]
    res = pipe.run()
    # b: size = 2 * 1.5 cm, table = a's relation (slope 0.1) at theta 0.3
    assert res.products["b"].value("out") == pytest.approx(3.0 * 0.03, rel=1e-12)
    assert res.products["c"].value("out") == pytest.approx(3.0 * 3.0 * 0.03, rel=1e-12)
    prods = run_products(pipe)
    assert prods.value("c.out") == pytest.approx(0.27, rel=1e-12)
    assert res.steps[1]["inputs"]["table"]["from"] == "a.rel"


def test_a_changed_step_reruns_itself_and_what_depends_on_it_nothing_else(tmp_path):
    cache = tmp_path / "cache"

    def counts(pipe):
        before = dict(RUN_COUNTS)
        res = pipe.run(cache=cache)
        return {k: RUN_COUNTS.get(k, 0) - before.get(k, 0) for k in ("a", "b", "c", "other")}, res

    first, r1 = counts(_pipeline())
    assert first == {"a": 1, "b": 1, "c": 1, "other": 1}
    again, r2 = counts(_pipeline())               # a new process would see the same: a fresh Pipeline
    assert again == {"a": 0, "b": 0, "c": 0, "other": 0}
    assert r2.products["c"].value("out") == r1.products["c"].value("out")
    assert {s["products_from"] for s in r2.steps} == {"stored"}
    downstream, _ = counts(_pipeline(factor_c=4.0))
    assert downstream == {"a": 0, "b": 0, "c": 1, "other": 0}
    middle, _ = counts(_pipeline(factor_c=4.0, factor_b=2.0))
    assert middle == {"a": 0, "b": 1, "c": 1, "other": 0}
    upstream, r5 = counts(_pipeline(factor_c=4.0, factor_b=2.0, length=2.0))
    assert upstream == {"a": 1, "b": 1, "c": 1, "other": 0}
    assert r5.products["c"].value("out") == pytest.approx(4.0 * 2.0 * 4.0 * 0.03, rel=1e-12)
    # a pipeline-level override of one step is a change of that step
    over, _ = counts(_pipeline(factor_c=4.0, factor_b=2.0, length=2.0,
                               extra={"parameters": {"other.slope": 0.2}}))
    assert over == {"a": 0, "b": 0, "c": 0, "other": 1}
    # the cache is plain data: JSON and NetCDF, no pickles
    suffixes = {p.suffix for p in cache.rglob("*") if p.is_file()}
    assert suffixes <= {".json", ".nc", ".lock"}, suffixes


def test_run_into_a_folder_records_provenance_and_reuses_unchanged_steps(tmp_path):
    out = tmp_path / "out"
    summary = run_scenario(_pipeline(), out)
    assert set(summary["files"]) >= {"a", "b", "c", "other", "summary.json"}
    step_b = json.loads((out / "b" / "summary.json").read_text())
    prov = step_b["details"]["pipeline"]
    assert prov["step"] == "b" and prov["inputs"]["size"]["from"] == "a.double_length"
    assert prov["inputs"]["table"]["upstream_key"] == summary["steps"][0]["cache_key"]
    assert (out / "a" / "relation_rel.nc").is_file()
    assert summary["products"]["a.rel"]["used_by"] == ["b.table"]
    assert summary["quantities"]["c.out"]["units"] == "cm"
    with pytest.raises(InputError, match="--overwrite"):
        run_scenario(_pipeline(factor_c=5.0), out)
    before = dict(RUN_COUNTS)
    again = run_scenario(_pipeline(factor_c=5.0), out, overwrite=True)
    assert {k: RUN_COUNTS.get(k, 0) - before.get(k, 0) for k in "abc"} == {"a": 0, "b": 0, "c": 1}
    assert [s["products_from"] for s in again["steps"]] == ["memory", "memory", "computed", "memory"] or \
        [s["products_from"] for s in again["steps"]] == ["stored", "stored", "computed", "stored"]
    assert again["quantities"]["c.out"]["value"] == pytest.approx(5.0 * 3.0 * 0.03)


def test_a_failed_pipeline_keeps_its_finished_steps_for_the_next_run(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="a step that fails"):
        run_scenario(_pipeline(factor_c=-1.0), out)
    assert (out / "a" / "summary.json").is_file() and (out / "b" / "summary.json").is_file()
    before = dict(RUN_COUNTS)
    summary = run_scenario(_pipeline(factor_c=2.0), out, overwrite=True)
    assert {k: RUN_COUNTS.get(k, 0) - before.get(k, 0) for k in "abc"} == {"a": 0, "b": 0, "c": 1}
    assert summary["quantities"]["c.out"]["value"] == pytest.approx(2.0 * 3.0 * 0.03)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["steps"][1].update(inputs={"length": "b.out"}), "cycle: a -> b -> a|cycle: b -> a -> b"),
    (lambda d: d["steps"][0]["inputs"].update(size="b.out"), "cannot feed itself"),
    (lambda d: d["steps"][0]["inputs"].update(size="x.out"), "unresolved input x.out"),
    (lambda d: d["steps"][0]["inputs"].update(size="a.nothing"), "makes no product 'nothing'"),
    (lambda d: d["steps"][0]["inputs"].update(sise="a.double_length"), "no key 'sise'"),
    (lambda d: d["steps"][0]["inputs"].update(size="a.seconds"), r"units of a.seconds \[s\] do not match"),
    (lambda d: d["steps"][0]["inputs"].update(size="a.rel"), "a.rel is a relation; 'size' does not take"),
    (lambda d: d["steps"][0]["inputs"].update(table="a.double_length"), "is a scalar; 'table' takes a relation"),
    (lambda d: d["steps"][1].update(length=-1.0), "length"),
    (lambda d: d.update(parameters={"a.lenth": 2.0}), "lenth"),
])
def test_bad_pipelines_are_refused_before_anything_runs(change, message):
    data = {"case": "pipeline", "steps": [
        {"id": "b", "case": "toy-sink", "inputs": {"size": "a.double_length"}},
        {"id": "a", "case": "toy-source"}]}
    change(data)
    before = dict(RUN_COUNTS)
    with pytest.raises(InputError, match=message) as info:
        scenario_from_dict(data, source="linked.yaml")
    assert str(info.value).startswith("linked.yaml") and "\n" not in str(info.value)
    assert "steps." in str(info.value) or "parameters." in str(info.value)
    assert RUN_COUNTS == before


def test_a_product_reference_outside_a_pipeline_is_refused_in_one_line():
    with pytest.raises(InputError, match="only while a pipeline"):
        run_products(scenario_from_dict({"case": "toy-sink", "table": "product:a.rel@k"}, source="s.yaml"))


def test_steps_from_files_and_file_relative_paths(tmp_path):
    import yaml
    (tmp_path / "src.yaml").write_text(yaml.safe_dump({"case": "toy-source", "length": 2.0}))
    (tmp_path / "linked.yaml").write_text(yaml.safe_dump({"case": "pipeline", "steps": [
        {"id": "a", "scenario": "src.yaml"},
        {"id": "b", "scenario": {"case": "toy-sink"}, "inputs": {"size": "a.double_length"}}]}))
    from rhizoscale.scenario import load_scenario
    res = load_scenario(tmp_path / "linked.yaml").run()
    assert res.products["b"].value("out") == 4.0
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"case": "pipeline", "steps": [
        {"id": "a", "scenario": {"case": "toy-source", "length": "x"}}]}))
    with pytest.raises(InputError, match=r"bad.yaml: steps.a.length"):
        load_scenario(tmp_path / "bad.yaml")


# ---------------------------------------------------------------------------- links of Fig. 15
def test_cs4_relation_reaches_cs2_in_memory_exactly_as_through_its_file(tmp_path):
    """CS4 -> CS2: the D_eff(theta) relation handed on in memory gives the same uptake, bit
    for bit, as the table file a CS2 scenario names; and it is not Millington-Quirk's."""
    from small_examples import small_example
    data = small_example("linked")
    pipe = scenario_from_dict(data, source="linked.yaml")
    res = pipe.run(cache=tmp_path / "cache")
    rel = res.products["pore"].relations["d_eff_mucilage_0.1"]
    uptake = res.products["uptake"]
    d_p = uptake.info["effective_diffusivity"]["phosphate_cm2_s"]
    from rhizoscale.nutrients import load_phosphate
    assert d_p == pytest.approx(load_phosphate("phosphate_brassica_napus").d_water * rel(0.3), rel=1e-12)
    # the same through the file the pore step wrote
    cs4 = dict(pipe.step("pore").data, **{k.split(".", 1)[1]: v for k, v in data["parameters"].items()
                                          if k.startswith("pore.")})
    run_scenario(scenario_from_dict(cs4, source="cs4.yaml"), tmp_path / "cs4")
    cs2 = dict(pipe.step("uptake").data, **{k.split(".", 1)[1]: v for k, v in data["parameters"].items()
                                            if k.startswith("uptake.")})
    cs2["soil_diffusivity"] = {"model": "table", "mucilage_fraction": 0.1,
                               "table": str(tmp_path / "cs4" / "effective_diffusivity_table.nc")}
    direct = run_products(scenario_from_dict(cs2, source="cs2.yaml"))
    assert direct.value("p_uptake_with_exudation") == uptake.value("p_uptake_with_exudation")
    cs2["soil_diffusivity"] = {"model": "millington-quirk"}
    mq = run_products(scenario_from_dict(cs2, source="cs2.yaml"))
    assert mq.value("p_uptake_with_exudation") != uptake.value("p_uptake_with_exudation")


def test_cs4_relation_sets_the_cs1_exudate_diffusion_coefficient_from_the_water_content():
    """CS4 -> CS1: D = d_water D_eff(theta)/theta for each exudate (theta of its set), in
    memory; a wetter-connected liquid (more D) spreads the exudate: lower peak."""
    from small_examples import small_example
    cs4 = small_example("cs4-mucilage-diffusion")
    cs4.update(random_media=False, table_water_contents=[0.1, 0.2, 0.3], mucilage_fraction=0.1,
               table_mucilage_fractions=[0.0], outputs={"figures": False, "vtk": False, "tiff": False})
    cs1 = small_example("cs1-single-root")
    cs1.update(growth_rates=None, exudates=["citrate"], outputs={"figures": False, "vtk": False, "tiff": False},
               soil_diffusivity={"d_water": {"citrate": 0.536}})
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "pore", "scenario": cs4},
        {"id": "roots", "scenario": cs1, "inputs": {"soil_diffusivity.table": "pore.d_eff"}}]},
        source="cs4-cs1.yaml")
    res = pipe.run()
    rel = res.products["pore"].relations["d_eff"]
    got = res.products["roots"].info["citrate"]["parameters"]["D"]
    assert got == pytest.approx(0.536 * rel(0.3) / 0.3, rel=1e-12)
    del cs1["soil_diffusivity"]
    default = run_products(scenario_from_dict(cs1, source="cs1.yaml"))
    assert default.info["citrate"]["parameters"]["D"] == 0.171           # the set's fixed value
    # a larger D spreads the same released mass: a lower peak concentration
    assert (got > 0.171) == (res.products["roots"].value("max_concentration_citrate")
                             < default.value("max_concentration_citrate"))


def test_cs1_diffusion_follows_the_thickness_of_the_layer_the_exudates_explore(tmp_path):
    """CS4's d_eff_thickness as an input of CS1 (von Jeetze et al. 2020): D is scaled by
    relation(L) / relation(thickest layer): a thin heterogeneous layer conducts towards the
    arithmetic mean (more than the bulk), a thick one like the bulk table; a pair given
    half, a layer thinner than tabulated, or a relation of theta in its place are refused."""
    from small_examples import small_example

    from rhizoscale.io.netcdf import write_netcdf
    from rhizoscale.products import TabulatedRelation, relation_to_dataset
    table, layer = tmp_path / "d_eff.nc", tmp_path / "thickness.nc"
    write_netcdf(relation_to_dataset(TabulatedRelation([0.1, 0.2, 0.4], [0.01, 0.04, 0.12], 0.45)), table)
    write_netcdf(relation_to_dataset(TabulatedRelation(
        [0.002, 0.01, 0.05], [1.28, 1.10, 1.02], np.nan, component="d_eff_over_geometric_mean",
        variable="thickness", variable_units="cm", through_origin=False)), layer)
    cs1 = small_example("cs1-single-root")
    cs1.update(growth_rates=None, exudates=["citrate"], outputs={"figures": False, "vtk": False, "tiff": False})
    from rhizoscale.rhizodeposition.scenario import _exudate_parameters

    def d_of(**extra):
        sc = scenario_from_dict(dict(cs1, soil_diffusivity={"table": str(table), "d_water": {"citrate": 0.5},
                                                            **extra}), source="s.yaml")
        return _exudate_parameters(sc.config)["citrate"].D
    bulk = d_of()
    assert d_of(thickness_relation=str(layer), thickness=0.002) == pytest.approx(bulk * 1.28 / 1.02, rel=1e-12)
    assert d_of(thickness_relation=str(layer), thickness=0.006) == pytest.approx(bulk * 1.19 / 1.02, rel=1e-12)
    assert d_of(thickness_relation=str(layer), thickness=0.5) == pytest.approx(bulk, rel=1e-12)
    for extra, message in (({"thickness": 0.01}, "thickness needs thickness_relation"),
                           ({"thickness_relation": str(layer)}, "thickness_relation needs thickness"),
                           ({"thickness_relation": str(layer), "thickness": 0.001},
                            "soil_diffusivity.thickness: .*thinner than the thinnest"),
                           ({"thickness_relation": str(table), "thickness": 0.01},
                            "soil_diffusivity.thickness_relation: .*a relation of theta, not of thickness")):
        with pytest.raises(InputError, match=message):
            d_of(**extra)


def test_cs3_hair_effect_scales_cs2_exudation_exactly():
    """CS3 -> CS2: the exudate mass ratio with/without hairs from an image-based run is an
    effective exudation factor of CS2 (hairs included implicitly); exudation is linear in
    the rate, so the exuded citrate scales by exactly that factor."""
    from small_examples import small_example
    cs3 = small_example("cs3-root-hairs")
    cs3.update(outputs={"figures": False, "vtk": False, "tiff": False})
    cs2 = small_example("cs2-oilseed-rape")
    cs2.update(time={"stop": 1, "dt": "2 h", "outputs": [1]}, compare_without_exudation=False,
               outputs={"figures": False, "vtk": False, "tiff": False})
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "hairs", "scenario": cs3},
        {"id": "uptake", "scenario": cs2, "inputs": {"exudation_factor": "hairs.mass_ratio_with_to_without_hairs"}}]},
        source="cs3-cs2.yaml")
    res = pipe.run()
    factor = res.products["hairs"].value("mass_ratio_with_to_without_hairs")
    assert factor > 1                                               # hairs release more
    base = run_products(scenario_from_dict(cs2, source="cs2.yaml"))
    assert res.products["uptake"].value("citrate_exuded") == pytest.approx(
        factor * base.value("citrate_exuded"), rel=1e-10)


# ---------------------------------------------------------------------------- cross-scale oracle
def test_fine_microstructure_and_homogenised_tensor_agree_better_as_cells_shrink():
    """Transient filling of a strip of periodic cells (solid inclusions) from one face:
    fine voxels (CS3 solver) vs the homogenised D_xx (CS4 cell problem). The difference
    shrinks as the cells shrink relative to the strip (scale separation)."""
    from rhizoscale.link.cross_scale import fine_versus_homogenised, inclusion_cell
    cell = inclusion_cell(8)
    errors = [fine_versus_homogenised(cell, n, steps=200)["error"] for n in (4, 8, 16)]
    order = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[0] > errors[1] > errors[2]
    assert np.all(order > 1.0), (errors, order)                 # at least first order in eps / L
    assert errors[-1] < 2e-3                                     # and small in absolute terms
    r = fine_versus_homogenised(cell, 8, steps=200)
    assert r["porosity"] == 0.75 and 0 < r["d_eff"] < r["porosity"]   # obstacles: D_xx < phi


def test_a_mucilage_share_given_with_a_single_relation_is_refused(tmp_path):
    """A single relation (a file of one relation, or a pipeline's D_eff product) is at the
    mucilage share it was made for: a mucilage_fraction beside it was ignored without a
    word in CS2 and CS1; 0 (the default) still reads it."""
    from small_examples import small_example

    from rhizoscale.io.netcdf import write_netcdf
    from rhizoscale.products import TabulatedRelation, read_relation, relation_to_dataset
    rel = tmp_path / "rel.nc"
    write_netcdf(relation_to_dataset(TabulatedRelation([0.1, 0.2, 0.4], [0.01, 0.04, 0.12], 0.45)), rel)
    assert read_relation(rel)(0.2) == pytest.approx(0.04)
    with pytest.raises(InputError, match="soil_diffusivity.table: .*mucilage_fraction 0.3 would be ignored"):
        read_relation(rel, mucilage_fraction=0.3, field="soil_diffusivity.table")
    cs2 = small_example("cs2-oilseed-rape")
    cs2.update(outputs={"figures": False, "vtk": False, "tiff": False},
               soil_diffusivity={"model": "table", "table": str(rel), "mucilage_fraction": 0.3})
    with pytest.raises(InputError, match="mucilage_fraction 0.3 would be ignored"):
        run_products(scenario_from_dict(cs2, source="s.yaml"))
    cs1 = small_example("cs1-single-root")
    cs1.update(growth_rates=None, exudates=["citrate"],
               soil_diffusivity={"table": str(rel), "mucilage_fraction": 0.3, "d_water": {"citrate": 0.5}})
    with pytest.raises(InputError, match="soil_diffusivity.table: .*would be ignored"):
        scenario_from_dict(cs1, source="s.yaml")
