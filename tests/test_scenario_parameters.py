"""The scenario's ``parameters:`` section: any value by a dotted path, checked when read."""

from __future__ import annotations

import re

import pytest

from rhizoscale.errors import InputError
from rhizoscale.outputs import scenario_hash
from rhizoscale.plant import grow_root_system, load_plant_parameters
from rhizoscale.scenario import run_products, scenario_from_dict, scenario_record
from small_examples import small_example


def _plant(**extra):
    return {"case": "plant-growth", "days": 6, "figures": False, "vtk": False, **extra}


def test_a_value_inside_a_parameter_set_changes_the_run_as_the_library_does():
    sc = scenario_from_dict(_plant(parameters={"plant.root_types.0.r": 4.0}), source="s.yaml")
    assert sc.parameter_sets["plant"].root_types[0].r == 4.0
    got = run_products(sc).scalars["total_length"].value
    p = load_plant_parameters("vicia_faba")
    p = p.model_copy(update={"root_types": [p.root_types[0].model_copy(update={"r": 4.0}),
                                            *p.root_types[1:]]})
    assert got == grow_root_system(p, 6, seed=1).total_length()
    base = run_products(scenario_from_dict(_plant(), source="s.yaml")).scalars["total_length"].value
    assert got > base            # a faster taproot makes a longer root system


def test_set_overrides_equal_the_case_specific_override_keys():
    data = small_example("cs2-oilseed-rape")
    data["time"]["stop"] = 1.0
    data.update(compare_without_exudation=False, write_vtk=False)
    a = run_products(scenario_from_dict({**data, "parameters": {"citrate.decay_rate": 3.0e-5,
                                                                "soil.initial_phosphate": 0.01}},
                                        source="a.yaml"))
    b = run_products(scenario_from_dict({**data, "citrate_overrides": {"decay_rate": 3.0e-5},
                                         "soil_overrides": {"initial_phosphate": 0.01}}, source="b.yaml"))
    assert a.scalars["p_uptake_with_exudation"].value == b.scalars["p_uptake_with_exudation"].value
    assert a.scalars["citrate_decayed"].value == b.scalars["citrate_decayed"].value
    assert a.info["parameters"]["citrate"]["decay_rate"] == 3.0e-5


def test_scenario_keys_are_reached_by_the_same_paths():
    sc = scenario_from_dict({**small_example("cs2-oilseed-rape"),
                             "parameters": {"rhizotron.width": 20.0, "time.dt": "3 h"}}, source="s.yaml")
    assert sc.config.rhizotron.width == 20.0 and sc.config.dt_hours == 3.0
    ref = scenario_from_dict(small_example("cs2-oilseed-rape"), source="s.yaml")
    assert scenario_hash(scenario_record(sc)) != scenario_hash(scenario_record(ref))


@pytest.mark.parametrize("parameters, field, words", [
    ({"plant.root_types.9.r": 1.0}, "parameters.plant.root_types.9.r", "indices 0..2"),
    ({"plant.root_types.0.rr": 1.0}, "parameters.plant.root_types.0.rr", "no parameter"),
    ({"plant.root_types.0.r": "fast"}, "parameters.plant.root_types.0.r", "valid number"),
    ({"plant.root_types.0.r": -2.0}, "parameters.plant.root_types.0.r", "greater than"),
    ({"nosuch": 3}, "nosuch", "Extra inputs"),
    ({"days": -1}, "parameters.days", "greater than 0"),
    ({"grid.resolution": 0}, "parameters.grid.resolution", "greater than 0"),
])
def test_bad_overrides_name_the_file_and_the_path(parameters, field, words):
    with pytest.raises(InputError) as err:
        scenario_from_dict(_plant(parameters=parameters, grid={"lower": [-5, -5, -5], "upper": [5, 5, 0],
                                                               "resolution": 1.0}), source="s.yaml")
    text = str(err.value)
    assert text.startswith("s.yaml: ") and field in text and words in text, text


def test_a_parameters_section_that_is_no_mapping_and_unknown_sets_are_refused_when_read():
    with pytest.raises(InputError, match="s.yaml: parameters: must map dotted paths"):
        scenario_from_dict(_plant(parameters=[1, 2]), source="s.yaml")
    with pytest.raises(InputError, match="s.yaml: soil.*no parameter set named 'nosuch'"):
        scenario_from_dict({**small_example("cs2-oilseed-rape"), "soil": "nosuch"}, source="s.yaml")


def test_the_outputs_section_is_shared_and_old_keys_still_read(tmp_path):
    from rhizoscale.scenario import run_scenario
    off = {"vtk": False, "tiff": False, "figures": False}
    for example, old in (("cs3-root-hairs", {"write_vtk": False, "write_tiff": False, "outputs": {"figures": False}}),
                         ("cs2-oilseed-rape", {"write_vtk": False, "outputs": {"figures": False, "tiff": False}}),
                         ("demo", {"vtk": False, "figures": False, "outputs": {"tiff": False}})):
        data = small_example(example)
        new = scenario_from_dict({**data, "outputs": off}, source="new.yaml")
        legacy = scenario_from_dict({**data, **old}, source="old.yaml")
        assert new.config.outputs.model_dump() == legacy.config.outputs.model_dump() == off, example
        summary = run_scenario(new, tmp_path / example)
        assert not [f for f in summary["files"] if f.endswith((".png", ".vtp", ".vti", ".tif"))], example
    with pytest.raises(InputError, match="outputs.pdf"):
        scenario_from_dict({**data, "outputs": {"pdf": True}}, source="s.yaml")


def test_case_3_and_4_literature_values_come_from_parameter_sets_with_sources(tmp_path):
    from rhizoscale.diffusion.parameters import RootHairSampleParameters
    from rhizoscale.homogenization.parameters import GranularMediumParameters
    from rhizoscale.parameters import load_parameter_set
    cs3 = load_parameter_set(RootHairSampleParameters, "maize_root_hairs")
    cs4 = load_parameter_set(GranularMediumParameters, "sand_mucilage_2d")
    sc3 = scenario_from_dict({"case": "cs3-root-hairs"}, source="s.yaml").config
    sc4 = scenario_from_dict({"case": "cs4-homogenisation"}, source="s.yaml").config
    assert (sc3.diffusivity, sc3.c_in, sc3.sample.hair_radius) == (cs3.diffusivity, cs3.c_in, cs3.hair_radius)
    assert (sc4.porosity, sc4.water_content, sc4.d_mucilage) == (cs4.porosity, cs4.water_content, cs4.d_mucilage)
    for pset in (cs3, cs4):       # every value has a source; chosen ones say so
        assert set(pset.sources) == set(type(pset).model_fields) - {"name", "sources"}
        assert pset.chosen()
    # a key in the scenario wins over the set; so does a parameters: override
    sc = scenario_from_dict({"case": "cs3-root-hairs", "c_in": 500.0,
                             "parameters": {"sample.hair_radius": 1.5e-3}}, source="s.yaml").config
    assert sc.c_in == 500.0 and sc.sample.hair_radius == 1.5e-3 and sc.sample.root_radius == cs3.root_radius
    products = run_products(scenario_from_dict(small_example("cs3-root-hairs"), source="s.yaml"))
    assert products.info["literature"]["set"] == "maize_root_hairs"
    assert "Keyes" in products.info["literature"]["sources"]["c_in"]


def test_one_root_system_section_in_every_case_that_uses_roots(tmp_path):
    """root_system: {plant | rsml (+ age) | straight} means the same in plant-growth, CS1 and
    CS2; the old top-level keys still work, giving both is refused."""
    from rhizoscale.io.rsml import write_rsml
    from rhizoscale.plant import Rhizotron
    flat = scenario_from_dict(_plant(plant="brassica_napus"), source="s.yaml").config
    sec = scenario_from_dict({**_plant(), "root_system": {"plant": "brassica_napus"}}, source="s.yaml").config
    assert sec.plant == flat.plant == "brassica_napus"
    cs1 = scenario_from_dict({"case": "cs1-rhizodeposition", "root_system": {"straight": {"velocity": 2.0}}},
                             source="s.yaml").config
    assert cs1.straight_root.velocity == 2.0
    with pytest.raises(InputError, match="root_system.plant: also given as 'plant'"):
        scenario_from_dict({**_plant(plant="vicia_faba"), "root_system": {"plant": "vicia_faba"}}, source="s.yaml")
    with pytest.raises(InputError, match="root_system.straight: not a root-system key of this case"):
        scenario_from_dict({**small_example("cs2-oilseed-rape"), "root_system": {"straight": {}}}, source="s.yaml")
    with pytest.raises(InputError, match="uses no root system"):
        scenario_from_dict({"case": "cs4-homogenisation", "root_system": {"plant": "x"}}, source="s.yaml")
    # CS2 from an RSML file: the root system grown in the rhizotron, written and read back,
    # gives the uptake of growing it in the run (RSML keeps the coordinates to its precision)
    data = small_example("cs2-oilseed-rape")
    data["time"]["stop"] = 1.0
    data.update(compare_without_exudation=False, outputs={"vtk": False, "figures": False})
    rz = data["rhizotron"]
    rs = grow_root_system("brassica_napus", 1.0, seed=1, confinement=Rhizotron(
        rz["width"], rz["thickness"], rz["depth"], rz["angle_deg"], origin=(0.0, 0.0, -rz["seed_depth"])))
    write_rsml(rs, tmp_path / "roots.rsml")
    grown = run_products(scenario_from_dict(data, source="g.yaml"))
    read = run_products(scenario_from_dict({**data, "root_system": {"rsml": str(tmp_path / "roots.rsml")}},
                                           source="r.yaml"))
    assert "plant" not in scenario_from_dict({**data, "root_system": {"rsml": str(tmp_path / "roots.rsml")}},
                                             source="r.yaml").parameter_sets
    a, b = grown.value("p_uptake_with_exudation"), read.value("p_uptake_with_exudation")
    assert b == pytest.approx(a, rel=1e-6) and a > 0


# ------------------------------------------------------------------ shared time section
def test_time_section_means_the_same_in_every_case():
    """``time: {stop, dt, outputs}`` with units fills each case's own keys, in its units."""
    cs2 = scenario_from_dict({**small_example("cs2-oilseed-rape"),
                              "time": {"stop": "36 h", "dt": "30 min", "outputs": ["12 h", 1.5]}}, source="s.yaml")
    assert (cs2.config.days, cs2.config.dt_hours, cs2.config.profile_days) == (1.5, 0.5, [0.5, 1.5])
    cs3 = scenario_from_dict({**small_example("cs3-root-hairs"), "time": {"stop": "10 min"}}, source="s.yaml")
    assert cs3.config.duration == 600.0                      # seconds in CS3, days given
    # a bare number means days; where the case counts in another unit it must carry one
    with pytest.raises(InputError, match=r"time.stop: give the unit, e.g. '600 s'"):
        scenario_from_dict({**small_example("cs3-root-hairs"), "time": {"stop": 600}}, source="s.yaml")
    with pytest.raises(InputError, match=r"time.dt: give the unit, e.g. '0.5 h'"):
        scenario_from_dict({**small_example("cs2-oilseed-rape"), "time": {"stop": 2, "dt": 0.5}}, source="s.yaml")
    cs1 = scenario_from_dict({**small_example("cs1-vicia-faba"), "time": {"stop": "4 d", "outputs": [1, "48 h"]}},
                             source="s.yaml")
    assert (cs1.config.days, cs1.config.field_output_times) == (4.0, [1.0, 2.0])
    # the same run written with the case's own keys has the same configuration
    flat = small_example("cs2-oilseed-rape")
    flat.pop("time")
    flat.update(days=1.5, dt_hours=0.5, profile_days=[0.5, 1.5])
    assert scenario_from_dict(flat, source="f.yaml").config == cs2.config
    # a sensitivity analysis reaches the section by dotted path
    sc = scenario_from_dict({**small_example("cs2-oilseed-rape"), "parameters": {"time.stop": "2 d"}}, source="s.yaml")
    assert sc.config.days == 2.0


@pytest.mark.parametrize("data, message", [
    ({"time": {"stop": "2 weeks"}}, "time.stop: '2 weeks' is not a time"),
    ({"time": {"stop": "x d"}}, "time.stop: 'x d' is not a time"),
    ({"time": {"stop": True}}, "time.stop: True is not a time"),
    ({"time": {"start": 1}}, "time.start: not a time key of this case"),
    ({"time": {"stop": 1}, "days": 1}, "time.stop: also given as 'days'"),
    ({"time": [1, 2]}, "time: expected a mapping"),
    ({"time": {"stop": -1}}, "time.stop: Input should be greater than 0 (got -1)"),
    ({"time": {"dt": "-30 min"}}, "time.dt: Input should be greater than 0 (got '-30 min')"),
    ({"time": {"stop": "2 d"}, "parameters": {"time.stop": "0 d"}},
     "parameters.time.stop: Input should be greater than 0 (got '0 d')"),
])
def test_time_section_errors_name_the_key(data, message):
    base = small_example("cs2-oilseed-rape")
    base.pop("time")
    with pytest.raises(InputError, match=re.escape(message)) as err:
        scenario_from_dict({**base, **data}, source="s.yaml")
    assert "s.yaml" in str(err.value)


def test_errors_on_keys_filled_from_a_shared_section_name_what_the_user_wrote():
    # the checks run on the case's own keys (drying_step [s], days [d]); the message names
    # the section key and the value as typed, not the converted internal one
    with pytest.raises(InputError, match=re.escape("s.yaml: time.dt: Input should be greater than 0 (got '-1 s')")):
        scenario_from_dict({**small_example("cs4-mucilage-bridge"), "time": {"dt": "-1 s"}}, source="s.yaml")
    cs1 = small_example("cs1-vicia-faba")
    with pytest.raises(InputError, match=re.escape("time.outputs: 30 d is after the end of the run")):
        scenario_from_dict({**cs1, "time": {"stop": "21 d", "outputs": ["7 d", "30 d"]}}, source="s.yaml")
    cs2 = small_example("cs2-oilseed-rape")
    cs2.pop("resolution_cm")
    with pytest.raises(InputError, match=re.escape("grid.resolution: Input should be greater than 0 (got 0)")):
        scenario_from_dict({**cs2, "grid": {"resolution": 0}}, source="s.yaml")


def test_steady_case_refuses_a_time_section():
    with pytest.raises(InputError, match="time: this case study has no time axis"):
        scenario_from_dict({**small_example("cs4-mucilage-diffusion"), "time": {"stop": 1}}, source="s.yaml")


def test_grid_section_reaches_cs2_resolution():
    base = small_example("cs2-oilseed-rape")
    base.pop("resolution_cm")
    sc = scenario_from_dict({**base, "grid": {"resolution": 0.5}}, source="s.yaml")
    assert sc.config.resolution_cm == 0.5
    with pytest.raises(InputError, match=r"grid.lower: not a grid key of this case"):
        scenario_from_dict({**base, "grid": {"lower": [0, 0, 0]}}, source="s.yaml")
    with pytest.raises(InputError, match=r"grid.resolution: also given as 'resolution_cm'"):
        scenario_from_dict({**base, "resolution_cm": 1.0, "grid": {"resolution": 0.5}}, source="s.yaml")


def test_threads_key_is_shared_and_not_part_of_the_record():
    import yaml

    from rhizoscale.scenario import example_text, scenario_from_dict, scenario_record
    data = yaml.safe_load(example_text("cs4-mucilage-diffusion"))
    plain = scenario_from_dict(dict(data), "plain.yaml")
    threaded = scenario_from_dict({**data, "threads": 1}, "threaded.yaml")
    assert threaded.config.threads == 1 and plain.config.threads is None
    # the thread count changes no result: resuming on another machine keeps the hash
    assert scenario_record(threaded)["config"] == scenario_record(plain)["config"]
    with pytest.raises(InputError, match="threads"):
        scenario_from_dict({**data, "threads": 0}, "bad.yaml")
