"""The two-phase LBM as a Model of the contract: Simulation, checkpoints, state()."""

import numpy as np
import pytest

from rhizoscale.porescale import CarnahanStarlingEOS, TwoPhaseLBM, maxwell_construction
from rhizoscale.simulation import Checkpointer, IterationInterval, Simulation, load_checkpoint


def _model():
    eos = CarnahanStarlingEOS(0.8)
    rg, rl = maxwell_construction(eos)
    y, x = np.indices((24, 30))
    walls = np.zeros((24, 30), int)
    walls[:2] = 1
    rho = np.where((x - 15) ** 2 + (y - 2) ** 2 < 64, rl, rg)
    return TwoPhaseLBM(walls, rho, eos, wall_density={1: 0.15}, forcing="edm")


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    ref = _model()
    Simulation(ref, stop_time=120, dt=20).run()

    first = _model()
    cp = Checkpointer(tmp_path / "lbm.npz", IterationInterval(3))
    sim = Simulation(first, stop_time=60, dt=20, checkpoint=cp)
    sim.run()
    state = load_checkpoint(tmp_path / "lbm.npz")

    resumed = _model()
    sim2 = Simulation(resumed, stop_time=120, dt=20)
    sim2.model.restore_state(state["model"])
    sim2.run()
    assert resumed.time == ref.time == 120
    np.testing.assert_array_equal(resumed.f, ref.f)


def test_state_dataset_has_units_and_conserves_mass():
    m = _model()
    m0 = m.mass()
    m.advance_to(40)
    ds = m.state()
    for name in ("density", "pressure", "velocity_y", "velocity_x"):
        assert "units" in ds[name].attrs
    assert all("units" in ds[c].attrs for c in ds.coords)
    assert abs(float(np.nansum(ds.density)) / m0 - 1) < 1e-5
    assert ds.attrs["time"] == 40
    assert m.bytes_per_fluid_node() < 200


@pytest.mark.slow
def test_physical_units_predict_laplace_pressure_of_another_droplet(tmp_path, monkeypatch):
    """Calibrate sigma on radii 9-13, then predict the physical Laplace pressure of an
    R = 15 droplet in Pa from sigma = 0.072 N/m and dx = 10 um (a prediction, not a fit)."""
    from rhizoscale.porescale.calibration import lattice_units, measure_surface_tension
    from rhizoscale.porescale.measure import equivalent_radius, laplace_pressure, liquid_volume
    from rhizoscale.porescale.wetting import coexistence
    monkeypatch.setenv("RHIZOSCALE_CACHE", str(tmp_path))
    eos = CarnahanStarlingEOS(0.8)
    st = measure_surface_tension(eos, radii=(9, 11, 13), box=48, steps=1200)
    rg, rl = coexistence(eos, "edm")
    units = lattice_units(1e-3, 0.072, st.sigma, rl)
    n = 48
    y, x = np.indices((n, n))
    m = TwoPhaseLBM(np.zeros((n, n), int), np.where((x - 24) ** 2 + (y - 24) ** 2 <= 15**2, rl, rg),
                    eos, forcing="edm")
    m.step(1200)
    rho = m.density()
    R_m = equivalent_radius(liquid_volume(rho, rho.min(), rho.max()), 2) * units.dx_m
    dp_pa = float(units.pressure(laplace_pressure(rho, eos)[2]))
    print(f"sigma_lu = {st.sigma:.4g}, dt = {units.dt_s:.3g} s, nu = "
          f"{units.kinematic_viscosity(1.0):.3g} m2/s; dp = {dp_pa:.1f} Pa vs sigma/R = "
          f"{0.072 / R_m:.1f} Pa")
    assert dp_pa == pytest.approx(0.072 / R_m, rel=0.03)
    ds = m.state(units)
    assert ds.density.attrs["units"] == "kg m-3" and ds.x.attrs["units"] == "cm"
    assert float(np.nanmax(ds.density)) == pytest.approx(998.0, rel=0.02)


def test_physical_state_labels_every_field_and_scales_pressure_by_surface_tension():
    """p [Pa] = p_lu sigma / (sigma_lu dx) whether the time step comes from the surface
    tension or from a given viscosity (then nu is the one given); densities map the
    lattice liquid to the physical one; every variable carries units."""
    from rhizoscale.porescale.calibration import lattice_units, physical_state
    eos = CarnahanStarlingEOS(0.8)
    rho = np.full((24, 24), 0.03)
    rho[8:16, 8:16] = 0.3
    m = TwoPhaseLBM(np.zeros((24, 24), int), rho, eos, forcing="li")
    m.step(20)
    ds = m.state()
    sigma_lu, dx_cm = 0.0033, 1e-3
    a = lattice_units(dx_cm, 0.072, sigma_lu, 0.3, 998.0)
    b = lattice_units(dx_cm, 0.072, sigma_lu, 0.3, 998.0, kinematic_viscosity=1e-6, tau=1.0)
    assert b.kinematic_viscosity(1.0) == pytest.approx(1e-6)
    for units in (a, b):
        out = physical_state(ds, rho_gas=0.03, rho_liquid=0.3, rho_liquid_phys=998.0,
                             voxel_size_cm=dx_cm, units=units)
        np.testing.assert_allclose(out.pressure.values,
                                   ds.pressure.values * 0.072 / (sigma_lu * dx_cm * 1e-2))
        assert all(v.attrs.get("units") for v in {**out.data_vars, **out.coords}.values())
        assert out.velocity_x.attrs["units"] == "m s-1"
    np.testing.assert_allclose(out.density.values, ds.density.values * 998.0 / 0.3)
    assert out.x.attrs["units"] == "cm" and out.x.values[0] == pytest.approx(0.5e-3)
    bare = physical_state(ds, rho_gas=0.03, rho_liquid=0.3, rho_liquid_phys=998.0,
                          voxel_size_cm=dx_cm)
    assert "pressure" not in bare and bare.pressure_lattice.attrs["units"] == "lattice pressure"
