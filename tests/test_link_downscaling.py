"""Links to case study 5 (downscaling, Fig. 15): a root-surface flux series from CS1 or
CS3 drives the microbes' exudation, and a CS4 liquid configuration is the microbes'
lattice. Each end to end at a tiny size in a pipeline, with exact oracles."""

from __future__ import annotations

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.scenario import run_products, scenario_from_dict

NO_FILES = {"figures": False, "vtk": False, "tiff": False}


def _cs5_rhizosphere(**kw):
    from small_examples import small_example
    cs5 = small_example("cs5-rhizosphere")
    cs5.update(saturations=[1.0], n_cells=40, time={"stop": "2 h", "dt": "30 min"}, record_interval=1.0,
               outputs=NO_FILES, **kw)
    return cs5


def _exuded(products) -> float:
    return float(products.fields["cs5_timeseries.nc"]["exuded"].values[0, -1])


def _check_exuded_against_constant_flux(series, microbes, cs5):
    """Exudation is linear in the flux and acts on the same lattice: exuded carbon with the
    series / with a constant flux F0 = (integral of the series over the run) / (F0 T)."""
    from rhizoscale.microbes.model import RootExudation
    hours = 2.0
    cs5 = dict(cs5, exudation_flux=5.0)
    const = run_products(scenario_from_dict(cs5, source="cs5.yaml"))
    want = RootExudation.from_boundary_series(series).amount(0.0, hours) / \
        RootExudation.constant(5.0 * 1e9 / 1e8 / 24.0).amount(0.0, hours)
    assert want > 0
    assert _exuded(microbes) / _exuded(const) == pytest.approx(want, rel=1e-10)


def test_cs3_root_surface_flux_drives_cs5_exudation():
    """CS3 -> CS5: the image-based flux density over the root-soil contact (µg cm-2 s-1,
    decaying in time) is the microbes' exudation; units converted, the series' integral
    delivered exactly."""
    from small_examples import small_example
    cs3 = small_example("cs3-root-hairs")
    cs3["sample"]["shape"] = [12, 32, 32]
    cs3.update(outputs=NO_FILES)
    cs5 = _cs5_rhizosphere()
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "hairs", "scenario": cs3},
        {"id": "microbes", "scenario": cs5,
         "inputs": {"boundary_series": "hairs.root_surface_flux_with_hairs.nc"}}]}, source="cs3-cs5.yaml")
    res = pipe.run()
    series = res.products["hairs"].series["root_surface_flux_with_hairs.nc"]
    assert series.data.attrs["units"] == "ug cm-2 s-1"
    assert res.steps[1]["inputs"]["boundary_series"]["kind"] == "series"
    _check_exuded_against_constant_flux(series, res.products["microbes"], cs5)


def test_cs1_surface_flux_is_the_line_source_while_the_location_is_in_the_release_zone():
    """CS1's flux at a root location: Q / (2 pi r) from the day the tip passes the location
    (arc s at v t = s) until it is release_length behind the tip (v t = s + l), else 0."""
    from rhizoscale.parameters import load_parameter_set
    from rhizoscale.rhizodeposition import (ExudateParameters, nearest_root_location, root_paths,
                                            straight_root_system, surface_flux_at)
    citrate = load_parameter_set(ExudateParameters, "citrate")          # l = 5 cm
    v, r = 0.8, 0.04
    paths = root_paths(straight_root_system(v, 12.0, radius=r))
    root, arc, axis, dist = nearest_root_location(paths, [0.1, -0.2, -1.6])
    assert (root, arc, dist) == (0, pytest.approx(1.6, abs=1e-12), pytest.approx(np.hypot(0.1, 0.2), abs=1e-12))
    t = np.linspace(0.0, 12.0, 241)
    f = surface_flux_at(paths, root, arc, t, citrate, r)
    on = (v * t >= arc - 1e-9) & (v * t - arc <= citrate.release_length + 1e-9)
    np.testing.assert_array_equal(f, np.where(on, citrate.Q / (2 * np.pi * r), 0.0))
    # summed over the root surface the flux is the release rate Q min(S, l) (mass balance)
    arcs = np.linspace(0.0, v * 12.0, 4801)[:-1] + v * 12.0 / 9600
    total = sum(surface_flux_at(paths, 0, a, [9.0], citrate, r)[0] for a in arcs) * 2 * np.pi * r * v * 12.0 / 4800
    assert total == pytest.approx(citrate.Q * citrate.release_length, rel=2e-3)
    mucilage = load_parameter_set(ExudateParameters, "mucilage")
    with pytest.raises(InputError, match="point source"):
        surface_flux_at(paths, root, arc, t, mucilage, r)


def test_cs1_root_surface_series_drive_cs5_exudation():
    """CS1 -> CS5: the citrate flux at a root location from the time the tip arrives
    (series start 0.95 d, tip at 1 cm at 1 d) is the microbes' exudation; the
    concentration series is CS1's point value at the root surface."""
    from small_examples import small_example
    from rhizoscale.rhizodeposition import concentration_points, root_paths, straight_root_system
    cs1 = small_example("cs1-single-root")
    cs1.update(growth_rates=None, exudates=["citrate"], outputs=NO_FILES,
               boundary_location={"point": [0.02, 0.0, -1.0], "start": 0.95, "times": [0, 0.04, 0.06, 0.1, 0.5]})
    cs5 = _cs5_rhizosphere()
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "roots", "scenario": cs1},
        {"id": "microbes", "scenario": cs5, "inputs": {"boundary_series": "roots.root_surface_flux_citrate.nc"}}]},
        source="cs1-cs5.yaml")
    res = pipe.run()
    roots = res.products["roots"]
    flux = roots.series["root_surface_flux_citrate.nc"]
    q = roots.info["citrate"]["parameters"]["Q"]
    np.testing.assert_allclose(flux.data.values, np.array([0, 0, 1, 1, 1]) * q / (2 * np.pi * 0.05), rtol=1e-14)
    conc = roots.series["root_surface_concentration_citrate.nc"]
    from rhizoscale.parameters import load_parameter_set
    from rhizoscale.rhizodeposition import ExudateParameters
    p = load_parameter_set(ExudateParameters, "citrate")
    paths = root_paths(straight_root_system(1.0, 3.0))
    assert conc.data.values[-1] == concentration_points(paths, [[0.05, 0.0, -1.0]], 0.95 + 0.5, p)[0]
    assert conc.quantity == "concentration" and conc.data.attrs["units"] == "ug cm-3"
    _check_exuded_against_constant_flux(flux, res.products["microbes"], cs5)
    # the concentration series is accepted too (CS5 holds it on the root-adjacent water);
    # its units are among those the input declares, checked before any step runs
    conc_pipe = {"case": "pipeline", "steps": [
        {"id": "roots", "scenario": cs1},
        {"id": "microbes", "scenario": cs5,
         "inputs": {"boundary_series": "roots.root_surface_concentration_citrate.nc"}}]}
    held = scenario_from_dict(conc_pipe, source="conc.yaml").run().products["microbes"]
    assert _exuded(held) > 0
    cs1["boundary_location"] = {"point": [3.0, 0.0, -1.0]}
    with pytest.raises(InputError, match="boundary_location.point"):
        run_products(scenario_from_dict(cs1, source="cs1.yaml"))


def test_cs1_bad_boundary_location_is_refused_before_any_field(monkeypatch):
    """A location far from every root, a start after the run or series times beyond it
    are refused once the root system is known, before the fields (minutes for the full
    example) are computed: no RhizodepositionModel is ever made."""
    from small_examples import small_example
    import rhizoscale.rhizodeposition.scenario as cs1_scenario

    def no_fields(*args, **kwargs):
        raise AssertionError("fields computed before boundary_location was checked")
    monkeypatch.setattr(cs1_scenario, "RhizodepositionModel", no_fields)
    cs1 = small_example("cs1-single-root")
    cs1.update(exudates=["citrate"], outputs=NO_FILES)
    for loc, field in (({"point": [3.0, 0.0, -1.0]}, "boundary_location.point"),
                       ({"point": [0.0, 0.0, -1.0], "start": 5.0}, "boundary_location.start"),
                       ({"point": [0.0, 0.0, -1.0], "times": [0, 10]}, "boundary_location.times")):
        with pytest.raises(InputError, match=field):
            run_products(scenario_from_dict(dict(cs1, boundary_location=loc), source="cs1.yaml"))


def test_cs4_liquid_configuration_is_the_cs5_lattice(tmp_path):
    """CS4 (two-phase LBM) -> CS5: the water-distribution image handed on in memory is the
    microbes' lattice: the saturation CS5 sees is the image's water share of the pore
    space, and the run equals the one that reads the image file CS4 wrote, bit for bit."""
    from small_examples import small_example
    cs4 = {"case": "cs4-liquid-configuration", "mode": "water-distribution", "shape": [16, 16, 16],
           "voxel_size": 1e-3, "mean_grain_radius": 0.003, "saturations": [0.6], "max_steps": 100,
           "check_every": 50, "wall_density": 0.12, "contact_angle": None, "outputs": NO_FILES}
    cs5 = small_example("cs5-respiration")
    cs5.update(additions=[8.0], n_cells=60, time={"stop": "1 h", "dt": "30 min"}, outputs=NO_FILES)
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "pore", "scenario": cs4},
        {"id": "microbes", "scenario": cs5, "inputs": {"image.file": "pore.water_S60.nc"}}]}, source="cs4-cs5.yaml")
    pipe.run(out_dir=tmp_path / "run")
    from rhizoscale.link import load_step_products
    written = tmp_path / "run" / "pore" / "water_S60.nc"
    assert written.is_file()
    microbes = load_step_products(tmp_path / "run" / "microbes")
    from rhizoscale.products import image_from_dataset
    from rhizoscale.io.netcdf import read_netcdf
    image = image_from_dataset(read_netcdf(written))
    water, air = int(image.mask("water", "mucilage").sum()), int(image.mask("air").sum())
    ts = microbes.fields["cs5_timeseries.nc"]
    assert float(ts["saturation"].values[0]) == water / (water + air) < 1
    # the comparison below means something only with living cells (n_cells used to place
    # none at all for most seeds below the cluster size: 0 respired, 0 growth)
    assert ts["cells"].values[0, 0] == 60 and ts["co2"].values[0, -1] > 0
    direct = run_products(scenario_from_dict(dict(cs5, image={"file": str(written)}), source="cs5.yaml"))
    for name in ("biomass", "doc", "co2", "cells"):
        np.testing.assert_array_equal(direct.fields["cs5_timeseries.nc"][name].values, ts[name].values)
    # CS4 declares its products: a wrong link is refused when the pipeline is read, before
    # the LBM runs (an image cannot feed a key that takes a series; a saturation the step
    # does not compute is no product of it), one line naming step and field
    import rhizoscale.porescale.scenario as cs4_scenario

    def no_lbm(*args, **kwargs):
        raise AssertionError("the LBM ran before the links were checked")
    for inputs, says in (({"boundary_series": "pore.water_S60.nc"}, "is an image; 'boundary_series' takes"),
                         ({"image.file": "pore.water_S33.nc"}, "makes no product 'water_S33.nc'")):
        step = _cs5_rhizosphere() if "boundary_series" in inputs else cs5
        bad = {"case": "pipeline", "steps": [{"id": "pore", "scenario": cs4},
                                             {"id": "microbes", "scenario": step, "inputs": inputs}]}
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cs4_scenario, "TwoPhaseLBM", no_lbm)
            with pytest.raises(InputError, match=f"steps.microbes.inputs.{next(iter(inputs))}") as err:
                scenario_from_dict(bad, source="bad.yaml").run()
        assert says in str(err.value), err.value


def test_cs3_exudation_factor_of_the_contact_fraction_scales_cs1_release(tmp_path):
    """CS3 -> CS1: samples without hairs at several root-soil contact fractions give the
    exudation factor f(c) = M(c) / M(c_ref). Early on (10 s: diffusion length ~ 1 voxel)
    release is planar under each contact patch, so f is the contact-area ratio; CS1's
    released mass is linear in its rate, so it scales by exactly f at its own contact."""
    from small_examples import small_example
    cs3 = small_example("cs3-root-hairs")
    cs3["sample"].update(shape=[12, 32, 32], contact_fraction=0.3, hair_contact_fraction=0.35)
    cs3.update(outputs=NO_FILES, time={"stop": "10 s"}, contact_fractions=[0.12])   # reference: the sample's 0.3
    cs1 = small_example("cs1-single-root")
    cs1.update(growth_rates=None, exudates=["citrate"], outputs=NO_FILES)
    pipe = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "hairs", "scenario": cs3},
        {"id": "roots", "scenario": dict(cs1, contact_exudation={"contact_fraction": 0.2}),
         "inputs": {"contact_exudation.relation": "hairs.exudation_factor_contact"}}]}, source="cs3-cs1.yaml")
    res = pipe.run(memo=True)
    rel = res.products["hairs"].relations["exudation_factor_contact"]
    table = res.products["hairs"].info["cs3"]["exudation_factor_contact"]
    c = np.array(table["measured_contact_fraction"])
    assert rel.variable == "contact_fraction" and np.all(np.diff(rel.values) > 0) and rel.values[-1] == 1.0
    np.testing.assert_allclose(rel.values, c / table["reference_contact_fraction"], rtol=0.1)   # planar limit
    base = run_products(scenario_from_dict(cs1, source="cs1.yaml"))
    assert res.products["roots"].value("mass_in_domain_citrate") == pytest.approx(
        rel(0.2) * base.value("mass_in_domain_citrate"), rel=1e-10)
    assert res.products["roots"].info["citrate"]["parameters"]["Q"] == pytest.approx(
        rel(0.2) * base.info["citrate"]["parameters"]["Q"], rel=1e-14)
    # a contact fraction beyond the table is refused naming the field
    bad = scenario_from_dict({"case": "pipeline", "steps": [
        {"id": "hairs", "scenario": cs3},
        {"id": "roots", "scenario": dict(cs1, contact_exudation={"contact_fraction": 0.9}),
         "inputs": {"contact_exudation.relation": "hairs.exudation_factor_contact"}}]}, source="bad.yaml")
    with pytest.raises(InputError, match=r"contact_exudation.contact_fraction: contact fraction outside"):
        bad.run(memo=True)                                    # (the CS3 step is reused)
    for name in ("a.tif", "b.tif"):
        (tmp_path / name).touch()
    with pytest.raises(InputError, match=r"contact_fractions: .*needs generated samples"):
        scenario_from_dict(dict(small_example("cs3-root-hairs"), contact_fractions=[0.1],
                                images={"with_hairs": str(tmp_path / "a.tif"), "without_hairs": str(tmp_path / "b.tif"), "voxel_size": [1, 1, 1],
                                        "labels": {"soil": 1, "root": 2}}), source="cs3.yaml")


def test_domain_thickness_is_the_argument_of_the_cs4_relation_for_heterogeneous_media():
    """CS4's lognormal study as a relation of the domain thickness L [cm] (von Jeetze et al.
    2020): one voxel thick, a layer conducts at the arithmetic mean exactly (A/G = exp(s^2/2)
    for the lognormal sample); thicker layers fall towards the geometric mean (ratio 1)."""
    from small_examples import small_example
    cs4 = small_example("cs4-mucilage-diffusion")
    cs4.update(table_water_contents=[0.19], table_mucilage_fractions=[0.0], mucilage_fraction=0.0, outputs=NO_FILES,
               random_media_realisations=2, shape=[60, 60], periodisations=["translation"])
    out = run_products(scenario_from_dict(cs4, source="cs4.yaml"))
    rel = out.relations["d_eff_thickness"]
    study = out.fields["lognormal_thickness_study.nc"]
    h = cs4.get("voxel_size", 1e-3)
    assert rel.variable == "thickness" and rel.variable_units == "cm"
    np.testing.assert_allclose(rel.theta, study.thickness.values * h, rtol=1e-14)
    thin = (study["arithmetic"] / study["geometric"]).isel(thickness=0).mean().item()
    assert rel(h) == pytest.approx(thin, rel=1e-10)                 # one voxel: the arithmetic mean
    assert rel.values[0] == rel.values.max() > 1                    # thicker: lower (up to sample error)
    assert rel.values[-1] < 1 + 0.5 * (thin - 1)                    # towards the geometric mean when thick
    with pytest.raises(InputError, match="thickness: thickness outside the table range"):
        rel(0.5 * h)                                                # thinner than a voxel: not tabulated


def test_a_relation_of_another_variable_is_refused_naming_the_key(tmp_path):
    """CS3's contact factor f(contact fraction) fed as CS1's or CS2's D_eff(theta) table was
    read as D_eff(theta) without a word (a silent wrong number); a file that is no table
    was reported under `exudates` (CS1) or without the scenario key (CS2)."""
    from small_examples import small_example
    from rhizoscale.io.netcdf import write_netcdf
    from rhizoscale.products import TabulatedRelation, relation_to_dataset
    contact = tmp_path / "contact.nc"
    write_netcdf(relation_to_dataset(TabulatedRelation(
        [0.1, 0.3], [0.5, 1.0], 0.46, component="exudation_factor", variable="contact_fraction",
        variable_units="1")), contact)
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    cs1 = small_example("cs1-single-root")
    cs1.update(exudates=["citrate"], outputs=NO_FILES, growth_rates=None)
    cs2 = small_example("cs2-oilseed-rape")
    cs2.update(outputs=NO_FILES)
    cases = [(dict(cs1, soil_diffusivity={"table": str(contact), "d_water": {"citrate": 0.5}}),
              "soil_diffusivity.table: .*a relation of contact fraction, not of theta"),
             (dict(cs2, soil_diffusivity={"model": "table", "table": str(contact)}),
              "soil_diffusivity.table: .*a relation of contact fraction, not of theta"),
             (dict(cs1, contact_exudation={"relation": str(junk), "contact_fraction": 0.2}),
              "contact_exudation.relation: .*not a NetCDF table"),
             (dict(cs2, contact_exudation={"relation": str(junk), "contact_fraction": 0.2}),
              "contact_exudation.relation: .*not a NetCDF table")]
    for data, message in cases:
        with pytest.raises(InputError, match=message) as err:
            run_products(scenario_from_dict(data, source="s.yaml"))
        assert "exudates" not in str(err.value) and "\n" not in str(err.value)


def test_a_product_key_refusing_a_link_for_its_own_reason_says_that_reason():
    """A key that takes a product (CS5's boundary_series) but is refused for another reason
    (the respiration experiment has no root) gives that reason with the reference the user
    wrote, not 'does not take a product' (which was false) nor the internal placeholder."""
    from small_examples import small_example
    cs4 = {"case": "cs4-liquid-configuration", "mode": "water-distribution", "shape": [24, 24],
           "voxel_size": 1e-3, "mean_grain_radius": 0.003, "saturations": [0.6], "max_steps": 100,
           "wall_density": 0.12, "contact_angle": None, "outputs": NO_FILES}
    cs5 = small_example("cs5-respiration")
    bad = {"case": "pipeline", "steps": [
        {"id": "pore", "scenario": cs4},
        {"id": "microbes", "scenario": cs5, "inputs": {"boundary_series": "pore.water_S60.nc"}}]}
    with pytest.raises(InputError, match="steps.microbes.boundary_series: the respiration experiment "
                       "has no root") as err:
        scenario_from_dict(bad, source="bad.yaml")
    assert "'pore.water_S60.nc'" in str(err.value) and "pending" not in str(err.value)
    assert "does not take a product" not in str(err.value)


def test_an_input_error_raised_while_a_step_runs_names_the_step(tmp_path):
    """An InputError raised inside a step's run (not at validation) names the pipeline file
    and ``steps.ID.field``; it named only the field, so the step was left to guess."""
    import rhizoscale.microbes.scenario as cs5_scenario

    def refusing(config, ctx):
        raise InputError("refused while running", field="n_cells")
    cs5 = {"case": "cs5-microbes", "experiment": "respiration", "time": {"stop": "1 h", "dt": "30 min"},
           "lattice": {"shape": [4, 8, 8]}, "saturations": [0.5], "additions": [8.0], "outputs": NO_FILES}
    pipe = scenario_from_dict({"case": "pipeline", "steps": [{"id": "mic", "scenario": cs5}]}, source="p.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cs5_scenario, "run", refusing)
        for out in (None, tmp_path / "run"):       # in memory and writing the step's folder
            with pytest.raises(InputError, match=r"^p.yaml: steps.mic.n_cells: refused while running"):
                pipe.run(out_dir=out)
