"""Case study 1: rhizodeposition fields checked against exact oracles."""

import warnings

import numpy as np
import pytest
from scipy.integrate import IntegrationWarning

from rhizoscale import RootSystem
from rhizoscale.errors import InputError, ResourceError
from rhizoscale.grid import RegularGrid
from rhizoscale.parameters import load_parameter_set
from rhizoscale.plant.generators import straight_root_system
from rhizoscale.rhizodeposition.analysis import overlap_share, hotspot_volume
from rhizoscale.rhizodeposition.field import (concentration_points, heat_propagate, rhizodeposition_fields,
                                              released_mass)
from rhizoscale.rhizodeposition.green import (RootPaths, concentration_at, peclet_number, root_paths,
                                              steady_state_moving_point_source)
from rhizoscale.rhizodeposition.parameters import ExudateParameters, threshold_to_liquid


@pytest.fixture(scope="module")
def mucilage():
    return load_parameter_set(ExudateParameters, "mucilage")


@pytest.fixture(scope="module")
def citrate():
    return load_parameter_set(ExudateParameters, "citrate")


@pytest.fixture(scope="module")
def branched():
    """Curved taproot, two laterals (one stopped before the end), growing for 10 d."""
    s = np.linspace(0, 1, 21)
    tap = np.stack([0.3 * np.sin(3 * s), 0.2 * s, -10 * s], axis=1)
    lat1 = np.stack([0.3 * np.sin(0.9) + np.linspace(0, 4, 9), np.full(9, 0.06), np.linspace(-3, -4, 9)], axis=1)
    lat2 = np.stack([0.3 * np.sin(1.8) - np.linspace(0, 2, 5), np.full(5, 0.12), np.linspace(-6, -6.5, 5)], axis=1)
    return RootSystem.from_polylines([tap, lat1, lat2], [10 * s, 4 + np.linspace(0, 5, 9), 7 + np.linspace(0, 2, 5)],
                                     [0.1, 0.05, 0.05], parents=[-1, 0, 0], parent_nodes=[None, 6, 12], time=10.0)


def test_peclet_numbers_of_the_paper():
    # r = 1 mm, v = 2 cm/d (Landl et al. 2021): 192.68 belongs to D = 1.038e-3 (mucilage), 1.17 to citrate
    assert peclet_number(2.0, 0.1, 1.038e-3) == pytest.approx(192.68, abs=0.01)
    assert peclet_number(2.0, 0.1, 0.171) == pytest.approx(1.17, abs=0.005)


def test_threshold_conversions(mucilage, citrate):
    # total (dissolved + sorbed) per dry soil mass -> liquid: c = w rho_b / (theta R)
    assert threshold_to_liquid(0.33, "mg g-1", theta=0.3, R=1, bulk_density=1.2) == pytest.approx(1320.0)
    assert threshold_to_liquid(5, "umol g-1", theta=0.3, R=16.7, bulk_density=1.2, molar_mass=189.1) == \
        pytest.approx(5 * 189.1 * 1.2 / (0.3 * 16.7))
    assert threshold_to_liquid(7.0, "ug cm-3", theta=0.3, R=2, bulk_density=1.2) == 7.0
    assert mucilage.threshold_liquid == pytest.approx(330 * 1.18 / 0.3)
    with pytest.raises(InputError, match="units"):
        citrate.with_overrides({"threshold_units": "ppm"})
    with pytest.raises(InputError):
        threshold_to_liquid(1.0, "umol g-1", theta=0.3, R=1, bulk_density=1.2)
    with pytest.raises(InputError, match="release_length"):
        citrate.with_overrides({"release_length": 0.0})


def test_steady_state_behind_straight_root(mucilage):
    """(a) a point source moving at constant speed approaches the closed-form steady state."""
    v, days = 1.0, 40.0
    rs = straight_root_system(v, days, n_nodes=5)
    tip = np.array([0.0, 0.0, -v * days])
    xi = np.array([-0.05, -0.2, -0.5, -1.0, -2.0, 0.02, -0.3])
    rho = np.array([0.03, 0.02, 0.05, 0.01, 0.04, 0.02, 0.0])
    pts = tip + np.stack([rho, np.zeros_like(rho), -xi], axis=1)  # motion is along -z
    exact = steady_state_moving_point_source(xi, rho, v, mucilage)
    fast = concentration_points(rs, pts, days, mucilage)
    quad = concentration_at(rs, pts, days, mucilage)
    np.testing.assert_allclose(quad, exact, rtol=2e-3)
    np.testing.assert_allclose(fast, exact, rtol=5e-3)


def test_branched_system_against_quadrature(branched, mucilage, citrate):
    """(b) particles vs adaptive quadrature at random points: <= 1 % where c > 1e-3 max."""
    rng = np.random.default_rng(3)
    for p, n, T in ((mucilage, 30, 9.5), (citrate, 6, 10.0)):
        pts = branched.nodes[rng.integers(0, branched.n_nodes, n)] + rng.normal(0, 0.08, (n, 3))
        with warnings.catch_warnings():
            # the library handles QUADPACK's warnings itself: none may escape
            warnings.simplefilter("error", IntegrationWarning)
            exact = concentration_at(branched, pts, T, p, epsrel=1e-7)
        fast = concentration_points(branched, pts, T, p)
        m = exact > 1e-3 * exact.max()
        assert m.sum() >= n // 2
        np.testing.assert_allclose(fast[m], exact[m], rtol=1e-2)


@pytest.mark.parametrize("layout", ["scattered", "grid", "line", "one point", "far away"])
def test_binned_point_values_equal_the_all_pairs_kernel(branched, mucilage, citrate, layout):
    """The binned point-value kernel sums the same particle terms as the all-pairs reference
    (every particle against every point), on any point layout and thread count."""
    import numba

    from rhizoscale.rhizodeposition.field import FieldDiscretisation, _point_values_kernel
    from rhizoscale.rhizodeposition.particles import _particles

    rng = np.random.default_rng(5)
    pts = {"scattered": branched.nodes[rng.integers(0, branched.n_nodes, 400)] + rng.normal(0, 0.3, (400, 3)),
           "grid": np.stack(np.meshgrid(np.linspace(-1, 4, 11), np.linspace(-0.5, 0.5, 5),
                                        np.linspace(-11, 0, 23), indexing="ij"), axis=-1).reshape(-1, 3),
           "line": np.stack([np.full(50, 0.1), np.full(50, 0.05), np.linspace(-10, 0, 50)], axis=1),
           "one point": np.array([[0.35, 0.1, -5.0]]),
           "far away": np.array([[50.0, 50.0, 50.0], [0.35, 0.1, -5.0]])}[layout]
    paths = root_paths(branched)
    for p in (mucilage, citrate):
        parts = _particles(paths, 9.5, p, FieldDiscretisation())
        ref = np.zeros(len(pts))
        _point_values_kernel(parts, pts, 9.5, p.source_width ** 2, p.diffusivity_retarded, p.decay_retarded,
                             1.0 / (p.theta * p.R), ref)
        assert ref.max() > 0
        threads = numba.get_num_threads()
        try:
            got = []
            for k in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
                numba.set_num_threads(k)
                got.append(concentration_points(paths, pts, 9.5, p))
        finally:
            numba.set_num_threads(threads)
        np.testing.assert_array_equal(got[0], got[-1])          # thread count changes nothing
        # the same terms in the same order; only SIMD vs scalar exp() may differ in the last bit
        np.testing.assert_allclose(got[0], ref, rtol=1e-13, atol=1e-15 * ref.max())
        if layout == "far away":
            assert got[0][0] == 0.0


@pytest.mark.parametrize("name", ["mucilage", "citrate"])
def test_mass_balance(branched, name, request):
    """(c) mass on a large grid = released mass with decay (exact integral), to 1e-6."""
    p = request.getfixturevalue(name)
    grid = RegularGrid((-4, -4, -13), (8, 4, 3), (32, 16, 24))
    snaps = list(rhizodeposition_fields(branched, grid, p, [5.0, 10.0]))
    for s in snaps:
        assert s.mass_in_domain == pytest.approx(s.expected_mass, rel=1e-6)
        assert 0 < s.expected_mass < s.released
    # decay-free mass equals release rate times release time (point source: Q x growth period)
    if name == "mucilage":
        assert released_mass(root_paths(branched), 10.0, p, decay=False) == pytest.approx(p.Q * (10 + 5 + 2))


def test_voxel_average_converges_to_point_value(citrate):
    """(d) the voxel average of a cell centred on x tends to c(x) as h^2."""
    rs = straight_root_system(1.0, 5.0)
    x = np.array([0.12, 0.05, -2.5])
    exact = concentration_points(rs, x[None], 5.0, citrate)[0]
    errs = []
    for h in (0.08, 0.04, 0.02):
        g = RegularGrid(tuple(x - h / 2), tuple(x + h / 2), (1, 1, 1))
        c = list(rhizodeposition_fields(rs, g, citrate, [5.0]))[-1].concentration
        errs.append(abs(c[0, 0, 0] - exact))
    assert errs[2] < errs[1] < errs[0]
    # second order once h is small against the field's scale
    assert errs[2] < 0.3 * errs[1] and errs[2] / exact < 1e-2


def test_grid_refinement_hotspot_volume(mucilage):
    """(d) hotspot volume converges under refinement (no singular overestimate on root paths)."""
    rs = straight_root_system(0.5, 6.0)
    vols = []
    for h in (0.1, 0.05, 0.025):
        g = RegularGrid.from_resolution((-0.4, -0.4, -3.4), (0.4, 0.4, 0.2), h)
        c = list(rhizodeposition_fields(rs, g, mucilage, [6.0]))[-1].concentration
        vols.append(hotspot_volume(c, mucilage.threshold_liquid, g.cell_volume))
    assert vols[0] > 0
    assert abs(vols[2] - vols[1]) < abs(vols[1] - vols[0]) + 1e-3
    assert vols[2] == pytest.approx(vols[1], rel=0.15)


def test_semigroup_matches_direct(branched, citrate):
    grid = RegularGrid.from_resolution((-2, -1.5, -11), (5.5, 1.5, 1), 0.1)
    times = [4.0, 6.0, 8.0, 10.0]
    direct = list(rhizodeposition_fields(branched, grid, citrate, times))
    prop = list(rhizodeposition_fields(branched, grid, citrate, times, direct_age=None))
    a, b = direct[-1].concentration, prop[-1].concentration
    # propagation loses the mass that diffuses out and back in: compare away from the boundary
    inner = np.zeros(grid.shape, bool)
    inner[10:-10, 10:-10, 10:-10] = True
    m = (a > 1e-3 * a.max()) & inner
    assert np.max(np.abs(b[m] / a[m] - 1)) < 2e-3


def test_heat_propagate_matches_gaussian(citrate):
    grid = RegularGrid((-2, -2, -2), (2, 2, 2), (40, 40, 40))
    from rhizoscale.rhizodeposition.field import _deposit, FieldDiscretisation
    parts = np.array([[0.013, -0.02, 0.031, 1.0, 0.0, 0.0]])
    a = np.zeros(grid.shape)
    _deposit(parts, 2.0, citrate, grid, FieldDiscretisation(), a)
    b = np.zeros(grid.shape)
    _deposit(parts, 3.0, citrate, grid, FieldDiscretisation(), b)
    c = heat_propagate(a, grid, 1.0, citrate)
    assert np.max(np.abs(c - b)) < 1e-4 * b.max()


def _one_root(paths, i):
    """RootPaths of root ``i`` alone."""
    t, p, a = paths.root(i)
    return RootPaths(np.array([0, len(t)], np.int64), t, p, a, paths.age)


@pytest.mark.parametrize("name", ["mucilage", "citrate"])
def test_single_root_maximum_matches_brute_force(branched, name, request):
    """Exact single-root maxima at hot voxels (with old mass propagated) = max over per-root fields."""
    p = request.getfixturevalue(name)
    grid = RegularGrid.from_resolution((-1.5, -1, -10.5), (4.5, 1, 0.5), 0.1)
    paths = root_paths(branched)
    T = 10.0
    per_root = [list(rhizodeposition_fields(_one_root(paths, i), grid, p, [T]))[-1].concentration
                for i in range(paths.n_roots)]
    brute = np.max(per_root, axis=0)
    total = sum(per_root)
    thr = float(np.quantile(total[total > 0], 0.98))
    snap = list(rhizodeposition_fields(paths, grid, p, [6.0, 8.0, T], direct_age=0.5,
                                       single_root_threshold=thr))[-1]
    hot = snap.concentration > thr
    assert hot.sum() > 50
    np.testing.assert_allclose(snap.single_root_max[hot], brute[hot], rtol=1e-3)
    assert np.all(snap.single_root_max[~hot] == 0)
    share = overlap_share(snap.concentration, snap.single_root_max, thr)
    exact_share = np.count_nonzero(hot & (brute <= thr)) / hot.sum()
    assert share == pytest.approx(exact_share, abs=2 / hot.sum())


def test_hotspot_statistics_equal_their_specification():
    """The one-pass recorder figures equal hotspot_volume, max, hotspot_duration_update and
    overlap_share bit for bit, on 1 and 2 threads."""
    import numba
    from rhizoscale.rhizodeposition.analysis import hotspot_duration_update, hotspot_statistics
    rng = np.random.default_rng(5)
    c = rng.lognormal(0.0, 1.0, (7, 9, 11))
    thr = float(np.quantile(c, 0.8))
    hot = c > thr
    srm = np.where(hot, c * rng.uniform(0.5, 1.2, c.shape), 0.0)
    ref = rng.uniform(0, 3, c.shape).astype(np.float32)
    expect = hotspot_duration_update(ref.copy(), c, thr, 0.3)
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        try:
            duration = ref.copy()
            stats = hotspot_statistics(c, thr, 1e-3, duration, 0.3, srm[hot])
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        np.testing.assert_array_equal(duration, expect)
        assert stats == {"hotspot_volume": hotspot_volume(c, thr, 1e-3), "max_concentration": float(c.max()),
                         "overlap_share": overlap_share(c, srm, thr)}
    assert np.isnan(hotspot_statistics(c, 1e9, 1e-3, hot_single_root_max=[])["overlap_share"])
    c[3, 4, 5] = np.nan
    assert np.isnan(hotspot_statistics(c, thr, 1e-3)["max_concentration"])


def test_single_root_maximum_same_on_any_thread_count(branched, citrate):
    import numba
    from rhizoscale.rhizodeposition.single_root import single_root_maximum
    grid = RegularGrid.from_resolution((-1.5, -1, -10.5), (4.5, 1, 0.5), 0.1)
    paths = root_paths(branched)
    vox = np.argwhere(np.ones(grid.shape, bool))[::7]
    out = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        numba.set_num_threads(threads)
        try:
            out.append(single_root_maximum(paths, grid, citrate, 10.0, vox))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert out[0].max() > 0
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("name", ["mucilage", "citrate"])
def test_single_root_exceeds_is_exactly_the_maximum_above_threshold(branched, name, request):
    """The threshold test (bounds, early stops) gives exactly ``maximum > threshold``, also
    for thresholds equal to a voxel's maximum (there: False), on 1 and 2 threads."""
    import numba
    from rhizoscale.rhizodeposition.single_root import single_root_exceeds, single_root_maximum
    p = request.getfixturevalue(name)
    grid = RegularGrid.from_resolution((-1.5, -1, -10.5), (4.5, 1, 0.5), 0.1)
    paths = root_paths(branched)
    vox = np.argwhere(np.ones(grid.shape, bool))[::5]
    m = single_root_maximum(paths, grid, p, 10.0, vox)
    vox, m = vox[m > 0], m[m > 0]
    levels = np.quantile(m, [0.5, 0.9, 0.99])
    for thr in [*levels, *m[np.argsort(np.abs(m[:, None] - levels).min(axis=1))[:3]]]:   # some exactly = m
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            try:
                e = single_root_exceeds(paths, grid, p, 10.0, vox, float(thr))
            finally:
                numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            np.testing.assert_array_equal(e, m > thr)
        assert 0 < e.sum() < len(e) or thr in m


def test_model_single_root_exceeds_gives_the_same_overlap_share(branched, citrate):
    """A model asked for ``single_root="exceeds"`` records the flags at the hot voxels (in
    C order, as np.argwhere) and the recorder's overlap share equals the one from maxima."""
    from rhizoscale.rhizodeposition.analysis import hotspot_statistics
    from rhizoscale.rhizodeposition.field import RhizodepositionModel, _voxels_above
    grid = RegularGrid.from_resolution((-1.5, -1, -10.5), (4.5, 1, 0.5), 0.1)
    snaps = []
    for mode in ("maximum", "exceeds"):
        model = RhizodepositionModel(branched, grid, citrate, single_root_threshold=30.0, direct_age=0.5,
                                     single_root=mode)
        model.advance_to(10.0)
        snaps.append(model.snapshot)
    a, b = snaps
    np.testing.assert_array_equal(a.concentration, b.concentration)
    np.testing.assert_array_equal(_voxels_above(a.concentration, 30.0), np.argwhere(a.concentration > 30.0))
    np.testing.assert_array_equal(b.hot_single_root_exceeds, a.hot_single_root_max > 30.0)
    assert b.single_root_max is None and 0 < b.hot_single_root_exceeds.mean() < 1
    sa = hotspot_statistics(a.concentration, 30.0, 1e-3, hot_single_root_max=a.hot_single_root_max)
    sb = hotspot_statistics(b.concentration, 30.0, 1e-3, hot_single_root_exceeds=b.hot_single_root_exceeds)
    assert sa == sb and sa["overlap_share"] == overlap_share(a.concentration, a.single_root_max, 30.0)
    with pytest.raises(InputError, match="single_root"):
        RhizodepositionModel(branched, grid, citrate, single_root="max")


def test_overlap_share_order_invariant_and_overlap(mucilage):
    p = mucilage.with_overrides({"threshold": 300.0, "threshold_units": "ug cm-3"})
    t = np.array([0.0, 4.0])
    roots = [np.array([[0.0, 0, 0], [0.0, 0, -4]]), np.array([[0.1, 0, 0], [0.1, 0, -4]]),
             np.array([[0.5, 0.3, -0.5], [0.5, 0.3, -3.0]])]
    grid = RegularGrid((-0.5, -0.5, -4.5), (1.0, 0.8, 0.5), (50, 13, 15))
    res = []
    for order in ([0, 1, 2], [2, 0, 1]):
        rs = RootSystem.from_polylines([roots[i] for i in order], [t] * 3, 0.05, time=4.0)
        s = list(rhizodeposition_fields(rs, grid, p, [4.0], single_root_threshold=p.threshold))[-1]
        res.append((s.concentration, s.single_root_max, overlap_share(s.concentration, s.single_root_max, p.threshold)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12, atol=1e-12 * res[0][0].max())
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12, atol=1e-12 * res[0][0].max())
    assert res[0][2] == res[1][2]
    # the two neighbouring roots 1 mm apart create hotspot volume neither makes alone
    assert 0 < res[0][2] < 1


def test_bad_input(branched, mucilage):
    grid = RegularGrid((-1, -1, -1), (1, 1, 0), (4, 4, 4))
    with pytest.raises(InputError, match="beyond"):
        list(rhizodeposition_fields(branched, grid, mucilage, [11.0]))
    with pytest.raises(InputError, match="beyond"):
        concentration_at(branched, [[0, 0, -1]], 12.0, mucilage)
    with pytest.raises(InputError, match="increasing"):
        list(rhizodeposition_fields(branched, grid, mucilage, [5.0, 4.0]))
    # a zero-length root releases nothing and breaks nothing
    rs = RootSystem.from_polylines([np.array([[0, 0, 0], [0, 0, -1.0]]), np.array([[0, 0, -0.5]])],
                                   [np.array([0, 1.0]), np.array([0.5])], 0.05, time=1.0)
    s = list(rhizodeposition_fields(rs, grid, mucilage, [1.0]))[-1]
    assert s.released == pytest.approx(mucilage.Q * 1.0)


def test_scenario_small(tmp_path):
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    sc = scenario_from_dict({"case": "cs1-rhizodeposition", "straight_root": {"velocity": 1.0, "days": 3},
                             "grid": {"lower": [-1, -1, -4], "upper": [1, 1, 0.5], "resolution": 0.1},
                             "direct_age": "all", "figures": False, "vtk": False})
    summary = run_scenario(sc, tmp_path)
    days = summary["details"]["mucilage"]["per_day"]
    assert [d["time_d"] for d in days] == [1.0, 2.0, 3.0]
    assert (tmp_path / "fields.nc").exists()
    assert days[-1]["mass_in_domain_ug"] == pytest.approx(days[-1]["mass_present_ug"], rel=1e-6)
    big = scenario_from_dict({"case": "cs1-rhizodeposition", "straight_root": {"velocity": 1.0, "days": 3},
                              "grid": {"lower": [-100, -100, -100], "upper": [100, 100, 0], "resolution": 0.1},
                              "memory_limit_gb": 1})
    with pytest.raises(ResourceError, match="GiB"):
        run_scenario(big, tmp_path / "big")
    with pytest.raises(InputError):
        scenario_from_dict({"case": "cs1-rhizodeposition", "rsml": "missing.rsml"})
    with pytest.raises(InputError):
        scenario_from_dict({"case": "cs1-rhizodeposition", "overrides": {"citrate": {"nonsense": 1}}},) \
            if False else run_scenario(scenario_from_dict(
                {"case": "cs1-rhizodeposition", "straight_root": {"velocity": 1.0, "days": 1},
                 "grid": {"lower": [-1, -1, -2], "upper": [1, 1, 0], "resolution": 0.2},
                 "overrides": {"citrate": {"nonsense": 1}}}), tmp_path / "o")


def test_hotspot_duration_of_an_instantaneous_release(mucilage):
    """A (nearly) instantaneous release: the centre voxel stays hot until the analytic
    peak ``M exp(-k' t) / (theta R (2 pi s^2)^1.5)``, ``s^2 = w^2 + 2 D' t``, drops below the threshold."""
    from rhizoscale.rhizodeposition.analysis import hotspot_duration_update
    p = mucilage.with_overrides({"source_width": 0.2, "D": 0.01, "k": 0.5, "threshold_units": "ug cm-3",
                                 "threshold": 1.0})
    dt_release = 1e-3
    rs = RootSystem.from_polylines([np.array([[0.0, 0, -1], [0.0, 0, -1 - 1e-5]])], [np.array([0.0, dt_release])],
                                   0.05, time=3.0)
    M = p.Q * dt_release
    t_cross = 1.37  # choose the threshold so that the centre drops below it at t = 1.37 d

    def peak(t):
        s2 = p.source_width ** 2 + 2 * p.diffusivity_retarded * t
        return M * np.exp(-p.decay_retarded * t) / (p.theta * p.R * (2 * np.pi * s2) ** 1.5)

    p = p.with_overrides({"threshold": float(peak(t_cross))})
    grid = RegularGrid((-0.01, -0.01, -1.01), (0.01, 0.01, -0.99), (1, 1, 1))  # voxel centred on the release
    times = np.round(np.arange(0.1, 3.0001, 0.1), 10)
    duration = np.zeros(grid.shape)
    t_prev = 0.0
    for snap in rhizodeposition_fields(rs, grid, p, times):
        hotspot_duration_update(duration, snap.concentration, p.threshold, snap.time - t_prev)
        t_prev = snap.time
    # sampled every 0.1 d, the first sample is at 0.1 d: hot at 0.1 ... 1.3 d
    assert duration[0, 0, 0] == pytest.approx(0.1 * np.count_nonzero(times < t_cross))
    assert duration[0, 0, 0] == pytest.approx(1.3)


def test_scenario_rsml_relative_path_and_roots_outside(tmp_path):
    """``rsml:`` is read relative to the scenario file; roots outside the grid warn and their
    mass is counted (in the domain + outside = present)."""
    from rhizoscale.io.rsml import write_rsml
    from rhizoscale.scenario import load_scenario, run_scenario
    sub = tmp_path / "case"
    sub.mkdir()
    rs = straight_root_system(1.0, 2.0)
    write_rsml(rs, sub / "root.rsml")
    (sub / "s.yaml").write_text(
        "case: cs1-rhizodeposition\nname: t\nrsml: root.rsml\nage: 2\nexudates: [mucilage]\n"
        "grid: {lower: [-0.5, -0.5, -1.2], upper: [0.5, 0.5, 0.2], resolution: 0.1}\n"
        "direct_age: all\nfigures: false\nvtk: false\n")
    summary = run_scenario(load_scenario(sub / "s.yaml"), tmp_path / "out")
    assert summary["details"]["root_system"]["n_roots"] == 1 if "n_roots" in summary["details"]["root_system"] else True
    assert any("outside the grid" in w for w in summary["warnings"])
    day = summary["details"]["mucilage"]["per_day"][-1]
    assert day["released_ug"] == pytest.approx(mucilage_q() * 2.0, rel=1e-9)
    # half of the path (z < -1.2) lies outside: about half of the mass is outside
    assert 0.2 * day["mass_present_ug"] < day["mass_outside_ug"] < 0.8 * day["mass_present_ug"]
    assert day["mass_in_domain_ug"] + day["mass_outside_ug"] == pytest.approx(day["mass_present_ug"], rel=1e-12)


def mucilage_q():
    return load_parameter_set(ExudateParameters, "mucilage").Q


def test_point_values_refuse_points_that_are_not_finite_x_y_z():
    """The binned point kernel: a NaN coordinate made its bins span without end (the call
    hung), four columns were read as a silently wrong point; both are refused in one line."""
    from rhizoscale.errors import InputError
    from rhizoscale.parameters import load_parameter_set
    from rhizoscale.rhizodeposition import ExudateParameters, straight_root_system
    mucilage = load_parameter_set(ExudateParameters, "mucilage")
    rs = straight_root_system(0.5, 2.0)
    for pts, says in (([[np.nan, 0.0, -1.0], [0.05, 0.0, -1.0]], "finite"),
                      ([[0.05, 0.0, -1.0, 1.0]], r"\(n, 3\)"), ([[0.05, 0.0]], r"\(n, 3\)")):
        with pytest.raises(InputError, match=f"points: .*{says}"):
            concentration_points(rs, pts, 2.0, mucilage)
    assert concentration_points(rs, [], 2.0, mucilage).shape == (0,)


def test_heat_kernel_passes_equal_scipy_convolution():
    """Each axis pass of the semigroup step is a zero-padded convolution (scipy as the oracle)."""
    from scipy.ndimage import convolve1d
    from rhizoscale.rhizodeposition.heat_kernel import _convolve_axis, _sampled_gaussian
    rng = np.random.default_rng(2)
    src = rng.uniform(size=(23, 17, 19))
    w = _sampled_gaussian(1.7, 6.0)          # 23 taps: wider than two of the axes
    for axis in range(3):
        dst = np.empty_like(src)
        _convolve_axis(src, dst, w, axis)
        np.testing.assert_allclose(dst, convolve1d(src, w, axis=axis, mode="constant"), rtol=1e-13, atol=1e-15)


def test_heat_propagate_into_kept_arrays_and_reused_snapshots_give_the_same_numbers(branched, citrate):
    """``out=`` / ``overwrite_input=`` (a run allocates no grid-sized arrays per step) and a
    model computing every snapshot into one array: bit for bit the plain results."""
    from rhizoscale.rhizodeposition.field import RhizodepositionModel
    grid = RegularGrid.from_resolution((-1.5, -1, -10.5), (4.5, 1, 0.5), 0.1)
    rng = np.random.default_rng(2)
    for support in ((slice(None),) * 3, (slice(40, 60), slice(5, 15), slice(20, 40))):   # full grid, a box
        field = np.zeros(grid.shape)
        field[support] = rng.uniform(0, 1, field[support].shape)
        expect = heat_propagate(field, grid, 0.7, citrate)
        out = np.full(grid.shape, 5.0)
        work = field.copy()
        got = heat_propagate(work, grid, 0.7, citrate, out=out, overwrite_input=True)
        assert got is out
        np.testing.assert_array_equal(got, expect)
    with pytest.raises(ValueError, match="out"):
        heat_propagate(field, grid, 0.7, citrate, out=field)
    models = [RhizodepositionModel(branched, grid, citrate, direct_age=0.5, reuse_snapshot=r) for r in (False, True)]
    for T in (3.0, 6.0, 10.0):
        for m in models:
            m.advance_to(T)
        np.testing.assert_array_equal(models[0].snapshot.concentration, models[1].snapshot.concentration)
    assert models[1].snapshot.concentration is models[1]._total
