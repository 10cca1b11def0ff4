"""The two-phase LBM as a Model of the contract: Simulation, checkpoints, state()."""

import numpy as np

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
