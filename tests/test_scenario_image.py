"""The shared ``image:`` section: a case reads a user's segmented image (CS4 here)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhizoscale.errors import InputError
from rhizoscale.products import image_to_dataset
from rhizoscale.scenario import run_products, scenario_from_dict


def _cs4(tmp_path, image: dict, **extra):
    return scenario_from_dict({"case": "cs4-homogenisation", "name": "img", "image": image,
                               "random_media": False, "table_water_contents": [],
                               "outputs": {"figures": False}, **extra},
                              source=str(tmp_path / "s.yaml"), base_dir=tmp_path)


def test_layered_image_gives_arithmetic_and_harmonic_means(tmp_path):
    # rows alternate water (D = 1) and mucilage (D = 0.5) with a solid row: along the
    # layers the arithmetic mean of the column, across them zero (the solid row blocks)
    rows = np.array([2, 3, 2, 2, 3, 1], np.uint8)            # water, mucilage, solid
    labels = np.repeat(rows[:, None], 8, axis=1)
    np.save(tmp_path / "layers.npy", labels)
    sc = _cs4(tmp_path, {"file": "layers.npy", "voxel_size": 1e-3,
                         "labels": {"water": 2, "mucilage": 3, "solid": 1}}, d_mucilage=0.5)
    prod = run_products(sc)
    along = (3 * 1.0 + 2 * 0.5) / 6
    t = prod.info["tensors"]["translation"]["tensor_xyz"]
    assert t[0][0] == pytest.approx(along, rel=1e-6)      # x: along the layers
    assert abs(t[1][1]) < 1e-9                            # y: across the solid row
    assert prod.scalars["porosity"].value == pytest.approx(5 / 6)
    assert prod.scalars["water_content"].value == pytest.approx(5 / 6)
    # without the solid row, across the layers is the harmonic mean
    np.save(tmp_path / "liquid.npy", np.repeat(np.array([2, 3, 2, 2, 3, 2], np.uint8)[:, None], 8, axis=1))
    prod = run_products(_cs4(tmp_path, {"file": "liquid.npy", "voxel_size": [1e-3, 2e-3],
                                        "labels": {"water": 2, "mucilage": 3}}, d_mucilage=0.5))
    t = prod.info["tensors"]["mirror"]["tensor_xyz"]
    assert t[0][0] == pytest.approx((4 + 2 * 0.5) / 6, rel=1e-6)
    assert t[1][1] == pytest.approx(6 / (4 / 1.0 + 2 / 0.5), rel=1e-6)


def test_netcdf_image_carries_voxel_size_and_labels(tmp_path):
    from rhizoscale.homogenization import effective_diffusion_tensor
    from rhizoscale.image.generators import liquid_configuration, sand_packing
    image = liquid_configuration(sand_packing((60, 60), 1e-3, 0.4, mean_radius=0.008, seed=3), 0.25, 0.1,
                                 d_mucilage=0.5)
    image_to_dataset(image).to_netcdf(tmp_path / "liquid.nc")
    prod = run_products(_cs4(tmp_path, {"file": "liquid.nc"}, d_mucilage=0.5))
    direct = effective_diffusion_tensor(image, periodisation="mirror")
    assert np.allclose(prod.info["tensors"]["mirror"]["tensor_xyz"], direct.in_xyz(), rtol=1e-6, atol=1e-12)
    assert prod.scalars["water_content"].value == pytest.approx(
        float(np.isin(image.labels, [2, 3]).mean()))
    ds = prod.fields["image.nc"]
    assert ds["labels"].attrs["flag_meanings"] and ds["x"].attrs["units"] == "cm"
    # what a pipeline or a sensitivity analysis is told the run makes is what it makes
    from rhizoscale.homogenization.scenario import declared_products
    sc = _cs4(tmp_path, {"file": "liquid.nc"}, d_mucilage=0.5)
    declared = declared_products(sc.config)
    made = {k: ("scalar", s.units) for k, s in prod.scalars.items()}
    assert {k: declared.get(k) for k in made} == made
    assert set(declared) <= set(made) | set(prod.fields)


@pytest.mark.parametrize("image, message", [
    ({"file": "a.npy", "voxel_size": 1e-3, "labels": {"water": 1, "rock": 0}}, "unknown phase names ['rock']"),
    ({"file": "a.npy", "labels": {"water": 1, "solid": 0}}, "voxel_size: needed"),
    ({"file": "a.npy", "voxel_size": 1e-3}, "labels: needed"),
    ({"file": "a.npy", "voxel_size": -1, "labels": {"water": 1, "solid": 0}}, "voxel sizes must be positive"),
    ({"file": "nosuch.npy", "voxel_size": 1e-3, "labels": {"water": 1, "solid": 0}}, "not found"),
    ({"file": "a.npy", "voxel_size": 1e-3, "labels": {"water": 5, "solid": 0}}, "a.npy"),
    ({"file": "dry.npy", "voxel_size": 1e-3, "labels": {"air": 1, "solid": 0}}, "no water or mucilage label"),
])
def test_bad_images_are_refused_naming_file_and_field(tmp_path, image, message):
    np.save(tmp_path / "a.npy", np.array([[0, 1], [1, 1]], np.uint8))
    np.save(tmp_path / "dry.npy", np.array([[0, 1], [1, 1]], np.uint8))
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        run_products(_cs4(tmp_path, image))
    text = str(err.value)
    assert "image" in text
