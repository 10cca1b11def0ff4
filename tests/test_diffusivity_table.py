"""Mucilage placement into liquid images and the cs4-diffusivity-table chain (issue #13).

Oracles: exact volumes and an untouched image at zero mucilage (placement); a bridge
spanning a neck joins both grains; Rayleigh monotonicity (adding conducting voxels never
lowers the effective tensor: nested film configurations in theta, nested mucilage at fixed
water); zero mucilage gives the water-only tensor exactly; mirrored tensors diagonal; the
paper's qualitative result in 2D and 3D (a blocked direction that mucilage opens); the
table is read by CS1/CS2's soil_diffusivity link.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from rhizoscale.core.image import Image
from rhizoscale.errors import InputError
from rhizoscale.homogenization import effective_diffusion_tensor
from rhizoscale.image.generators import liquid_configuration, sand_packing
from rhizoscale.image.generators.granular import AIR, MUCILAGE, SOLID, WATER, granular_phases
from rhizoscale.mucilage import Grains, grains_from_image, neck_geometry, place_mucilage_bridges
from rhizoscale.outputs import RunContext
from rhizoscale.scenario import run_products, scenario_from_dict


def _two_discs(gap: float, r: float = 8.0, n: int = 48):
    """Two discs of radius r (voxels, voxel 1 cm) with a surface gap, wetted by thin films."""
    c = np.array([[n / 2, n / 2 - r - gap / 2], [n / 2, n / 2 + r + gap / 2]])
    grains = Grains(c, np.array([r, r]), np.array([n, n], float))
    yy, xx = (np.mgrid[:n, :n] + 0.5)
    d = np.min([np.hypot(yy - cy, xx - cx) - r for cy, cx in c], axis=0)
    labels = np.where(d < 0, SOLID, np.where(d < 2.0, WATER, AIR)).astype(np.uint8)
    return Image(labels, (1.0, 1.0), granular_phases()), grains


def test_placement_volume_is_exact_and_zero_mucilage_leaves_the_image_untouched():
    p = sand_packing((100, 100), 1e-3, porosity=0.41, mean_radius=0.01, seed=3)
    water = liquid_configuration(p, 0.15)
    grains = Grains(p.centers, p.radii, p.box)
    same = place_mucilage_bridges(water, 0.0, grains)
    assert np.array_equal(same.labels, water.labels)
    for content in (0.013, 0.05):
        img = place_mucilage_bridges(water, content, grains)
        assert np.sum(img.labels == MUCILAGE) == round(content * img.labels.size)
        kept = water.labels != AIR                      # water and solid untouched
        assert np.array_equal(img.labels[kept], water.labels[kept])
    with pytest.raises(InputError, match="mucilage_content"):
        place_mucilage_bridges(water, 0.5, grains)       # more than the air


def test_a_bridge_spans_an_open_neck_and_contacts_or_wide_necks_get_none():
    img, grains = _two_discs(gap=6.0)                  # films 2 voxels thick: 2 voxels of air between
    w, g = neck_geometry(img.shape, img.voxel_size, grains)
    assert np.isclose(g[24, 24], 6.0) and np.isclose(w[(g > 0) & (img.labels != SOLID)].min(), 6.0, atol=0.05)
    out = place_mucilage_bridges(img, 30 / img.labels.size, grains)
    muc = out.labels == MUCILAGE
    lab, n = ndimage.label(muc)
    assert n == 1 and out.metadata["mucilage_on_bridges"] == 1.0
    # the bridge touches the water films of both grains: liquid connects grain to grain
    liquid, _ = ndimage.label(out.labels >= WATER)
    films, k = ndimage.label(img.labels == WATER)
    assert k == 2 and liquid[films == 1].max() == liquid[films == 2].max()
    # a neck wider than max_gap is no bridge site: the volume goes elsewhere
    capped = place_mucilage_bridges(img, 30 / img.labels.size, grains, max_gap=5.0)
    assert capped.metadata["mucilage_on_bridges"] == 0.0
    assert np.sum(capped.labels == MUCILAGE) == 30
    # touching grains: a contact, whose wedge holds water, is no bridge site
    touching, tg = _two_discs(gap=-1.0)
    assert place_mucilage_bridges(touching, 20 / touching.labels.size, tg).metadata["mucilage_on_bridges"] == 0.0


def test_grains_from_image_recovers_separate_discs():
    img, grains = _two_discs(gap=6.0)
    found = grains_from_image(img.labels == SOLID, 1.0)
    order = np.argsort(found.centers[:, 1])
    assert len(found.radii) == 2
    assert np.allclose(found.centers[order], grains.centers, atol=1.0)
    assert np.allclose(found.radii[order], grains.radii, atol=1.0)


def _chain(overrides: dict, seed: int = 4):
    from rhizoscale.link.diffusivity_table import _Chain
    sc = scenario_from_dict({"case": "cs4-diffusivity-table", "seed": seed, **overrides})
    return _Chain(sc.config, RunContext(seed=seed)), sc.config


def _min_eig(a):
    return float(np.linalg.eigvalsh(a).min())


def test_rayleigh_monotonicity_nested_water_and_nested_mucilage():
    """Adding conducting voxels never lowers the tensor (Loewner order): film water at
    increasing theta is nested, and so is mucilage added to fixed water."""
    chain, _ = _chain({"shape": [120, 120]}, seed=1)
    prev_img, prev = None, None
    for th in (0.2, 0.26, 0.33):
        img = chain.water_image(th, "t")
        t = effective_diffusion_tensor(img, rtol=1e-9).tensor
        if prev is not None:
            assert np.all((img.labels == WATER) >= (prev_img.labels == WATER))
            assert _min_eig(t - prev) > -1e-8
        prev_img, prev = img, t
    water = chain.water_image(0.17, "t")
    prev = effective_diffusion_tensor(water, rtol=1e-9).tensor
    for c in (0.01, 0.02, 0.04):
        t = effective_diffusion_tensor(place_mucilage_bridges(water, c, chain.grains, neck=chain.neck),
                                       rtol=1e-9).tensor
        assert _min_eig(t - prev) > -1e-8
        prev = t


def test_2d_chain_water_only_blocked_mucilage_opens_zero_mucilage_exact_mirror_diagonal(tmp_path):
    """Seed 4, the paper's 2D sand at theta = 0.19: the water-only tensor has a blocked
    direction and 10 % mucilage bridging every open neck (max_bridge_gap 1 cm, no network
    cap) opens it; the table's zero-mucilage column is the water-only tensor exactly;
    mirrored tensors are diagonal; CS1/CS2 read the table. (With the network's spanning
    gap the 2D bridges stay below 0.27 of the pair radius: tests/test_mucilage_span.py.)"""
    sc = scenario_from_dict({"case": "cs4-diffusivity-table", "seed": 4, "shape": [300, 300],
                             "water_contents": [0.19, 0.41], "mucilage_fractions": [0.0, 0.1],
                             "max_bridge_gap": 1.0, "outputs": {"figures": False}})
    products = run_products(sc)
    table = products.fields["effective_diffusivity_table.nc"]
    assert products.value("d_eff_min_water_only_translation") == 0.0
    assert products.value("d_eff_min_water_only_mirror") == 0.0
    assert products.value("d_eff_min_with_mucilage_translation") > 0.01
    assert products.value("d_eff_min_with_mucilage_mirror") > 0.01
    mirror = table.tensor_mirror.values
    assert np.all(mirror[..., 0, 1] == 0) and np.all(mirror[..., 1, 0] == 0)
    # zero mucilage: the water-only configuration's tensor, bit for bit
    chain, _ = _chain({"shape": [300, 300]}, seed=4)
    direct = effective_diffusion_tensor(chain.water_image(0.41, "t")).tensor
    assert np.array_equal(table.tensor.values[1, 0], direct)
    # saturated: mucilage (D 0.5) replacing water lowers D_eff
    assert table.d_eff.values[1, 1] < table.d_eff.values[1, 0]
    # the product CS1/CS2 consume (soil_diffusivity.table), in memory and through NetCDF
    from rhizoscale.io.netcdf import write_netcdf
    from rhizoscale.products import read_relation
    rel = products.relations["d_eff"]
    write_netcdf(table, tmp_path / "t.nc")
    back = read_relation(tmp_path / "t.nc", mucilage_fraction=0.1)
    assert back(0.3) == rel(0.3) and rel(0.19) == pytest.approx(table.d_eff.values[0, 1])
    assert table.theta.attrs["units"] == "cm3 cm-3" and "pore_image" in table.attrs


def test_3d_chain_water_only_blocked_mucilage_opens():
    chain, _ = _chain({"shape": [40, 40, 40], "mean_grain_radius": 0.006}, seed=1)
    water = chain.configuration(0.1, 0.0, "t")
    muc = chain.configuration(0.1, 0.1, "t")
    tw = effective_diffusion_tensor(water).tensor
    tm = effective_diffusion_tensor(muc).tensor
    x = 2                                                   # array axis of x
    assert tw[x, x] == 0.0 and tm[x, x] > 5e-4
    mirror = effective_diffusion_tensor(muc, periodisation="mirror").tensor
    assert np.count_nonzero(mirror - np.diag(np.diag(mirror))) == 0


def test_pipeline_links_the_table_to_cs2_and_bad_grids_are_refused():
    from rhizoscale.link import pipeline_from_dict
    pipe = pipeline_from_dict({"case": "pipeline", "steps": [
        {"id": "pore", "scenario": {"case": "cs4-diffusivity-table", "shape": [60, 60]}},
        {"id": "uptake", "scenario": {"case": "cs2-phosphate-uptake", "soil_diffusivity": {"model": "table"}},
         "inputs": {"soil_diffusivity.table": "pore.d_eff"}}]})
    assert pipe.declared["pore"]["d_eff"] == ("relation", "1")
    with pytest.raises(InputError, match="mucilage_fraction"):
        scenario_from_dict({"case": "cs4-diffusivity-table", "mucilage_fractions": [0.0, 0.2]})
    with pytest.raises(InputError, match="water_contents"):
        scenario_from_dict({"case": "cs4-diffusivity-table", "water_contents": [0.2, 0.1]})
    with pytest.raises(InputError, match="water_contents"):
        scenario_from_dict({"case": "cs4-diffusivity-table", "water_contents": [0.2, 0.5]})
    # checks across keys name the key first and do not print the whole scenario mapping
    for bad, field in (({"mucilage_fraction": 0.15}, "mucilage_fraction"),
                       ({"mucilage_fractions": [0.0, 0.1, 1.2]}, "mucilage_fractions"),
                       ({"water_content": 0.5}, "water_content"),
                       # settings of the network search that a fixed cap skips
                       ({"max_bridge_gap": 1.0, "bridge_span": {"radius_classes": 3}}, "bridge_span")):
        with pytest.raises(InputError) as err:
            scenario_from_dict({"case": "cs4-diffusivity-table", **bad}, source="t.yaml")
        assert str(err.value).startswith(f"t.yaml: {field}: ") and "{" not in str(err.value)


def test_a_packing_of_one_grain_is_refused_naming_shape():
    """24^3 voxels of 1e-3 cm hold one grain of the default 0.012 cm radius: refused naming
    shape (it was 'grains: a neck needs at least two grains', a key the user cannot set)."""
    with pytest.raises(InputError, match=r"shape: the generated packing holds 1 grain"):
        _chain({"shape": [24, 24, 24], "water_contents": [0.19]})


def test_lbm_liquid_runs_under_the_simulation_and_keeps_the_mucilage_volume_exact():
    sc = scenario_from_dict({"case": "cs4-diffusivity-table", "seed": 1, "shape": [48, 48],
                             "mean_grain_radius": 0.006, "liquid": "lbm", "water_contents": [0.2, 0.3],
                             "mucilage_fractions": [0.0, 0.1], "water_content": 0.2,
                             "lbm": {"max_steps": 200, "check_every": 100}, "outputs": {"figures": False}})
    table = run_products(sc).fields["effective_diffusivity_table.nc"]
    n = 48 * 48
    for a, th in enumerate(table.theta.values):
        expected = round(0.1 * round(th * n)) / n
        assert table.mucilage_volume_fraction.values[a, 1] == pytest.approx(expected, abs=1e-12)
    assert table.attrs["liquid_rule"] == "lbm"
    assert np.all(table.d_eff.values[-1] > 0)


def test_a_user_image_runs_through_the_chain_and_bad_images_are_refused(tmp_path):
    p = sand_packing((120, 120), 1e-3, porosity=0.41, mean_radius=0.012, seed=2)
    np.save(tmp_path / "sand.npy", np.where(p.image.labels == SOLID, 7, 0).astype(np.uint8))
    base = {"case": "cs4-diffusivity-table", "water_contents": [0.19, 0.41], "mucilage_fractions": [0.0, 0.1],
            "outputs": {"figures": False}}
    sc = scenario_from_dict({**base, "image": {"file": str(tmp_path / "sand.npy"), "voxel_size": 1e-3,
                                               "labels": {"solid": 7, "air": 0}}})
    products = run_products(sc)
    table = products.fields["effective_diffusivity_table.nc"]
    assert products.value("porosity") == pytest.approx(0.41, abs=1e-4)
    assert "sand.npy" in table.attrs["pore_image"]
    assert np.all(table.d_eff.values[-1] > 0.1)                     # nearly saturated: conducts
    assert table.mucilage_volume_fraction.values[0, 1] == pytest.approx(round(0.1 * round(0.19 * 14400)) / 14400)
    np.save(tmp_path / "solid.npy", np.full((20, 20), 7, np.uint8))
    with pytest.raises(InputError, match="solid and pore"):
        run_products(scenario_from_dict({**base, "image": {"file": str(tmp_path / "solid.npy"), "voxel_size": 1e-3,
                                                           "labels": {"solid": 7}}}))
    with pytest.raises(InputError, match="image.labels"):
        run_products(scenario_from_dict({**base, "image": {"file": str(tmp_path / "sand.npy"), "voxel_size": 1e-3,
                                                           "labels": {"air": 0}}}))
