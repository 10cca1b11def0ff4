"""Shared matrix-free solvers: stencil, multigrid V-cycle, CG (rhizoscale.solvers)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from rhizoscale.solvers import Multigrid, PCGWorkspace, Stencil, pcg
from rhizoscale.solvers.multigrid import _rb_sweep, _rbgs


def random_stencil(shape, periodic, seed=0, dtype=np.float64, fraction=0.7, g_fraction=0.05):
    """Face conductances between random unknowns (0 on closed wrap faces)."""
    rng = np.random.default_rng(seed)
    w = rng.random(shape) < fraction
    cs = []
    for axis in (2, 1, 0):
        c = rng.uniform(0.2, 3.0, shape) * w * np.roll(w, -1, axis=axis)
        if not periodic[axis] or shape[axis] == 1:
            sl = [slice(None)] * 3
            sl[axis] = -1
            c[tuple(sl)] = 0.0
        cs.append(c.astype(dtype))
    # a weak fixed value everywhere (every cluster, even an isolated voxel, is then
    # definite, as in the case studies) and stronger ones at a few voxels
    g = (rng.uniform(0.1, 1.0, shape) * (rng.random(shape) < g_fraction) + 1e-3) * w
    g = g.astype(dtype)
    return Stencil(*cs, g, w.astype(np.uint8), periodic)


CASES = [((12, 10, 14), (True, True, True)), ((11, 9, 13), (True, True, True)),
         ((11, 9, 13), (False, False, False)), ((9, 12, 7), (True, False, True)),
         ((1, 30, 33), (False, True, True)), ((1, 31, 17), (False, False, True)),
         ((5, 1, 23), (True, False, True)), ((2, 7, 1), (True, True, True))]


@pytest.mark.parametrize("shape, periodic", CASES)
def test_matvec_equals_sparse_matrix(shape, periodic):
    st = random_stencil(shape, periodic, seed=sum(shape))
    A = st.to_csr(shift=0.3)
    unk = st.unknowns()
    rng = np.random.default_rng(1)
    x = np.zeros(st.shape)
    x.ravel()[unk] = rng.random(unk.size)
    y = np.full(st.shape, np.nan)
    xy = st.matvec(x, y, 0.3)
    np.testing.assert_allclose(y.ravel()[unk], A @ x.ravel()[unk], rtol=1e-13, atol=1e-13)
    assert np.all(y.ravel()[st.w.ravel() == 0] == 0)     # rows of inactive voxels are 0
    assert xy == pytest.approx(x.ravel() @ y.ravel(), rel=1e-12)
    assert abs(A - A.T).max() == 0                        # exactly symmetric


def test_matrix_of_a_homogeneous_periodic_grid():
    """Periodic 1D chain: the circulant Laplacian; closed: the Neumann one."""
    for periodic, corner in ((True, -1.0), (False, 0.0)):
        n = 6
        c = np.ones((1, 1, n))
        z = np.zeros((1, 1, n))
        if not periodic:
            c[..., -1] = 0
        st = Stencil(c, z, z, z.copy(), np.ones((1, 1, n), np.uint8), (False, False, periodic))
        A = st.to_csr().toarray()
        assert A[0, n - 1] == corner and A[0, 1] == -1.0
        assert A[0, 0] == (2.0 if periodic else 1.0)


@pytest.mark.parametrize("shape, periodic, shift, cycles",
                         [(*case, 0.0, 1) for case in CASES[:6]]
                         + [(*CASES[k], 0.5, 1) for k in (0, 2, 4)]
                         + [(*CASES[k], 0.0, 2) for k in (1, 3, 5)])
def test_vcycle_is_symmetric_positive_definite(shape, periodic, shift, cycles):
    """B (one V- or W-cycle) must be SPD for CG, with a small condition number of B A."""
    st = random_stencil(shape, periodic, seed=3)
    mg = Multigrid(st, coarsest=20, shift=shift, cycles=cycles)
    assert len(mg.levels) >= 2
    A = st.to_csr(shift).toarray()
    unk = st.unknowns()
    n = unk.size
    e, out = np.zeros(st.shape), np.zeros(st.shape)
    B = np.empty((n, n))
    for j in range(n):
        e.ravel()[unk[j]] = 1.0
        rz = mg.apply(e, out)
        B[:, j] = out.ravel()[unk]
        assert rz == pytest.approx(out.ravel()[unk[j]], rel=1e-10)
        e.ravel()[unk[j]] = 0.0
    assert np.abs(B - B.T).max() < 1e-10 * np.abs(B).max()
    assert np.linalg.eigvalsh(0.5 * (B + B.T)).min() > 0
    lam = np.linalg.eigvals(B @ A).real
    assert lam.min() > 0 and lam.max() / lam.min() < 30


@pytest.mark.parametrize("block", [1, 2, 3, 100])
@pytest.mark.parametrize("shape, periodic", [((11, 9, 12), (False, False, False)),
                                             ((10, 9, 13), (True, True, True)),
                                             ((16, 1, 9), (False, False, True))])
def test_one_pass_sweep_equals_two_colour_sweeps(block, shape, periodic):
    """The blocked one-pass red–black sweep does the arithmetic of two colour sweeps."""
    st = random_stencil(shape, periodic, seed=7, fraction=1.0)
    rng = np.random.default_rng(7)
    inv = rng.random(shape)
    b, x0 = rng.random(shape), rng.random(shape)
    args = (st.cx, st.cy, st.cz, inv)
    for first in (0, 1):
        for reverse in (False, True):
            ref = x0.copy()
            _rbgs(ref, b, *args, first, reverse)
            _rbgs(ref, b, *args, 1 - first, reverse)
            x = x0.copy()
            bx = _rb_sweep(x, b, *args, first, reverse, block, False, True)
            np.testing.assert_array_equal(x, ref)
            assert bx == pytest.approx(np.sum(b * x), rel=1e-12)
        if st.coupled_colours:
            continue
        ref = np.zeros(shape)
        _rbgs(ref, b, *args, first, False)
        _rbgs(ref, b, *args, 1 - first, False)
        x = rng.random(shape)                             # from zero, whatever x holds
        _rb_sweep(x, b, *args, first, False, block, True, False)
        np.testing.assert_allclose(x, ref, rtol=1e-14)


@pytest.mark.parametrize("shape, periodic", [((24, 20, 22), (True, True, True)),
                                             ((23, 19, 25), (False, True, False)),
                                             ((1, 64, 57), (False, True, True)),
                                             # thin periodic slabs: coarse levels of length
                                             # 1 along one axis, which are smoothed, not
                                             # solved directly (a self-face there once
                                             # broke the smoother)
                                             ((64, 2, 64), (True, True, True)),
                                             ((2, 64, 64), (True, True, True)),
                                             ((64, 64, 2), (True, True, True)),
                                             ((64, 4, 48), (True, True, True))])
def test_pcg_solves_to_tolerance_and_matches_direct_solve(shape, periodic):
    st = random_stencil(shape, periodic, seed=11, dtype=np.float64)
    unk = st.unknowns()
    A = st.to_csr(0.1)
    rng = np.random.default_rng(2)
    b = np.zeros(st.shape)
    b.ravel()[unk] = rng.standard_normal(unk.size)
    ref = spla.spsolve(A.tocsc(), b.ravel()[unk])
    for fine_dtype in (None, np.float32):
        mg = Multigrid(st, fine_dtype=fine_dtype, coarse_dtype=np.float32, shift=0.1)
        x = np.zeros(st.shape)
        it = pcg(st, mg, b, x, rtol=1e-10, maxiter=100, shift=0.1, workspace=PCGWorkspace(st.shape))
        assert 0 < it < 40
        np.testing.assert_allclose(x.ravel()[unk], ref, rtol=0, atol=1e-8 * np.abs(ref).max())
        assert np.all(x.ravel()[st.w.ravel() == 0] == 0)


def test_wrap_face_of_a_length_one_axis_is_dropped():
    """A face from a voxel to itself carries no flux; the stencil keeps none (on any level)."""
    st = random_stencil((64, 2, 64), (True, True, True), seed=3)
    mg = Multigrid(st, coarsest=10)
    flat = [lv.st for lv in mg.levels if lv.st.shape[1] == 1]
    assert flat and all(not np.any(f.cy) for f in flat)
    c = np.ones((4, 1, 5))
    st1 = Stencil(c, c.copy(), c.copy(), np.zeros_like(c), np.ones((4, 1, 5), np.uint8), (True, True, True))
    assert not np.any(st1.cy) and np.all(c == 1.0)      # the caller's array is untouched


def test_pcg_iterations_do_not_grow_with_the_grid():
    """Multigrid preconditioning: iteration count independent of h (homogeneous)."""
    its = []
    for n in (16, 32, 64):
        shape = (n, n, n)
        c = np.ones(shape)
        g = np.zeros(shape)
        g[0] = 2.0                                        # Dirichlet face at z = 0
        st = Stencil(c, c.copy(), c.copy(), g, np.ones(shape, np.uint8), (True, True, False))
        st.cz[-1] = 0.0
        mg = Multigrid(st)
        b = np.ones(shape)
        x = np.zeros(shape)
        its.append(pcg(st, mg, b, x, rtol=1e-8, maxiter=100))
    assert max(its) <= its[0] + 2, its


def test_serial_build_is_serial(tmp_path):
    """The serial and threaded builds of a two-build kernel have their own cache entries,
    and the serial one holds no threaded loop (a shared entry once made the 'serial'
    kernels threaded). The solver kernels have one build each (see the next test); the
    lattice-Boltzmann kernels keep two, so the check uses a kernel of its own."""
    (tmp_path / "twobuilds.py").write_text(textwrap.dedent("""
        import numba
        from rhizoscale.solvers._numba import threaded_kernel

        def _total_py(a):
            acc = 0.0
            for z in numba.prange(a.shape[0]):
                acc += a[z].sum()
            return acc

        total = threaded_kernel(_total_py)
    """))
    code = textwrap.dedent("""
        import numpy as np
        from twobuilds import total
        a = np.ones((4, 4, 4))
        total.serial(a), total.parallel(a)
        print(sum(total.serial.stats.cache_hits.values()),
              sum(total.parallel.stats.cache_hits.values()))
    """)
    cache = tmp_path / "cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    assert first.split() == ["0", "0"]                    # compiled, then cached
    data = {p.name: p.read_bytes() for p in cache.rglob("*_total_py*.nbc")}
    serial = [v for k, v in data.items() if "_total_py_serial-" in k]
    threaded = [v for k, v in data.items() if "_total_py-" in k]
    assert len(serial) == 1 and len(threaded) == 1
    assert b"do_scheduling" not in serial[0] and b"do_scheduling" in threaded[0]
    second = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    assert second.split() == ["1", "1"]                   # each loaded from its own entry


def test_solver_kernels_one_build_cached_across_processes(tmp_path):
    """A solver kernel has one (threaded) build, run on one thread for small grids: one
    cache entry, compiled by the first process and loaded by the next, whatever the
    grid size (the serial builds doubled the first-run compile time)."""
    code = textwrap.dedent("""
        import numpy as np
        from rhizoscale.solvers import _numba
        from rhizoscale.solvers.krylov import dot
        assert dot.serial is None
        a = np.ones((4, 4, 4))
        dot(a, a)                                   # small: one thread
        _numba.PARALLEL_MIN_VOXELS = 0
        dot(a, a)                                   # the threaded path: the same build
        print(sum(dot.parallel.stats.cache_misses.values()),
              sum(dot.parallel.stats.cache_hits.values()))
    """)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_NUM_THREADS": "2"}
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    assert first.split() == ["1", "0"]                    # compiled once
    assert len(list(tmp_path.rglob("*_dot_py*.nbc"))) == 1
    second = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    assert second.split() == ["0", "1"]                   # loaded from the cache


# --------------------------------------------------------------------------- threads
def test_thread_limit_sets_caps_and_restores():
    import numba

    from rhizoscale.solvers import thread_limit
    before = numba.get_num_threads()
    with thread_limit(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with thread_limit(10_000):                       # capped at the size of the pool
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    with thread_limit(None):
        assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), thread_limit(1):
        raise RuntimeError("restored on error too")
    assert numba.get_num_threads() == before


def test_level_threads_shrink_with_the_grid(monkeypatch):
    import numba

    from rhizoscale.solvers import _numba
    monkeypatch.setattr(_numba, "VOXELS_PER_THREAD", 1000)
    with _numba.thread_limit(numba.config.NUMBA_NUM_THREADS):
        total = numba.get_num_threads()
        assert _numba.level_threads(10 ** 9) == total
        assert _numba.level_threads(999) == 1
        assert _numba.level_threads(1000 * total - 1) == max(1, total - 1)


@pytest.mark.parametrize("periodic", [(True, True, True), (False, False, False)])
def test_threaded_coarse_levels_give_the_serial_solution(monkeypatch, periodic):
    """Every level threaded, on 1 to 2 threads each (tiny VOXELS_PER_THREAD), against
    every level serial: the same preconditioner, so the same iterations and solution up
    to the rounding of the parallel sums."""
    import numba

    from rhizoscale.solvers import _numba
    st = random_stencil((30, 26, 28), periodic, seed=3)
    b = np.random.default_rng(4).standard_normal(st.shape) * st.w
    results = []
    for threaded in (False, True):
        monkeypatch.setattr(_numba, "PARALLEL_MIN_VOXELS", 0 if threaded else 10 ** 12)
        monkeypatch.setattr(_numba, "VOXELS_PER_THREAD", 4000)
        with _numba.thread_limit(numba.config.NUMBA_NUM_THREADS):
            mg = Multigrid(st, coarsest=50, cycles=2, coarse_dtype=np.float64)
            x = np.zeros(st.shape)
            it = pcg(st, mg, b.copy(), x, rtol=1e-10, maxiter=100)
        results.append((it, x))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=0, atol=1e-9)


def test_coarsest_solve_is_exact():
    """The explicit inverse of the coarsest level solves it: one cycle of a two-level
    hierarchy whose coarse level is the whole problem's aggregate gives A_c^{-1} r_c."""
    st = random_stencil((6, 6, 6), (True, True, True), seed=5)
    mg = Multigrid(st, coarsest=1000)            # one level: never uses the coarse solve
    assert len(mg.levels) == 1
    mg = Multigrid(st, coarsest=27)
    coarse = mg.levels[-1].st
    A = coarse.to_csr(0.0).toarray()
    rhs = np.random.default_rng(6).standard_normal(coarse.shape) * (coarse.w != 0)
    x = np.full(coarse.shape, 7.0)
    mg._cycle(len(mg.levels) - 1, rhs, x)
    idx = coarse.unknowns()
    np.testing.assert_allclose(A @ x.ravel()[idx], rhs.ravel()[idx], atol=1e-10)
    assert not x.ravel()[np.setdiff1d(np.arange(x.size), idx)].any()


@pytest.mark.parametrize("shape, periodic", [((12, 10, 14), (True, True, True)),
                                             ((11, 9, 13), (False, False, False))])
def test_residual_kernel_equals_sparse_residual(shape, periodic):
    st = random_stencil(shape, periodic, seed=3, dtype=np.float32)
    A, unk = st.to_csr(0.2), st.unknowns()
    rng = np.random.default_rng(4)
    x, b = np.zeros(st.shape), np.zeros(st.shape, np.float32)
    x.ravel()[unk] = rng.random(unk.size)
    b.ravel()[unk] = rng.random(unk.size)
    r = np.full(st.shape, np.nan, np.float32)
    rr = st.residual(x, b, r, 0.2)
    exact = b.ravel()[unk].astype(float) - A @ x.ravel()[unk]
    np.testing.assert_allclose(r.ravel()[unk], exact, rtol=1e-6, atol=1e-6)
    assert rr == pytest.approx(exact @ exact, rel=1e-10)     # the float64 residual's norm


def test_float32_work_vectors_meet_the_float64_residual_tolerance():
    """float32 r, p, q (residual replacement): the float64 residual meets rtol, the
    solution equals the float64-vector solve to rtol, from zero and from a guess."""
    st = random_stencil((24, 20, 22), (True, True, True), seed=5, dtype=np.float32)
    A, unk = st.to_csr(0.0), st.unknowns()
    rng = np.random.default_rng(6)
    b32 = np.zeros(st.shape, np.float32)
    b32.ravel()[unk] = rng.standard_normal(unk.size)
    b64 = b32.astype(np.float64)
    ref = spla.spsolve(A.tocsc(), b64.ravel()[unk])
    x64 = np.zeros(st.shape)
    mg64 = Multigrid(st, coarse_dtype=np.float32)
    it64 = pcg(st, mg64, b64, x64, rtol=1e-6, maxiter=100)
    mg32 = Multigrid(st, coarse_dtype=np.float32)        # fine level on pcg's float32 vectors
    ws = PCGWorkspace(st.shape, np.float32)
    assert ws.z is ws.q                                   # three work vectors, not four
    for guess in (0.0, 0.5):
        x = np.where(st.w > 0, guess, 0.0)
        it = pcg(st, mg32, b32, x, rtol=1e-6, maxiter=100, workspace=ws)
        assert abs(it - it64) <= 2
        res = b64.ravel()[unk] - A @ x.ravel()[unk]
        assert np.linalg.norm(res) <= 1e-6 * np.linalg.norm(b64)
        np.testing.assert_allclose(x.ravel()[unk], ref, rtol=0, atol=1e-5 * np.abs(ref).max())
        np.testing.assert_allclose(x, x64, rtol=0, atol=1e-5 * np.abs(ref).max())
    with pytest.raises(ValueError, match="must not be"):
        pcg(st, mg32, ws.r, x, rtol=1e-6, maxiter=100, workspace=ws)


def test_uint8_conductances_act_as_their_float32_values():
    """Integer conductances (uint8, exact) give the operator of the same values in float32
    bit for bit, and its V-cycle and CG to float32 round-off (same iterations); the
    inverse diagonal and the coarser levels are float32."""
    rng = np.random.default_rng(12)
    shape = (14, 12, 10)
    w = rng.random(shape) < 0.7
    cs = [(rng.integers(0, 3, shape) * w * np.roll(w, -1, axis=a)).astype(np.uint8)
          for a in (2, 1, 0)]
    g = (rng.integers(0, 13, shape) * (rng.random(shape) < 0.1) + 1) * w
    small = Stencil(*cs, g.astype(np.uint8), w.astype(np.uint8), (True, True, True))
    wide = small.astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32) * w
    out8, out32 = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    assert small.matvec(x, out8, 0.5) == wide.matvec(x, out32, 0.5)
    np.testing.assert_array_equal(out8, out32)
    mg8, mg32 = (Multigrid(s, coarse_dtype=np.float32) for s in (small, wide))
    # the first coarse level of integer conductances: exact in uint8 as twice its operator
    assert mg8.levels[0].inv.dtype == np.float32 and mg8.levels[1].st.dtype == np.uint8
    assert mg8.levels[1].scale == 2.0 and mg8.levels[2].st.dtype == np.float32
    np.testing.assert_array_equal(mg8.levels[1].st.cx, 2 * mg32.levels[1].st.cx)
    np.testing.assert_array_equal(mg8.levels[1].st.w, mg32.levels[1].st.w)
    b = rng.standard_normal(shape).astype(np.float32) * w
    # the doubled uint8 level runs other (fast-math) builds than the float32 one, so the
    # V-cycle agrees to float32 round-off, not bit for bit (2.5e-10 relative seen)
    assert mg8.apply(b, out8) == pytest.approx(mg32.apply(b, out32), rel=1e-6)
    scale = np.abs(out32).max()
    np.testing.assert_allclose(out8, out32, rtol=0, atol=1e-5 * scale)
    xs = []
    for st, mg in ((small, mg8), (wide, mg32)):
        xs.append(np.zeros(shape))
        it = pcg(st, mg, b.astype(np.int8), xs[-1], rtol=1e-8, maxiter=100,
                 workspace=PCGWorkspace(shape, np.float32))
        xs.append(it)
    np.testing.assert_allclose(xs[0], xs[2], rtol=0, atol=1e-6 * np.abs(xs[2]).max())
    assert xs[1] == xs[3]


def _boxes(shape):
    """Coarse box index of every fine voxel (a length-1 axis is not coarsened)."""
    return tuple((np.indices(shape)[a] >> (1 if shape[a] > 1 else 0)) for a in range(3))


@pytest.mark.parametrize("shape, periodic", [((12, 10, 14), (True, True, True)),
                                             ((11, 9, 13), (False, False, False)),
                                             ((9, 12, 7), (True, False, True)),
                                             ((5, 1, 23), (True, False, True)),
                                             ((2, 7, 1), (True, True, True))])
def test_transfer_kernels_equal_their_numpy_specification(shape, periodic):
    """Restriction sums b - A x over each 2x2x2 box (red voxels only: ``red_only``),
    prolongation adds the box's value to its unknowns: the NumPy specification (CSR
    residual, np.add.at over box indices) on even, odd and length-1 axes."""
    from rhizoscale.solvers.multigrid import _prolong_add, _residual_restrict
    st = random_stencil(shape, periodic, seed=5, dtype=np.float32)
    A, unk = st.to_csr(0.3), st.unknowns()
    rng = np.random.default_rng(6)
    x, b = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    x.ravel()[unk] = rng.random(unk.size)
    b.ravel()[unk] = rng.random(unk.size)
    r = np.zeros(shape)
    r.ravel()[unk] = b.ravel()[unk] - A @ x.ravel()[unk].astype(float)
    cshape = tuple((n + 1) // 2 for n in shape)
    red = (np.indices(shape).sum(axis=0) % 2) == 0
    for red_only, summed, scale in ((False, r, 1.0), (True, r * red, 1.0), (False, r, 2.0)):
        expected = np.zeros(cshape)
        np.add.at(expected, _boxes(shape), scale * summed)
        rc = np.full(cshape, np.nan, np.float32)
        _residual_restrict(x, b, st.cx, st.cy, st.cz, st.g, st.w, 0.3, rc, red_only, scale)
        np.testing.assert_allclose(rc, expected, rtol=1e-5, atol=1e-5)
    xc = rng.random(cshape).astype(np.float32)
    out = x.copy()
    _prolong_add(out, xc, st.w)
    np.testing.assert_array_equal(out, x + xc[_boxes(shape)] * (st.w != 0))
