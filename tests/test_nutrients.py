"""Case study 2: sorption, rhizosphere models, 3D soil and their coupling (exact oracles)."""

import numpy as np
import pytest
from scipy.optimize import brentq

from rhizoscale import RootSystem
from rhizoscale.errors import InputError
from rhizoscale.grid import RegularGrid
from rhizoscale.nutrients import (
    CoupledUptakeModel,
    RhizosphereConstants,
    RhizosphereModels,
    SoilModel3D,
    competitive_langmuir,
    liquid_concentration,
    load_citrate,
    load_phosphate,
    load_soil,
    michaelis_menten_uptake,
    rhizosphere_peclet,
    total_concentration,
)
from rhizoscale.nutrients.coupling import clip_segments_to_box
from rhizoscale.nutrients.cylinders import (
    cylinder_cell_weights,
    ring_interpolation_weights,
)
from rhizoscale.nutrients.sorption import (
    competitive_langmuir_jacobian,
    liquid_from_total_2,
)

SMAX, AFF = np.array([5.0, 1.0]), np.array([20.0, 10.0])


# ----------------------------------------------------------------------------- sorption
def test_isotherm_inverted_exactly():
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1, (2, 500)) * np.array([[0.02], [2.0]])
    c[:, :5] = 0.0
    total = total_concentration(c, 0.3, 1.3, SMAX, AFF)
    back = liquid_concentration(total, 0.3, 1.3, SMAX, AFF)
    assert np.allclose(back, c, rtol=1e-12, atol=1e-300)
    out = np.empty_like(c)
    assert liquid_from_total_2(total[0], total[1], 0.3, 1.3, *SMAX[:1], AFF[0], SMAX[1], AFF[1], out) == 0
    assert np.allclose(out, c, rtol=1e-12, atol=1e-300)


def test_isotherm_jacobian_matches_finite_differences():
    c = np.array([[3e-3], [0.2]])
    jac = competitive_langmuir_jacobian(c, SMAX, AFF)[:, :, 0]
    h = 1e-7
    for j in range(2):
        dc = np.zeros_like(c)
        dc[j] = h * c[j]
        fd = (competitive_langmuir(c + dc, SMAX, AFF) - competitive_langmuir(c - dc, SMAX, AFF))[:, 0] / (2 * h * c[j, 0])
        assert np.allclose(jac[:, j], fd, rtol=1e-6)


def test_competitive_limits():
    c_p = np.linspace(0, 0.05, 11)
    # no competitor: the single-species Langmuir isotherm
    s = competitive_langmuir(np.stack([c_p, np.zeros_like(c_p)]), SMAX, AFF)
    assert np.allclose(s[0], SMAX[0] * AFF[0] * c_p / (1 + AFF[0] * c_p), rtol=1e-14)
    # a competitor at huge concentration takes all sites
    s = competitive_langmuir(np.array([[0.01], [1e9]]), SMAX, AFF)
    assert s[0, 0] < 1e-9 and s[1, 0] == pytest.approx(SMAX[1], rel=1e-6)
    # no sorption capacity: totals are theta c
    c = np.array([[0.01], [0.2]])
    assert np.allclose(total_concentration(c, 0.3, 1.3, [0, 0], AFF), 0.3 * c)
    # more citrate, less sorbed P (desorption) at the same solution P
    s_lo = competitive_langmuir(np.array([[0.002], [0.0]]), SMAX, AFF)[0, 0]
    s_hi = competitive_langmuir(np.array([[0.002], [0.3]]), SMAX, AFF)[0, 0]
    assert s_hi < s_lo


# ----------------------------------------------------------------------------- 1D models
def _constants(smax=(0.0, 0.0), decay=(0.0, 0.0), d=(1e-6, 1e-6), imax=0.0, km=1e-3, cmin=0.0):
    return RhizosphereConstants(theta=0.3, bulk_density=1.3, smax=smax, affinity=tuple(AFF), diffusivity=d,
                                decay=decay, imax=imax, km=km, cmin=cmin)


def _steady(models, c_bulk, exud, dt=1e5, steps=300):
    for _ in range(steps):
        models.advance(dt, c_bulk, exud)


def test_steady_exudation_without_sorption_matches_log_profile():
    d, r0, r1, e = 1e-6, 0.05, 0.5, np.array([1e-8, 3e-8])
    m = RhizosphereModels(_constants(d=(d, d)), n_cells=10, capacity=2)
    m.add([r0, r0], [r1, r1], np.zeros((2, 2)))
    _steady(m, np.full((2, 2), 1e-3), e)
    r = m.centres()
    exact = 1e-3 + e[:, None] * r0 / d * np.log(r1 / r)
    assert np.allclose(m.c[:2, 1], exact, rtol=1e-10)


def test_steady_michaelis_menten_uptake_matches_analytic():
    d, r0, r1, cb = 5e-7, 0.03, 0.4, 4e-3
    imax, km, cmin = 3e-6, 5.8e-3, 2e-4
    m = RhizosphereModels(_constants(d=(d, d), imax=imax, km=km, cmin=cmin), n_cells=6, capacity=1)
    m.add([r0], [r1], [[cb, 0.0]])
    _steady(m, np.array([[cb, 0.0]]), np.zeros(1))

    def surface(cs):  # steady radial flux r0 U(cs) / r through the cylinder
        return cs - (cb - michaelis_menten_uptake(cs, imax, km, cmin) * r0 / d * np.log(r1 / r0))

    cs = brentq(surface, 0.0, cb, xtol=1e-16)
    assert m.c[0, 0, 0] == pytest.approx(cs, rel=1e-10)
    r = m.centres()[0, 1:]
    u = michaelis_menten_uptake(cs, imax, km, cmin)
    assert np.allclose(m.c[0, 0, 1:], cb - u * r0 / d * np.log(r1 / r), rtol=1e-10)


def test_uptake_stops_below_cmin():
    assert michaelis_menten_uptake(1e-4, 1.0, 1e-3, 2e-4) == 0.0
    assert michaelis_menten_uptake(2e-4 + 1e-3, 1.0, 1e-3, 2e-4) == pytest.approx(0.5)


def _transient(n_cells, dt, t_end=2 * 86400.0):
    soil = load_soil()
    k = RhizosphereConstants(theta=0.3, bulk_density=1.3, smax=(soil.smax_phosphate, soil.smax_citrate),
                             affinity=(soil.k_phosphate, soil.k_citrate), diffusivity=(6e-7, 4.5e-7),
                             decay=(0.0, 1.64e-5), imax=3.26e-6, km=5.8e-3, cmin=2e-4)
    m = RhizosphereModels(k, n_cells=n_cells, capacity=1)
    m.add([0.05], [0.3], [[2e-3, 0.0]])
    m0 = m.mass_per_length()[0]
    acc = {"uptake": 0.0, "exudation": 0.0, "decay": np.zeros(2), "outflux": np.zeros(2)}
    for _ in range(int(round(t_end / dt))):
        o = m.advance(dt, np.array([[2e-3, 0.0]]), np.array([3e-6]))
        for key in acc:
            acc[key] = acc[key] + o[key][0]
    return m, m0, acc


def test_single_model_conserves_mass():
    m, m0, acc = _transient(12, 3600.0)
    m1 = m.mass_per_length()[0]
    p_err = m1[0] - m0[0] + acc["uptake"] + acc["outflux"][0]
    c_err = m1[1] - m0[1] - acc["exudation"] + acc["decay"][1] + acc["outflux"][1]
    assert abs(p_err) <= 1e-10 * m0[0]
    assert abs(c_err) <= 1e-10 * acc["exudation"]


def test_convergence_under_refinement():
    # space: errors against a fine reference fall at least like h
    ref = _transient(256, 1800.0)[2]["uptake"]
    errs = [abs(_transient(n, 1800.0)[2]["uptake"] - ref) for n in (8, 16, 32)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[0] / errs[2] > 3.5
    # time: implicit Euler is first order
    ref_t = _transient(16, 225.0)[2]["uptake"]
    errs_t = [abs(_transient(16, dt)[2]["uptake"] - ref_t) for dt in (7200.0, 3600.0, 1800.0)]
    ratios = np.array(errs_t[:-1]) / np.array(errs_t[1:])
    assert np.all(ratios > 1.6)


def test_batched_models_equal_single_models():
    k = _constants(smax=tuple(SMAX), decay=(0.0, 1.6e-5), imax=3e-6, km=5.8e-3, cmin=2e-4)
    r0 = np.array([0.02, 0.05, 0.03, 0.04])
    r1 = np.array([0.2, 0.6, 0.35, 0.9])
    c0 = np.array([[2e-3, 0.0], [1e-3, 0.1], [4e-3, 0.0], [2e-3, 0.02]])
    cb = c0 * 1.1
    e = np.array([3e-6, 0.0, 1e-6, 3e-6])
    batch = RhizosphereModels(k, n_cells=9, capacity=4)
    batch.add(r0, r1, c0)
    for _ in range(5):
        batch.advance(3600.0, cb, e)
    for i in range(4):
        single = RhizosphereModels(k, n_cells=9, capacity=1)
        single.add(r0[i:i + 1], r1[i:i + 1], c0[i:i + 1])
        for _ in range(5):
            single.advance(3600.0, cb[i:i + 1], e[i:i + 1])
        assert np.array_equal(single.c[0], batch.c[i])


# ----------------------------------------------------------------------------- 3D soil
def test_3d_cosine_mode_decays_at_the_discrete_rate():
    n, length, d, dt = 16, 4.0, 2e-3, 50.0
    grid = RegularGrid((0, 0, 0), (length, 1, 1), (1, 1, n))
    x = grid.centers("x")
    soil = SoilModel3D(grid, theta=0.3, porosity=0.5, bulk_density=1.3, smax=(0, 0), affinity=(0, 0),
                       d_water=(1.0, 1.0), diffusivity=lambda th, phi, dw: d * dw * np.array([1.0, 5.0, 7.0]),
                       initial=np.stack([1 + 0.5 * np.cos(np.pi * x / length), np.zeros(n)]).reshape(2, 1, 1, n))
    h = length / n
    lam = 4 * d / h**2 * np.sin(np.pi * h / (2 * length)) ** 2 / 0.3
    for _ in range(10):
        assert soil.step(dt, np.zeros((2, n))) is not None
    expected = 1 + 0.5 * np.cos(np.pi * x / length) / (1 + dt * lam) ** 10
    assert np.allclose(soil.c[0], expected, rtol=1e-12)


def test_3d_fast_solver_matches_numpy_reference():
    """Fused Numba residual + block-SGS on changing cells == NumPy residual + block-Jacobi."""
    grid = RegularGrid((0, 0, 0), (3, 1, 2), (8, 3, 12))
    rng = np.random.default_rng(3)
    states = []
    for solver in ("sgs", "jacobi"):
        soil = SoilModel3D(grid, theta=0.3, porosity=0.5, bulk_density=1.3, smax=SMAX, affinity=AFF,
                           d_water=(8e-6, 6e-6), decay=(0.0, 1.6e-5), initial=(2e-3, 0.0))
        soil.linear_solver = solver
        src = np.zeros((2, grid.n_cells))
        cells = rng.choice(grid.n_cells, 5, replace=False) if solver == "sgs" else cells
        src[0, cells] = -2e-9
        src[1, cells] = 5e-8
        for _ in range(6):
            out = soil.step(3600.0, src)
            assert out is not None and out["residual"] <= 1e-14
        states.append(soil.c.copy())
    assert np.allclose(states[0], states[1], rtol=1e-10, atol=1e-18)


@pytest.mark.parametrize("diffusivity", [lambda th, phi, dw: 1e-6 * np.array([1.0, 3.0, 0.5]),
                                         "field"])
def test_3d_kernels_apply_the_csr_operator(diffusivity):
    """The Numba residual (face arrays) equals the NumPy residual (CSR operator), for a
    diagonal tensor and a per-cell field on an anisotropic grid."""
    from rhizoscale.nutrients.soil3d import _residual_and_blocks
    grid = RegularGrid((0, 0, 0), (3, 1, 2), (5, 4, 7))
    rng = np.random.default_rng(9)
    if diffusivity == "field":
        field = rng.uniform(0.5, 2.0, grid.shape) * 1e-6
        diffusivity = lambda th, phi, dw: field * dw          # noqa: E731
    soil = SoilModel3D(grid, theta=0.3, porosity=0.5, bulk_density=1.3, smax=SMAX, affinity=AFF,
                       d_water=(1.0, 0.7), decay=(0.0, 1.6e-5), diffusivity=diffusivity)
    n, v, dt = grid.n_cells, soil.volume, 600.0
    c, told = rng.random((2, n)) * 1e-3, rng.random((2, n)) * 1e-3
    src = rng.standard_normal((2, n)) * 1e-9
    res, jac = np.empty((2, n)), np.empty((2, 2, n))
    args = (c[0], c[1], told[0], told[1], src[0], src[1], v, dt, 0.3, 1.3, SMAX[0], AFF[0], SMAX[1], AFF[1],
            0.0, 1.6e-5)
    shape = np.array(grid.shape, np.int64)
    _residual_and_blocks(*soil._faces, shape, np.arange(n, dtype=np.int64), *args, res, jac)
    t_new = soil.totals(c)
    soil.c = c
    np.testing.assert_allclose(soil.totals(), t_new, rtol=1e-14)     # the Numba totals of the state
    for i, lam in enumerate((0.0, 1.6e-5)):
        ref = v * ((t_new[i] - told[i]) / dt + lam * 0.3 * c[i]) + soil.operators[i] @ c[i] - src[i]
        np.testing.assert_allclose(res[i], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # on a list of cells: those entries (the same numbers), the others untouched
    cells = np.sort(rng.choice(n, n // 3, replace=False)).astype(np.int64)
    part, part_jac = np.full((2, n), np.nan), np.full((2, 2, n), np.nan)
    _residual_and_blocks(*soil._faces, shape, cells, *args, part, part_jac)
    np.testing.assert_array_equal(part[:, cells], res[:, cells])
    np.testing.assert_array_equal(part_jac[..., cells], jac[..., cells])
    others = np.setdiff1d(np.arange(n), cells)
    assert np.isnan(part[:, others]).all() and np.isnan(part_jac[..., others]).all()


def test_3d_rejects_full_tensor():
    grid = RegularGrid((0, 0, 0), (1, 1, 1), (2, 2, 2))
    with pytest.raises(InputError):
        SoilModel3D(grid, theta=0.3, porosity=0.5, bulk_density=1.3, smax=(1, 1), affinity=(1, 1),
                    d_water=(1e-5, 1e-5), diffusivity=lambda *a: np.array([[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]]))


# ----------------------------------------------------------------------------- coupling
def _roots(offset_x=0.0):
    s = np.linspace(0, 1, 31)
    tap = np.stack([np.full(31, 4.0 + offset_x), np.full(31, 0.5), -0.2 - 7 * s], axis=1)
    lat = np.stack([4.0 + 3 * s[:11] / s[10], np.full(11, 0.5), np.full(11, -3.0)], axis=1)
    return RootSystem.from_polylines([tap, lat], [3 * s, 1.5 + 1.5 * s[:11] / s[10]], [0.05, 0.03],
                                     parents=[-1, 0], parent_nodes=[None, 12])


def _coupled(rs=None, exudation=True, soil=None, res=0.5, **kw):
    grid = RegularGrid.from_resolution((0, 0, -8), (8, 1, 0), res)
    return CoupledUptakeModel(rs or _roots(), grid, soil or load_soil(), load_phosphate(), load_citrate(),
                              n_radial_cells=8, exudation=exudation, **kw)


def test_outer_radius_does_not_depend_on_the_3d_grid():
    # r1 comes from the RLD over the fixed support, so refining the soil grid leaves it unchanged
    r1 = []
    for res in (1.0, 0.5, 0.25):
        model = _coupled(res=res)
        r1.append(model.outer_radius(model.n_total))
    assert np.array_equal(r1[0], r1[1]) and np.array_equal(r1[0], r1[2])
    assert np.all(r1[0] >= 3 * model.seg_radius) and np.all(r1[0] <= model.rld_support_cm)
    # a lone straight root crossing whole 1 cm support cells: RLD = 1 cm cm-3
    lone = RootSystem.from_polylines([np.array([[4.5, 0.5, -1.0], [4.5, 0.5, -6.0]])], [np.array([0.0, 1.0])],
                                     [0.05])
    model = _coupled(rs=lone)
    assert np.allclose(model.outer_radius(model.n_total), 1 / np.sqrt(np.pi), rtol=1e-12)


def test_ring_average_is_exact_for_linear_fields_and_weights_sum_to_one():
    grid = RegularGrid.from_resolution((0, 0, 0), (4, 4, 4), 0.25)
    a = np.array([[1.3, 2.1, 0.9], [2.0, 2.0, 1.0], [0.2, 2.0, 2.0]])
    b = np.array([[2.2, 2.6, 3.1], [2.0, 2.0, 3.0], [0.2, 2.0, 3.0]])
    radius = np.array([0.6, 0.45, 0.5])  # the last cylinder crosses the wall x = 0
    x, y, z = np.meshgrid(grid.centers("x"), grid.centers("y"), grid.centers("z"), indexing="ij")
    field = np.transpose(0.3 * x - 0.7 * y + 1.1 * z + 2.0, (2, 1, 0)).ravel()
    s, c, w = ring_interpolation_weights(grid, a[:2], b[:2], radius[:2])
    mid = 0.5 * (a[:2] + b[:2])
    assert np.allclose(np.bincount(s, weights=w * field[c]), mid @ [0.3, -0.7, 1.1] + 2.0, rtol=1e-12)
    for fn in (cylinder_cell_weights, ring_interpolation_weights):
        s, c, w = fn(grid, a, b, radius)
        assert np.allclose(np.bincount(s, weights=w), 1.0, rtol=1e-14) and np.all((c >= 0) & (c < grid.n_cells))
    # the cylinder's share of each cell converges to its volume: area of a z-aligned disk per layer
    s, c, w = cylinder_cell_weights(grid, a[1:2], b[1:2], radius[1:2])
    cx = np.transpose(x, (2, 1, 0)).ravel()[c]
    cy = np.transpose(y, (2, 1, 0)).ravel()[c]
    inside = np.hypot(cx - 2.0, cy - 2.0) < radius[1] - 0.25 * np.sqrt(2)
    assert np.allclose(w[inside], 0.25**3 / (np.pi * radius[1] ** 2 * 2.0), rtol=0.05)


def test_single_root_uptake_converges_under_3d_refinement():
    s = np.linspace(0, 1, 17)
    tap = np.stack([np.full(17, 1.6), np.full(17, 1.4), -0.1 - 3.5 * s], axis=1)
    rs = RootSystem.from_polylines([tap], [1.0 * s], [0.05])
    ups = {True: [], False: []}
    for exude in (True, False):
        for h in (0.5, 0.25, 0.125):
            grid = RegularGrid.from_resolution((0, 0, -4), (3, 3, 0), h)
            model = CoupledUptakeModel(rs, grid, load_soil(), load_phosphate(), load_citrate(), n_radial_cells=8,
                                       exudation=exude)
            for _ in range(16):
                rec = model.step(3 * 3600.0)
                assert np.all(np.abs(rec.balance_error) <= 1e-10)
            ups[exude].append(rec.uptake)
    for up in ups.values():
        d1, d2 = abs(up[1] - up[0]), abs(up[2] - up[1])
        assert d2 < d1
        assert d2 < 0.02 * up[2]
    assert ups[True][2] > 1.5 * ups[False][2]


def test_coupled_global_mass_balance_and_exudation_effect():
    ups = {}
    for ex in (True, False):
        model = _coupled(exudation=ex)
        for _ in range(24):
            rec = model.step(3 * 3600.0)
            assert np.all(np.abs(rec.balance_error) <= 1e-10)
        ups[ex] = rec.uptake
        if not ex:
            assert np.all(model.soil3d.c[1] == 0.0) and rec.exudation == 0.0
        else:
            assert rec.exudation == pytest.approx(
                3e-6 * 2 * np.pi * np.sum(model.seg_radius * model.seg_length
                                          * (3 * 86400.0 - np.maximum(model.seg_time_s, 0.0))), rel=1e-9)
    assert ups[True] > ups[False] > 0


def test_zero_exudation_limit_is_continuous():
    base = _coupled(exudation=False)
    tiny = _coupled(exudation=True)
    tiny.citrate = tiny.citrate.with_overrides({"exudation_rate": 1e-15})
    for _ in range(8):
        a = base.step(3 * 3600.0)
        b = tiny.step(3 * 3600.0)
    assert b.uptake == pytest.approx(a.uptake, rel=1e-6)


def test_roots_outside_the_box_are_an_error_or_excluded():
    rs = _roots(offset_x=5.0)  # the lateral pokes out of the 8 cm box
    with pytest.raises(InputError, match="outside the soil box"):
        _coupled(rs)
    model = _coupled(rs, outside="exclude")
    assert model.warnings and model.seg_length.sum() < rs.segment_lengths.sum()


def test_excluded_segments_are_cut_at_the_wall():
    """With ``outside="exclude"`` a segment crossing a wall keeps only its part in the box:
    its cylinder, source and sink lie there (not mirrored back from outside)."""
    line = np.array([[6.0, 0.5, -3.0], [7.0, 0.5, -3.0], [8.5, 0.5, -3.0], [10.0, 0.5, -3.0]])
    rs = RootSystem.from_polylines([line], [np.array([0.0, 0.1, 0.2, 0.3])], [0.05])  # crosses x = 8
    model = _coupled(rs, outside="exclude")
    assert model.warnings
    lengths = np.linalg.norm(model.seg_b - model.seg_a, axis=1)
    np.testing.assert_allclose(lengths, model.seg_length, rtol=1e-12, atol=1e-12)
    ends = np.concatenate([model.seg_a, model.seg_b])
    assert ends[:, 0].max() <= 8.0 + 1e-12 and ends[:, 0].max() == pytest.approx(8.0)
    a, b = clip_segments_to_box(np.array([[-0.9, 2.0, -2.0]]), np.array([[0.1, 2.0, -2.0]]),
                                (0, 0, -4), (4, 4, 0))
    np.testing.assert_allclose(a, [[0.0, 2.0, -2.0]])
    np.testing.assert_allclose(b, [[0.1, 2.0, -2.0]])
    rec = model.step(6 * 3600.0)
    assert max(abs(e) for e in rec.balance_error) < 1e-10


def test_unstable_step_is_reduced_and_reported():
    # no sorption buffer, fast diffusion and a huge uptake capacity: over a 3-day step the
    # boundary value at r1, lagged at the start of the step, lets the cylinders draw more P
    # than the soil holds, so the step must be cut
    soil = load_soil().with_overrides({"smax_phosphate": 0.0, "smax_citrate": 0.0})
    phosphate = load_phosphate().with_overrides({"imax": 1e-3, "d_water": 1e-3})
    grid = RegularGrid.from_resolution((0, 0, -8), (8, 1, 0), 1.0)
    model = CoupledUptakeModel(_roots(), grid, soil, phosphate, load_citrate(), n_radial_cells=8)
    rec = model.step(3 * 86400.0)
    assert rec.reductions > 0 and rec.warnings
    assert np.all(model.soil3d.c >= 0)
    assert np.all(np.abs(rec.balance_error) <= 1e-10)


def test_bad_parameters_are_input_errors():
    with pytest.raises(InputError):
        load_soil().with_overrides({"initial_phosphate": -1.0})
    with pytest.raises(InputError):
        load_soil().with_overrides({"water_content": 0.6})  # above porosity
    with pytest.raises(InputError):
        load_phosphate().with_overrides({"km": 0.0})


def test_peclet_definition():
    # v r / D: 2 cm/d, 0.05 cm, D_w of phosphate
    assert rhizosphere_peclet(2 / 86400, 0.05, 8.46e-6) == pytest.approx(0.1368, rel=1e-3)


# ----------------------------------------------------------------------------- scenario
def test_scenario_runs_and_writes_outputs(tmp_path):
    from rhizoscale.scenario import example_text, load_scenario, run_scenario

    text = example_text("cs2-oilseed-rape").replace("time: {stop: 16 d, dt: 2 h, outputs: [4 d, 8 d, 12 d, 16 d]}",
                                                    "time: {stop: 2 d, dt: 1 h, outputs: [1 d, 2 d]}").replace(
        "resolution_cm: 0.25 ", "resolution_cm: 1.0 ")
    assert "stop: 2 d" in text
    path = tmp_path / "cs2.yaml"
    path.write_text(text)
    summary = run_scenario(load_scenario(path), tmp_path / "out")
    for name in ("fields.nc", "uptake_timeseries.nc", "rhizosphere_profiles.nc", "fig6_root_age_p_citrate.png"):
        assert (tmp_path / "out" / name).is_file()
    assert summary["details"]["max_relative_balance_error"] < 1e-10
    assert summary["details"]["p_uptake_with_exudation_umol"] > 0 and summary["details"]["p_uptake_without_exudation_umol"] > 0
    assert summary["details"]["citrate_exuded_umol"] > summary["details"]["citrate_decayed_umol"] > 0


def test_matching_cylinder_totals_is_exact_and_keeps_shape():
    k = _constants(smax=tuple(SMAX), decay=(0.0, 1.6e-5), imax=3e-6, km=5.8e-3, cmin=2e-4)
    m = RhizosphereModels(k, n_cells=10, capacity=2)
    m.add([0.05, 0.03], [0.4, 0.3], [[2e-3, 0.0], [1e-3, 0.05]])
    for _ in range(4):
        m.advance(3600.0, np.array([[2e-3, 0.0], [1e-3, 0.05]]), np.array([3e-6, 1e-6]))
    before = m.c[:2, :, 1:].copy()
    target = np.array([[0.2, 0.05], [0.1, 0.0]])
    m.match_totals(target)
    vol = np.pi * (m.faces[:2, -1] ** 2 - m.faces[:2, 0] ** 2)
    assert np.allclose(m.mass_per_length() / vol[:, None], target, rtol=1e-12, atol=1e-300)
    assert np.all(m.c[1, 1, 1:] == 0.0)
    # the totals are scaled by one factor per cylinder and species (the shape is kept)
    t_before = total_concentration(np.moveaxis(before[0], 0, 0), 0.3, 1.3, SMAX, AFF)
    t_after = total_concentration(m.c[0, :, 1:], 0.3, 1.3, SMAX, AFF)
    ratio = t_after / t_before
    assert np.allclose(ratio, ratio[:, :1], rtol=1e-12)


def test_scenario_can_use_a_homogenisation_table_in_place_of_millington_quirk(tmp_path):
    """A case-study-4 effective-property table (NetCDF) replaces Millington–Quirk in the
    3D and 1D soil models; the path is relative to the scenario file."""
    import xarray as xr

    from rhizoscale.homogenization.property_table import write_property_table
    from rhizoscale.nutrients.scenario import diffusivity_function
    from rhizoscale.scenario import scenario_from_dict
    theta = np.array([0.1, 0.3, 0.45])
    values = np.array([[0.01, 0.02], [0.08, 0.10], [0.2, 0.21]])
    dims = ("theta", "mucilage_fraction")
    ds = xr.Dataset({k: (dims, values * f) for k, f in (("d_eff", 1.0), ("d_min", 0.9), ("d_max", 1.1))},
                    coords={"theta": theta, "mucilage_fraction": [0.0, 0.1]}, attrs={"porosity": 0.45})
    ds["millington_quirk"] = ("theta", theta ** (10 / 3) / 0.45 ** 2)
    write_property_table(ds, tmp_path / "table")
    sc = scenario_from_dict({"case": "cs2-phosphate-uptake",
                             "soil_diffusivity": {"model": "table", "table": "table.nc", "mucilage_fraction": 0.1}},
                            source=tmp_path / "s.yaml", base_dir=tmp_path)
    fn = diffusivity_function(sc.config.soil_diffusivity)
    grid = RegularGrid((0, 0, 0), (1, 1, 1), (2, 2, 2))
    soil = SoilModel3D(grid, theta=0.3, porosity=0.45, bulk_density=1.3, smax=SMAX, affinity=AFF,
                       d_water=(8e-6, 6e-6), decay=(0.0, 0.0), diffusivity=fn)
    assert soil.effective_diffusivity[0] == pytest.approx(0.10 * 8e-6)
    assert soil.effective_diffusivity[1] == pytest.approx(0.10 * 6e-6)
    with pytest.raises(InputError, match="soil_diffusivity.table"):
        scenario_from_dict({"case": "cs2-phosphate-uptake", "soil_diffusivity": {"model": "table"}},
                           source=tmp_path / "s.yaml", base_dir=tmp_path)
    with pytest.raises(InputError, match="missing.nc"):
        scenario_from_dict({"case": "cs2-phosphate-uptake",
                            "soil_diffusivity": {"model": "table", "table": "missing.nc"}},
                           source=tmp_path / "s.yaml", base_dir=tmp_path)


def test_sampling_that_would_not_fit_in_memory_is_refused():
    """Cylinders of r1 ~ 1 cm sampled on a very fine 3D grid: a clear refusal, not a crash."""
    from rhizoscale.errors import ResourceError
    grid = RegularGrid.from_resolution((0, 0, -8), (8, 8, 0), 0.01)
    a = np.tile([[4.0, 4.0, -1.0]], (50, 1))
    b = np.tile([[4.0, 4.0, -7.0]], (50, 1))
    with pytest.raises(ResourceError, match="resolution_cm"):
        cylinder_cell_weights(grid, a, b, np.full(50, 1.0))


def test_profile_days_after_the_end_of_the_run_are_flagged(tmp_path):
    """A profile day after time.stop is not written; the run says so (a warning, not an
    error, so that a sensitivity analysis may sample time.stop below the profile days)."""
    from small_examples import small_example
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    data = small_example("cs2-oilseed-rape")
    data.update(time={"stop": 1.0, "dt": "6 h", "outputs": [1, 2]}, compare_without_exudation=False,
                outputs={"figures": False, "vtk": False})
    summary = run_scenario(scenario_from_dict(data, source="s.yaml"), tmp_path / "out")
    assert any("profile_days [2.0] are after the end of the run" in w for w in summary["warnings"])
