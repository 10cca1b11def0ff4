import numpy as np
import pytest
import scipy.sparse as sp

from rhizoscale.diffusion.analytic import (cylinder_concentration, cylinder_uptake,
                                           plane_concentration, plane_one_percent_distance,
                                           plane_uptake)
from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
from rhizoscale.diffusion.finite_volume import assemble_reference, assemble_voxel_diffusion
from rhizoscale.diffusion.transient import geometric_time_steps, solve_transient
from rhizoscale.errors import InputError, ResourceError
from rhizoscale.image import Image, Phase

D, CIN, T = 2.88e-7, 1037.52, 3600.0
PH = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, D, "pore"), Phase("root", 2, 0.0, "root"))


def test_kernel_matches_readable_assembly_anisotropic_heterogeneous():
    rng = np.random.default_rng(1)
    diff = rng.choice([0.0, 1.0, 3.0], size=(6, 7, 8), p=[0.3, 0.4, 0.3])
    src = rng.random((6, 7, 8)) < 0.1
    op = assemble_voxel_diffusion(diff, src, (1.0, 2.0, 0.5))
    K, g, unknowns = assemble_reference(diff, src, (1.0, 2.0, 0.5))
    np.testing.assert_array_equal(op.unknowns, unknowns)
    assert abs(op.stiffness - K).max() < 1e-12
    np.testing.assert_allclose(op.dirichlet_conductance, g)
    assert abs(op.stiffness - op.stiffness.T).max() < 1e-12


def _plane(h, growth, n_len=0.25, axis=2, other=(1.0, 1.0), solver="multigrid"):
    n = int(round(n_len / h))
    shape = [1, 1, 1]
    shape[axis] = n + 1
    lab = np.ones(shape, np.uint8)
    idx = [0, 0, 0]
    lab[tuple(idx)] = 2
    vs = list(other)
    vs.insert(axis, h)
    img = Image(lab, tuple(vs), PH)
    res = simulate_exudate_diffusion(img, c_in=CIN, t_end=T, growth=growth, first_step=T / 1000,
                                     solver=solver, rtol=1e-9)
    x = (np.arange(n) + 0.5) * h
    area = np.prod(vs) / h
    return res, x, np.moveaxis(res.concentration, axis, -1).ravel()[1:], area


def test_plane_source_erfc_uptake_and_one_percent_distance():
    res, x, c, area = _plane(5e-4, 1.15)
    ex = plane_concentration(x, T, D, CIN)
    assert np.max(np.abs(c - ex)) / CIN < 2e-3
    assert res.mass_into_soil / area == pytest.approx(plane_uptake(T, D, CIN), rel=2e-3)
    k = np.argmax(c < 0.01 * CIN)
    x1 = x[k - 1] + (c[k - 1] - 0.01 * CIN) / (c[k - 1] - c[k]) * (x[k] - x[k - 1])
    assert x1 == pytest.approx(plane_one_percent_distance(T, D), rel=5e-3)
    assert plane_one_percent_distance(T, D) == pytest.approx(3.643 * np.sqrt(D * T), rel=1e-4)
    assert res.transient.mass_balance_error < 1e-6


def test_second_order_in_time_step_ratio_and_space_convergence():
    ex = plane_uptake(T, D, CIN)
    err_t = [abs(_plane(5e-4, g)[0].mass_into_soil / _plane(5e-4, g)[3] - ex) for g in (1.4, 1.1)]
    assert err_t[1] < err_t[0] / 8                     # (0.4/0.1)^2 = 16 for second order
    err_x = []
    for h in (4e-3, 2e-3):
        res, x, c, area = _plane(h, 1.05)
        err_x.append(np.max(np.abs(c - plane_concentration(x, T, D, CIN))))
    assert err_x[1] < err_x[0] / 3                     # cell-centred FV: second order in h


@pytest.mark.parametrize("solver, rtol", [("amg", 1e-7), ("multigrid", 2e-6)])
def test_anisotropic_voxels_give_the_same_plane_answer(solver, rtol):
    # float64 CSR path: equal to the solver tolerance; the multigrid path stores the
    # conductances in float32, whose rounding (6e-8) differs between the orientations
    ref = _plane(1e-3, 1.2, axis=2, other=(1.0, 1.0), solver=solver)
    for axis, other in ((0, (3e-3, 0.5e-3)), (1, (2.0, 7e-4))):
        res, x, c, area = _plane(1e-3, 1.2, axis=axis, other=other, solver=solver)
        np.testing.assert_allclose(c, ref[2], rtol=rtol, atol=1e-9)
        assert res.mass_into_soil / area == pytest.approx(ref[0].mass_into_soil / ref[3], rel=rtol)


def test_talbot_cylinder_values_from_the_issue():
    a = 150e-4
    c = cylinder_concentration(a + np.array([50e-4, 200e-4, 500e-4]), T, a, D)
    np.testing.assert_allclose(c, [0.8158, 0.4654, 0.1430], atol=2e-4)
    # the inversion is exact at early times: plane limit of the flux, 2 a pi c sqrt(Dt/pi)
    assert cylinder_uptake(1e-3, a, D) == pytest.approx(2 * np.pi * a * plane_uptake(1e-3, D), rel=1e-3)


@pytest.mark.parametrize("vs", [(1e-3, 1e-3), (2e-3, 1e-3)])
def test_cylinder_in_infinite_medium_on_voxels(vs):
    a, L = 150e-4, 0.15
    ny, nx = int(2 * L / vs[0]), int(2 * L / vs[1])
    y = (np.arange(ny) + 0.5) * vs[0] - L
    x = (np.arange(nx) + 0.5) * vs[1] - L
    r = np.hypot(y[:, None], x[None, :])
    lab = np.where(r <= a, 2, 1).astype(np.uint8)
    img = Image(lab, vs, PH)
    res = simulate_exudate_diffusion(img, c_in=CIN, t_end=T, growth=1.2, rtol=1e-8)
    for dist, expect in ((50e-4, 0.8158), (200e-4, 0.4654), (500e-4, 0.1430)):
        ring = (np.abs(r - a - dist) < 0.6 * max(vs)) & (lab == 1)
        assert np.mean(res.concentration[ring]) / CIN == pytest.approx(expect, abs=0.02)
    # uptake per unit length of a staircase cylinder of equal area (2D: area = per cm)
    a_eff = np.sqrt(np.count_nonzero(lab == 2) * vs[0] * vs[1] / np.pi)
    assert res.mass_into_soil == pytest.approx(cylinder_uptake(T, a_eff, D, CIN), rel=0.03)
    assert res.transient.mass_balance_error < 1e-6


def test_mass_balance_on_a_generated_sample_and_hairs_add_mass():
    from rhizoscale.image.generators import rhizosphere_sample
    # aggregates of a few voxels (6e-3 cm): a speck of 1-2 soil voxels touched by a hair is a
    # stiff mode on which variable-step BDF2 overshoots c_in by up to ~0.3 % (documented)
    s = rhizosphere_sample((24, 30, 30), 3e-3, root_radius=0.015, contact_fraction=0.1, aggregate_size=6e-3,
                           hair_contact_fraction=0.3, hair_length=0.02, hair_radius=2e-3, seed=2)
    r0 = simulate_exudate_diffusion(s.without_hairs, t_end=600.0, rtol=1e-8)
    r1 = simulate_exudate_diffusion(s.with_hairs, t_end=600.0, rtol=1e-8)
    for r in (r0, r1):
        tr = r.transient
        np.testing.assert_allclose(tr.mass_from_flux, tr.mass_in_domain, rtol=1e-6, atol=1e-12)
        assert np.all(np.diff(tr.mass_in_domain) > 0)
        # BDF2 is not strictly monotone: an overshoot of the order of the time-step
        # error (1.7e-5 with the default 10 steps) is allowed, a real one is not
        assert np.nanmax(r.concentration) <= r.c_in * (1 + 5e-5)
    assert r1.mass_into_soil > 2 * r0.mass_into_soil


def test_bad_input():
    lab = np.ones((5, 5, 5), np.uint8)
    lab[2, 2, 2] = 2
    lab[1:4, 1:4, 1:4][lab[1:4, 1:4, 1:4] == 1] = 0   # air shell around the root
    with pytest.raises(InputError, match="touch no soil"):
        simulate_exudate_diffusion(Image(lab, 1e-3, PH))
    with pytest.raises(InputError, match="no root"):
        simulate_exudate_diffusion(Image(np.ones((4, 4, 4), np.uint8), 1e-3, PH))
    with pytest.raises(InputError, match="c_in"):
        simulate_exudate_diffusion(Image(lab, 1e-3, PH), c_in=float("nan"))
    with pytest.raises(ResourceError, match="crop"):
        assemble_voxel_diffusion(np.ones((40, 40, 40)), np.zeros((40, 40, 40), bool), 1e-3,
                                 memory_limit=1e6)
    with pytest.raises(InputError):
        geometric_time_steps(10.0, 1.0, growth=3.0)


def test_scenario_runs_small(tmp_path):
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    sc = scenario_from_dict({"case": "cs3-root-hairs", "seed": 3, "duration": 300.0,
                             "sample": {"shape": [20, 24, 30], "voxel_size": 4e-3,
                                        "root_radius": 0.02, "hair_length": 0.02,
                                        "hair_radius": 2e-3, "contact_fraction": 0.1,
                                        "hair_contact_fraction": 0.3}})
    summary = run_scenario(sc, tmp_path)
    cs3 = summary["details"]["cs3"]
    assert summary["quantities"]["mass_ratio_with_to_without_hairs"]["units"] == "1"
    assert cs3["mass_ratio_with_to_without_hairs"] > 1.5
    for name in ("fig8b_slices.png", "fig8c_profile.png", "cs3_fields.nc", "cs3_fields.vti"):
        assert (tmp_path / name).is_file()


def _small_sample():
    from rhizoscale.image.generators import rhizosphere_sample
    return rhizosphere_sample((20, 26, 26), 3e-3, root_radius=0.012, contact_fraction=0.1,
                              hair_contact_fraction=0.3, hair_length=0.02, hair_radius=2e-3,
                              seed=4).with_hairs


def test_matrix_free_stencil_equals_csr_operator():
    from rhizoscale.diffusion.matrix_free import voxel_stencil
    rng = np.random.default_rng(3)
    for shape in ((6, 7, 9), (1, 8, 11)):
        diff = rng.choice([0.0, 1.0, 3.0], size=shape, p=[0.3, 0.4, 0.3])
        src = rng.random(shape) < 0.15
        vs = (1.0, 2.0, 0.5)
        op = assemble_voxel_diffusion(diff, src, vs)
        mf = voxel_stencil(diff, src, vs, dtype=np.float64)
        st = mf.stencil
        np.testing.assert_array_equal(mf.unknowns, op.unknowns)
        assert mf.dirichlet_area == pytest.approx(op.dirichlet_area)
        x = np.zeros(st.shape)
        x.ravel()[mf.unknowns] = rng.random(mf.n)
        y = np.empty_like(x)
        st.matvec(x, y, 0.7)
        expect = op.stiffness @ mf.gather(x) + 0.7 * mf.gather(x)
        np.testing.assert_allclose(mf.gather(y), expect, rtol=1e-13, atol=1e-13)
        assert np.all(y.ravel()[st.w.ravel() == 0] == 0)   # rows of inactive voxels are 0
        np.testing.assert_allclose(st.to_csr(0.7).toarray(),
                                   (op.stiffness + 0.7 * sp.eye(mf.n)).toarray(), rtol=1e-13)


def test_multigrid_preconditioner_is_spd_and_bounds_the_spectrum():
    """B (one V-cycle) must be symmetric positive definite for CG; eig(B A) in (0, 2)."""
    from rhizoscale.diffusion.matrix_free import voxel_stencil
    from rhizoscale.image.generators import rhizosphere_sample
    from rhizoscale.solvers import Multigrid
    img = rhizosphere_sample((8, 16, 16), 3e-3, root_radius=0.01, contact_fraction=0.15,
                             hair_contact_fraction=0.4, hair_length=0.015, hair_radius=2e-3,
                             seed=5).with_hairs
    src = img.mask("root", "hair")
    D = img.diffusivity()
    D[src] = 0
    mf = voxel_stencil(D, src, img.voxel_size, dtype=np.float64)
    st = mf.stencil
    shift = mf.voxel_volume / 600.0 * 1.5          # a0 V / dt for a late BDF2 step
    mg = Multigrid(st, coarsest=20, shift=shift)
    assert len(mg.levels) >= 3
    n, idx = mf.n, mf.unknowns
    A = st.to_csr(shift).toarray()
    e, out = np.zeros(st.shape), np.zeros(st.shape)
    B = np.empty((n, n))
    for j in range(n):
        e.ravel()[idx[j]] = 1.0
        mg.apply(e, out)
        B[:, j] = out.ravel()[idx]
        e.ravel()[idx[j]] = 0.0
    assert np.abs(B - B.T).max() < 1e-10 * np.abs(B).max()
    assert np.linalg.eigvalsh(0.5 * (B + B.T)).min() > 0
    lam = np.linalg.eigvals(B @ A).real
    # kappa(BA) small: CG converges in a few iterations whatever the grid size
    assert lam.min() > 0.05 and lam.max() < 2.0
    assert lam.max() / lam.min() < 20


def test_multigrid_path_equals_reference_amg_path():
    img = _small_sample()
    r_ref = simulate_exudate_diffusion(img, t_end=600.0, solver="amg", rtol=1e-10)
    r_mg = simulate_exudate_diffusion(img, t_end=600.0, solver="multigrid", rtol=1e-10)
    # same discrete equations; the fast path stores conductances in float32 (relative
    # rounding 6e-8), which bounds the difference, not the solver tolerance
    ok = ~np.isnan(r_ref.concentration)
    np.testing.assert_array_equal(ok, ~np.isnan(r_mg.concentration))
    assert np.max(np.abs(r_mg.concentration[ok] - r_ref.concentration[ok])) < 1e-6 * r_ref.c_in
    np.testing.assert_allclose(r_mg.transient.mass_in_domain, r_ref.transient.mass_in_domain,
                               rtol=1e-6)
    assert r_mg.transient.mass_balance_error < 1e-8
    assert r_mg.source_area == pytest.approx(r_ref.source_area)


def test_scenario_image_paths_are_relative_to_the_scenario_file(tmp_path):
    """``images.with_hairs`` etc. are read relative to the scenario's folder; a missing file
    is a one-line error naming the field."""
    from rhizoscale.scenario import scenario_from_dict
    folder = tmp_path / "sample"
    folder.mkdir()
    for name in ("hairs.npy", "bare.npy"):
        np.save(folder / name, np.zeros((4, 4, 4), np.uint8))
    data = {"case": "cs3-root-hairs",
            "images": {"with_hairs": "hairs.npy", "without_hairs": "bare.npy",
                       "voxel_size": [1e-3, 1e-3, 1e-3], "labels": {"soil": 1, "root": 2}}}
    sc = scenario_from_dict(data, source=folder / "s.yaml", base_dir=folder)
    assert sc.config.images.with_hairs == folder / "hairs.npy"
    data["images"]["without_hairs"] = "missing.npy"
    with pytest.raises(InputError, match="images.without_hairs.*missing.npy.*not found"):
        scenario_from_dict(data, source=folder / "s.yaml", base_dir=folder)


def test_root_surface_flux_of_a_plane_source_matches_the_erfc_solution():
    """The flux handed down as a boundary series: c_in sqrt(D / (pi t)) for a plane."""
    res, x, c, area = _plane(5e-4, 1.15)
    tr = res.transient
    t, flux = tr.times[1:], tr.flux[1:] / res.source_area
    exact = CIN * np.sqrt(D / (np.pi * t))
    late = t > 60.0                 # after the initial layer the grid resolves
    assert np.max(np.abs(flux[late] / exact[late] - 1)) < 0.02


def test_one_diffusivity_is_stored_in_exact_integer_conductances():
    """A medium of one diffusivity with cubic voxels: uint8 conductances in units of
    f D (exact), the same fields as float32 storage to its rounding with the same CG
    iterations, and the reference CSR path's fields to the solver tolerance (float32
    storage is bounded by its rounding instead); two diffusivities or anisotropic
    voxels keep float32."""
    from rhizoscale.diffusion.matrix_free import solve_transient_multigrid, voxel_stencil
    img = _small_sample()
    src = img.mask("root", "hair")
    D = img.diffusivity()
    D[src] = 0
    exact = voxel_stencil(D, src, img.voxel_size)
    wide = voxel_stencil(D, src, img.voxel_size, dtype=np.float32)
    assert exact.stencil.dtype == np.uint8 and wide.stencil.dtype == np.float32
    h = img.voxel_size[0]
    assert exact.unit == pytest.approx(h * D.max(), rel=1e-15)
    f64 = voxel_stencil(D, src, img.voxel_size, dtype=np.float64).stencil
    for a, b in zip((exact.stencil.cx, exact.stencil.cy, exact.stencil.cz, exact.stencil.g),
                    (f64.cx, f64.cy, f64.cz, f64.g)):
        np.testing.assert_allclose(a * exact.unit, b, rtol=1e-15, atol=0)
    times = geometric_time_steps(600.0, 6.0, 1.5)
    runs = [solve_transient_multigrid(op, 1.0, times, rtol=1e-12) for op in (exact, wide)]
    ref = solve_transient(assemble_voxel_diffusion(D, src, img.voxel_size), 1.0, times,
                          rtol=1e-12)
    np.testing.assert_array_equal(runs[0].iterations, runs[1].iterations)
    # exact storage: the reference to the solver tolerance (measured 5e-12, mass 8e-13);
    # float32 storage: to its rounding (measured 9e-9, mass 1.5e-8)
    for run, tol, mass_tol in zip(runs, (1e-10, 1e-7), (1e-11, 1e-7)):
        assert np.abs(run.concentration - ref.concentration).max() < tol      # c_D = 1
        np.testing.assert_allclose(run.mass_in_domain, ref.mass_in_domain, rtol=mass_tol)
        assert run.mass_balance_error < 1e-9
    two = np.where(D > 0, np.where(np.arange(D.shape[2]) < 13, D, 2 * D), 0.0)
    assert voxel_stencil(two, src, img.voxel_size).stencil.dtype == np.float32
    assert voxel_stencil(D, src, (h, h, 2 * h)).stencil.dtype == np.float32


def test_a_failed_step_leaves_no_silently_wrong_state():
    """The multigrid step builds its right-hand side in the previous level's storage:
    a step that fails marks the model, which then refuses to step or checkpoint until a
    checkpoint is restored; result() frees the solver, and stepping on afterwards gives
    the same numbers as without it."""
    from rhizoscale.diffusion.matrix_free import MultigridSystem, voxel_stencil
    from rhizoscale.diffusion.transient import SourceDiffusionModel
    from rhizoscale.errors import RhizoscaleError
    from rhizoscale.solvers import ConvergenceError
    img = _small_sample()
    src = img.mask("root", "hair")
    D = img.diffusivity()
    D[src] = 0
    op = voxel_stencil(D, src, img.voxel_size)
    times = geometric_time_steps(600.0, 6.0, 1.5)

    def model(**kw):
        return SourceDiffusionModel(MultigridSystem(op, 1.0, rtol=1e-8, **kw), op.voxel_volume)

    whole, split = model(), model()
    for t in times[:3]:
        whole.advance_to(t)
        split.advance_to(t)
    saved = {k: (v.copy() if isinstance(v, np.ndarray) else v)
             for k, v in split.checkpoint_state().items()}
    split.system.release()                       # what ExudateDiffusionModel.result() does
    for t in times[3:]:
        whole.advance_to(t)
        split.advance_to(t)
    np.testing.assert_array_equal(whole.c_old, split.c_old)
    assert whole.mass_from_flux == split.mass_from_flux
    failing = model(max_iterations=1)
    failing.restore_state(saved)
    with pytest.raises(ConvergenceError):
        failing.advance_to(times[3])
    with pytest.raises(RhizoscaleError, match="failed time step"):
        failing.advance_to(times[3])
    with pytest.raises(RhizoscaleError, match="failed time step"):
        failing.checkpoint_state()
    failing.restore_state(saved)
    failing.system.max_iterations = 500
    for t in times[3:]:
        failing.advance_to(t)
    np.testing.assert_array_equal(whole.c_old, failing.c_old)
