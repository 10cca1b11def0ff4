"""Issue 11: every figure function draws what a journal would accept, as far as a machine
can tell (tests/figure_checks.py): no tick labels running into other panels, a legend
entry for every dashed or dotted line and for contours, units on every colour bar, no
empty panels; plus the defects found by hand: one plane for all cuts, nothing drawn
above the soil surface, one colour order for root age, plant, seed and time in titles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from figure_checks import figure_defects  # noqa: E402
from rhizoscale import RootSystem  # noqa: E402
from rhizoscale.grid import RegularGrid  # noqa: E402
from rhizoscale.plant.figures import ROOT_AGE_CMAP, plot_depth_profile, plot_root_system  # noqa: E402
from rhizoscale.rhizodeposition import figures as cs1  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ok(fig):
    assert figure_defects(fig) == []


def _grown(days=3.0, seed=4):
    from rhizoscale.plant import grow_root_system, load_plant_parameters
    return grow_root_system(load_plant_parameters("vicia_faba"), days, seed=seed)


def _age_cmap_of(fig):
    from matplotlib.collections import LineCollection
    for ax in fig.axes:
        for c in ax.collections:
            if isinstance(c, LineCollection) and c.get_array() is not None:
                return c.get_cmap().name
    return None


# ---------------------------------------------------------------------------- plant
def test_root_system_figure(branched_root_system):
    fig = plot_root_system(_grown())
    _ok(fig)
    title = fig.axes[0].get_title()
    assert "Vicia faba, seed 4" in title and "day 3" in title
    assert _age_cmap_of(fig) == ROOT_AGE_CMAP
    # a single straight root is no sliver with colliding tick labels
    s = np.linspace(0, 1, 11)
    one = RootSystem.from_polylines([np.stack([0.02 * s, 0 * s, -12 * s], axis=1)], [5 * s], [0.05], time=5.0)
    _ok(plot_root_system(one))
    _ok(plot_root_system(branched_root_system, color_by="order"))


def test_depth_profile_figure(branched_root_system):
    rs = _grown()
    fig = plot_depth_profile([rs, _grown(seed=5)], ["seed 4", "seed 5"])
    _ok(fig)
    ax = fig.axes[0]
    assert ax.get_ylim()[1] == 0.0          # layers stop at the soil surface
    assert "Vicia faba" in ax.get_title() and "day 3" in ax.get_title()
    _ok(plot_depth_profile(branched_root_system, reference=([-10, -5, 0], [1.0, 2.0], "reference")))


# ---------------------------------------------------------------------------- CS1
def _plumes(grid):
    """Two exudate fields whose maxima lie in different y planes."""
    z, y, x = np.meshgrid(grid.centers("z"), grid.centers("y"), grid.centers("x"), indexing="ij")
    a = 100 * np.exp(-((x ** 2 + (y - 0.3) ** 2) / 0.05 + (z + 2) ** 2 / 4))
    b = 5 * np.exp(-((x ** 2 + (y + 0.3) ** 2) / 0.2 + (z + 2) ** 2 / 6))
    return {"mucilage": a, "citrate": b}


def test_vertical_cut_figure_one_plane_soil_only():
    grid = RegularGrid.from_resolution((-1, -1, -4), (1, 1, 0.5), 0.1)
    fields = _plumes(grid)
    fig = cs1.vertical_cut_figure(fields, grid, title="Vicia faba, seed 1, day 3")
    _ok(fig)
    assert fig.get_suptitle().count("y =") == 1 and "seed 1" in fig.get_suptitle()
    panels = [ax for ax in fig.axes if ax.images]
    j = int(np.argmin(np.abs(grid.centers("y") - float(fig.get_suptitle().split("y = ")[1].split()[0]))))
    soil = grid.centers("z") <= 0
    for ax, c in zip(panels, fields.values()):
        shown = np.asarray(ax.images[0].get_array())
        vmin = ax.images[0].norm.vmin
        assert np.allclose(shown, np.maximum(c[soil, j, :], vmin))   # the same plane in both
        assert ax.get_ylim()[1] <= 1e-12                              # nothing above the surface


def test_hotspot_map_figure_says_when_there_is_no_hotspot():
    grid = RegularGrid.from_resolution((-1, -1, -4), (1, 1, 0.5), 0.1)
    d = np.zeros(grid.shape)
    d[10:20, 8:12, 8:12] = 2.5
    fig = cs1.hotspot_map_figure({"mucilage": d, "citrate": np.zeros(grid.shape)}, grid,
                                 title="Vicia faba, seed 1, days 0–3",
                                 thresholds={"mucilage": 1300.0, "citrate": 223.0})
    _ok(fig)
    maps = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is None]
    assert len(maps[0].images) == 1 and not maps[1].images and maps[1].texts
    assert sum(getattr(ax, "_colorbar", None) is not None for ax in fig.axes) == 1
    assert "1300 µg cm⁻³" in maps[0].get_title()
    assert maps[0].get_ylim()[1] <= 1e-12 and maps[1].get_ylim()[1] <= 1e-12


def test_single_root_panel_explains_the_threshold_contour():
    x = np.linspace(-0.5, 0.5, 21)
    z = np.linspace(-3, 0.5, 36)
    cut = 3000 * np.exp(-(x[None, :] ** 2) / 0.02 - (z[:, None] + 1) ** 2 / 2)
    short = cut.copy()
    short[:12] = np.nan                      # not computed for the slower root
    fig = cs1.single_root_panel({0.5: short, 1.0: cut}, [-0.525, 0.525, -3.05, 0.55], 1300.0,
                                title="mucilage around single straight roots, day 3")
    _ok(fig)
    assert any("threshold" in t.get_text() for leg in fig.legends for t in leg.get_texts())
    for ax in fig.axes:
        if ax.images and getattr(ax, "_colorbar", None) is None:
            assert ax.get_ylim()[1] <= 1e-12


def test_hotspot_vs_rate_figure_has_readable_log_ticks():
    rates = [0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0]
    vols = {"mucilage": np.linspace(0.1, 1, len(rates)), "citrate": np.linspace(1, 0.1, len(rates))}
    _ok(cs1.hotspot_vs_rate_figure(rates, vols, title="single straight roots, day 10"))
    _ok(cs1.hotspot_vs_rate_figure([0.5, 1.0], vols and {k: v[:2] for k, v in vols.items()}))


# ---------------------------------------------------------------------------- CS2
def test_cs2_figures(branched_root_system):
    from rhizoscale.nutrients.scenario import _figures
    rs = branched_root_system
    grid = RegularGrid.from_resolution((-5, 0, -12), (5, 2, 0), 1.0)
    n = grid.n_cells
    fields = [(86400.0 * d, np.full((2, n), 0.1), np.random.default_rng(d).random((2, n))) for d in (0, 1, 2)]
    t = np.linspace(0, 2 * 86400, 9)
    series = {"time": t, "uptake": t / 1e6, "exudation": t / 1e5}
    figs = _figures(rs, grid, fields, series, {"time": t, "uptake": t / 2e6}, label="Brassica napus, seed 1")
    for name, fig in figs.items():
        assert figure_defects(fig) == [], name
    fig6 = figs["fig6_root_age_p_citrate.png"]
    assert _age_cmap_of(fig6) == ROOT_AGE_CMAP       # the same order as the plant figures
    assert "seed 1" in fig6.get_suptitle()
    assert "seed 1" in figs["cumulative_uptake.png"].axes[0].get_title()


# ---------------------------------------------------------------------------- CS3
@pytest.fixture(scope="module")
def cs3_results():
    from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
    from rhizoscale.image.generators import rhizosphere_sample
    s = rhizosphere_sample((16, 30, 30), 4e-3, root_radius=0.02, contact_fraction=0.1,
                           hair_contact_fraction=0.25, hair_length=0.02, hair_radius=2e-3, seed=2)
    return {"without_hairs": simulate_exudate_diffusion(s.without_hairs, t_end=120.0),
            "with_hairs": simulate_exudate_diffusion(s.with_hairs, t_end=120.0)}


def test_cs3_figures(cs3_results):
    from rhizoscale.diffusion.scenario import _figures
    figs = _figures(cs3_results, "generated sample, seed 2")
    for name, fig in figs.items():
        assert figure_defects(fig) == [], name
    assert "seed 2" in figs["fig8b_slices.png"].get_suptitle()
    assert figs["fig8b_slices.png"].legends      # which colour is air, root, hair


# ---------------------------------------------------------------------------- CS4
def test_cs4_phases_and_principal_directions():
    from rhizoscale.homogenization.cell_problem import effective_diffusion_tensor
    from rhizoscale.homogenization.figures import phases_and_principal_directions
    from rhizoscale.image.generators.granular import liquid_configuration, sand_packing
    packing = sand_packing((60, 60), 1e-3, porosity=0.41, mean_radius=0.006, seed=3)
    images = {"water only": liquid_configuration(packing, 0.19, 0.0),
              "dry": liquid_configuration(packing, 0.0, 0.0)}
    tensors = {f"water only/{p}": effective_diffusion_tensor(images["water only"], periodisation=p)
               for p in ("translation", "mirror")}
    fig = phases_and_principal_directions(images, tensors, title="generated sand section, seed 3")
    _ok(fig)
    text = " ".join(ax.get_xlabel() for ax in fig.axes)
    assert "[[" not in text and "D_{xx}" in text          # no NumPy printout
    assert "no liquid path" in text


def test_cs4_property_table_and_thickness_study():
    from rhizoscale.homogenization.figures import property_table_figure, thickness_study_figure
    theta = np.array([0.1, 0.2, 0.3])
    m = np.array([0.0, 0.1])
    d = np.outer(theta, 1 + m) / 4
    table = xr.Dataset({"d_eff": (("theta", "mucilage_fraction"), d),
                        "d_min": (("theta", "mucilage_fraction"), 0.9 * d),
                        "d_max": (("theta", "mucilage_fraction"), 1.1 * d),
                        "millington_quirk": ("theta", theta ** (10 / 3) / 0.41 ** 2)},
                       coords={"theta": theta, "mucilage_fraction": m})
    _ok(property_table_figure(table, title="seed 1"))
    t = np.array([1, 2, 4, 8, 16, 32])
    study = xr.Dataset({"d_eff": (("thickness", "realisation"), np.ones((6, 2))),
                        "arithmetic": (("thickness", "realisation"), np.full((6, 2), 1.5)),
                        "geometric": (("thickness", "realisation"), np.ones((6, 2)))},
                       coords={"thickness": t, "realisation": [0, 1]},
                       attrs={"correlation_length_voxels": 4.0})
    _ok(thickness_study_figure(study, title="seed 1"))


def test_checks_catch_the_defects_they_are_for():
    """The checker itself: an overlap, an unexplained dashed line, a colour bar without
    units and an empty panel are found."""
    fig, axes = plt.subplots(1, 3, figsize=(3, 2))
    axes[0].plot([0, 1], [0, 1], "--")
    axes[0].set_yticks(np.linspace(0, 1, 30))
    im = axes[1].imshow(np.ones((2, 2)))
    fig.colorbar(im, ax=axes[1], label="concentration")
    found = " | ".join(figure_defects(fig))
    assert "overlap" in found and "no legend entry" in found
    assert "no units" in found and "empty axes" in found
