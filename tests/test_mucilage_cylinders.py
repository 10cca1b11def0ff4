"""The 2D medium's bridge (rhizoscale.mucilage.cylinders), its reach in the chain, and the
search's radius scaling and time estimate (issue #13).

Oracles: the bridge area against an independent count of the liquid region (geometric
identity); the rupture at the pinch against the flat-plate closed form
``S = (2 A cos²θ / (2 cos θ - sin θ cos θ - π/2 + θ))^(1/2)`` in the small-bridge limit;
the stability premise (at fixed gap the area grows with the filling angle from the pinch);
the equal-suction bridge has the 3D bridge's Laplace suction; at zero mucilage the 2D
reach is the 2D rupture distance of the water left (to the search's resolution); above
the network's percolation the spanning ratio is the same at two grain radii (to the
resolution); the bead count of the time estimate is the model's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from rhizoscale.errors import InputError
from rhizoscale.mucilage import (cylinder_bridge_area, cylinder_rupture_distance, equal_suction_area, network_span,
                                 span_bead_steps)
from rhizoscale.mucilage.bridge import _profile, toroidal_bridge
from rhizoscale.mucilage.cylinders import cylinder_pinch
from rhizoscale.mucilage.parameters import MucilageNetworkParameters
from rhizoscale.parameters import load_parameter_set

P = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
V = 0.005


@pytest.mark.parametrize("beta, gap, theta", [(0.5, 0.1, 0.0), (0.35, 0.04, 0.4), (0.2, 0.0, 0.0)])
def test_area_is_the_liquid_region_between_the_arcs_and_the_cylinders(beta, gap, theta):
    r = 1.0
    r1, r2, x_c = _profile(beta, gap, r, theta)
    assert r2 > 0
    n = 3000
    xs = (np.arange(n) + 0.5) / n * 2 * x_c - x_c
    top = r1 + r2
    ys = (np.arange(n) + 0.5) / n * 2 * top - top
    xx, yy = np.meshgrid(xs, ys, indexing="ij")
    arc = r1 + r2 - np.sqrt(np.maximum(r1 * r1 - xx * xx, 0.0))
    centre = r + 0.5 * gap
    liquid = ((np.abs(yy) <= arc) & ((xx - centre) ** 2 + yy ** 2 > r * r)
              & ((xx + centre) ** 2 + yy ** 2 > r * r))
    counted = liquid.sum() * (2 * x_c / n) * (2 * top / n)
    assert float(cylinder_bridge_area(beta, gap, r, theta)) == pytest.approx(counted, rel=2e-3)


@pytest.mark.parametrize("theta", [0.0, 0.5])
def test_small_bridges_rupture_where_flat_plates_pinch(theta):
    c, s = math.cos(theta), math.sin(theta)
    plate = 2 * c * c / (2 * c - s * c - 0.5 * math.pi + theta)       # S^2 / A at the pinch between plates
    for area in (1e-8, 1e-6):
        assert cylinder_rupture_distance(area, 1.0, theta) == pytest.approx(math.sqrt(plate * area),
                                                                            rel=5 * math.sqrt(area))
    # lengths scale: S(A R^2; R) = R S(A; 1)
    assert cylinder_rupture_distance(0.01 * 250.0 ** 2, 250.0, theta) == pytest.approx(
        250.0 * cylinder_rupture_distance(0.01, 1.0, theta), rel=1e-9)


def test_the_pinch_is_the_widest_gap_of_a_stable_bridge():
    theta = 0.3
    for beta in (0.05, 0.3, 0.8):
        gap, area = cylinder_pinch(beta, 1.0, theta)
        assert _profile(beta, gap, 1.0, theta)[1] == pytest.approx(0.0, abs=1e-12)     # r2 = 0
        assert cylinder_rupture_distance(float(area), 1.0, theta) == pytest.approx(float(gap), rel=1e-9)
        # at that gap, more liquid = larger filling angle = open neck, and the suction falls (stable)
        b = np.linspace(beta, 0.5 * np.pi - theta - 0.05, 200)
        a = cylinder_bridge_area(b, gap, 1.0, theta)
        r1, r2, _ = _profile(b, gap, 1.0, theta)
        assert np.all(np.diff(a) > 0) and np.all(r2[1:] > 0) and np.all(np.diff(1 / r1) < 0)
    with pytest.raises(InputError, match="area"):
        cylinder_rupture_distance(-1.0, 1.0)


def test_the_equal_suction_bridge_has_the_3d_bridges_suction():
    for v, theta in ((0.02, 0.0), (0.005, 0.3)):
        area = equal_suction_area(v, theta)
        b3 = toroidal_bridge(v, 0.0, 1.0, theta, 1.0)
        beta = brentq(lambda b: float(cylinder_bridge_area(b, 0.0, 1.0, theta)) - area, 1e-9, 1.2)
        r1 = _profile(beta, 0.0, 1.0, theta)[0]
        assert 1 / r1 == pytest.approx(1 / b3.r1 - 1 / b3.r2, rel=1e-9)


def test_2d_reach_is_the_2d_closed_form_at_zero_mucilage_and_the_wet_bridge_above_percolation():
    water = network_span(0.0, P, volume_ratio=V, water_left=0.3, geometry="cylinders-transfer")
    a = equal_suction_area(V, P.contact_angle)
    assert water.geometry == "cylinders-transfer" and water.area_ratio == pytest.approx(a)
    closed = cylinder_rupture_distance(0.3 * a, 1.0, P.contact_angle)
    assert water.lian_gap_ratio == pytest.approx(closed, rel=1e-12)
    sph = water.sphere
    resolution = sph.wet_gap_ratio / 10 / 2 ** 4 / (sph.wet_gap_ratio - sph.lian_gap_ratio)   # in retained share
    assert abs(water.retained) <= resolution
    assert abs(water.gap_ratio - closed) <= resolution * (water.wet_gap_ratio - closed) + 1e-12
    c3 = network_span(3.0, P, volume_ratio=V, geometry="cylinders-transfer")
    assert c3.sphere is network_span(3.0, P, volume_ratio=V)             # one cached sphere search
    assert c3.retained == pytest.approx(c3.sphere.retained, rel=1e-12)
    assert water.gap_ratio < c3.gap_ratio <= c3.wet_gap_ratio
    assert c3.wet_gap_ratio == pytest.approx(cylinder_rupture_distance(a, 1.0, P.contact_angle))
    assert c3.summary()["spheres"]["geometry"] == "spheres"
    with pytest.raises(InputError, match="geometry"):
        network_span(3.0, P, volume_ratio=V, geometry="discs")


def test_the_spanning_ratio_holds_at_another_radius_above_percolation():
    """The chain scales one search's S*/R to every neck's pair radius. Above the network's
    percolation the ratio is the same at 50 and 150 um grains (to the search's resolution);
    benchmarks/bench_mucilage_span_radius.py measures it near percolation, where it is not."""
    small = network_span(3.0, P, radius=50.0, volume_ratio=V)
    large = network_span(3.0, P, radius=150.0, volume_ratio=V)
    resolution = small.wet_gap_ratio / 10 / 2 ** 4
    assert small.gap_ratio == pytest.approx(large.gap_ratio, abs=resolution)


def test_time_estimate_counts_the_models_beads_and_the_chain_warns_before_a_long_search(monkeypatch):
    from rhizoscale.mucilage.drying import MucilageBridgeModel
    r, c = 80.0, 3.0
    beads, steps = span_bead_steps(c, P, radius=r, volume_ratio=V, drying_steps=7, relax_steps=5, grid=4,
                                   bisections=2)
    model = MucilageBridgeModel(c, V * r ** 3, 0.05 * r, P.with_overrides({"particle_radius": r}, source="t"),
                                evaporation_rate=1.0)
    assert round(beads) == model.network.n and steps == pytest.approx(beads * 7 * 5 * 6)
    from rhizoscale.link import diffusivity_table as dt
    from rhizoscale.outputs import RunContext
    from rhizoscale.scenario import scenario_from_dict
    monkeypatch.setattr(dt, "SPAN_WARN_SECONDS", 0.0)
    sc = scenario_from_dict({"case": "cs4-diffusivity-table", "shape": [60, 60], "mean_grain_radius": 0.008,
                             "bridge_span": {"volume_ratio": V, "grid": 2, "bisections": 0}})
    ctx = RunContext(seed=1)
    chain = dt._Chain(sc.config, ctx)
    chain.span()
    assert any("bridge_span" in w and "min on one thread" in w for w in ctx.warnings)
    assert chain.span_estimate["beads"] > 0 and chain._span.geometry == "cylinders"


def test_radius_classes_run_one_search_per_class_and_place_by_the_voxels_class():
    from rhizoscale.link.diffusivity_table import _Chain
    from rhizoscale.outputs import RunContext
    from rhizoscale.scenario import scenario_from_dict
    base = {"case": "cs4-diffusivity-table", "shape": [80, 80], "mean_grain_radius": 0.008, "grain_radius_cv": 0.3,
            "mucilage_concentration": 1.0, "bridge_span": {"volume_ratio": V, "grid": 4, "bisections": 1}}
    one = _Chain(scenario_from_dict(base).config, RunContext(seed=3))
    classes = _Chain(scenario_from_dict({**base, "bridge_span": {**base["bridge_span"], "radius_classes": 3}}).config,
                     RunContext(seed=3))
    ratio = classes.gap_ratio()
    inner, spans, _ = classes._classes
    assert ratio.shape == classes.pore_image.shape and len(spans) == 3 and classes.span_estimate["searches"] == 3
    assert np.all(np.diff([s.radius for s in spans]) > 0)
    for k, s in enumerate(spans):          # each voxel takes the ratio of its pair radius's class
        in_class = np.searchsorted(inner, classes.neck[2], side="right") == k
        assert np.any(in_class) and np.all(ratio[in_class] == s.gap_ratio)
        assert s == network_span(1.0, P, radius=s.radius, volume_ratio=V, grid=4, bisections=1, seed=3,
                                 geometry="cylinders")
    from rhizoscale.link.diffusivity_table import _class_info, _span_attrs
    info = _class_info(classes)["radius_classes"]
    assert [c["search_radius_um"] for c in info] == [s.radius for s in spans]
    assert all(c["pair_radius_um"][0] <= c["search_radius_um"] <= c["pair_radius_um"][1] for c in info)
    assert _span_attrs(classes, classes.config)["bridge_gap_over_pair_radius_by_class"] == [s.gap_ratio for s in spans]
    img = classes.configuration(0.19, 0.1, "t")
    n_muc = np.mean(img.labels == 3)
    assert n_muc == pytest.approx(np.mean(one.configuration(0.19, 0.1, "t").labels == 3))
    with pytest.raises(InputError, match="max_gap_ratio"):
        from rhizoscale.mucilage import place_mucilage_bridges
        place_mucilage_bridges(one.water_image(0.1, "t"), 0.01, one.grains, max_gap_ratio=np.ones((3, 3)),
                               neck=one.neck)
