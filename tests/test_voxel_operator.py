"""The shared voxel finite-volume operator (rhizoscale.solvers.voxel_operator): Numba
kernels against the NumPy specification, and the specification against the physics."""

import numpy as np
import pytest

from rhizoscale.solvers import Stencil
from rhizoscale.solvers import _numba
from rhizoscale.solvers.voxel_operator import (CLOSED, DIRICHLET, PERIODIC, assemble_csr,
                                               boundary_codes, csr_from_faces,
                                               face_conductances, face_conductances_reference)

BOUNDARIES = [(CLOSED, CLOSED, CLOSED), (PERIODIC, PERIODIC, PERIODIC),
              (PERIODIC, CLOSED, DIRICHLET), (DIRICHLET, PERIODIC, CLOSED)]
SHAPES = [(7, 6, 9), (5, 2, 8), (1, 11, 10), (4, 1, 7), (3, 5, 1)]


def random_image(shape, seed):
    """Heterogeneous diffusivities over four decades, non-conducting voxels, sources and
    conducting voxels that are neither (pinned)."""
    rng = np.random.default_rng(seed)
    d = 10.0 ** rng.uniform(-3, 1, shape) * (rng.random(shape) < 0.75)
    source = rng.random(shape) < 0.1
    unknown = (d > 0) & ~source & (rng.random(shape) < 0.9)
    factor = rng.uniform(0.2, 5.0, 3)                 # anisotropic voxels
    return d, factor, unknown, source


@pytest.fixture(params=[False, True], ids=["serial", "threaded"])
def build(request, monkeypatch):
    monkeypatch.setattr(_numba, "use_threads", lambda n_voxels: request.param)
    return request.param


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("shape", SHAPES)
def test_kernels_equal_the_specification_exactly(shape, boundary, build):
    for seed, with_source in ((sum(shape), True), (sum(shape) + 1, False)):
        d, factor, unknown, source = random_image(shape, seed)
        source = source if with_source else None
        for dtype in (np.float64, np.float32):
            fast = face_conductances(d, factor, unknown, source, boundary, dtype)
            spec = face_conductances_reference(d, factor, unknown, source, boundary, dtype)
            for a, b in zip(fast, spec):
                assert a.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(a, b)
        cx, cy, cz, g = spec_faces = face_conductances_reference(d, factor, unknown, source,
                                                                 boundary)
        ref = csr_from_faces(cx, cy, cz, g, unknown)
        op = assemble_csr(d, factor, unknown, source, boundary, fixed=True,
                          diagonal_position=True)
        A = op.matrix
        assert A.has_sorted_indices and A.indices.dtype == np.int32
        np.testing.assert_array_equal(A.indptr, ref.indptr)
        np.testing.assert_array_equal(A.indices, ref.indices)
        np.testing.assert_array_equal(A.data, ref.data)
        np.testing.assert_array_equal(op.fixed, g[unknown])
        np.testing.assert_array_equal(A.data[op.diagonal_position], A.diagonal())
        assert (A != A.T).nnz == 0                             # exactly symmetric
        # the stencil of the same faces is the same operator
        st = Stencil(*spec_faces, unknown.view(np.uint8), boundary_codes(boundary) == PERIODIC)
        np.testing.assert_array_equal(st.to_csr().toarray(), A.toarray())


def test_operator_is_the_two_point_flux_physics():
    """Hand-checked faces: harmonic means, half-voxel source faces, pinned voxels,
    Dirichlet outer faces, periodic wrap-around, closed ends."""
    d = np.array([[[1.0, 3.0, 0.0, 2.0, 2.0, 5.0]]])
    unknown = np.array([[[True, True, False, True, True, False]]])
    source = np.array([[[False, False, True, False, False, False]]])
    f = np.array([1.0, 1.0, 0.5])
    cx, cy, cz, g = face_conductances(d, f, unknown, source, (CLOSED, CLOSED, PERIODIC))
    assert not cy.any() and not cz.any()
    np.testing.assert_allclose(cx[0, 0], [0.5 * 1.5, 0, 0, 0.5 * 2.0, 0, 0])
    # voxel 0: wrap-around face to the pinned voxel 5 (harmonic mean 2*1*5/6);
    # voxel 1 and 3: source faces at half a voxel (2 f D); voxel 4: pinned voxel 5
    np.testing.assert_allclose(g[0, 0], [0.5 * 10 / 6, 2 * 0.5 * 3.0, 0, 2 * 0.5 * 2.0,
                                         0.5 * 20 / 7, 0])
    _, _, _, g = face_conductances(d, f, unknown, source, (CLOSED, CLOSED, DIRICHLET))
    np.testing.assert_allclose(g[0, 0], [2 * 0.5 * 1.0, 2 * 0.5 * 3.0, 0, 2 * 0.5 * 2.0,
                                         0.5 * 20 / 7, 0])
    A = assemble_csr(d, f, unknown, source, (CLOSED, CLOSED, CLOSED)).matrix.toarray()
    np.testing.assert_allclose(A, [[0.75, -0.75, 0, 0], [-0.75, 0.75 + 3.0, 0, 0],
                                   [0, 0, 2.0 + 1.0, -1.0], [0, 0, -1.0, 1.0 + 10 / 7]])


def test_periodic_axis_of_length_two_has_two_faces_between_its_voxels():
    d = np.array([[[1.0, 4.0]]])
    unknown = np.ones_like(d, bool)
    A = assemble_csr(d, 1.0, unknown, boundary=PERIODIC).matrix.toarray()
    np.testing.assert_allclose(A, 2 * 1.6 * np.array([[1.0, -1.0], [-1.0, 1.0]]))


def test_boundary_codes_accept_names_and_refuse_unknown_ones():
    assert boundary_codes("periodic").tolist() == [PERIODIC] * 3
    assert boundary_codes(["closed", PERIODIC, "dirichlet"]).tolist() == [CLOSED, PERIODIC,
                                                                         DIRICHLET]
    with pytest.raises(ValueError):
        boundary_codes((CLOSED, CLOSED))
    with pytest.raises((ValueError, KeyError)):
        boundary_codes("open")
