"""Granular generator, effective-property tables, random media, soil models and the scenario."""

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.homogenization import effective_diffusion_tensor
from rhizoscale.homogenization.property_table import (
    effective_diffusivity_table, effective_property_table, write_property_table)
from rhizoscale.homogenization.random_media import lognormal_field, lognormal_thickness_study
from rhizoscale.image.generators.granular import (
    AIR, MUCILAGE, SOLID, WATER, liquid_configuration, local_pore_size, neck_gap, sand_packing)
from rhizoscale.soil import (SOIL_DIFFUSION_MODELS, millington_quirk, millington_quirk_1960,
                             moldrup_linear_impedance)


@pytest.fixture(scope="module")
def packing():
    return sand_packing((160, 160), 1e-3, porosity=0.41, mean_radius=0.006, seed=3)


def test_packing_is_seeded_and_hits_porosity(packing):
    assert packing.porosity == pytest.approx(0.41, abs=1 / packing.image.labels.size)
    again = sand_packing((160, 160), 1e-3, porosity=0.41, mean_radius=0.006, seed=3)
    assert np.array_equal(again.image.labels, packing.image.labels)
    other = sand_packing((160, 160), 1e-3, porosity=0.41, mean_radius=0.006, seed=4)
    assert not np.array_equal(other.image.labels, packing.image.labels)
    p3 = sand_packing((40, 40, 40), 1e-3, porosity=0.4, mean_radius=0.005, seed=1)
    assert p3.porosity == pytest.approx(0.4, abs=1e-4)


@pytest.mark.parametrize("rule", ["film", "drainage"])
def test_liquid_configuration_contents_and_rules(packing, rule):
    img = liquid_configuration(packing, 0.19, 0.1, rule=rule)
    n = img.labels.size
    liquid = np.isin(img.labels, [WATER, MUCILAGE])
    assert liquid.sum() == round(0.19 * n)
    assert np.sum(img.labels == MUCILAGE) == round(0.1 * round(0.19 * n))
    assert np.array_equal(img.labels == SOLID, packing.image.labels == SOLID)
    assert img.metadata["water_content"] == pytest.approx(0.19, abs=1 / n)
    # mucilage sits in narrower necks than the air it displaced
    gap = neck_gap(packing)
    assert np.median(gap[img.labels == MUCILAGE]) < np.median(gap[img.labels == AIR])
    # saturated and dry limits
    full = liquid_configuration(packing, packing.porosity, rule=rule)
    assert np.all(full.labels[packing.image.labels != SOLID] == WATER)
    with pytest.raises(InputError):
        liquid_configuration(packing, 0.5)


def test_local_pore_size_of_a_slit_and_periodicity():
    pore = np.zeros((30, 40), dtype=bool)
    pore[10:16, :] = True  # a slit 6 voxels wide: inscribed radius 3 everywhere
    size = local_pore_size(pore, 1.0, periodic=True)
    assert np.allclose(size[10:16, 5:35], 3.0, atol=0.51)
    assert np.all(size[~pore] == 0)
    rolled = local_pore_size(np.roll(pore, 17, axis=1), 1.0, periodic=True)
    assert np.allclose(np.roll(size, 17, axis=1), rolled)


def test_local_pore_size_agrees_with_porespy():
    ps = pytest.importorskip("porespy")
    im = ps.generators.blobs([120, 120], porosity=0.6, blobiness=1, seed=3)
    theirs = ps.filters.local_thickness(im, sizes=64)
    ours = local_pore_size(im, 1.0, periodic=False, levels=64)
    diff = np.abs(theirs - ours)[im]
    # porespy smooths the result and tests other radii: 91 % agree within one voxel
    assert np.mean(diff <= 1.0) > 0.85 and np.median(diff) < 0.5
    assert ours.max() == pytest.approx(theirs.max(), abs=1.0)


def test_drainage_empties_large_pores_first(packing):
    pore = packing.image.labels != SOLID
    size = local_pore_size(pore, packing.image.voxel_size)
    img = liquid_configuration(packing, 0.15, rule="drainage", pore_size=size)
    assert size[img.labels == WATER].max() <= size[img.labels == AIR].min() + 1e-12


def test_mucilage_bridges_raise_weak_direction():
    # the scenario's sample (seed 2, reduced size): water alone is weakly connected
    p = sand_packing((250, 250), 2e-3, porosity=0.41, mean_radius=0.024, seed=2)
    water = effective_diffusion_tensor(liquid_configuration(p, 0.19, 0.0))
    bridges = effective_diffusion_tensor(liquid_configuration(p, 0.19, 0.1))
    assert bridges.eigenvalues[-1] > water.eigenvalues[-1]
    assert np.trace(bridges.tensor) > np.trace(water.tensor)


def test_property_table_roundtrip_and_loader(tmp_path, packing):
    thetas = [0.1, 0.19, 0.3, packing.porosity]
    ds = effective_property_table(packing, thetas, (0.0, 0.1))
    assert ds.tensor.shape == (4, 2, 2, 2)
    # saturated with water only = the pore-space tensor
    sat = effective_diffusion_tensor(packing.image)
    assert np.allclose(ds.tensor.values[-1, 0], sat.tensor)
    assert np.all(np.diff(ds.d_eff.values[:, 0]) >= 0)  # more water, more diffusion
    nc, csv = write_property_table(ds, tmp_path / "table")
    assert csv.read_text().count("\n") == 2 + 8
    f = effective_diffusivity_table(nc)
    assert f(0.19) == pytest.approx(ds.d_eff.values[1, 0])
    mid = 0.5 * (0.19 + 0.3)
    assert f(mid, 0.41, d_water=2.0) == pytest.approx(ds.d_eff.values[1:3, 0].mean() * 2)
    assert f(0.0) == 0.0
    assert np.allclose(f(np.array(thetas)), ds.d_eff.values[:, 0])
    with pytest.raises(InputError, match="range"):
        f(0.5)
    with pytest.raises(InputError, match="not tabulated"):
        effective_diffusivity_table(nc, mucilage_fraction=0.3)
    with pytest.raises(InputError):
        effective_diffusivity_table(tmp_path / "missing.nc")


def test_lognormal_large_domain_geometric_thin_domain_arithmetic():
    field = lognormal_field((192, 192), 1.0, 3.0, seed=7)
    assert np.exp(np.log(field).mean()) == pytest.approx(1.0)
    res = effective_diffusion_tensor(field)
    # Matheron: geometric mean for a domain of ~30 correlation lengths (sample error ~3 %)
    assert np.allclose(res.eigenvalues, 1.0, rtol=0.05)
    study = lognormal_thickness_study([1, 4, 16, 96], width=96, correlation_length=3.0,
                                      realisations=2, seed=1)
    pos = study.position.values
    assert pos[0] == pytest.approx(1.0, abs=1e-10)  # one voxel thick: arithmetic exactly
    assert np.all(np.diff(pos) < 0) and abs(pos[-1]) < 0.1


def test_soil_models_reference_values():
    assert millington_quirk(0.19, 0.41) == pytest.approx(2.3457e-2, rel=1e-4)
    assert millington_quirk_1960(0.41, 0.41) == pytest.approx(0.41 ** (4 / 3))
    assert moldrup_linear_impedance(0.05, 0.41, theta_threshold=0.06) == 0.0
    for name, f in SOIL_DIFFUSION_MODELS.items():
        values = f(np.array([0.05, 0.1, 0.2, 0.3]), 0.41)
        assert np.all(np.diff(values) > 0), name
        with pytest.raises(InputError):
            f(-0.1, 0.41)


def test_scenario_runs_small(tmp_path):
    import json
    from rhizoscale.scenario import example_text, run_scenario, scenario_from_dict
    import yaml
    data = yaml.safe_load(example_text("cs4-mucilage-diffusion"))
    data.update(shape=[160, 160], voxel_size=2e-3, mean_grain_radius=0.015,
                table_water_contents=[0.19, 0.41], random_media_width=32,
                random_media_realisations=1)
    summary = run_scenario(scenario_from_dict(data), tmp_path)
    assert summary["details"]["millington_quirk"] == pytest.approx(2.3457e-2, rel=1e-4)
    for key in ("water only/mirror", "with mucilage bridges/mirror"):
        t = np.array(summary["details"]["tensors"][key]["tensor_xyz"])
        assert np.count_nonzero(t - np.diag(np.diag(t))) == 0
    assert (tmp_path / "phases_principal_directions.png").is_file()
    assert json.loads((tmp_path / "summary.json").read_text())["quantities"]["porosity"]["value"] == pytest.approx(0.41, abs=1e-4)
    with pytest.raises(InputError):
        scenario_from_dict({**data, "water_content": 0.5})
