"""Test root systems with known geometry and times: straight and branched roots.

Generated roots have exact node times, so oracles (the steady moving-source solution,
released mass, tip paths) can be checked against them; every test and example that needs
a simple root system takes it from here. Lengths in cm, times in d.
"""

from __future__ import annotations

import numpy as np

from ..core.root_system import RootSystem
from ..errors import InputError

__all__ = ["straight_root_system", "branched_root_system"]


def straight_root_system(velocity: float, days: float, *, start=(0.0, 0.0, 0.0),
                         direction=(0.0, 0.0, -1.0), radius: float = 0.05, n_nodes: int = 0):
    """A single straight root growing at constant ``velocity`` [cm d-1] for ``days`` [d].

    Used for the single-root analyses (Landl et al. 2021, Fig. 4) and for tests against
    the steady moving-source solution.

    Parameters
    ----------
    velocity : float
        Elongation rate [cm d-1], > 0.
    days : float
        Age [d], > 0.
    start : 3 floats
        Base of the root [cm].
    direction : 3 floats
        Direction of growth (normalised here); default straight down.
    radius : float
        Root radius [cm].
    n_nodes : int
        Number of nodes (default: one every 0.1 cm, at least 2).

    Returns
    -------
    RootSystem
        One root whose node times are exact (``t = distance / velocity``).

    Raises
    ------
    InputError
        ``velocity`` or ``days`` not positive.

    Examples
    --------
    >>> from rhizoscale.plant.generators import straight_root_system
    >>> root = straight_root_system(2.0, 10.0)
    >>> root.total_length(), root.total_length(5.0)
    (20.0, 10.0)
    """
    if velocity <= 0 or days <= 0:
        raise InputError("a straight root needs velocity > 0 and days > 0")
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    n = n_nodes or max(2, int(np.ceil(velocity * days / 0.1)) + 1)
    t = np.linspace(0.0, days, n)
    pts = np.asarray(start, float) + (velocity * t)[:, None] * d
    return RootSystem.from_polylines([pts], [t], radius, time=days)


def branched_root_system(time: float = 10.0) -> RootSystem:
    """A curved taproot with two laterals, one of them branched again (4 roots).

    The taproot grows 10 cm down in ``time`` days along a gentle curve; laterals start at
    its nodes 6 and 12 at days 0.4 and 0.7 ``time``, a second-order lateral from the
    first lateral's node 4. Node times increase to every tip.

    Parameters
    ----------
    time : float
        Age of the system [d] (the node times scale with it).

    Returns
    -------
    RootSystem

    Examples
    --------
    >>> from rhizoscale.plant.generators import branched_root_system
    >>> rs = branched_root_system()
    >>> rs.n_roots, [int(o) for o in rs.root_order]
    (4, [0, 1, 1, 2])
    """
    f = time / 10.0
    s = np.linspace(0, 1, 21)
    tap = np.stack([0.3 * np.sin(3 * s), 0.2 * s, -10 * s], axis=1)
    lat1 = np.stack([0.3 * np.sin(0.9) + np.linspace(0, 4, 9), np.full(9, 0.06), np.linspace(-3, -4, 9)], axis=1)
    lat2 = np.stack([0.3 * np.sin(1.8) - np.linspace(0, 2, 5), np.full(5, 0.12), np.linspace(-6, -6.5, 5)], axis=1)
    lat3 = np.stack([lat1[4, 0] + np.zeros(4), lat1[4, 1] + np.linspace(0, 1, 4), lat1[4, 2] + np.zeros(4)], axis=1)
    times = [10 * s * f, (4 + np.linspace(0, 5, 9)) * f, (7 + np.linspace(0, 2, 5)) * f,
             (8 + np.linspace(0, 1.5, 4)) * f]
    return RootSystem.from_polylines(
        [tap, lat1, lat2, lat3], times, [0.1, 0.05, 0.05, 0.02],
        parents=[-1, 0, 0, 1], parent_nodes=[None, 6, 12, 4], time=time,
    )
