"""CS4 mucilage between parallel cylinders (a 2D medium): periodic network kernels, the exact
2D bridge's force, the drying model in a periodic slab and its reach vs concentration."""

import math

import numpy as np
import pytest

from rhizoscale.errors import InputError
from rhizoscale.mucilage.cylinder_drying import CylinderBridgeModel
from rhizoscale.mucilage.cylinders import (cylinder_bridge, cylinder_bridge_area, cylinder_rupture_area,
                                           cylinder_rupture_distance, equal_suction_area)
from rhizoscale.mucilage.network import (FENE, HARMONIC, BeadNetwork, Meniscus, NetworkParameters, bonds_within,
                                         network_forces, potential_energy)
from rhizoscale.mucilage.parameters import MucilageNetworkParameters
from rhizoscale.mucilage.span import network_span
from rhizoscale.parameters import load_parameter_set

P = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
L = 16.0          # slab period of the kernel tests [µm]


def slab_network(seed=1, n=500, law=HARMONIC):
    """Beads in a periodic slab between two cylinders along z, bonds across the period."""
    rng = np.random.default_rng(seed)
    R, S = 20.0, 6.0
    centres = np.array([[-(R + S / 2), 0, 0], [R + S / 2, 0, 0]])
    pos = rng.uniform([-6, -8, 0], [6, 8, L], (n, 3))
    net = BeadNetwork(pos, 0.1, 1.0, rng.uniform(0.8, 1.2, n), period=L, cylinders=True)
    net.add_bonds(bonds_within(pos, 3.0, L), 0.05)
    net.adhere(centres, [R, R], 2.0)
    net.pos += rng.normal(0, 0.3, net.pos.shape)
    b = cylinder_bridge(300.0, S, R, 0.1, 0.072)
    men = Meniscus((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), b.r1, b.r2, b.half_length, 0.072)
    params = NetworkParameters(law=law, break_strain=0.3, fene_max=0.5, f_adh=0.05, k_wall=5.0, k_rep=5.0)
    return net, params, centres, np.array([R, R]), men


def test_bonds_cross_the_period_once():
    net = slab_network()[0]
    pairs = bonds_within(net.pos, 3.0, L)
    dz = net.pos[pairs[:, 1], 2] - net.pos[pairs[:, 0], 2]
    assert np.any(np.abs(dz) > L / 2)                       # bonds through the boundary exist
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    # brute force over the three images
    d = net.pos[None, :, :] - net.pos[:, None, :]
    best = np.min([np.linalg.norm(d + [0, 0, s], axis=2) for s in (-L, 0, L)], axis=0)
    i, j = np.nonzero(np.triu(best < 3.0, 1))
    np.testing.assert_array_equal(pairs, np.c_[i, j])
    with pytest.raises(ValueError, match="half the period"):
        bonds_within(net.pos, 9.0, L)


@pytest.mark.parametrize("law", [HARMONIC, FENE])
def test_periodic_cylinder_kernel_matches_numpy_specification(law):
    net, params, centres, pradius, men = slab_network(law=law)
    ext = np.random.default_rng(3).normal(0, 0.01, (net.n, 3))
    spec, bond_alive, tether_alive = network_forces(net, params, centres, pradius, men, ext)
    kernel = net.forces(params, centres, pradius, men, ext)
    assert np.abs(kernel - spec).max() <= 1e-12 * np.abs(spec).max()
    assert 0 < (bond_alive == 0).sum() < len(bond_alive) and 0 < (tether_alive == 0).sum()
    np.testing.assert_array_equal(net.bond_alive, bond_alive)
    np.testing.assert_array_equal(net.tether_alive, tether_alive)


def test_shifts_along_the_axis_change_nothing():
    """Periodic invariance: every bead moved by its own multiple of the period (wrapping),
    and translation: all beads and anchors moved by any amount along the cylinders."""
    net, params, centres, pradius, men = slab_network()
    params = NetworkParameters(law=HARMONIC, break_strain=10.0, k_wall=5.0, k_rep=5.0)   # nothing breaks
    f0 = net.forces(params, centres, pradius, men)
    e0 = potential_energy(net, params, centres, pradius)
    scale = np.abs(f0).max()
    rng = np.random.default_rng(7)
    wrapped = net.copy()
    wrapped.pos[:, 2] += L * rng.integers(-3, 4, net.n)
    moved = net.copy()
    shift = 0.37 * L + 5.1
    moved.pos[:, 2] += shift
    moved.tether_anchor[:, 2] += shift
    for other in (wrapped, moved):
        f = other.forces(params, centres, pradius, men)
        assert np.abs(f - f0).max() <= 1e-11 * scale
        assert potential_energy(other, params, centres, pradius) == pytest.approx(e0, rel=1e-11)
        np.testing.assert_array_equal(other.bond_alive, net.bond_alive)


def test_ring_chain_around_the_period_and_a_bond_through_the_boundary():
    """A closed chain of N beads around the period, spaced L/N with rest r0: no net force on
    any bead, energy N k (L/N - r0)^2 / 2; an overdamped relaxation keeps it so."""
    n, k, r0 = 8, 2.0, 1.5
    pos = np.zeros((n, 3))
    pos[:, 2] = (np.arange(n) + 0.5) * L / n
    net = BeadNetwork(pos, 1.0, 0.0, 0.1, period=L)
    net.add_bonds(np.c_[np.arange(n), (np.arange(n) + 1) % n], k, rest=np.full(n, r0))
    params = NetworkParameters(law=HARMONIC, break_strain=10.0, excluded=0.0)
    none = (np.zeros((0, 3)), np.zeros(0))
    f = net.forces(params, *none)
    assert np.abs(f).max() <= 1e-12
    assert potential_energy(net, params, *none) == pytest.approx(n * 0.5 * k * (L / n - r0) ** 2, rel=1e-12)
    # one bond through z = 0: beads at 0.5 and L - 0.5 are 1 apart, harmonic pull 2 (1 - 0.5) = 1
    pair = BeadNetwork(np.array([[0.0, 0, 0.5], [0.0, 0, L - 0.5]]), 1.0, 0.0, 0.1, period=L)
    pair.add_bonds([[0, 1]], k)
    assert pair.bond_rest[0] == pytest.approx(1.0)
    pair.bond_rest[:] = 0.5
    f = pair.forces(params, *none)
    np.testing.assert_allclose(f[:, 2], [-1.0, 1.0], atol=1e-12)
    # relaxed, the bond settles at its rest length across the boundary
    pair.overdamped(2000, 0.05, 1.0, params, *none)
    dz = (pair.pos[1, 2] - pair.pos[0, 2]) % L
    assert min(dz, L - dz) == pytest.approx(0.5, rel=1e-9)


def test_cylinder_repulsion_and_2d_meniscus_pull_do_not_depend_on_z():
    R = 20.0
    centres = np.array([[-(R + 3), 0, 0], [R + 3, 0, 0]])
    b = cylinder_bridge(300.0, 6.0, R, 0.0, 0.072)
    men = Meniscus((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), b.r1, b.r2, b.half_length, 0.072)
    x = 0.5 * b.half_length
    y = b.r1 + b.r2 - math.sqrt(b.r1 ** 2 - x ** 2)          # on the arc: the full pull 2 pi gamma r
    pts = np.array([[x, y, z] for z in (0.0, 3.0, 11.0)] + [[-(R + 3) + R + 0.5, 1.0, z] for z in (0.0, 7.0)])
    params = NetworkParameters(k_wall=5.0, excluded=0.0)
    cyl = BeadNetwork(pts, 0.1, 1.0, 1.0, period=L, cylinders=True).forces(params, centres, [R, R], men)
    sph = BeadNetwork(pts, 0.1, 1.0, 1.0).forces(params, centres, [R, R], men)
    np.testing.assert_allclose(cyl[:3], np.broadcast_to(cyl[0], (3, 3)), atol=1e-14)
    np.testing.assert_allclose(cyl[0], sph[0], atol=1e-14)     # z = 0: the toroid's meridian plane
    n = np.array([x, y - (b.r1 + b.r2), 0.0])
    np.testing.assert_allclose(cyl[0], 2 * np.pi * 0.072 * n / np.linalg.norm(n), rtol=1e-12)   # into the liquid
    # a bead overlapping a cylinder by 0.5 is pushed out radially in the cross-section, at any z
    d = np.array([R + 0.5, 1.0])
    push = 5.0 * (R + 1.0 - np.linalg.norm(d)) * d / np.linalg.norm(d)
    for f in cyl[3:]:
        np.testing.assert_allclose(f, [push[0], push[1], 0.0], rtol=1e-12)


@pytest.mark.parametrize("area,gap,theta", [(0.02, 0.1, 0.0), (0.05, 0.2, 0.3), (0.004, 0.02, 0.6)])
def test_2d_bridge_inverts_the_area_and_its_gorge_force_equals_the_contact_line_force(area, gap, theta):
    b = cylinder_bridge(area, gap, 1.0, theta, 0.05)
    assert float(cylinder_bridge_area(b.beta, gap, 1.0, theta)) == pytest.approx(area, rel=1e-12)
    contact = 2 * 0.05 * (math.sin(b.beta + theta) + math.sin(b.beta) / b.r1)
    assert b.force == pytest.approx(contact, rel=1e-12)
    a_rup = cylinder_rupture_area(gap, 1.0, theta)
    assert a_rup < area and cylinder_rupture_distance(a_rup, 1.0, theta) == pytest.approx(gap, rel=1e-10)
    with pytest.raises(InputError, match="area"):
        cylinder_bridge(0.999 * a_rup, gap, 1.0, theta)


def test_water_only_2d_bridge_ruptures_at_the_pinch_and_conserves_water():
    R, gap, a0 = 100.0, 10.0, 400.0
    a_rup = cylinder_rupture_area(gap, R)
    m = CylinderBridgeModel(0.0, a0, gap, P, evaporation_rate=20.0 * 24.0, period=24.0)
    k = 0
    while m.connected:
        k += 1
        m.advance_to(float(k))
        assert m.water_balance_error() == pytest.approx(0.0, abs=1e-13)
    # lost at the first step whose area is at or below the pinch area, water returned to the films
    assert a0 - 20.0 * k <= a_rup < a0 - 20.0 * (k - 1)
    assert m.films.sum() == pytest.approx((a0 - 20.0 * k) * 24.0, rel=1e-12)
    assert m.observables()["capillary_force"] == 0.0


def test_mucilage_slab_conserves_water_and_polymer_is_deterministic_and_resumes():
    p = P.with_overrides({"particle_radius": 60.0}, source="test")
    a0 = equal_suction_area(0.02) * 60.0 ** 2

    def model(seed=1):
        return CylinderBridgeModel(3.0, a0, 18.0, p, evaporation_rate=0.06 * a0 * 24.0, period=24.0, relax_steps=10,
                                   seed=seed)

    m = model()
    assert m.network.n > 50 and m.network.period == 24.0 and m.network.cylinders
    polymer = m.network.polymer.sum()
    for k in range(1, 6):
        m.advance_to(float(k))
    state = m.checkpoint_state()
    for k in range(6, 11):
        m.advance_to(float(k))
        assert m.water_balance_error() == pytest.approx(0.0, abs=1e-13)
    assert m.network.polymer.sum() == polymer
    assert not m.bridge_intact                        # 10 x 6 % dried: past the pinch at this gap
    again = model()
    again.restore_state(state)
    for k in range(6, 11):
        again.advance_to(float(k))
    np.testing.assert_array_equal(again.network.pos, m.network.pos)
    assert again.connected == m.connected
    other = model(seed=2)
    assert not np.array_equal(other.network.pos, model().network.pos)
    np.testing.assert_array_equal(model().network.pos, model().network.pos)
    with pytest.raises(InputError, match="period"):
        CylinderBridgeModel(3.0, a0, 18.0, p, evaporation_rate=1.0, period=10.0)
    with pytest.raises(InputError, match="liquid_area"):
        CylinderBridgeModel(3.0, 0.5 * cylinder_rupture_area(18.0, 60.0), 18.0, p, evaporation_rate=1.0)


def test_2d_reach_reduces_to_the_2d_water_bridge_at_zero_mucilage():
    for q in (0.25, 0.6):
        s = network_span(0.0, P, radius=120.0, water_left=q, geometry="cylinders")
        a = equal_suction_area(0.02, P.contact_angle)
        closed = cylinder_rupture_distance(q * a, 1.0, P.contact_angle)
        assert s.geometry == "cylinders" and s.lian_gap_ratio == pytest.approx(closed, rel=1e-12)
        assert s.wet_gap_ratio == pytest.approx(cylinder_rupture_distance(a, 1.0, P.contact_angle), rel=1e-12)
        # the closed form lies in the search's last bracket (last connected, first lost)
        lost = min(g for g, c in zip(s.gaps, s.connected) if not c)
        assert s.gap <= closed * 120.0 < lost
        assert lost - s.gap == pytest.approx(s.wet_gap_ratio * 120.0 * (1 - 1e-6) / 10 / 2 ** 4, rel=1e-9)


def test_a_2d_bridge_is_a_sheet_a_joining_filament_that_does_not_wrap_the_period_is_not():
    p = P.with_overrides({"particle_radius": 20.0}, source="test")
    m = CylinderBridgeModel(0.0, 40.0, 2.0, p, evaporation_rate=1.0, period=16.0)
    h = m.centres[1, 0]
    # a filament from cylinder 0 to cylinder 1 at z = 1 (bonds 1 um), tethered at both ends
    xs = np.arange(-h + 20.5, h - 20.5 + 1e-9, 1.0)
    fil = np.c_[xs, np.zeros_like(xs), np.ones_like(xs)]
    # a ring around the period through the filament's middle bead (z = 1, 3, ..., 15)
    mid = len(xs) // 2
    ring = np.c_[np.full(7, xs[mid]), np.zeros(7), 3.0 + 2.0 * np.arange(7)]
    pos = np.concatenate([fil, ring])
    chain = np.c_[np.arange(len(xs) - 1), np.arange(1, len(xs))]
    loop = np.r_[mid, len(xs) + np.arange(7), mid]
    ring_bonds = np.c_[loop[:-1], loop[1:]]

    def spans(bonds, criterion):
        net = BeadNetwork(pos, 0.01, 1.0, 0.3, period=16.0, cylinders=True)
        net.add_bonds(bonds, 0.01)
        net.tether_bead = np.array([0, len(xs) - 1])
        net.tether_particle = np.array([0, 1])
        net.tether_anchor = pos[[0, len(xs) - 1]] - m.centres
        net.tether_alive = np.ones(2, np.uint8)
        m.network, m.criterion = net, criterion
        return m.network_spans()

    assert spans(chain, "path") and not spans(chain, "sheet")
    both = np.concatenate([chain, ring_bonds])
    assert spans(both, "sheet") and spans(both, "path")
    broken = np.concatenate([chain, ring_bonds[:-1]])            # the ring opened: no wrapping
    assert not spans(broken, "sheet")
    with pytest.raises(InputError, match="criterion"):
        CylinderBridgeModel(0.0, 40.0, 2.0, p, evaporation_rate=1.0, criterion="filament")


def test_the_2d_reach_does_not_depend_on_the_slab_length():
    """Above percolation (3 mg/g) the reach at the default slab (16 bond lengths) and at 24
    agree to the search's resolution (two seeds); 8 bond lengths is too short (docs)."""
    a, b = ([network_span(3.0, P, radius=120.0, seed=s, geometry="cylinders", period_bonds=pb).gap_ratio
             for s in (1, 2)] for pb in (16.0, 24.0))
    step = cylinder_rupture_distance(equal_suction_area(0.02) * 120.0 ** 2, 120.0) / 120.0 / 10 / 2 ** 4
    assert np.all(np.abs(np.subtract(a, b)) <= 3 * step) and abs(np.mean(a) - np.mean(b)) <= 2 * step
    water = cylinder_rupture_distance(0.25 * equal_suction_area(0.02) * 120.0 ** 2, 120.0) / 120.0
    assert min(a) > water + 0.1                     # the network reaches well beyond water alone


def test_the_search_estimate_counts_the_slabs_beads():
    from rhizoscale.mucilage.span import span_bead_steps
    r = 80.0
    beads, steps = span_bead_steps(3.0, P, radius=r, geometry="cylinders", drying_steps=7, relax_steps=5, grid=4,
                                   bisections=2)
    model = CylinderBridgeModel(3.0, equal_suction_area(0.02) * r ** 2, 0.05 * r,
                                P.with_overrides({"particle_radius": r}, source="t"), evaporation_rate=1.0)
    assert round(beads) == model.network.n and steps == pytest.approx(beads * 7 * 5 * 6)
