import numpy as np
import pytest

from rhizoscale import RootSystem


@pytest.fixture
def branched_root_system():
    """A curved taproot with two laterals (one of them branched), times increasing to the tips."""
    s = np.linspace(0, 1, 21)
    tap = np.stack([0.3 * np.sin(3 * s), 0.2 * s, -10 * s], axis=1)
    tap_t = 10 * s
    lat1 = np.stack([0.3 * np.sin(0.9) + np.linspace(0, 4, 9), np.full(9, 0.06), np.linspace(-3, -4, 9)], axis=1)
    lat1_t = 4 + np.linspace(0, 5, 9)
    lat2 = np.stack([0.3 * np.sin(1.8) - np.linspace(0, 2, 5), np.full(5, 0.12), np.linspace(-6, -6.5, 5)], axis=1)
    lat2_t = 7 + np.linspace(0, 2, 5)
    lat3 = np.stack([lat1[4, 0] + np.zeros(4), lat1[4, 1] + np.linspace(0, 1, 4), lat1[4, 2] + np.zeros(4)], axis=1)
    lat3_t = 8 + np.linspace(0, 1.5, 4)
    return RootSystem.from_polylines(
        [tap, lat1, lat2, lat3], [tap_t, lat1_t, lat2_t, lat3_t], [0.1, 0.05, 0.05, 0.02],
        parents=[-1, 0, 0, 1], parent_nodes=[None, 6, 12, 4], time=10.0,
    )
