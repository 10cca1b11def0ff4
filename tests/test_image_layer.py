import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.image import Image, Phase
from rhizoscale.image.generators import rhizosphere_sample, soil_aggregates
from rhizoscale.image.io import read_image, read_labels, write_tiff, write_vtk_image
from rhizoscale.image.metrics import (contact_fractions, distance_below, distance_from,
                                      interface_area, phase_volumes, profile_by_distance,
                                      surface_area)
from rhizoscale.image.transform import coarsen, crop

PHASES = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 1.0, "pore"), Phase("root", 2, 0.0, "root"))


def test_tiff_npy_raw_folder_roundtrip(tmp_path):
    import tifffile
    lab = np.random.default_rng(0).integers(0, 3, (5, 6, 7)).astype(np.uint8)
    img = Image(lab, (1e-3, 2e-3, 3e-3), PHASES)
    write_tiff(img, tmp_path / "a.tif")
    np.testing.assert_array_equal(read_labels(tmp_path / "a.tif"), lab)
    np.save(tmp_path / "a.npy", lab)
    np.testing.assert_array_equal(read_labels(tmp_path / "a.npy"), lab)
    lab.astype("<u2").tofile(tmp_path / "a.raw")
    got = read_image(tmp_path / "a.raw", (1e-3, 2e-3, 3e-3), PHASES, shape=(5, 6, 7), dtype="<u2")
    np.testing.assert_array_equal(got.labels, lab)
    (tmp_path / "stack").mkdir()
    for k in range(5):
        tifffile.imwrite(tmp_path / "stack" / f"s{k:03d}.tif", lab[k])
    np.testing.assert_array_equal(read_labels(tmp_path / "stack"), lab)
    with pytest.raises(InputError, match="bytes"):
        read_labels(tmp_path / "a.raw", shape=(5, 6, 8), dtype="<u2")


def test_bad_images(tmp_path):
    np.save(tmp_path / "bad.npy", np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(InputError, match="non-finite"):
        read_labels(tmp_path / "bad.npy")
    np.save(tmp_path / "unk.npy", np.array([[0, 7], [1, 1]], dtype=np.uint8))
    with pytest.raises(InputError, match=r"labels \[7\]"):
        read_image(tmp_path / "unk.npy", 1e-3, PHASES)
    with pytest.raises(InputError, match="not found"):
        read_labels(tmp_path / "none.tif")


def test_vtk_written_atomically(tmp_path):
    lab = np.zeros((3, 4, 5), np.uint8)
    p = write_vtk_image(tmp_path / "f", {"labels": lab, "c": np.ones((3, 4, 5))}, (1, 2, 3))
    assert p.name == "f.vti" and b"VTKFile" in p.read_bytes()[:300]
    assert [q.name for q in tmp_path.iterdir()] == ["f.vti"]


def test_crop_and_majority_coarsen_with_tie_breaking():
    lab = np.zeros((2, 2, 4), np.uint8)
    lab[:, :, 2:] = 2
    lab[0, 0, 2:] = 1           # block 2: 6 root + 2 soil -> root
    lab[:, 0, :2] = 1           # block 1: 4 soil + 4 air -> tie
    img = Image(lab, 1e-3, PHASES)
    c = coarsen(img, 2)
    assert c.shape == (1, 1, 2) and c.voxel_size == (2e-3,) * 3
    assert c.labels[0, 0, 1] == 2
    assert c.labels[0, 0, 0] == 0                                  # phase-table order: air first
    assert coarsen(img, 2, priority=["soil"]).labels[0, 0, 0] == 1  # explicit priority
    assert crop(img, (0, 0, 1), (2, 2, 3)).shape == (2, 2, 2)
    with pytest.raises(InputError):
        crop(img, (0, 0, 0), (3, 2, 2))


def test_face_counting_areas_on_a_box():
    lab = np.zeros((6, 7, 8), np.uint8)
    lab[1:4, 2:5, 3:7] = 2      # 3 x 3 x 4 root box in air
    lab[1:4, 2:5, 7] = 1        # soil against its +x face
    h = (1.0, 2.0, 3.0)
    img = Image(lab, h, PHASES)
    box_area = 2 * (3 * 3 * h[0] * h[1] + 3 * 4 * h[0] * h[2] + 3 * 4 * h[1] * h[2])
    assert surface_area(img, "root") == pytest.approx(box_area)
    assert interface_area(img, "root", "soil") == pytest.approx(9 * h[0] * h[1])
    cf = contact_fractions(img, "root", "hair", "soil")
    assert cf["contact_fraction"] == pytest.approx(9 * h[0] * h[1] / box_area)
    vols = phase_volumes(img)
    assert vols["root"] == pytest.approx(36 * 6.0)


def test_distance_from_plane_and_profile():
    lab = np.ones((4, 5, 30), np.uint8)
    lab[..., :3] = 2
    img = Image(lab, (1.0, 1.0, 0.5), PHASES)
    d = distance_from(img, "root")
    np.testing.assert_allclose(d[0, 0, 3:], (np.arange(27) + 0.5) * 0.5)
    prof = profile_by_distance(np.exp(-d), d, lab == 1, 0.5)
    np.testing.assert_allclose(prof["mean"].values[:27], np.exp(-(np.arange(27) + 0.5) * 0.5))
    assert np.all(prof["std"].values[:27] < 1e-12)
    x = prof["distance"].values[:27]
    assert distance_below(x, prof["mean"].values[:27], np.exp(-5.0)) == pytest.approx(5.0, abs=0.05)  # linear interpolation of a convex profile


def test_aggregates_porosity_and_seed():
    a = soil_aggregates((20, 20, 20), 1e-3, 0.4, 2e-3, seed=3)
    assert abs(1 - a.mean() - 0.4) < 1e-3
    np.testing.assert_array_equal(a, soil_aggregates((20, 20, 20), 1e-3, 0.4, 2e-3, seed=3))


def test_rhizosphere_sample_hits_contact_targets():
    s = rhizosphere_sample((30, 40, 40), 2e-3, root_radius=0.02, contact_fraction=0.1,
                           hair_contact_fraction=0.3, hair_length=0.015, seed=5)
    assert s.contact_without_hairs["contact_fraction"] == pytest.approx(0.1, abs=0.01)
    assert s.contact_with_hairs["contact_fraction_with_hairs"] == pytest.approx(0.3, abs=0.03)
    assert not s.without_hairs.mask("hair").any() and s.with_hairs.mask("hair").any()
    # removing hairs changes nothing but the hair voxels
    same = ~s.with_hairs.mask("hair")
    np.testing.assert_array_equal(s.with_hairs.labels[same], s.without_hairs.labels[same])
    again = rhizosphere_sample((30, 40, 40), 2e-3, root_radius=0.02, contact_fraction=0.1,
                               hair_contact_fraction=0.3, hair_length=0.015, seed=5)
    np.testing.assert_array_equal(again.with_hairs.labels, s.with_hairs.labels)


def test_a_one_slice_3d_image_stays_3d_through_tiff(tmp_path):
    lab = np.array([[[0, 1, 1], [1, 0, 1]]], dtype=np.uint8)        # shape (1, 2, 3)
    write_tiff(lab, tmp_path / "one.tif")
    assert read_labels(tmp_path / "one.tif").shape == (1, 2, 3)
