"""Case study 5 (individual-based bacteria): oracles of the model core.

Units: µm, h, fg C.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from rhizoscale.errors import InputError
from rhizoscale.microbes import (Agents, DOCDiffusion, MicrobeLattice, MicrobeModel, RootExudation,
                                 SoilBacteriaParameters, SpeciesTraits, initial_cells, load_bacteria,
                                 trait_table)
from rhizoscale.microbes.kernels import ATTACHED, DORMANT, agent_step, agent_step_reference
from rhizoscale.microbes.placement import neighbours_within, thomas_parameters, thomas_points
from rhizoscale.simulation import Simulation

H = 10.0          # voxel edge [µm]
V = H ** 3


def species(**kw):
    base = dict(name="s", mu_max=0.4, k_s=0.005, cell_yield=0.5, maintenance=0.01, m_div=60.0,
                m_min=10.0, mortality=0.0, t_dormancy=100.0, c_resuscitation=0.001,
                dormant_maintenance=0.01, lag=0.0)
    base.update(kw)
    return SpeciesTraits(**base)


def porous_lattice(shape=(8, 9, 10), seed=0, root=True):
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=shape, p=[0.6, 0.25, 0.15])     # 0 water, 1 solid, 2 air
    rootmask = np.zeros(shape, bool)
    if root:
        rootmask[:, :2, :] = True
        labels[rootmask] = 3
    return MicrobeLattice(labels == 0, H, rootmask), labels


def random_agents(lat, n, rng, n_species=2):
    voxel = rng.choice(lat.water_flat, size=n)
    a = Agents.new(voxel, rng.uniform(15, 65, n), rng.integers(0, n_species, n))
    a.state[:] = rng.choice([0, DORMANT, ATTACHED], size=n, p=[0.7, 0.2, 0.1])
    a.starve[:] = rng.uniform(0, 3, n).astype(np.float32)
    a.lag[:] = np.where(rng.random(n) < 0.3, rng.uniform(0, 1, n), 0).astype(np.float32)
    return a


def test_kernel_equals_numpy_specification():
    lat, _ = porous_lattice()
    rng = np.random.default_rng(3)
    sp = [species(mortality=0.05, t_dormancy=1.0, motility=2000.0, chemotaxis=0.5, attachment=1.0,
                  exudate_preference=0.8),
          species(name="b", mu_max=0.1, k_s=0.02, maintenance=0.05, mortality=0.01, lag=0.5,
                  motility=500.0, t_dormancy=0.5, exudate_preference=0.2),
          species(name="c", exudate_preference=0.5, chemotaxis=1.0, motility=1000.0)]
    traits = trait_table(sp)
    a = random_agents(lat, 3000, rng, n_species=3)
    doc = np.where(lat.water, rng.uniform(0, 2.0, lat.shape), 0.0).ravel()
    doc[rng.random(doc.size) < 0.3] = 1e-3          # depleted voxels: demand is shared
    doc_pom = np.where(lat.water, rng.uniform(0, 1.0, lat.shape), 0.0).ravel()
    doc_pom[rng.random(doc.size) < 0.3] = 0.0
    runs = []
    for fn in (agent_step_reference, agent_step):
        b = Agents(**{k: v.copy() for k, v in a.as_dict().items()})
        d, dp, co2, nec = doc.copy(), doc_pom.copy(), np.zeros(doc.size), np.zeros(doc.size)
        tot = fn(b.id, b.voxel, b.mass, b.species, b.state, b.starve, b.lag, traits, d, dp,
                 lat.water.ravel().astype(np.uint8), (lat.root_faces.ravel() > 0).astype(np.uint8),
                 co2, nec, lat.shape, H, 0.3, 7, 11)
        runs.append((b, d, dp, co2, nec, tot))
    (b0, d0, p0, c0, n0, t0), (b1, d1, p1, c1, n1, t1) = runs
    for f in Agents.fields:
        np.testing.assert_array_equal(getattr(b0, f), getattr(b1, f), err_msg=f)
    for x, y in ((d0, d1), (p0, p1), (c0, c1), (n0, n1)):
        np.testing.assert_array_equal(x, y)
    # uptake is what left the two pools, and every pool stays >= 0
    assert d1.min() >= 0 and p1.min() >= 0
    np.testing.assert_allclose(t1[0], (doc - d1).sum() + (doc_pom - p1).sum(), rtol=1e-12)
    assert np.any((p0 == 0) & (doc_pom > 0))
    np.testing.assert_allclose(t0, t1, rtol=1e-12)
    # the case is not trivial: shared voxels, deaths, moves, dormancy, attachment happened
    assert (b1.voxel != a.voxel).sum() > 50
    assert ((b1.state & DORMANT) != (a.state & DORMANT)).sum() > 10
    assert n1.sum() > 0 and np.any((d0 == 0) & (doc > 0))


def full_model(seed=1, n=400, priming=1.0):
    lat, labels = porous_lattice(seed=seed)
    rng = np.random.default_rng(seed)
    pom = np.zeros(lat.shape)
    solid = np.flatnonzero(labels.ravel() == 1)
    pom.ravel()[rng.choice(solid, 20, replace=False)] = 500.0
    pom.ravel()[rng.choice(lat.water_flat, 5, replace=False)] = 800.0
    sp = [species(mortality=0.05, t_dormancy=0.5, motility=2000.0, chemotaxis=0.3, attachment=1.0),
          species(name="b", mu_max=0.2, maintenance=0.03, lag=0.3)]
    a = random_agents(lat, n, rng)
    doc = np.where(lat.water, 5.0, 0.0)
    return MicrobeModel(lat, sp, a, doc_diffusivity=2.4e4, pom_hydrolysis=0.05,
                        necromass_hydrolysis=0.1, priming_factor=priming, doc=doc, pom=pom,
                        exudation=RootExudation([0.0, 1.0, 3.0], [0.0, 0.2, 0.05]), seed=seed,
                        max_step=0.1, diffusion_rtol=1e-12), lat


def test_carbon_balance_every_step_and_no_doc_off_water():
    model, lat = full_model()
    for _ in range(30):
        model.step(0.1)
        assert abs(model.carbon_balance_error()) < 1e-12
        assert np.all(model.doc[~lat.water] == 0.0)
        assert model.doc.min() >= 0 and model.pom.min() >= 0 and model.agents.mass.min() > 0
    assert model.exuded_total > 0 and model.co2_total > 0 and model.necro.sum() > 0
    n_dead_or_born = len(model.agents) != 400
    assert n_dead_or_born


def test_first_order_hydrolysis_is_exponential():
    water = np.ones((7, 7, 7), bool)
    water[2:5, 2:5, 2:5] = False                   # a solid block
    lat = MicrobeLattice(water, H)
    pom = np.zeros(lat.shape)
    pom[0, 0, 0] = 100.0                           # in water
    pom[2, 3, 3] = 50.0                            # solid, one water face
    pom[3, 3, 3] = 70.0                            # solid, no water contact: not hydrolysed
    none = Agents.new(np.zeros(0), np.zeros(0), np.zeros(0))
    m = MicrobeModel(lat, [species()], none, doc_diffusivity=1e4, pom_hydrolysis=0.3, pom=pom)
    m.step(2.0)
    m.step(3.0)
    decay = np.exp(-0.3 * 5.0)
    got = m.state()["pom"].values
    np.testing.assert_allclose([got[0, 0, 0], got[2, 3, 3], got[3, 3, 3]],
                               [100 * decay, 50 * decay, 70.0], rtol=1e-12)
    assert m.doc_pom.sum() == pytest.approx(150 * (1 - decay), rel=1e-12)
    assert m.doc.sum() == 0.0                      # hydrolysis feeds the POM-derived pool
    assert abs(m.carbon_balance_error()) < 1e-13


def test_monod_pirt_batch_growth_matches_ode():
    """N cells in one well-mixed voxel vs dB/dt = (Y (q - m_s) - k_d) B, dS/dt = -q B.

    Error budget: explicit uptake over dt = 0.01 h (first order: < 0.5 %) and the
    binomial deaths (k_d = 0.02 h^-1, N = 3000 cells, 6 h: relative standard deviation of
    the surviving biomass about 0.6 %); tolerance 3 %.
    """
    lat = MicrobeLattice(np.ones((1, 1, 1), bool), H)
    sp = species(mortality=0.02, maintenance=0.02, m_min=5.0)
    n = 3000
    rng = np.random.default_rng(5)
    a = Agents.new(np.zeros(n), rng.uniform(30, 60, n), np.zeros(n))
    S0, B0 = 1.5 * a.mass.sum(), a.mass.sum()          # DOC for most of a doubling
    m = MicrobeModel(lat, [sp], a, doc_diffusivity=1.0, doc=np.full((1, 1, 1), S0), seed=2,
                     max_step=0.01)

    def rhs(t, y):
        S, B = max(y[0], 0.0), y[1]
        c = S / V
        q = sp.q_max * c / (sp.k_s + c)
        growth = sp.cell_yield * (q - sp.maintenance) if q >= sp.maintenance else -(sp.maintenance - q)
        return [-q * B, growth * B - sp.mortality * B]

    times = np.arange(0.5, 6.01, 0.5)
    ode = solve_ivp(rhs, (0, 6), [S0, B0], t_eval=times, rtol=1e-9, atol=1e-9, method="LSODA")
    for k, t in enumerate(times):
        m.step(t - m.time)
        assert abs(m.biomass() / ode.y[1, k] - 1) < 0.03, (t, m.biomass(), ode.y[1, k])
        assert abs(m.doc.sum() - ode.y[0, k]) < 0.03 * S0
    assert m.biomass() > 1.1 * B0 and len(m.agents) > n           # it grew and divided


def test_division_conserves_mass_with_stated_split():
    lat = MicrobeLattice(np.ones((2, 2, 2), bool), H)
    sp = species(maintenance=0.0, division_split=0.05)
    a = Agents.new(np.arange(8).repeat(50), np.full(400, 61.0), np.zeros(400))
    m = MicrobeModel(lat, [sp], a, doc_diffusivity=1.0, seed=4)
    m.step(0.01)
    assert len(m.agents) == 800
    assert m.biomass() == pytest.approx(400 * 61.0, rel=1e-14)
    share = m.agents.mass / 61.0
    assert share.min() >= 0.45 - 1e-12 and share.max() <= 0.55 + 1e-12
    assert len(np.unique(m.agents.id)) == 800
    # daughters get new ids in the order of their mothers' ids: id k + 400 is k's daughter
    by_id = m.agents.mass[np.argsort(m.agents.id)]
    np.testing.assert_allclose(by_id[:400] + by_id[400:], 61.0, rtol=1e-14)


def test_dormancy_and_resuscitation_thresholds():
    lat = MicrobeLattice(np.ones((1, 1, 2), bool), H)
    sp = species(t_dormancy=1.0, c_resuscitation=0.01, lag=0.5, maintenance=0.02)
    a = Agents.new([0, 0, 0], [30.0, 30.0, 30.0], [0, 0, 0])
    m = MicrobeModel(lat, [sp], a, doc_diffusivity=1e-9, seed=1, max_step=0.1)
    for _ in range(9):                   # 0.9 h without DOC: still active
        m.step(0.1)
    assert not np.any(m.agents.state & DORMANT)
    m.step(0.1)                          # 1.0 h: dormant
    assert np.all(m.agents.state & DORMANT)
    m.doc[0, 0, 0] = 0.009 * V           # below the resuscitation threshold: stays dormant
    m.initial_carbon += 0.009 * V
    m.step(0.1)
    assert np.all(m.agents.state & DORMANT)
    m.doc[0, 0, 0] += 0.002 * V          # above: active, in lag
    m.initial_carbon += 0.002 * V
    m.step(0.1)
    assert not np.any(m.agents.state & DORMANT)
    np.testing.assert_allclose(m.agents.lag, 0.5)
    before = m.agents.mass.copy()
    m.step(0.1)                          # lag: uptake covers maintenance, no growth
    np.testing.assert_allclose(m.agents.mass, before, rtol=1e-12)
    for _ in range(6):
        m.step(0.1)
    assert np.all(m.agents.mass > before)     # lag over: growth
    assert abs(m.carbon_balance_error()) < 1e-12


def test_doc_diffusion_in_water_box_matches_gaussian():
    """A Gaussian (variance s0^2 per axis) spreads to variance s0^2 + 2 D t: backward Euler
    on the voxel Laplacian adds exactly 2 D dt per step (up to the far walls), and the
    profile converges to the analytic Gaussian at first order in dt (measured: 5.5 % of
    the peak at D dt / s0^2 = 0.056, 3.2 % at half the step, a spatial floor near 1 %)."""
    n = 51
    D, s0 = 1.0e4, 30.0
    x = (np.arange(n) - n // 2) * H
    r2 = x[:, None, None] ** 2 + x[None, :, None] ** 2 + x[None, None, :] ** 2
    dif = DOCDiffusion(np.ones((n, n, n), bool), H, D)
    errors = []
    for dt, steps in ((0.005, 20), (0.0025, 40)):
        m = np.exp(-r2 / (2 * s0 ** 2))
        m *= 1.0e6 / m.sum()
        var0 = float((m.sum(axis=(0, 1)) * x ** 2).sum() / m.sum())
        for _ in range(steps):
            m = dif.step(m, dt)
        t = dt * steps
        var_x = float((m.sum(axis=(0, 1)) * x ** 2).sum() / m.sum())
        assert var_x - var0 == pytest.approx(2 * D * t, rel=1e-4)
        assert m.sum() == pytest.approx(1.0e6, rel=1e-13)
        s2 = s0 ** 2 + 2 * D * t
        gauss = 1.0e6 / (2 * np.pi * s2) ** 1.5 * np.exp(-r2 / (2 * s2)) * V
        errors.append(np.max(np.abs(m - gauss)) / gauss.max())
    assert errors[1] < 0.65 * errors[0] and errors[1] < 0.04


def test_backward_euler_variance_is_exact_in_a_long_box():
    water = np.ones((1, 1, 301), bool)
    dif = DOCDiffusion(water, H, 3.0e3, rtol=1e-13)     # the far tails weigh in the variance
    m = np.zeros(water.shape)
    m[0, 0, 150] = 1.0
    for dt in (0.01, 0.03, 0.02):
        m = dif.step(m, dt)
    x = (np.arange(301) - 150) * H
    assert float((m[0, 0] * x ** 2).sum()) == pytest.approx(2 * 3.0e3 * 0.06, rel=1e-9)


def test_diffusion_stays_in_water_and_keeps_mass():
    lat, _ = porous_lattice(shape=(12, 12, 12))
    dif = DOCDiffusion(lat.water, H, 5e4)
    m = np.zeros(lat.shape)
    m.ravel()[lat.water_flat[:5]] = 100.0
    for _ in range(5):
        m = dif.step(m, 0.5)
    assert np.all(m[~lat.water] == 0) and m.min() >= 0
    assert m.sum() == pytest.approx(500.0, rel=1e-13)


def test_uptake_never_exceeds_the_voxel_and_steps_are_substepped():
    lat = MicrobeLattice(np.ones((1, 1, 1), bool), H)
    a = Agents.new(np.zeros(1000), np.full(1000, 50.0), np.zeros(1000))
    m = MicrobeModel(lat, [species(mu_max=2.0, maintenance=0.0)], a, doc_diffusivity=1.0,
                     doc=np.full((1, 1, 1), 1.0), seed=1)
    assert m.max_step == pytest.approx(0.1 / (2.0 / 0.5))
    m.step(5.0)                          # 5 h in sub-steps of 0.025 h
    assert m.iteration == 200
    assert m.doc.min() >= 0.0 and abs(m.carbon_balance_error()) < 1e-12
    assert m.doc.sum() < 1e-12           # the little DOC was shared out, never overdrawn


def test_same_seed_same_numbers_and_another_seed_differs():
    p = load_bacteria()
    lat, _ = porous_lattice(shape=(10, 10, 10))
    out = []
    for seed in (3, 3, 4):
        m = MicrobeModel.from_parameters(lat, p, seed=seed, n_cells=300,
                                         doc=np.where(lat.water, 2.0, 0.0), max_step=0.1)
        m.step(1.0)
        out.append(m.checkpoint_state())
    for k in out[0]:
        np.testing.assert_array_equal(out[0][k], out[1][k], err_msg=k)
    assert not np.array_equal(out[0]["agents_mass"], out[2]["agents_mass"])


def test_results_do_not_depend_on_agent_order():
    """Permuted rows give the same cells and fields to round-off (sums in another order;
    the diffusion solve carries such differences up to its tolerance, set to 1e-12 here)."""
    runs = []
    for permute in (False, True):
        model, _ = full_model(seed=2, n=500)
        if permute:
            order = np.random.default_rng(9).permutation(len(model.agents))
            model.agents = model.agents.take(order)
        for _ in range(10):
            model.step(0.1)
        a = model.agents.take(np.argsort(model.agents.id))
        runs.append((a, model))
    (a0, m0), (a1, m1) = runs
    np.testing.assert_array_equal(a0.id, a1.id)
    np.testing.assert_array_equal(a0.voxel, a1.voxel)
    np.testing.assert_array_equal(a0.state, a1.state)
    np.testing.assert_allclose(a0.mass, a1.mass, rtol=1e-12)
    np.testing.assert_allclose(m0.doc, m1.doc, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m0.co2, m1.co2, rtol=1e-10, atol=1e-12)


def test_resume_from_checkpoint_is_bit_identical():
    a, _ = full_model(seed=3)
    Simulation(a, stop_time=2.0, dt=0.25).run()
    b, _ = full_model(seed=3)
    Simulation(b, stop_time=1.0, dt=0.25).run()
    saved = b.checkpoint_state()
    c, _ = full_model(seed=3)
    c.restore_state({k: np.asarray(v) for k, v in saved.items()})
    for _ in range(4):
        c.step(0.25)
    sa, sc = a.checkpoint_state(), c.checkpoint_state()
    for k in sa:
        np.testing.assert_array_equal(sa[k], sc[k], err_msg=k)


def test_thomas_process_reproduces_the_neighbour_count():
    density, target, r, sigma = 1.3e-4, 120.0, 20.0, 10.0
    kappa, mu = thomas_parameters(density, target, r, sigma)
    box = (400.0, 400.0, 400.0)
    pts = thomas_points(box, kappa, mu, sigma, np.random.default_rng(0))
    assert len(pts) / np.prod(box) == pytest.approx(density, rel=0.25)     # ~30 clusters
    got = neighbours_within(pts, r, box)
    assert got == pytest.approx(target, rel=0.15)
    poisson = density * 4 / 3 * np.pi * r ** 3
    assert got > 10 * poisson


def test_initial_cells_sit_in_water_and_follow_the_shares():
    lat, _ = porous_lattice(shape=(20, 20, 20))
    p = load_bacteria()
    a = initial_cells(lat, p, seed=1, n_cells=2000)
    assert np.all(lat.water.ravel()[a.voxel])
    assert len(a) == 2000
    assert set(np.unique(a.species)) == {0, 1, 2}


def test_n_cells_is_the_exact_count_even_below_one_cluster():
    """n_cells below the calibrated cluster size (~270) used to scale the cluster
    intensity, so 60 cells meant no cell at all with probability exp(-60/270) = 80 %; now
    every seed gets exactly n_cells. Without n_cells, a lattice that draws no cluster is
    refused naming n_cells (a run without cells is no experiment)."""
    lat, _ = porous_lattice(shape=(16, 16, 16))
    p = load_bacteria()
    for seed in range(8):
        assert len(initial_cells(lat, p, seed=seed, n_cells=60)) == 60
    small, _ = porous_lattice(shape=(4, 4, 4))          # ~0.03 clusters on average
    with pytest.raises(InputError, match="no cells placed") as err:
        initial_cells(small, p, seed=1)
    assert err.value.field == "n_cells"


def test_bad_input_names_the_field():
    from rhizoscale.parameters import parameter_set_from_dict
    with pytest.raises(InputError, match="image"):
        MicrobeLattice(np.zeros((3, 3, 3), bool), H)
    from rhizoscale.core.image import Image, Phase
    im = Image(np.zeros((3, 3, 3), np.uint8), 1e-3, (Phase("water", 0, 1.0, "water"),))
    with pytest.raises(InputError, match="root"):
        MicrobeLattice.from_image(im, require_root=True)
    data = load_bacteria().model_dump()
    data["species"][0]["mu_max"] = -0.1
    with pytest.raises(InputError, match="mu_max"):
        parameter_set_from_dict(SoilBacteriaParameters, data)
    data["species"][0]["mu_max"] = 0.4
    data["species"][0]["m_min"] = 40.0
    with pytest.raises(InputError, match="m_min"):
        parameter_set_from_dict(SoilBacteriaParameters, data)
    lat = MicrobeLattice(np.ones((2, 2, 2), bool), H)
    none = Agents.new(np.zeros(0), np.zeros(0), np.zeros(0))
    with pytest.raises(InputError, match="dt"):
        MicrobeModel(lat, [species()], none, doc_diffusivity=1.0).step(-1.0)
    with pytest.raises(InputError, match="exudation"):
        MicrobeModel(lat, [species()], none, doc_diffusivity=1.0, exudation=RootExudation.constant(1.0))


# --------------------------------------------------------------------------- scenario layer
def _small_rhizosphere(**kw):
    data = {"case": "cs5-microbes", "experiment": "rhizosphere",
            "lattice": {"shape": [4, 16, 16], "root_radius": 60.0}, "saturations": [1.0],
            "duration": 1.0, "dt": 0.5, "record_interval": 0.5, "n_cells": 300,
            "outputs": {"figures": False}}
    data.update(kw)
    return data


def test_exudation_from_a_case_study_3_flux_series(tmp_path):
    """A flux series written as case study 3 writes it (ug cm-2 s-1 over s) drives the
    exudation; the carbon exuded equals the integral of the flux over the root-water faces."""
    import xarray as xr
    from rhizoscale.products import BoundarySeries
    from rhizoscale.scenario import run_products, scenario_from_dict
    t = np.array([0.0, 1800.0, 3600.0])
    flux = xr.DataArray(np.array([0.0, 2e-9, 2e-9]), dims="time",
                        coords={"time": ("time", t, {"units": "s"})}, attrs={"units": "ug cm-2 s-1"})
    series = BoundarySeries(flux, "flux", "root-soil contact")
    ex = RootExudation.from_boundary_series(series)
    assert ex.amount(0.0, 1.0) == pytest.approx(0.5 * 2e-9 * 36000 * 0.5 + 2e-9 * 36000 * 0.5)
    path = tmp_path / "flux.nc"
    series.to_dataset().to_netcdf(path)
    sc = scenario_from_dict(_small_rhizosphere(boundary_series=str(path)), source=tmp_path / "s.yaml")
    out = run_products(sc)
    ts = out.fields["cs5_timeseries.nc"]
    from rhizoscale.microbes.scenario import _lattice_image
    lat = MicrobeLattice.from_image(_lattice_image(sc.config, 1.0, out.info["seed"], True))
    faces_area = lat.root_faces.sum() * lat.face_area                     # um^2
    assert ts["exuded"].values[0, -1] == pytest.approx(ex.amount(0.0, 1.0) * faces_area, rel=1e-12)
    assert abs(ts["balance_error"].values).max() < 1e-12


def test_boundary_series_errors_name_the_key_and_a_short_series_is_said(tmp_path):
    """Flux-series errors named an internal 'exudation' key; a series ending before the
    run was held at its last value without a word; a series given to the respiration
    experiment (no root) was ignored without a word."""
    import json
    import xarray as xr
    from rhizoscale.scenario import run_scenario, scenario_from_dict

    def write(name, t_h, flux, units):
        xr.Dataset({"flux": xr.DataArray(np.asarray(flux, float), dims="time", attrs={"units": units},
                                         coords={"time": ("time", np.asarray(t_h, float), {"units": "h"})})}
                   ).to_netcdf(tmp_path / name)
        return str(tmp_path / name)
    bad = write("bad.nc", [0.0, 1.0], [1.0, 1.0], "mol m-2 s-1")
    with pytest.raises(InputError, match=r"s.yaml: boundary_series: exudation flux units 'mol m-2 s-1'"):
        run_scenario(scenario_from_dict(_small_rhizosphere(boundary_series=bad), source=tmp_path / "s.yaml"),
                     tmp_path / "bad")
    short = write("short.nc", [0.0, 0.25], [5.0, 5.0], "ug cm-2 d-1")
    summary = run_scenario(scenario_from_dict(_small_rhizosphere(boundary_series=short, outputs={"figures": False}),
                                              source=tmp_path / "s.yaml"), tmp_path / "short")
    said = json.loads((tmp_path / "short" / "summary.json").read_text())["warnings"]
    assert any(w.startswith("boundary_series: the series ends at 0.25 h") for w in said), summary
    with pytest.raises(InputError, match=r"boundary_series: the respiration experiment has no root"):
        scenario_from_dict({"case": "cs5-microbes", "experiment": "respiration", "boundary_series": short},
                           source=tmp_path / "s.yaml")


def test_scenario_outputs_read_back_and_bad_overrides_name_the_field(tmp_path):
    import pandas as pd
    from rhizoscale.scenario import run_products, run_scenario, scenario_from_dict
    summary = run_scenario(scenario_from_dict(_small_rhizosphere(), source=tmp_path / "s.yaml"),
                           tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "cs5_agents_saturation_1.csv")
    assert {"x_um", "y_um", "z_um", "carbon_fg", "species", "dormant"} <= set(table.columns)
    assert len(table) > 100 and table["carbon_fg"].min() > 0
    assert summary["quantities"]["carbon_balance_error_bound"]["value"] <= 1e-12
    bad = _small_rhizosphere(parameters={"bacteria.species.0.mu_max": -1.0})
    with pytest.raises(InputError, match="mu_max"):
        scenario_from_dict(bad, source=tmp_path / "s.yaml")
    gradient = run_products(scenario_from_dict(_small_rhizosphere(radial_doc=0.01, exudation_flux=0.0),
                                               source=tmp_path / "s.yaml"))
    doc0 = gradient.fields["cs5_timeseries.nc"]["doc"].values[0, 0]
    assert doc0 > 0 and gradient.fields["cs5_timeseries.nc"]["exuded"].values.max() == 0
    with pytest.raises(InputError, match="saturations"):
        scenario_from_dict(_small_rhizosphere(saturations=[0.0]), source=tmp_path / "s.yaml")
    with pytest.raises(InputError, match="lattice"):
        scenario_from_dict(_small_rhizosphere(lattice={"shape": [2, 16, 16]}), source=tmp_path / "s.yaml")


def test_a_users_image_and_the_time_section(tmp_path):
    """The rhizosphere runs on a user's segmented image (.npy with a label table); the shared
    time section sets duration and step; an image without a root label is refused."""
    from rhizoscale.scenario import run_products, scenario_from_dict
    lab = np.full((4, 12, 12), 2, np.uint8)          # water
    lab[:, :, 6:] = 1                                # solid half
    lab[:, :3, :2] = 3                               # root
    np.save(tmp_path / "pores.npy", lab)
    data = _small_rhizosphere(image={"file": "pores.npy", "voxel_size": 1e-3,
                                     "labels": {"water": 2, "solid": 1, "root": 3}},
                              time={"stop": "30 min", "dt": "15 min"})
    data.pop("duration"), data.pop("dt")
    sc = scenario_from_dict(data, source=tmp_path / "s.yaml", base_dir=tmp_path)
    assert sc.config.duration == 0.5 and sc.config.dt == 0.25
    out = run_products(sc)
    ts = out.fields["cs5_timeseries.nc"]
    assert list(ts["run"].values) == ["image"] and ts["exuded"].values[0, -1] > 0
    assert out.fields["cs5_fields.nc"]["doc"].values[0][lab != 2].max() == 0
    data["image"]["labels"] = {"water": 2, "solid": 1}
    with pytest.raises(InputError, match="image.labels"):
        run_products(scenario_from_dict(data, source=tmp_path / "s.yaml", base_dir=tmp_path))


def test_cluster_coarse_space_speeds_up_cg_on_disconnected_water():
    """Water films at half saturation fall apart into clusters: the cluster-corrected
    preconditioner gives the same solution in far fewer CG iterations than multigrid alone
    (measured: 275 -> 77 at 24^3, D dt / h^2 = 2400)."""
    from rhizoscale.image.generators import liquid_configuration, sand_packing
    from rhizoscale.solvers import Multigrid, pcg
    pk = sand_packing((24, 24, 24), 10e-4, porosity=0.4, mean_radius=40e-4, seed=1)
    water = liquid_configuration(pk, 0.2).mask("water")
    dif = DOCDiffusion(water, H, 2.4e6, rtol=1e-10, solver="geometric")
    shift = V / 0.1
    c = np.where(water, np.random.default_rng(1).random(water.shape), 0.0)
    results = []
    plain = Multigrid(dif.stencil, fine_dtype=np.float32, coarse_dtype=np.float32,
                      fine_vector_dtype=np.float32, cycles=2)
    for pre in (plain, dif._multigrid()):
        pre.set_shift(shift)
        x = c.copy()
        its = pcg(dif.stencil, pre, c * shift, x, rtol=1e-10, maxiter=2000, shift=shift)
        results.append((its, x))
    (its0, x0), (its1, x1) = results
    np.testing.assert_allclose(x1, x0, rtol=1e-6, atol=1e-8)
    assert its1 < its0 / 2
    # the algebraic multigrid on the water voxels solves the same system (one operator)
    amg = DOCDiffusion(water, H, 2.4e6, rtol=1e-10, solver="amg")
    m = c * V
    a, g = amg.step(m, 0.1), dif.step(m, 0.1)
    np.testing.assert_allclose(a, g, rtol=1e-7, atol=1e-9 * m.max())
    assert abs(a.sum() - m.sum()) < 1e-12 * m.sum() and np.all(a[~water] == 0)
    assert amg.iterations < 30


@pytest.mark.parametrize("solver", ["amg", "geometric"])
def test_diffusion_keeps_cluster_means_and_starts_from_them(solver):
    """Summed over a connected water cluster the backward-Euler system loses every face
    flux, so the solution keeps each cluster's mean concentration: the initial guess (the
    cluster means) is exact on a cluster-wise constant field (no iteration) and the solved
    field of any input has the input's cluster means (checked to the solver tolerance)."""
    from scipy import ndimage
    from rhizoscale.image.generators import liquid_configuration, sand_packing
    pk = sand_packing((24, 24, 24), 10e-4, porosity=0.4, mean_radius=40e-4, seed=1)
    water = liquid_configuration(pk, 0.2).mask("water")
    labels, n = ndimage.label(water)
    assert n > 3                                   # several clusters: the test bites
    dif = DOCDiffusion(water, H, 2.4e6, rtol=1e-10, solver=solver)
    flat = np.where(water, np.random.default_rng(2).random(n + 1)[labels], 0.0) * V
    out = dif.step(flat, 0.1)
    assert dif.iterations == 0
    np.testing.assert_allclose(out, flat, rtol=1e-10, atol=0)   # round-off of the flux form
    m = np.where(water, np.random.default_rng(3).random(water.shape), 0.0) * V
    out = dif.step(m, 0.1)
    assert dif.iterations > 0
    sums = lambda a: ndimage.sum_labels(a, labels, np.arange(1, n + 1))
    np.testing.assert_allclose(sums(out), sums(m), rtol=1e-9)


def test_a_negative_addition_is_refused_before_any_work():
    from rhizoscale.scenario import scenario_from_dict
    from small_examples import small_example
    data = small_example("cs5-respiration")
    data["additions"] = [0.4, -8]
    with pytest.raises(InputError, match=r"additions\[1\]: Input should be greater than or equal to 0"):
        scenario_from_dict(data, source="c.yaml")
    # each addition / saturation names a run: a repeated one ended in a traceback after the
    # runs (xarray: conflicting sizes for dimension 'run')
    for key, values in (("additions", [8.0, 8.0]), ("saturations", [0.5, 0.5])):
        with pytest.raises(InputError, match=f"{key}: .* is given twice"):
            scenario_from_dict(dict(data, **{key: values}), source="c.yaml")


def test_carbon_source_preference_weights_and_splits_the_pools():
    """Monod on S = a0 C0 + a1 C1, the demand split a0 C0 : a1 C1 (NumPy specification):
    an exudate specialist (p = 1) leaves POM-derived DOC alone, a POM specialist (p = 0)
    leaves exudate DOC alone, a generalist (p = 0.5) takes from both in the ratio C0 : C1."""
    lat = MicrobeLattice(np.ones((1, 1, 3), bool), H)
    V = lat.voxel_volume
    sp = [species(name="exu", exudate_preference=1.0), species(name="pom", exudate_preference=0.0),
          species(name="gen", exudate_preference=0.5)]
    traits = trait_table(sp)
    c0, c1 = 0.004, 0.002                                    # fg um^-3 in every voxel
    a = Agents.new(voxel=[0, 1, 2], mass=[30.0, 30.0, 30.0], species=[0, 1, 2])
    doc, pom = np.full(3, c0 * V), np.full(3, c1 * V)
    d, p = doc.copy(), pom.copy()
    agent_step_reference(a.id, a.voxel, a.mass, a.species, a.state, a.starve, a.lag, traits, d, p,
                         np.ones(3, np.uint8), np.zeros(3, np.uint8), np.zeros(3), np.zeros(3),
                         lat.shape, H, 0.01, 1, 0)
    took0, took1 = doc - d, pom - p
    q = lambda S: sp[0].q_max * S / (sp[0].k_s + S) * 30.0 * 0.01     # noqa: E731
    np.testing.assert_allclose(took0, [q(c0), 0.0, q(c0 + c1) * c0 / (c0 + c1)], rtol=1e-12)
    np.testing.assert_allclose(took1, [0.0, q(c1), q(c0 + c1) * c1 / (c0 + c1)], rtol=1e-12)
    # intermediate preference: weights min(1, 2p) and min(1, 2(1 - p))
    assert trait_table([species(exudate_preference=0.75)])[0, -2:].tolist() == [1.0, 0.5]


def test_two_pools_balance_and_preference_in_the_model():
    """With POM, necromass and exudation all on, both pools stay in water, >= 0, and the
    carbon balance closes to round-off; an exudate specialist fed only POM-derived DOC
    starves while the same cells with p = 0 grow."""
    model, lat = full_model()
    for _ in range(10):
        model.step(0.1)
        assert abs(model.carbon_balance_error()) < 1e-12
        assert np.all(model.doc_pom[~lat.water] == 0.0) and model.doc_pom.min() >= 0
    assert model.doc_pom.sum() > 0 and model.doc.sum() > 0
    grown = {}
    for p in (1.0, 0.0):
        one = MicrobeLattice(np.ones((1, 1, 1), bool), H)
        cells = Agents.new(voxel=np.zeros(5, int), mass=np.full(5, 30.0), species=np.zeros(5))
        m = MicrobeModel(one, [species(exudate_preference=p)], cells, doc_diffusivity=1.0,
                         doc_pom=np.full((1, 1, 1), 0.5 * one.voxel_volume), seed=3)
        m.step(1.0)
        grown[p] = m.biomass() / 150.0 - 1
        assert abs(m.carbon_balance_error()) < 1e-13
    assert grown[1.0] < 0 < grown[0.0]


def test_concentration_boundary_holds_the_root_surface_and_books_the_exchange():
    """A constant concentration on the water voxels touching the root, no cells: the
    connected water fills to that concentration (the steady state of the no-flux box),
    and the carbon that entered is booked as exuded (balance to round-off)."""
    from rhizoscale.microbes import RootConcentration
    lat, _ = porous_lattice(root=True)
    none = Agents.new(np.zeros(0), np.zeros(0), np.zeros(0))
    cb = 0.003
    m = MicrobeModel(lat, [species()], none, doc_diffusivity=2.4e4,
                     exudation=RootConcentration([0.0], [cb]), diffusion_rtol=1e-12)
    for _ in range(40):
        m.step(0.5)
        assert abs(m.carbon_balance_error()) < 1e-12
    from scipy import ndimage
    labels, _ = ndimage.label(lat.water)
    reached = np.isin(labels, np.unique(labels[lat.root_faces > 0]))
    c = m.doc / lat.voxel_volume
    np.testing.assert_allclose(c[reached], cb, rtol=1e-6)
    assert np.all(c[lat.water & ~reached] == 0)
    assert m.exuded_total == pytest.approx(m.doc.sum(), rel=1e-12)


def test_pom_label_concentration_series_and_agent_snapshots(tmp_path):
    """A user's image with a pom phase starts with pom_carbon_density x volume in those
    voxels; a concentration BoundarySeries file drives the root surface; agent snapshots at
    time.outputs come out as CSV (pandas) and VTK vertices with the same cells."""
    import pandas as pd
    import xarray as xr
    from rhizoscale.io.vtk import read_vtk_arrays
    from rhizoscale.products import BoundarySeries
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    lab = np.full((4, 12, 12), 2, np.uint8)          # water
    lab[:, :, 6:] = 1                                # solid half
    lab[:, :3, :2] = 3                               # root
    lab[1:3, 5:7, 6] = 4                             # POM at the pore wall (4 voxels)
    np.save(tmp_path / "pores.npy", lab)
    conc = xr.DataArray([0.0, 5.0], dims="time", coords={"time": ("time", [0.0, 1.0], {"units": "h"})},
                        attrs={"units": "mg L-1"})
    BoundarySeries(conc, "concentration", "root surface").to_dataset().to_netcdf(tmp_path / "c.nc")
    data = _small_rhizosphere(image={"file": "pores.npy", "voxel_size": 1e-3,
                                     "labels": {"water": 2, "solid": 1, "root": 3, "pom": 4}},
                              time={"stop": "1 h", "dt": "15 min", "outputs": ["30 min"]},
                              boundary_series="c.nc", outputs={"figures": False, "vtk": True})
    data.pop("duration"), data.pop("dt")
    sc = scenario_from_dict(data, source=tmp_path / "s.yaml", base_dir=tmp_path)
    assert sc.config.snapshot_times == [0.5]
    summary = run_scenario(sc, tmp_path / "out")
    ts = xr.open_dataset(tmp_path / "out" / "cs5_timeseries.nc")
    assert ts["pom"].values[0, 0] == pytest.approx(4 * 600.0 * 10.0 ** 3, rel=1e-12)
    assert ts["exuded"].values[0, -1] > 0 and abs(ts["balance_error"].values).max() < 1e-12
    assert summary["quantities"]["carbon_balance_error_bound"]["value"] <= 1e-12
    for stem in ("cs5_agents_image_t0.5h", "cs5_agents_image"):
        table = pd.read_csv(tmp_path / "out" / f"{stem}.csv")
        points = read_vtk_arrays(tmp_path / "out" / f"{stem}.vtp")
        assert len(table) > 50 and points["Points"].shape == (len(table), 3)
        order = np.argsort(points["id"])
        np.testing.assert_allclose(points["Points"][order, 0], table.sort_values("id")["x_um"], rtol=1e-5)
        np.testing.assert_allclose(points["carbon_fg"][order], table.sort_values("id")["carbon_fg"], rtol=1e-5)
    assert (pd.read_csv(tmp_path / "out" / "cs5_agents_image_t0.5h.csv")["time_h"] == 0.5).all()


def test_pom_carbon_density_without_a_pom_label_is_flagged(tmp_path):
    """The key only acts on image voxels labelled pom; given without them it would be
    silently unused, so the run says so."""
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    data = _small_rhizosphere(pom_carbon_density=500.0, outputs={"figures": False, "vtk": False})
    summary = run_scenario(scenario_from_dict(data, source="s.yaml"), tmp_path / "out")
    assert any("pom_carbon_density" in w and "not used" in w for w in summary["warnings"])


def test_multirate_splitting_converges_first_order_and_keeps_carbon():
    """Agents every h_a, DOC diffusion every h_d = k h_a: the outputs converge to the
    one-rate run (k = 1) as h_d -> h_a, with an error proportional to h_d - h_a (first
    order: the resupply a voxel misses between diffusion steps), and the carbon balance
    holds to round-off for every k. Same random numbers for every k (they are keyed by
    cell id and agent sub-step), so the differences are the splitting's alone."""
    lat, _ = porous_lattice((8, 12, 12), seed=2)
    rng = np.random.default_rng(0)
    n = 600
    vox = rng.choice(lat.water_flat, size=n)
    sp = [species(mu_max=0.4, k_s=0.005, maintenance=0.01, t_dormancy=0.5)]
    h_a = 0.01
    out = {}
    for k in (1, 2, 4, 8, 16):
        m = MicrobeModel(lat, sp, Agents.new(vox, np.full(n, 30.0), np.zeros(n)),
                         doc_diffusivity=2.41e4, doc=np.where(lat.water, 0.002 * V, 0.0),
                         exudation=RootExudation.constant(0.02), seed=1, max_step=h_a,
                         diffusion_step=k * h_a, diffusion_rtol=1e-12)
        for _ in range(4):
            m.step(0.5)
            assert abs(m.carbon_balance_error()) < 1e-13
        assert m.doc.min() >= 0.0
        out[k] = np.array([m.co2_total, m.biomass()])
    err = {k: np.abs(out[k] / out[1] - 1) for k in (2, 4, 8, 16)}
    assert err[2][0] < 0.005 and err[2][1] < 2e-4          # close to the one-rate run
    for k in (2, 4, 8):                                    # first order in h_d - h_a
        ratio = err[2 * k] / err[k]
        expected = (2 * k - 1) / (k - 1)
        assert np.all(ratio > 0.7 * expected) and np.all(ratio < 1.6 * expected), (k, ratio)


def test_default_agent_step_resolves_the_random_walk():
    """The default agent sub-step keeps the walk's step probability 6 D_m dt / h^2 <= 1
    (otherwise it would be clamped and the walk slower than D_m); the diffusion step stays
    at the uptake bound 0.1 / q_max, a whole number of agent sub-steps."""
    lat = MicrobeLattice(np.ones((4, 4, 4), bool), H)
    sp = [species(mu_max=0.4), species(name="m", motility=1000.0)]
    m = MicrobeModel(lat, sp, Agents.new([0], [30.0], [1]), doc_diffusivity=1.0)
    assert m.max_step == pytest.approx(H ** 2 / (6 * 1000.0))
    assert m.diffusion_step == pytest.approx(0.1 / (0.4 / 0.5 + 0.01))
    with pytest.raises(InputError, match="diffusion_step"):
        MicrobeModel(lat, sp, Agents.new([0], [30.0], [1]), doc_diffusivity=1.0, diffusion_step=0.0)


def test_scenario_steps_are_read_and_bad_steps_name_the_key(tmp_path):
    """agent_step and diffusion_step of a scenario are read and the run takes them (its
    balance still holds); a non-positive step is refused naming its key."""
    from rhizoscale.scenario import run_products, scenario_from_dict
    sc = scenario_from_dict(_small_rhizosphere(agent_step=0.05, diffusion_step=0.25),
                            source=tmp_path / "s.yaml")
    assert (sc.config.agent_step, sc.config.diffusion_step) == (0.05, 0.25)
    out = run_products(sc)
    assert abs(out.fields["cs5_timeseries.nc"]["balance_error"].values).max() < 1e-12
    for key in ("agent_step", "diffusion_step"):
        with pytest.raises(InputError, match=key):
            scenario_from_dict(_small_rhizosphere(**{key: 0.0}), source=tmp_path / "s.yaml")
    with pytest.raises(InputError, match=r"lattice.shape: three sizes .* 3D \(got \[16, 16\]\)"):
        scenario_from_dict(_small_rhizosphere(lattice={"shape": [16, 16]}), source=tmp_path / "s.yaml")
    # a root wider than the lattice left no water: refused naming the key, not 'image'
    with pytest.raises(InputError, match="lattice.root_radius: 1000 um reaches across"):
        scenario_from_dict(_small_rhizosphere(lattice={"shape": [4, 16, 16], "root_radius": 1000.0}),
                           source=tmp_path / "s.yaml")


def test_given_steps_that_clamp_the_walk_or_skip_diffusion_are_flagged(tmp_path):
    """An agent_step past h^2/(6 D_m) clamps the random walk (cells spread slower than
    their motility: silently wrong numbers before), one past 0.1/q_max over-steps uptake,
    and a diffusion_step shorter than the agent sub-step diffuses less often than asked:
    each is said in the run's warnings, and summary.json gives the steps the run used."""
    from rhizoscale.scenario import run_scenario, scenario_from_dict
    data = _small_rhizosphere(agent_step=0.2, diffusion_step=0.05, duration=0.5,
                              outputs={"figures": False, "vtk": False})
    summary = run_scenario(scenario_from_dict(data, source="s.yaml"), tmp_path / "a")
    warns = summary["warnings"]
    assert any("agent_step" in w and "clamped" in w for w in warns), warns
    assert any("agent_step" in w and "0.1/q_max" in w for w in warns), warns
    assert any(w.startswith("diffusion_step 0.05 h") for w in warns), warns
    steps = summary["details"]["cs5"]["steps_h"]
    assert steps["agent"] == pytest.approx(0.5 / 3) and steps["diffusion"] == pytest.approx(0.5 / 3)
    bounds = steps["agent_default_bounds"]
    assert bounds["walk h^2/(6 D_m)"] == pytest.approx(10.0 ** 2 / (6 * 1000.0))
    # the defaults respect both bounds: no step warning, diffusion a whole number of sub-steps
    summary = run_scenario(scenario_from_dict(_small_rhizosphere(duration=0.5, outputs={
        "figures": False, "vtk": False}), source="s.yaml"), tmp_path / "b")
    assert not any("_step" in w for w in summary["warnings"]), summary["warnings"]
    steps = summary["details"]["cs5"]["steps_h"]
    assert steps["agent"] <= min(steps["agent_default_bounds"].values()) + 1e-12
    ratio = steps["diffusion"] / steps["agent"]
    assert ratio == pytest.approx(round(ratio)) and ratio >= 1


def test_the_end_is_recorded_whatever_the_record_interval(tmp_path):
    """The products are the last record's ("at the end"): a duration off the record
    interval, or shorter than it, still ends the record at the duration (before, a 10 h
    interval in a 1 h run gave exuded 0 and enrichment 1, the initial state)."""
    from rhizoscale.scenario import run_products, scenario_from_dict
    out = {}
    for interval in (0.5, 0.75, 10.0):
        sc = scenario_from_dict(_small_rhizosphere(record_interval=interval), source=tmp_path / "s.yaml")
        out[interval] = run_products(sc)
    times = {k: v.fields["cs5_timeseries.nc"]["time"].values.tolist() for k, v in out.items()}
    assert times == {0.5: [0.0, 0.5, 1.0], 0.75: [0.0, 0.75, 1.0], 10.0: [0.0, 1.0]}
    exuded = {k: v.value("exuded_saturation_1") for k, v in out.items()}
    assert exuded[0.5] > 0 and exuded[0.75] == exuded[0.5] and exuded[10.0] == exuded[0.5]


def test_random_walk_has_the_species_diffusivity_at_the_default_step():
    """Mean squared displacement of non-growing motile cells after 1 h in a water box:
    6 D_m t at the default agent step (statistical error of 2000 cells: 1.8 %); with a
    step long enough to clamp the move probability at 1 (the former default, 0.15 h) the
    walk is about nine times too slow."""
    n, box = 2000, 48
    lat = MicrobeLattice(np.ones((box, box, box), bool), H)
    centre = (box // 2) * (box * box + box + 1)
    sp = [species(maintenance=0.0, motility=1000.0)]
    msd = {}
    for step in (None, 0.15):
        m = MicrobeModel(lat, sp, Agents.new(np.full(n, centre), np.full(n, 30.0), np.zeros(n)),
                         doc_diffusivity=0.0, seed=3, max_step=step)
        m.step(1.05 if step else 1.0)
        z, rem = np.divmod(m.agents.voxel.astype(np.int64), box * box)
        y, x = np.divmod(rem, box)
        msd[step] = float(np.mean(((np.stack([x, y, z]) - box // 2) * H) ** 2) * 3)
    t = 1.0
    assert msd[None] == pytest.approx(6 * 1000.0 * t, rel=0.075)
    assert msd[0.15] < 0.2 * 6 * 1000.0 * 1.05
