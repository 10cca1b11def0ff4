"""Growth model: growth-law oracles, branching counts, confinement, seeding, CPlantBox agreement."""

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.parameters.root_architecture import PlantParameters
from rhizoscale.plant import (Box, Cylinder, Rhizotron, grow_root_system, load_plant_parameters)
from rhizoscale.plant.growth import age_at_length, length_at_age


def _plant(root_types, **seed):
    return PlantParameters.model_validate({"name": "test", "seed": seed, "root_types": root_types})


def _straight(gf, r=2.0, lmax=30.0, dx=0.3):
    return _plant([dict(subType=1, lmax=lmax, r=r, a=0.1, dx=dx, gf=gf, tropismN=0, tropismS=0)],
                  position=(0.0, 0.0, -1.0))


def _arc_length(pts):
    return np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])


@pytest.mark.parametrize("gf", [1, 2])
def test_single_straight_root_follows_growth_law_exactly(gf):
    r, lmax, days = 2.0, 30.0, 9.0
    rs = grow_root_system(_straight(gf, r, lmax), days, seed=4)
    assert rs.n_roots == 1
    pts, t = rs.root_polyline(0)
    expected = r * days if gf == 2 else lmax * (1 - np.exp(-r * days / lmax))
    s = _arc_length(pts)
    assert s[-1] == pytest.approx(expected, rel=1e-12)
    # straight down from the seed, segments no longer than dx
    np.testing.assert_allclose(pts[:, :2], 0.0, atol=1e-12)
    np.testing.assert_allclose(pts[:, 2], -1.0 - s, atol=1e-12)
    assert np.all(np.diff(s) <= 0.3 + 1e-12)
    # node time = when the tip passed the node (inverse growth law)
    exact = s / r if gf == 2 else -lmax / r * np.log(1 - s / lmax)
    np.testing.assert_allclose(t, exact, rtol=1e-12, atol=1e-12)
    # and the system at an earlier time has the length of the law then (exact for linear)
    if gf == 2:
        assert rs.total_length(4.3) == pytest.approx(r * 4.3, rel=1e-12)


def test_growth_law_helpers_are_inverse():
    s = np.linspace(0, 29, 7)
    for gf in (1, 2):
        np.testing.assert_allclose(length_at_age(age_at_length(s, 2.0, 30.0, gf), 2.0, 30.0, gf), s,
                                   atol=1e-12)
    assert length_at_age(100, 2.0, 30.0, 2) == 30.0
    assert np.isinf(age_at_length(30.0, 2.0, 30.0, 1))


def test_lateral_count_equals_branching_points_passed():
    lb, ln, la, r_tap, r_lat, days = 2.0, 1.0, 3.0, 1.0, 0.5, 20.0
    p = _plant([
        dict(subType=1, lb=lb, la=la, ln=ln, lmax=30, r=r_tap, a=0.1, dx=0.4, gf=2,
             tropismN=0, tropismS=0, successors=[dict(subtypes=[2])]),
        dict(subType=2, lmax=2.0, r=r_lat, a=0.05, theta=1.2, dx=0.4, gf=2, tropismT=2,
             tropismN=0, tropismS=0),
    ], position=(0.0, 0.0, 0.0))
    rs = grow_root_system(p, days, seed=2)
    la_eff = la - ln / 2  # CPlantBox's distance-based emergence delay
    bps = lb + ln * np.arange(26)  # nob = (lmax - la - lb)/ln + 1
    passed = bps[(bps + la_eff) / r_tap < days]
    laterals = np.flatnonzero(rs.root_parent == 0)
    assert len(laterals) == len(passed) == 16
    tap_pts, tap_t = rs.root_polyline(0)
    s_tap = _arc_length(tap_pts)
    for i, bp in zip(laterals, passed):
        pts, t = rs.root_polyline(i, with_base=False)
        node = rs.root_parent_node[i]
        # the branching node sits exactly at the branching point, the lateral starts there
        assert s_tap[node] == pytest.approx(bp, abs=1e-9)
        np.testing.assert_allclose(pts[0], rs.nodes[node], atol=1e-12)
        emerge = (bp + la_eff) / r_tap
        assert t[0] == pytest.approx(emerge, abs=1e-12)
        # insertion angle: first segment at theta from the (vertical) parent
        d = pts[1] - pts[0]
        assert np.arccos(-d[2] / np.linalg.norm(d)) == pytest.approx(1.2, abs=1e-9)
        assert _arc_length(pts)[-1] == pytest.approx(min(2.0, r_lat * (days - emerge)), rel=1e-9)


def test_node_times_exact_along_every_root_of_faba():
    rs = grow_root_system("vicia_faba", 21, seed=3)
    assert np.all(np.diff(rs.node_time[rs.segments], axis=1) >= 0)
    # all Vicia faba types grow linearly: arc length / (t - t_emergence) is the root's rate
    for i in range(0, rs.n_roots, 37):
        pts, t = rs.root_polyline(i, with_base=False)
        s = _arc_length(pts)
        rate = s[1:] / (t[1:] - t[0])
        np.testing.assert_allclose(rate, rate[0], rtol=1e-9)


def test_seeded_reproducibility():
    a = grow_root_system("vicia_faba", 10, seed=11)
    b = grow_root_system("vicia_faba", 10, seed=11)
    c = grow_root_system("vicia_faba", 10, seed=12)
    np.testing.assert_array_equal(a.nodes, b.nodes)
    np.testing.assert_array_equal(a.node_time, b.node_time)
    np.testing.assert_array_equal(a.root_parent, b.root_parent)
    assert a.n_nodes != c.n_nodes or not np.array_equal(a.nodes, c.nodes)


@pytest.mark.parametrize("geometry", [
    Rhizotron(width=20, thickness=1.0, depth=25, angle_deg=49, origin=(0, 0, -3)),
    Box((-3, -3, -12), (3, 3, 0)),
    Cylinder(radius=2.5, depth=10),
])
def test_confinement_is_never_violated(geometry):
    rs = grow_root_system("brassica_napus", 16, seed=5, confinement=geometry)
    assert rs.total_length() > 100
    assert np.all(geometry.contains(rs.nodes))
    # the geometry really constrains: the free system leaves it
    free = grow_root_system("brassica_napus", 16, seed=5)
    assert not np.all(geometry.contains(free.nodes))


def test_signed_distances():
    box = Box((0, 0, -2), (1, 1, 0))
    np.testing.assert_allclose(box.signed_distance([[0.5, 0.5, -1], [2, 0.5, -1], [0.5, 0.5, 1]]),
                               [-0.5, 1.0, 1.0])
    cyl = Cylinder(radius=1, depth=4, top=0)
    np.testing.assert_allclose(cyl.signed_distance([[0, 0, -2], [3, 0, -2], [0, 0, -5]]), [-1, 2, 1])
    rz = Rhizotron(width=10, thickness=2, depth=20, angle_deg=49)
    w = rz.downslope
    inside = 5 * w + 0.5 * rz.normal
    assert rz.signed_distance(inside) == pytest.approx(-0.5)
    assert rz.signed_distance(5 * w + 3 * rz.normal) == pytest.approx(2.0)
    assert not rz.contains([0.0, 0.0, -3.0])  # a vertical line leaves a 49 degree slab


def test_seed_outside_confinement_is_an_input_error():
    with pytest.raises(InputError, match="seed"):
        grow_root_system("vicia_faba", 5, confinement=Box((5, 5, -10), (8, 8, 0)))


def test_bad_inputs():
    with pytest.raises(InputError, match="days"):
        grow_root_system("vicia_faba", -1)
    with pytest.raises(InputError, match="backend"):
        grow_root_system("vicia_faba", 1, backend="nope")
    with pytest.raises(InputError, match="no parameter set"):
        load_plant_parameters("not_a_plant")
    bad = load_plant_parameters("vicia_faba").model_dump()
    bad["root_types"][0]["successors"] = [{"subtypes": [9]}]
    with pytest.raises(InputError, match=r"root_types\[0\]\.successors\[0\]\.subtypes"):
        grow_root_system(PlantParameters.model_validate(bad), 1)


def test_yaml_errors_name_file_and_field(tmp_path):
    path = tmp_path / "plant.yaml"
    path.write_text("name: x\nvalues:\n  root_types:\n    - {subType: 1, lmax: .nan, r: 1, a: 0.1}\n")
    with pytest.raises(InputError) as err:
        load_plant_parameters(path)
    assert "plant.yaml" in str(err.value) and "root_types[0].lmax" in str(err.value)
    path.write_text("name: x\nvalues:\n  root_types:\n    - {subType: 1, lmax: 3, r: -1, a: 0.1}\n")
    with pytest.raises(InputError, match=r"root_types\[0\]\.r"):
        load_plant_parameters(path)


def test_shipped_sets_carry_sources():
    for name in ("vicia_faba", "brassica_napus"):
        p = load_plant_parameters(name)
        assert all(f"root_types[{i}].lmax" in p.sources for i in range(len(p.root_types)))
    assert set(load_plant_parameters("brassica_napus").chosen()) == {"root_types[0].ln", "root_types[0].ln_sd"}


def test_callback_reports_progress():
    seen = []
    grow_root_system("vicia_faba", 7, seed=1, callback=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0.0, 7.0) and seen[-1] == (7.0, 7.0)
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))


# Vicia faba at 21 d, CPlantBox 2.1.1, 7 seeds (measured): 385-465 roots, 1589-2023 cm
CPLANTBOX_ROOTS = (385, 465)
CPLANTBOX_LENGTH = (1589, 2023)
DEPTH_EDGES = np.arange(-45.0, 0.1, 5.0)


def _stats(rss):
    roots = np.array([r.n_roots for r in rss])
    length = np.array([r.total_length() for r in rss])
    prof = np.mean([r.depth_profile(DEPTH_EDGES) / r.total_length() for r in rss], axis=0)
    return roots, length, prof


def test_vicia_faba_agrees_with_cplantbox():
    seeds = range(1, 11)
    ours = [grow_root_system("vicia_faba", 21, seed=s) for s in seeds]
    roots, length, prof = _stats(ours)
    # our distribution overlaps CPlantBox's measured range and its mean lies inside it
    assert CPLANTBOX_ROOTS[0] <= roots.mean() <= CPLANTBOX_ROOTS[1]
    assert CPLANTBOX_LENGTH[0] <= length.mean() <= CPLANTBOX_LENGTH[1]
    assert 8000 <= np.mean([r.n_segments for r in ours]) <= 11000
    try:
        import plantbox  # noqa: F401
    except ImportError:
        return
    theirs = [grow_root_system("vicia_faba", 21, seed=s, backend="cplantbox") for s in seeds]
    c_roots, c_length, c_prof = _stats(theirs)
    assert abs(roots.mean() - c_roots.mean()) < 0.08 * c_roots.mean()
    assert abs(length.mean() - c_length.mean()) < 0.08 * c_length.mean()
    # depth profile of root length (fractions per 5 cm layer): same shape
    assert np.abs(prof - c_prof).sum() < 0.12
    assert abs(min(r.nodes[:, 2].min() for r in ours) - min(r.nodes[:, 2].min() for r in theirs)) < 2.0
