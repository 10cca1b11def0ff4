import numpy as np
import pytest

from rhizoscale import InputError, RegularGrid, RootSystem, half_mean_interroot_distance, root_length_density
from rhizoscale.grid import segment_cell_lengths


def _brute_force(grid, a, b, n=20001):
    """Reference: sample each segment densely and bin the samples (length per sample)."""
    out = np.zeros(grid.n_cells)
    for p, q in zip(a, b):
        t = (np.arange(n) + 0.5) / n
        pts = p + t[:, None] * (q - p)
        cell, inside = grid.cell_index(pts)
        np.add.at(out, cell[inside], np.linalg.norm(q - p) / n)
    return out


def test_exact_intersection_lengths_match_dense_sampling():
    rng = np.random.default_rng(3)
    grid = RegularGrid.from_resolution((0, 0, -2), (2, 1.5, 0), (0.25, 0.3, 0.2))
    a = rng.uniform((-0.3, -0.3, -2.3), (2.3, 1.8, 0.3), size=(30, 3))
    b = a + rng.normal(scale=0.7, size=(30, 3))
    seg, cell, length = segment_cell_lengths(grid, a, b)
    exact = np.bincount(cell, weights=length, minlength=grid.n_cells)
    ref = _brute_force(grid, a, b)
    assert np.abs(exact - ref).max() < 5e-4  # sampling error of the reference, not of the method


def test_lengths_add_up_inside_the_box():
    grid = RegularGrid.from_resolution((-1, -1, -1), (1, 1, 1), 0.1)
    rng = np.random.default_rng(0)
    a = rng.uniform(-0.9, 0.9, (200, 3))
    b = rng.uniform(-0.9, 0.9, (200, 3))
    _, _, length = segment_cell_lengths(grid, a, b)
    assert length.sum() == pytest.approx(np.linalg.norm(b - a, axis=1).sum(), rel=1e-12)


def test_axis_aligned_segment_on_cell_faces():
    # a segment lying exactly on grid planes is counted once, not twice
    grid = RegularGrid.from_resolution((0, 0, 0), (1, 1, 1), 0.25)
    _, _, length = segment_cell_lengths(grid, np.array([[0.5, 0.5, 0.0]]), np.array([[0.5, 0.5, 1.0]]))
    assert length.sum() == pytest.approx(1.0)


def test_rld_and_r1(branched_root_system):
    rs = branched_root_system
    grid = RegularGrid.from_resolution((-3, -2, -11), (5, 2, 0), 0.5)
    rld = root_length_density(rs, grid)
    assert rld.dims == ("z", "y", "x")
    assert rld.attrs["units"] == "cm cm-3"
    assert float(rld.sum()) * grid.cell_volume == pytest.approx(rs.total_length())
    by_order = root_length_density(rs, grid, by_order=True)
    assert by_order.sizes["order"] == 3
    assert np.allclose(by_order.sum("order"), rld)
    r1 = half_mean_interroot_distance(rld)
    v = float(rld.max())
    assert float(r1.min()) == pytest.approx(1 / np.sqrt(np.pi * v))
    assert np.isinf(r1.values[rld.values == 0]).all()


def test_grid_validation():
    with pytest.raises(InputError):
        RegularGrid((0, 0, 0), (1, -1, 1), (2, 2, 2))
    with pytest.raises(InputError):
        RegularGrid.from_resolution((0, 0, 0), (1, 1, 1), 0)
    g = RegularGrid.from_resolution((0, 0, 0), (1, 2, 3), 0.5)
    assert g.shape == (6, 4, 2)
    assert np.allclose(g.centers("z"), np.arange(6) * 0.5 + 0.25)
