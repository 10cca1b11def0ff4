"""Test functions of global sensitivity analysis with known indices.

References
----------
Ishigami, T. & Homma, T. (1990). An importance quantification technique in uncertainty
analysis for computer models. Proc. ISUMA '90, 398-403.
Sobol', I. M. (1993). Sensitivity estimates for nonlinear mathematical models. Math.
Model. Comput. Exp. 1, 407-414 (the G function).
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design
and estimator for the total sensitivity index. Comput. Phys. Commun. 181, 259-270.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ishigami", "ishigami_indices", "sobol_g", "sobol_g_indices"]


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> dict:
    """``sin x1 + a sin^2 x2 + b x3^4 sin x1`` on ``[-pi, pi]^3`` (as ``{"y": value}``).

    >>> round(ishigami(1.0, 0.5, -2.0)["y"], 6)
    3.796766
    """
    return {"y": math.sin(x1) + a * math.sin(x2) ** 2 + b * x3 ** 4 * math.sin(x1)}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict:
    """Exact first-order, total and second-order indices of :func:`ishigami`.

    >>> {k: np.round(v, 3).tolist() for k, v in ishigami_indices().items() if k != "S2"}
    {'S1': [0.314, 0.442, 0.0], 'ST': [0.558, 0.442, 0.244]}
    """
    pi = math.pi
    v1 = 0.5 * (1 + b * pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s2 = np.zeros((3, 3))
    s2[0, 2] = v13 / v
    return {"S1": np.array([v1, v2, 0.0]) / v, "ST": np.array([v1 + v13, v2, v13]) / v, "S2": s2}


def sobol_g(*x: float, a=(0.0, 1.0, 4.5, 9.0, 99.0, 99.0), **named: float) -> dict:
    """Sobol's G function ``prod_i (|4 x_i - 2| + a_i) / (1 + a_i)`` on ``[0, 1]^d``
    (inputs positional, or named in order: ``x0=..., x1=...``).

    >>> sobol_g(0.5, 0.5)["y"], sobol_g(x0=0.0, x1=0.5)["y"]
    (0.0, 1.0)
    """
    x = tuple(x) + tuple(named.values())
    g = 1.0
    for xi, ai in zip(x, a):
        g *= (abs(4 * xi - 2) + ai) / (1 + ai)
    return {"y": g}


def sobol_g_indices(a=(0.0, 1.0, 4.5, 9.0, 99.0, 99.0)) -> dict:
    """Exact indices of :func:`sobol_g`: ``V_i = 1 / (3 (1 + a_i)^2)``,
    ``V = prod (1 + V_i) - 1``, ``S_i = V_i / V``, ``S_Ti = V_i prod_{j != i} (1 + V_j) / V``,
    ``S_ij = V_i V_j / V``."""
    vi = 1.0 / (3.0 * (1.0 + np.asarray(a, float)) ** 2)
    v = np.prod(1 + vi) - 1
    st = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(len(vi))]) / v
    s2 = np.triu(np.outer(vi, vi) / v, 1)
    return {"S1": vi / v, "ST": st, "S2": s2}
