"""A cross-scale oracle: transient diffusion on a fine periodic microstructure versus the
same problem with the homogenised (effective) diffusivity.

Homogenisation theory (e.g. Hornung 1997; Allaire 1992) says that diffusion through a
periodic medium of cell size ``eps`` behaves, as ``eps / L -> 0``, like diffusion in a
uniform medium with the effective tensor of the cell problem. Here the problem is a
strip of ``n`` cells along x (length ``L``), one cell high (the cell is mirror-symmetric,
so the closed top and bottom are symmetry planes of an infinite stack), initially empty,
held at ``c = 1`` on the face ``x = 0`` and closed at ``x = L``. The homogenised
problem ``phi dC/dt = D_xx d2C/dx2`` has the classical series solution for the filled
fraction of the pore space (Crank 1975, eq. 4.18)::

    m(t) = 1 - sum_j 8 / (j^2 pi^2) exp(-j^2 pi^2 (D_xx / phi) t / (4 L^2)),  j = 1, 3, 5, ...

The fine problem is solved on the voxels (CS3's transient solver on the shared voxel
operator) and its ``D_xx`` comes from CS4's cell problem on the same voxelised cell, so
the two differ only by scale separation (and time stepping): their difference must
shrink as the cells get smaller relative to ``L``.

References
----------
Crank, J. (1975). The Mathematics of Diffusion, 2nd ed. Oxford (eq. 4.18, plane sheet).
Allaire, G. (1992). Homogenization and two-scale convergence. SIAM J. Math. Anal. 23,
1482-1518.
"""

from __future__ import annotations

import numpy as np

__all__ = ["inclusion_cell", "filled_fraction_homogenised", "fine_versus_homogenised"]


def inclusion_cell(voxels: int, solid_fraction_side: float = 0.5, ndim: int = 2) -> np.ndarray:
    """Diffusivity of a square (cubic with ``ndim=3``) cell (pore 1) with a centred square
    (cubic) solid inclusion (0) whose side is ``solid_fraction_side`` of the cell's.

    >>> inclusion_cell(4).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    >>> float(inclusion_cell(4, ndim=3).mean())           # 1 - (1/2)^3
    0.875
    """
    d = np.ones((voxels,) * ndim)
    a = int(round(voxels * (1 - solid_fraction_side) / 2))
    d[(slice(a, voxels - a),) * ndim] = 0.0
    return d


def filled_fraction_homogenised(t, diffusivity: float, length: float, terms: int = 400) -> np.ndarray:
    """``m(t)`` of a sheet of ``length`` [cm] filled from one face, the other closed, with
    pore-scale diffusivity ``diffusivity = D_xx / phi`` [cm2 s-1] (series above).

    >>> round(float(filled_fraction_homogenised(np.array([1e9]), 1.0, 1.0)[0]), 12)
    1.0
    """
    t = np.atleast_1d(np.asarray(t, float))
    j = 2 * np.arange(terms)[:, None] + 1
    return 1 - np.sum(8 / (j ** 2 * np.pi ** 2) * np.exp(-(j ** 2) * np.pi ** 2 * diffusivity * t[None]
                                                         / (4 * length ** 2)), axis=0)


def fine_versus_homogenised(cell: np.ndarray, n_cells: int, length: float = 1.0, *, steps: int = 400,
                            t_end_factor: float = 0.5, skip_factor: float = 0.02) -> dict:
    """Solve the strip problem on the fine image and compare with the homogenised solution.

    Parameters
    ----------
    cell : (k, k) or (k, k, k) array
        Voxel diffusivities of one mirror-symmetric cell [cm2 s-1] (2D or 3D; the strip
        runs along the last axis, x).
    n_cells : int
        Cells along the strip; the cell size is ``length / n_cells``.
    length : float
        Strip length ``L`` [cm].
    steps : int
        Equal time steps up to ``t_end_factor L^2 phi / D_xx``.
    skip_factor : float
        The first ``skip_factor L^2 phi / D_xx`` is left out of the error (while the front
        is within a few cells of the face, no continuum description applies).

    Returns
    -------
    dict
        ``times`` [s], ``fine`` and ``homogenised`` filled fractions, ``error`` (largest
        absolute difference after the skipped start), ``d_eff`` (``D_xx``, per bulk
        area), ``porosity``, ``cell_size`` [cm].
    """
    from ..diffusion.finite_volume import assemble_voxel_diffusion
    from ..diffusion.transient import solve_transient
    from ..homogenization.cell_problem import effective_diffusion_tensor
    cell = np.asarray(cell, float)
    k, nd = cell.shape[0], cell.ndim
    h = length / (n_cells * k)
    d_xx = float(effective_diffusion_tensor(cell, h, rtol=1e-10).tensor[-1, -1])   # axes (z,) y, x
    phi = float(np.mean(cell > 0))
    strip = np.concatenate([np.ones(cell.shape[:-1] + (1,)), np.tile(cell, (1,) * (nd - 1) + (n_cells,))],
                           axis=-1)
    source = np.zeros(strip.shape, bool)
    source[..., 0] = True                    # the face x = 0 held at c = 1
    op = assemble_voxel_diffusion(strip, source, h)
    scale = length ** 2 * phi / d_xx
    times = np.linspace(0.0, t_end_factor * scale, steps + 1)[1:]
    res = solve_transient(op, 1.0, times, rtol=1e-11)
    fine = res.mass_in_domain[1:] / (phi * length * (k * h) ** (nd - 1))
    hom = filled_fraction_homogenised(times, d_xx / phi, length)
    keep = times > skip_factor * scale
    return {"times": times, "fine": fine, "homogenised": hom,
            "error": float(np.max(np.abs(fine - hom)[keep])), "d_eff": d_xx, "porosity": phi,
            "cell_size": k * h}
