"""Resolved mode of the mucilage network: the meniscus fitted to a voxel liquid bridge (issue #13).

Oracle: a voxelised toroidal bridge (known r1, r2, contact line) is read back by
Meniscus.from_image; a ruptured bridge gives no surface; swapping the particles
(mirroring the image) changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from rhizoscale.core.image import Image
from rhizoscale.errors import InputError
from rhizoscale.image.generators.granular import AIR, WATER, granular_phases
from rhizoscale.mucilage.bridge import toroidal_bridge
from rhizoscale.mucilage.network import Meniscus, voxel_bridge


def _image(labels):
    return Image(labels, (1e-4,) * 3, granular_phases())        # 1 µm voxels (lengths in cm)


@pytest.mark.parametrize("radius, volume, gap", [(30.0, 0.1, 3.0), (40.0, 0.1, 4.0)])
def test_the_toroidal_bridge_of_a_voxel_image_is_recovered(radius, volume, gap):
    b = toroidal_bridge(volume * radius**3, gap, radius)
    w = int(2 * (b.r1 + b.r2) + 12)
    labels = voxel_bridge(b, (w, w, int(4 * radius + gap + 10)))
    m = Meniscus.from_image(_image(labels), surface_tension=0.072)
    assert m.active
    assert m.r2 == pytest.approx(b.r2, rel=0.05)
    assert m.r1 == pytest.approx(b.r1, rel=0.10)
    assert abs(m.half_length - b.half_length) < 1.0                 # one voxel
    force = np.pi * 0.072 * m.r2 * (1 + m.r2 / m.r1)                # gorge force of the fitted surface
    assert force == pytest.approx(b.force, rel=0.06)
    assert np.allclose(np.abs(m.axis), [0, 0, 1], atol=1e-9)       # along the image's last axis (x)
    # swapping the two particles (mirroring the image) gives the same surface
    flipped = Meniscus.from_image(_image(labels[:, :, ::-1].copy()))
    assert flipped.r1 == pytest.approx(m.r1, abs=1e-9) and flipped.r2 == pytest.approx(m.r2, abs=1e-9)


def test_a_ruptured_bridge_has_no_surface_and_bad_images_are_refused():
    b = toroidal_bridge(0.1 * 30.0**3, 3.0, 30.0)
    labels = voxel_bridge(b, (48, 48, 133))
    mid = labels.shape[2] // 2
    labels[:, :, mid - 1:mid + 1][labels[:, :, mid - 1:mid + 1] == WATER] = AIR    # cut the neck
    assert not Meniscus.from_image(_image(labels)).active
    with pytest.raises(InputError, match="3D"):
        Meniscus.from_image(Image(labels[0], (1e-4,) * 2, granular_phases()))


# ---------------------------------------------------------------- resolved drying through stage images
from rhizoscale.mucilage.bridge import meniscus_distance                          # noqa: E402
from rhizoscale.mucilage.resolved import (SOLID, LiquidStages, ResolvedBridgeModel,  # noqa: E402
                                          interface_field, interface_forces)


@pytest.fixture(scope="module")
def params():
    from rhizoscale.parameters import load_parameter_set
    from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    return load_parameter_set(MucilageNetworkParameters, "mucilage_network")


def test_voxel_interface_force_converges_to_the_toroidal_closed_form():
    """Beads (r = 1 um) within a bead radius of a toroidal meniscus: the pull of the
    voxel interface against the closed-form surface's (same force law, exact distance
    and normal). Total axial force on the beads of one half: within the voxel error,
    and closer on finer voxels."""
    R, gap, gamma, r = 30.0, 3.0, 0.072, 1.0
    b = toroidal_bridge(0.1 * R**3, gap, R)
    rng = np.random.default_rng(0)
    n = 8000
    x = rng.uniform(-0.7 * b.half_length, 0.7 * b.half_length, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    u = rng.uniform(-r, r, n)                       # exact signed distance of each bead
    errors = []
    for k in (1, 2):                                # voxels of 1 and 0.5 um
        h = 1.0 / k
        bk = toroidal_bridge(0.1 * (k * R) ** 3, k * gap, k * R)        # the same bridge in voxels
        w = int(2 * (bk.r1 + bk.r2) + 12 * k)
        shape = (w, w, int(4 * k * R + k * gap + 10 * k))
        s, g = interface_field(voxel_bridge(bk, shape), h)
        cz, cy, cx = np.asarray(shape) / 2.0 * h
        centres = np.array([[cx - (R + gap / 2), cy, cz], [cx + R + gap / 2, cy, cz]])
        rho = b.r1 + b.r2 - np.sqrt(b.r1**2 - x**2)
        on = np.stack([cx + x, cy + rho * np.cos(phi), cz + rho * np.sin(phi)], 1)
        _, normal = meniscus_distance(on, b, centres)
        pts = on - u[:, None] * normal
        se, ne = meniscus_distance(pts, b, centres)
        assert np.allclose(se, u, atol=1e-9)
        exact = 2 * np.pi * gamma * r * (1 - (se / r) ** 2)[:, None] * ne
        vox = interface_forces(pts, np.full(n, r), s, g, h, (0.0, 0.0, 0.0), gamma, centres, np.full(2, R))
        right = x > 0
        errors.append(abs(vox[right, 0].sum() / exact[right, 0].sum() - 1))
        radial = np.stack([np.cos(phi), np.sin(phi)], 1)
        radial_error = np.einsum("ij,ij->i", vox[:, 1:], radial).sum() / np.einsum("ij,ij->i", exact[:, 1:],
                                                                                  radial).sum() - 1
        assert abs(radial_error) < 0.05            # measured 2.4 % and 0.3 %
        # the pull is towards the liquid: the axial force on the right half points to +x
        assert vox[right, 0].sum() > 0
    assert errors[0] < 0.25            # voxel = bead radius (measured 0.22)
    assert errors[1] < 0.05            # half a bead radius (measured 0.017)
    assert errors[1] < errors[0]


def _stage_images(volumes=(900.0, 600.0, 400.0), split=True):
    """Voxelised toroidal bridges (R = 20 um, gap 4 um, 1 um voxels) drying, then split:
    the last stage's bridge cut at the neck (water left on both particles)."""
    imgs = [voxel_bridge(toroidal_bridge(v, 4.0, 20.0), (30, 30, 90)) for v in volumes]
    if split:
        cut = imgs[-1].copy()
        cut[:, :, 43:47][cut[:, :, 43:47] == WATER] = AIR
        imgs.append(cut)
    vols = [float((im == WATER).sum()) for im in imgs]
    return LiquidStages.from_arrays(np.stack(imgs), 1.0, vols)


def test_zero_mucilage_disconnects_at_the_images_rupture_stage_with_water_conserved(params):
    st = _stage_images()
    assert [st.connected(k) for k in range(st.n)] == [True, True, True, False]
    m = ResolvedBridgeModel(0.0, st, params, after_rupture_steps=2)
    for k in range(1, m.last_stage + 1):
        m.advance_to(k)
        after = 1.0 if k < st.n else 1 - (k - st.n + 1) / 2            # linear to dryness after the images
        assert m.total_water() == pytest.approx(st.liquid_volume[min(k, st.n - 1)] * after, abs=1e-9)
        assert abs(m.water_balance_error()) < 1e-13
    assert m.connection_lost[0] == 3 and m.connection_lost[1] == pytest.approx(st.liquid_volume[3], rel=1e-12)
    assert m.bridge_rupture[0] == 3 and m.films.sum() == pytest.approx(0.0, abs=1e-9)   # dried after rupture


def _run(params, st, c, seed, stop=None, **kw):
    m = ResolvedBridgeModel(c, st, params, relax_steps=20, seed=seed, after_rupture_steps=3, **kw)
    m.advance_to(m.last_stage if stop is None else stop)
    return m


def test_mucilage_polymer_and_water_conserved_deterministic_and_resumable(params):
    st = _stage_images()
    m = _run(params, st, 8.0, seed=3)
    assert m.network.n > 100
    assert m.network.polymer.sum() == m.initial_polymer                  # polymer stays, exactly
    assert abs(m.water_balance_error()) < 1e-13
    assert m.total_water() == pytest.approx(0.0, abs=1e-9)              # dried out after the images
    same = _run(params, st, 8.0, seed=3)
    assert np.array_equal(same.network.pos, m.network.pos)
    assert not np.array_equal(_run(params, st, 8.0, seed=4).network.pos, m.network.pos)
    # checkpoint at stage 2, restore into a fresh model, dry on: bit-identical
    half = _run(params, st, 8.0, seed=3, stop=2)
    saved = half.checkpoint_state()
    fresh = ResolvedBridgeModel(8.0, st, params, relax_steps=20, seed=99, after_rupture_steps=3)
    fresh.restore_state(saved)
    fresh.advance_to(fresh.last_stage)
    assert np.array_equal(fresh.network.pos, m.network.pos)
    assert np.array_equal(fresh.connection_lost, m.connection_lost, equal_nan=True)


def test_the_interface_pulls_beads_to_the_liquid_and_a_spanning_network_outlasts_the_bridge(params):
    st = _stage_images()
    m = _run(params, st, 8.0, seed=1, stop=1)
    f = m.stage_forces()
    pulled = np.linalg.norm(f, axis=1) > 0
    assert pulled.any()
    # the pull points into the liquid: a small step along it lowers the signed distance
    s, g = interface_field(st.labels[1], 1.0)
    from scipy.ndimage import map_coordinates
    p = m.network.pos[pulled]
    step = p + 0.05 * f[pulled] / np.linalg.norm(f[pulled], axis=1)[:, None]
    sv = [map_coordinates(s, (q - 0.5)[:, ::-1].T, order=1) for q in (p, step)]
    assert np.mean(sv[1] < sv[0]) > 0.9
    water = _run(params, st, 0.0, seed=1)
    gel = _run(params, st, 8.0, seed=1)
    assert water.connection_lost[0] == 3
    assert gel.connection_lost[0] > 3 or np.isnan(gel.connection_lost[0])


def test_bad_stage_images_are_refused_naming_the_key():
    st = _stage_images(split=False)
    lab, vols = st.labels, st.liquid_volume

    def refused(labels, volumes, words):
        with pytest.raises(InputError) as err:
            LiquidStages.from_arrays(labels, 1.0, volumes)
        assert err.value.field == "liquid_stages" and words in str(err.value) and "\n" not in str(err.value)

    one = lab.copy()
    one[:, :, :, 45:][one[:, :, :, 45:] == SOLID] = AIR                 # one particle left
    refused(one, vols, "not two")
    dry = np.where(lab == WATER, AIR, lab).astype(np.uint8)
    refused(dry, vols, "no water")
    refused(lab, vols[::-1].copy(), "not ordered by liquid volume")
    refused(lab, 5 * vols, "holds")                 # volumes that are not the images' water
    refused(lab[:, 0], vols, "3D")


def test_the_lbm_stage_images_product_labels_each_kept_stage_and_reads_back():
    """cs4-liquid-configuration's bridge_stage_images.nc: one labelled image per stage,
    undone splits left out, liquid volume per stage; read by the resolved mode."""
    from rhizoscale.porescale.liquid_bridge import BridgeStage, DryingBridgeResult
    from rhizoscale.porescale.scenario import bridge_stage_images
    st = _stage_images()
    rg, rl = 0.05, 0.5
    dens = [np.where(im == SOLID, np.nan, np.where(im == WATER, rl, rg)).astype(np.float32) for im in st.labels]
    res = DryingBridgeResult(20.0, 4.0, 3)
    conn = [True, True, True, False]
    for k, d in enumerate(dens):
        res.stages.append(BridgeStage(10 * k, float((d > 0.3).sum()), 0.0, conn[k]))
        res.snapshots.append((10 * k, d))
    # a split undone (retried) between stages 2 and 3: left out of the product
    res.stages.insert(2, BridgeStage(15, 1.0, 0.0, False, retried=True))
    res.snapshots.insert(2, (15, dens[2]))
    ds = bridge_stage_images(res, rg, rl, 1e-4)
    assert ds.sizes["stage"] == 4 and ds["connected"].values.tolist() == [1, 1, 1, 0]
    # numbered from 0, as the resolved mode's disconnection_stage_* / lbm_rupture_stage count
    assert ds["stage"].values.tolist() == [0, 1, 2, 3]
    # a 2D bridge's product (liquid_volume in cm2) is refused for its dimension, not its unit
    flat = ds.isel(z=0).drop_vars("z")
    flat["liquid_volume"] = flat["liquid_volume"].copy(data=flat["liquid_volume"].values / 1e-4)
    flat["liquid_volume"].attrs["units"] = "cm2"
    with pytest.raises(InputError, match="got 2D images.*ndim: 3"):
        LiquidStages.from_dataset(flat)
    assert np.array_equal(ds["labels"].values, st.labels)
    back = LiquidStages.from_dataset(ds)
    assert back.voxel_size == pytest.approx(1.0) and np.allclose(back.liquid_volume, st.liquid_volume)
    assert np.array_equal(back.labels, st.labels)


def test_fast_mode_keys_are_refused_with_stage_images(tmp_path):
    from rhizoscale.scenario import scenario_from_dict
    data = {"case": "cs4-mucilage-bridge", "liquid_stages": "product:lbm.bridge_stage_images.nc@x",
            "separation": 10.0}
    with pytest.raises(InputError) as err:
        scenario_from_dict(data, source="s.yaml")
    assert "separation" in str(err.value) and "\n" not in str(err.value).strip()
    # the fast mode's drying time and structure images too (they were silently ignored)
    for key, value, named in (("time", {"stop": "10 s"}, "time"), ("image_voxel_size", 2.0, "image_voxel_size")):
        data = {"case": "cs4-mucilage-bridge", "liquid_stages": "product:lbm.bridge_stage_images.nc@x", key: value}
        with pytest.raises(InputError) as err:
            scenario_from_dict(data, source="s.yaml")
        assert err.value.field == named and "fast mode" in str(err.value)


def test_stage_images_that_never_rupture_warn_and_report_still_connected(tmp_path):
    """A stage file whose last image still joins the particles: the drying stops there,
    the outcome is nan (still connected) and the run says so in a warning."""
    import xarray as xr
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    st = _stage_images(volumes=(900.0, 600.0), split=False)
    h = 1e-4                                                             # cm (1 um)
    ds = xr.Dataset({"labels": (("stage", "z", "y", "x"), st.labels,
                                {"flag_values": np.array([0, 1, 2], np.uint8), "flag_meanings": "air solid water"}),
                     "liquid_volume": ("stage", st.liquid_volume * h**3, {"units": "cm3"})},
                    attrs={"voxel_size_cm": h})
    ds.to_netcdf(tmp_path / "stages.nc")
    data = {"case": "cs4-mucilage-bridge", "liquid_stages": str(tmp_path / "stages.nc"), "concentrations": [1.0],
            "relax_steps": 2, "outputs": {"figures": False}}
    summary = run_scenario(scenario_from_dict(data, source="s.yaml"), tmp_path / "out")
    assert summary["quantities"]["disconnection_stage_water"]["value"] is None          # nan
    assert any("still has a bridge" in str(w) for w in summary["warnings"])


def test_a_stage_file_that_is_not_netcdf_is_refused_in_one_line(tmp_path):
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    (tmp_path / "stages.nc").write_text("not a NetCDF file")
    data = {"case": "cs4-mucilage-bridge", "liquid_stages": str(tmp_path / "stages.nc"), "outputs": {"figures": False}}
    with pytest.raises(InputError, match="cannot read the stage images as NetCDF") as err:
        run_scenario(scenario_from_dict(data, source="s.yaml"), tmp_path / "out")
    assert err.value.field == "liquid_stages" and "\n" not in str(err.value)
