"""Case study 4 mucilage, mechanics core: force laws, kernels vs specification, integrators."""

import numpy as np
import pytest

from rhizoscale.mucilage.bridge import toroidal_bridge
from rhizoscale.mucilage.network import (FENE, HARMONIC, BeadNetwork, Meniscus, NetworkParameters, bonds_within,
                                         network_forces, potential_energy)

NO_PARTICLES = (np.zeros((0, 3)), np.zeros(0))


def random_network(seed=1, n=600, law=HARMONIC):
    rng = np.random.default_rng(seed)
    R, S = 50.0, 5.0
    centres = np.array([[-(R + S / 2), 0, 0], [R + S / 2, 0, 0]])
    pos = rng.uniform([-10, -20, -20], [10, 20, 20], (n, 3))
    net = BeadNetwork(pos, 0.1, 1.0, rng.uniform(0.8, 1.2, n))
    net.add_bonds(bonds_within(pos, 4.0), 0.05)
    net.adhere(centres, [R, R], 2.0)
    net.pos += rng.normal(0, 0.4, net.pos.shape)
    b = toroidal_bridge(2e4, S, R, 0.1, 0.072)
    men = Meniscus((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), b.r1, b.r2, b.half_length, 0.072)
    params = NetworkParameters(law=law, break_strain=0.3, fene_max=0.5, f_adh=0.05, k_wall=5.0, k_rep=5.0)
    return net, params, centres, np.array([R, R]), men


@pytest.mark.parametrize("law", [HARMONIC, FENE])
def test_kernel_matches_numpy_specification(law):
    net, params, centres, pradius, men = random_network(law=law)
    ext = np.random.default_rng(3).normal(0, 0.01, (net.n, 3))
    spec, bond_alive, tether_alive = network_forces(net, params, centres, pradius, men, ext)
    kernel = net.forces(params, centres, pradius, men, ext)
    assert np.abs(kernel - spec).max() <= 1e-12 * np.abs(spec).max()
    # every kind of term is exercised, and breaking agrees
    assert 0 < (bond_alive == 0).sum() < len(bond_alive) and 0 < (tether_alive == 0).sum()
    np.testing.assert_array_equal(net.bond_alive, bond_alive)
    np.testing.assert_array_equal(net.tether_alive, tether_alive)


def _pair_under_load(law, force, k=2.0, rest=1.0, fene_max=0.8, n_bonds=1):
    """A chain of ``n_bonds`` bonds pulled apart by +-force at its ends, relaxed overdamped."""
    pos = np.zeros((n_bonds + 1, 3))
    pos[:, 0] = np.arange(n_bonds + 1) * rest
    net = BeadNetwork(pos, 1.0, 0.0, 0.1)
    net.add_bonds(np.c_[np.arange(n_bonds), np.arange(1, n_bonds + 1)], k, rest=np.full(n_bonds, rest))
    ext = np.zeros((n_bonds + 1, 3))
    ext[0, 0], ext[-1, 0] = -force, force
    params = NetworkParameters(law=law, fene_max=fene_max, break_strain=10.0, excluded=0.0)
    net.overdamped(4000, 0.05, 1.0, params, *NO_PARTICLES, external=ext)
    return net.pos[-1, 0] - net.pos[0, 0] - n_bonds * rest


def test_harmonic_bond_and_chain_extension_is_force_over_stiffness():
    assert _pair_under_load(HARMONIC, 0.3) == pytest.approx(0.3 / 2.0, rel=1e-10)
    # springs in series: a chain of 5 extends 5 F / k
    assert _pair_under_load(HARMONIC, 0.3, n_bonds=5) == pytest.approx(5 * 0.3 / 2.0, rel=1e-9)


def test_fene_extension_matches_closed_form():
    # F = k x / (1 - (x/q)^2)  ->  x = q^2 (-k + sqrt(k^2 + 4 F^2 / q^2)) / (2 F)
    k, q, force = 2.0, 0.8, 1.5
    exact = q * q * (-k + np.sqrt(k * k + 4 * force ** 2 / q ** 2)) / (2 * force)
    assert _pair_under_load(FENE, force, k=k, fene_max=q) == pytest.approx(exact, rel=1e-10)
    assert exact < q and exact < force / k            # stiffer than harmonic, bounded
    assert _pair_under_load(FENE, force, k=k, fene_max=q, n_bonds=4) == pytest.approx(4 * exact, rel=1e-9)


def test_bond_breaks_above_its_strain():
    params = NetworkParameters(break_strain=0.5, excluded=0.0)
    net = BeadNetwork(np.array([[0.0, 0, 0], [1.49, 0, 0], [3.0, 0, 0], [4.51, 0, 0]]), 1.0, 0.0, 0.1)
    net.add_bonds([[0, 1], [2, 3]], 1.0, rest=[1.0, 1.0])
    f = net.forces(params, *NO_PARTICLES)
    assert net.bond_alive.tolist() == [1, 0]
    assert f[2:].tolist() == [[0, 0, 0], [0, 0, 0]]


def _free_network(seed, n=120):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 6, (n, 3))
    net = BeadNetwork(pos, 1.0, 0.0, 0.5)
    net.add_bonds(bonds_within(pos, 1.6), 1.0)
    net.vel = rng.normal(0, 0.3, (n, 3))
    net.vel -= net.vel.mean(axis=0)
    return net


def test_velocity_verlet_energy_error_is_second_order():
    params = NetworkParameters(break_strain=100.0, excluded=0.0)
    mass = 1.0

    def energy_error(dt):
        net = _free_network(5)
        e0 = potential_energy(net, params, *NO_PARTICLES) + 0.5 * mass * np.sum(net.vel ** 2)
        worst = 0.0
        steps = int(round(0.2 / dt))
        for _ in range(10):
            net.verlet(steps, dt, mass, params, *NO_PARTICLES)
            e = potential_energy(net, params, *NO_PARTICLES) + 0.5 * mass * np.sum(net.vel ** 2)
            worst = max(worst, abs(e - e0))
        return worst / e0

    e1, e2 = energy_error(0.02), energy_error(0.01)
    assert e1 < 1e-2
    assert 3.5 < e1 / e2 < 4.5                      # error ∝ dt²


def test_momentum_is_conserved_without_external_forces():
    params = NetworkParameters(break_strain=100.0, excluded=0.9, k_rep=5.0)   # repulsion active too
    net = _free_network(7)
    p0 = net.vel.sum(axis=0)
    net.verlet(500, 0.01, 1.0, params, *NO_PARTICLES)
    assert np.abs(net.vel.sum(axis=0) - p0).max() < 1e-12
    assert np.abs(net.vel).max() > 0.01             # it moved


def test_overdamped_relaxation_removes_overlaps_with_particles():
    params = NetworkParameters(excluded=0.0, k_wall=1.0)
    centres, pradius = np.array([[0.0, 0, 0]]), np.array([5.0])
    net = BeadNetwork(np.array([[5.2, 0, 0], [0, 4.9, 0]]), 1.0, 0.0, 0.5)
    net.overdamped(2000, 0.1, 1.0, params, centres, pradius)
    np.testing.assert_allclose(np.linalg.norm(net.pos, axis=1), 5.5, rtol=1e-10)


def test_capillary_pull_points_into_the_liquid():
    net, params, centres, pradius, men = random_network()
    params = NetworkParameters(k_wall=0.0, k_rep=0.0, k_adh=0.0)
    net = BeadNetwork(np.array([[0.0, men.r2 + 0.3, 0.0], [0.0, men.r2 + 2.0, 0.0], [0, 0, 0]]), 1.0, 0.0, 1.0)
    f = net.forces(params, centres, pradius, men)
    # on the neck, just outside: pulled towards the axis with 2 pi gamma r (1 - s^2/r^2)
    assert f[0, 1] == pytest.approx(-2 * np.pi * 0.072 * (1 - 0.3 ** 2), rel=1e-12)
    assert f[1].tolist() == [0, 0, 0] and f[2].tolist() == [0, 0, 0]   # dry, and immersed
