"""The network's spanning gap (rhizoscale.mucilage.span) and its use in the placement (issue #13).

Oracles: at zero mucilage the search returns Lian et al.'s (1993) rupture distance of the
water left (closed form, to the search's resolution); the span never exceeds the wet
bridge's Lian distance (a bridge that never formed cannot be kept); above the network's
percolation a higher concentration spans at least as wide a gap; a wider span never
bridges fewer necks (nested bridge sites); zero mucilage leaves the water image bit for
bit with the network rule; the chain records the span it used.
"""

from __future__ import annotations

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.image.generators import liquid_configuration, sand_packing
from rhizoscale.image.generators.granular import MUCILAGE
from rhizoscale.mucilage import Grains, neck_geometry, network_span, pair_radius, place_mucilage_bridges
from rhizoscale.mucilage.parameters import MucilageNetworkParameters
from rhizoscale.parameters import load_parameter_set

P = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
V = 0.005        # small wet bridges: hundreds of beads, fast


def test_zero_mucilage_span_is_lians_rupture_distance_of_the_water_left():
    s = network_span(0.0, P, volume_ratio=V, water_left=0.3)
    lian = (1 + P.contact_angle / 2) * (0.3 * V) ** (1 / 3)
    assert s.lian_gap_ratio == pytest.approx(lian, rel=1e-12)
    resolution = s.wet_gap_ratio / 10 / 2 ** 4            # grid step halved by each bisection
    assert lian - resolution <= s.gap_ratio <= lian
    # the gap is a ratio to the grain radius: the same at another radius (no beads at zero mucilage)
    assert network_span(0.0, P, radius=250.0, volume_ratio=V, water_left=0.3).gap_ratio == pytest.approx(
        s.gap_ratio, rel=1e-9)


def test_mucilage_spans_wider_than_water_and_higher_concentration_no_less():
    water = network_span(0.0, P, volume_ratio=V)
    c3 = network_span(3.0, P, volume_ratio=V)
    c8 = network_span(8.0, P, volume_ratio=V)
    assert water.gap_ratio < c3.gap_ratio <= c8.gap_ratio <= c8.wet_gap_ratio
    # cached per parameter set and settings: the same object
    assert network_span(3.0, P, volume_ratio=V) is c3
    with pytest.raises(InputError, match="water_left"):
        network_span(3.0, P, water_left=1.0)
    with pytest.raises(InputError, match="concentration"):
        network_span(-1.0, P)


def test_a_wider_span_never_bridges_fewer_necks_and_zero_mucilage_is_untouched():
    p = sand_packing((120, 120), 1e-3, porosity=0.41, mean_radius=0.01, radius_cv=0.3, seed=2)
    grains = Grains(p.centers, p.radii, p.box)
    water = liquid_configuration(p, 0.15)
    neck = neck_geometry(water.shape, water.voxel_size, grains, pair_radius=True)
    w, gap = neck_geometry(water.shape, water.voxel_size, grains)
    assert np.array_equal(neck[0], w) and np.array_equal(neck[1], gap)
    assert np.all(neck[2] <= np.max(p.radii) + 1e-15) and np.all(neck[2] > 0)
    assert float(pair_radius(p.radii[0], p.radii[0])) == pytest.approx(p.radii[0])
    prev_sites, prev_on = None, -1
    for ratio in (0.1, 0.27, 0.5, 1.0):
        img = place_mucilage_bridges(water, 0.02, grains, max_gap_ratio=ratio, neck=neck)
        assert np.mean(img.labels == MUCILAGE) == pytest.approx(0.02, abs=0.5 / img.labels.size)
        sites = (gap > 0) & (gap <= ratio * neck[2])
        if prev_sites is not None:
            assert np.all(sites >= prev_sites)
        on = img.metadata["mucilage_on_bridges"]
        assert on >= prev_on
        prev_sites, prev_on = sites, on
    same = place_mucilage_bridges(water, 0.0, grains, max_gap_ratio=0.27, neck=neck)
    assert np.array_equal(same.labels, water.labels)


def test_the_chain_uses_the_network_span_and_zero_mucilage_is_the_water_image():
    from rhizoscale.link.diffusivity_table import _Chain
    from rhizoscale.outputs import RunContext
    from rhizoscale.scenario import scenario_from_dict
    sc = scenario_from_dict({"case": "cs4-diffusivity-table", "shape": [100, 100], "mean_grain_radius": 0.01,
                             "bridge_span": {"volume_ratio": V}})
    chain = _Chain(sc.config, RunContext(seed=1))
    assert np.array_equal(chain.configuration(0.19, 0.0, "t").labels, chain.water_image(0.19, "t").labels)
    assert chain._span is None                        # no mucilage: the network is not run
    img = chain.configuration(0.19, 0.1, "t")
    s = chain._span
    assert s.radius == pytest.approx(1e4 * np.mean(chain.grains.radii))
    assert img.metadata["max_bridge_gap_over_pair_radius"] == s.gap_ratio
    assert s.lian_gap_ratio < s.gap_ratio <= s.wet_gap_ratio
