"""Lattice velocity sets and weights (D2Q9, D3Q19).

Velocities are stored in *array-axis order* — component ``k`` of ``velocities[i]`` moves
along array axis ``k`` of a ``(z, y, x)`` (or ``(y, x)``) array — so that the kernels
never translate between array and physical axes. Every set here is embedded in 3D:
a 2D set has a zero ``z`` component and runs on arrays of shape ``(1, ny, nx)``.

The weights give the isotropy conditions ``sum_i w_i = 1``, ``sum_i w_i e_i = 0``,
``sum_i w_i e_ia e_ib = c_s^2 delta_ab`` with ``c_s^2 = 1/3`` (lattice units, dx = dt = 1).

References
----------
Qian, Y. H., d'Humières, D., & Lallemand, P. (1992). Lattice BGK models for Navier-Stokes
equation. Europhysics Letters, 17, 479–484.
Krüger, T., Kusumaatmadja, H., Kuzmin, A., Shardt, O., Silva, G., & Viggen, E. M. (2017).
The Lattice Boltzmann Method: Principles and Practice. Springer, §3.4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["Lattice", "D2Q9", "D3Q19", "velocity_set", "CS2"]

#: squared lattice speed of sound of both sets [lattice units]
CS2 = 1.0 / 3.0


@dataclass(frozen=True, eq=False)
class Lattice:
    """A discrete velocity set.

    Attributes
    ----------
    name : str
        ``"D2Q9"`` or ``"D3Q19"``.
    dim : int
        Spatial dimension (2 or 3).
    velocities : (q, 3) int array
        Lattice velocities in array-axis order ``(z, y, x)`` [lattice units].
    weights : (q,) float array
        Quadrature weights.
    opposite : (q,) int array
        Index of ``-e_i``.
    """

    name: str
    dim: int
    velocities: np.ndarray
    weights: np.ndarray
    opposite: np.ndarray

    @property
    def q(self) -> int:
        return len(self.weights)


def _make(name: str, dim: int, vel_xyz, weights) -> Lattice:
    e = np.asarray(vel_xyz, dtype=np.int64)
    e = np.ascontiguousarray(e[:, ::-1])            # (x, y, z) -> array order (z, y, x)
    w = np.asarray(weights, dtype=np.float64)
    opp = np.array([int(np.flatnonzero((e == -e[i]).all(axis=1))[0]) for i in range(len(e))])
    e.setflags(write=False), w.setflags(write=False), opp.setflags(write=False)
    return Lattice(name, dim, e, w, opp)


_D2Q9_XYZ = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (-1, 0, 0), (0, -1, 0),
             (1, 1, 0), (-1, 1, 0), (-1, -1, 0), (1, -1, 0)]
D2Q9 = _make("D2Q9", 2, _D2Q9_XYZ, [4 / 9] + [1 / 9] * 4 + [1 / 36] * 4)

_D3Q19_XYZ = ([(0, 0, 0)]
              + [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
              + [(1, 1, 0), (-1, -1, 0), (1, -1, 0), (-1, 1, 0),
                 (1, 0, 1), (-1, 0, -1), (1, 0, -1), (-1, 0, 1),
                 (0, 1, 1), (0, -1, -1), (0, 1, -1), (0, -1, 1)])
D3Q19 = _make("D3Q19", 3, _D3Q19_XYZ, [1 / 3] + [1 / 18] * 6 + [1 / 36] * 12)


def velocity_set(name_or_dim) -> Lattice:
    """The velocity set by name (``"D2Q9"``, ``"D3Q19"``) or by dimension (2, 3).

    Examples
    --------
    >>> lat = velocity_set("D3Q19")
    >>> lat.q, float(lat.weights.sum())
    (19, 1.0)
    """
    key = {2: "D2Q9", 3: "D3Q19"}.get(name_or_dim, name_or_dim)
    sets = {"D2Q9": D2Q9, "D3Q19": D3Q19}
    if key not in sets:
        raise InputError(f"unknown lattice {name_or_dim!r}; use D2Q9 or D3Q19", field="lattice")
    return sets[key]
