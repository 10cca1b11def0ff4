import numpy as np
import pytest

from rhizoscale import InputError, RootSystem


def test_segments_and_length(branched_root_system):
    rs = branched_root_system
    assert rs.n_roots == 4
    # every node but the first of the taproot is a distal node; laterals whose first point
    # repeats the branching point get no zero-length segment
    assert np.all(rs.segment_lengths > 0)
    total = sum(np.linalg.norm(np.diff(rs.root_polyline(i)[0], axis=0), axis=1).sum() for i in range(4))
    assert rs.total_length() == pytest.approx(total)


def test_at_is_monotone_and_continuous(branched_root_system):
    rs = branched_root_system
    times = np.linspace(0, 10, 201)
    lengths = np.array([rs.total_length(t) for t in times])
    assert lengths[0] == 0
    assert np.all(np.diff(lengths) >= -1e-12)
    assert lengths[-1] == pytest.approx(rs.total_length())
    # taproot grows at 1 cm/d along its curved path: length at t=2 is the arc length to s=0.2
    tap, tt = rs.root_polyline(0)
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(tap, axis=0), axis=1))])
    assert rs.at(2.0).total_length() == pytest.approx(np.interp(2.0, tt, arc))
    # small steps give small changes (no jumps when a node appears)
    assert np.max(np.diff(lengths)) < 0.5


def test_at_keeps_topology(branched_root_system):
    rs = branched_root_system.at(8.5)
    assert rs.n_roots == 4
    assert rs.root_parent.tolist() == [-1, 0, 0, 1]
    assert rs.time == 8.5
    assert rs.node_time.max() <= 8.5
    assert branched_root_system.at(5.0).n_roots == 2


def test_tip_path_matches_node_times(branched_root_system):
    rs = branched_root_system
    t, pts = rs.tip_path(0)
    assert np.allclose(rs.tip_positions(5.0)[0], np.interp(5.0, t, pts[:, 2]) * np.array([0, 0, 1])
                       + np.array([np.interp(5.0, t, pts[:, 0]), np.interp(5.0, t, pts[:, 1]), 0]))
    assert np.all(np.isnan(rs.tip_positions(1.0)[3]))


def test_depth_profile_sums_to_total(branched_root_system):
    rs = branched_root_system
    prof = rs.depth_profile(np.linspace(-12, 1, 14))
    assert prof.sum() == pytest.approx(rs.total_length())


@pytest.mark.parametrize("bad", ["nan", "time_decreasing", "neg_radius", "parent_after"])
def test_bad_input_is_reported(bad):
    pts = [np.array([[0, 0, 0], [0, 0, -1.0]]), np.array([[0, 0, -1.0], [1, 0, -1.0]])]
    times = [np.array([0, 1.0]), np.array([1.0, 2.0])]
    radii = [0.1, 0.05]
    parents = [-1, 0]
    if bad == "nan":
        pts[0][1, 2] = np.nan
    elif bad == "time_decreasing":
        times[0] = np.array([1.0, 0.5])
    elif bad == "neg_radius":
        radii = [-0.1, 0.05]
    elif bad == "parent_after":
        parents = [1, -1]
    with pytest.raises(InputError):
        RootSystem.from_polylines(pts, times, radii, parents=parents)
