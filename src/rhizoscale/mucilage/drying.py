"""A drying pendular bridge with a mucilage network (fast mode), as a steppable model.

Two equal spheres hold a liquid bridge of mucilage solution. Its polymer is a
bead-spring network (:mod:`.network`); its liquid surface is the toroidal bridge
(:mod:`.bridge`) of the current liquid volume. Each drying step

1. removes ``evaporation_rate * dt`` of water: first free water (the bridge, then the
   films on the particles), then water held by the beads, in proportion to what each
   holds (the swollen network holds its water more strongly than free water);
2. shrinks the beads with their water (``r = (3 (w + m / rho_p) / 4 pi)^(1/3)``) and the
   bonds' rest lengths with them (the gel contracts as it dries);
3. updates the bridge: its liquid volume is the free water plus the beads inside it; below
   Lian's rupture volume the bridge ruptures and its free water returns to the particle
   films (half to each equal sphere); no water is created or lost;
4. relaxes the network in the liquid surface's capillary pull (overdamped steps, a
   quasi-static drying: the mechanics relaxes within a drying step);
5. checks the liquid connection between the particles: the bridge, or a path of intact
   bonds between hydrated beads (polymer fraction below ``dry_polymer_fraction``) from a
   bead adhering to one particle to one adhering to the other.

At zero mucilage there are no beads and the connection is lost when the bridge ruptures
(Lian et al. 1993). Units: µm, s, µN, pg; concentration in mg per g water.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import InputError, RhizoscaleError
from .bridge import lian_rupture_volume, toroidal_bridge, meniscus_distance, largest_toroidal_volume
from .network import FENE, BeadNetwork, Meniscus, NetworkParameters, bonds_within

__all__ = ["MucilageBridgeModel", "DryingRecorder", "mucilage_properties"]

#: 1 Pa s = 1e-6 µN s µm-2; 1 Pa = 1e-6 µN µm-2
PA = 1e-6


def mucilage_properties(concentration: float, p) -> dict:
    """Surface tension [N m-1], viscosity [Pa s] and shear modulus [Pa] at ``concentration``
    [mg g-1] from a :class:`~.parameters.MucilageNetworkParameters` set.

    ``gamma = gamma_w - (gamma_w - gamma_m) c / (c + c_half)``;
    ``eta = eta_w + eta_ref (c / c_ref)^n``; ``G = G_ref (c / c_ref)^m``.

    Example
    -------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> mucilage_properties(0.0, p)["surface_tension"]
    0.072
    """
    c = float(concentration)
    x = c / p.reference_concentration
    return {"surface_tension": p.surface_tension_water - (p.surface_tension_water - p.surface_tension_mucilage)
            * c / (c + p.surface_tension_half),
            "viscosity": p.viscosity_water + p.viscosity_reference * x ** p.viscosity_exponent,
            "shear_modulus": p.shear_modulus_reference * x ** p.modulus_exponent}


class MucilageBridgeModel:
    """A liquid bridge between two equal spheres drying with a mucilage network in it.

    Parameters
    ----------
    concentration : float
        Mucilage concentration of the bridge liquid [mg dry mucilage per g water], >= 0.
    liquid_volume : float
        Initial liquid volume [µm3] (water plus polymer).
    separation : float
        Gap between the sphere surfaces [µm] (> 0).
    params : MucilageNetworkParameters
        Liquid, polymer and network constants (``mucilage_network``).
    evaporation_rate : float
        Water removed per second [µm3 s-1].
    relax_steps : int
        Overdamped mechanics steps per drying step.
    seed : int
        Seed of the bead placement.
    centres : array (2, 3), optional
        Sphere centres [µm]; default on the x axis, symmetric about the origin.

    Example
    -------
    >>> from rhizoscale.parameters import load_parameter_set
    >>> from rhizoscale.mucilage.parameters import MucilageNetworkParameters
    >>> p = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
    >>> m = MucilageBridgeModel(0.0, 2e4, 20.0, p, evaporation_rate=100.0)   # water only
    >>> round(m.rupture_volume_lian)          # Lian et al.: (0.2 R)^3 at a gap of 0.2 R
    8000
    >>> m.advance_to(100.0); m.connected, m.bridge_intact
    (True, True)
    >>> m.advance_to(150.0); m.connected, round(float(m.films.sum()), 6)   # ruptured: water to the films
    (False, 5000.0)
    """

    def __init__(self, concentration: float, liquid_volume: float, separation: float, params, *,
                 evaporation_rate: float, relax_steps: int = 100, seed: int = 1, centres=None):
        p = params
        if not (math.isfinite(concentration) and concentration >= 0):
            raise InputError(f"mucilage concentration must be >= 0 mg/g, got {concentration}", field="concentration")
        if not (separation > 0):
            raise InputError(f"particles overlap or touch (separation {separation} um must be > 0)",
                             field="separation")
        self.params = p
        self.concentration = float(concentration)
        self.radius = float(p.particle_radius)
        self.contact_angle = float(p.contact_angle)
        self.separation = float(separation)
        self.evaporation_rate = float(evaporation_rate)
        self.relax_steps = int(relax_steps)
        if centres is None:
            h = self.radius + 0.5 * self.separation
            centres = [[-h, 0.0, 0.0], [h, 0.0, 0.0]]
        self.centres = np.asarray(centres, float).reshape(2, 3)
        gap = np.linalg.norm(self.centres[1] - self.centres[0]) - 2 * self.radius
        if abs(gap - self.separation) > 1e-9 * self.radius:
            raise InputError(f"centres give a gap of {gap:g} um, not the separation {self.separation:g} um",
                             field="centres")
        self.pradius = np.full(2, self.radius)
        props = mucilage_properties(self.concentration, p)
        self.surface_tension = props["surface_tension"]
        self.viscosity = props["viscosity"]
        vmax = largest_toroidal_volume(self.separation, self.radius, self.contact_angle)
        v_rup = float(lian_rupture_volume(self.separation, self.radius, self.contact_angle))
        if not v_rup < vmax:
            raise InputError(f"no pendular bridge holds at a separation of {self.separation:g} um between "
                             f"particles of {self.radius:g} um radius: Lian's rupture volume there ({v_rup:.4g} um3) "
                             f"exceeds the largest toroidal bridge ({vmax:.4g} um3); use a smaller separation",
                             field="separation")
        if not (v_rup < liquid_volume <= vmax):
            raise InputError(f"liquid volume {liquid_volume:g} um3 outside the pendular range "
                             f"({v_rup:.4g}, {vmax:.4g}] um3 at the separation {self.separation:g} um",
                             field="liquid_volume")
        c = self.concentration * 1e-3                      # g polymer per g water
        water0 = liquid_volume / (1.0 + c / p.polymer_density)
        polymer = c * water0                               # pg
        n = int(round(polymer / p.polymer_per_bead))
        bridge = toroidal_bridge(liquid_volume, self.separation, self.radius, self.contact_angle,
                                 self.surface_tension)
        pos = self._sample_liquid(bridge, n, np.random.default_rng(seed))
        # beads in cell order (cells of the bond length): neighbours sit close in memory
        cell = np.floor((pos - pos.min(axis=0, initial=0.0)) / p.bond_length).astype(np.int64) if n else pos
        pos = pos[np.lexsort((cell[:, 0], cell[:, 1], cell[:, 2]))] if n else pos
        self._start_network(pos, water0, polymer, props, liquid_volume)
        self.rupture_volume_lian = v_rup
        self._bridge = bridge

    def _start_network(self, pos, water0: float, polymer: float, props: dict, volume: float,
                       period: float = 0.0, cylinders: bool = False) -> None:
        """The bead network at ``pos`` (beads of equal polymer and held water, bonded within
        the bond length, adhering to the particles) and the drying state at its start.
        Shared by the sphere, cylinder (``period``, ``cylinders``) and resolved models.

        ``water0`` [µm³] water and ``polymer`` [pg] of the liquid of volume ``volume``
        [µm³]; ``props``: :func:`mucilage_properties` of the concentration.
        """
        p = self.params
        n = len(pos)
        held = min(1.0, p.water_holding * self.concentration * 1e-3) * water0
        mass = np.full(n, polymer / n) if n else np.zeros(0)
        water = np.full(n, held / n) if n else np.zeros(0)
        net = BeadNetwork(pos, mass, water, self._bead_radius(mass, water), period=period, cylinders=cylinders)
        if n:
            spacing = (volume / n) ** (1 / 3)
            self.bond_stiffness = props["shear_modulus"] * PA * spacing
            net.add_bonds(bonds_within(pos, p.bond_length, period), self.bond_stiffness)
            net.adhere(self.centres, self.pradius, p.adhesion_reach)
        else:
            self.bond_stiffness = 0.0
        self.network = net
        self.rest0 = net.bond_rest.copy()
        self.radius0 = net.radius.copy()
        self.mech = NetworkParameters(law=FENE, fene_max=p.fene_max_strain, break_strain=p.break_strain,
                                      k_adh=p.repulsion_stiffness, f_adh=p.adhesion_force,
                                      k_wall=p.repulsion_stiffness, k_rep=p.repulsion_stiffness,
                                      excluded=p.excluded_fraction)
        self.free_water = float(water0 - water.sum())
        self.films = np.zeros(2)
        self.evaporated = 0.0
        self.initial_water = float(water0)
        self.initial_polymer = float(mass.sum())
        self.bridge_intact = True
        self.wet = np.ones(n, np.uint8)
        self.time = 0.0
        self.bridge_rupture = np.array([np.nan, np.nan])     # time [s], liquid volume at rupture [µm3]
        self.connection_lost = np.array([np.nan, np.nan])    # time [s], water in the pore [µm3]
        self.connected = True

    # ------------------------------------------------------------------ geometry

    def _bead_radius(self, mass, water):
        return np.cbrt(3.0 * (water + mass / self.params.polymer_density) / (4.0 * np.pi))

    def _sample_liquid(self, bridge, n, rng):
        """``n`` points uniform in the bridge liquid (rejection in a box symmetric about the
        bridge centre, so that swapping the particles gives the same points)."""
        if n == 0:
            return np.zeros((0, 3))
        mid = self.centres.mean(axis=0)
        axis = np.abs(self.centres[1] - self.centres[0]) / np.linalg.norm(self.centres[1] - self.centres[0])
        rho_max = bridge.r1 + bridge.r2
        half = axis * bridge.half_length + (1 - axis) * rho_max
        out = []
        count = 0
        while count < n:
            trial = rng.uniform(mid - half, mid + half, (max(4 * n, 1024), 3))
            s, _ = meniscus_distance(trial, bridge, self.centres)
            outside = np.all(np.linalg.norm(trial[:, None] - self.centres[None], axis=2) > self.radius, axis=1)
            keep = trial[(s < 0) & outside]
            out.append(keep)
            count += len(keep)
        return np.concatenate(out)[:n]

    def meniscus(self) -> Meniscus:
        if not self.bridge_intact:
            return Meniscus.none()
        b = self._bridge
        axis = (self.centres[1] - self.centres[0]) / np.linalg.norm(self.centres[1] - self.centres[0])
        return Meniscus(tuple(self.centres.mean(axis=0)), tuple(axis), b.r1, b.r2, b.half_length,
                        self.surface_tension)

    # ------------------------------------------------------------------ bookkeeping
    def total_water(self) -> float:
        """Water still in the pore: bridge, films and beads [µm3]."""
        return float(self.free_water + self.films.sum() + self.network.water.sum())

    def liquid_volume(self) -> float:
        """Liquid of the bridge: free water plus the beads in it (water and polymer) [µm3]."""
        if not self.bridge_intact:
            return 0.0
        net, wet = self.network, self.wet.astype(bool)
        return float(self.free_water + net.water[wet].sum() + net.polymer[wet].sum() / self.params.polymer_density)

    def water_balance_error(self) -> float:
        """(water now + evaporated - initial) / initial [1]."""
        return (self.total_water() + self.evaporated - self.initial_water) / self.initial_water

    def hydrated(self) -> np.ndarray:
        net = self.network
        return net.polymer < self.params.dry_polymer_fraction * (net.polymer + net.water)

    def network_spans(self) -> bool:
        """Whether intact bonds between hydrated beads join the two particles."""
        net = self.network
        if net.n == 0:
            return False
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        hyd = self.hydrated()
        use = net.bond_alive.astype(bool) & hyd[net.bond_i] & hyd[net.bond_j]
        g = coo_matrix((np.ones(use.sum()), (net.bond_i[use], net.bond_j[use])), shape=(net.n, net.n))
        _, comp = connected_components(g, directed=False)
        t = net.tether_alive.astype(bool) & hyd[net.tether_bead]
        a = set(comp[net.tether_bead[t & (net.tether_particle == 0)]].tolist())
        b = set(comp[net.tether_bead[t & (net.tether_particle == 1)]].tolist())
        return bool(a & b)

    # ------------------------------------------------------------------ stepping
    def _evaporate(self, amount: float) -> None:
        amount = min(amount, self.total_water())
        self.evaporated += amount
        take = min(amount, self.free_water)
        self.free_water -= take
        amount -= take
        for k in range(2):
            take = min(amount, self.films[k])
            self.films[k] -= take
            amount -= take
        if amount > 0:
            net = self.network
            held = net.water.sum()
            if amount >= held:
                net.water[:] = 0.0
            else:
                net.water *= 1.0 - amount / held

    def _shrink(self) -> None:
        net = self.network
        net.radius = self._bead_radius(net.polymer, net.water)
        if len(self.rest0):
            scale = (net.radius[net.bond_i] + net.radius[net.bond_j]) / (self.radius0[net.bond_i] + self.radius0[net.bond_j])
            net.bond_rest = self.rest0 * scale

    def _update_bridge(self) -> None:
        if not self.bridge_intact:
            return
        volume = self.liquid_volume()
        if volume <= self.rupture_volume_lian:
            self.bridge_intact = False
            self.bridge_rupture[:] = (self.time, volume)
            # ruptured liquid returns to the particle films, half to each equal sphere
            half = 0.5 * self.free_water
            self.films += np.array([half, self.free_water - half])
            self.free_water = 0.0
            self.wet[:] = 0
            return
        self._bridge = toroidal_bridge(volume, self.separation, self.radius, self.contact_angle,
                                       self.surface_tension)

    def _relax(self) -> None:
        net = self.network
        if net.n == 0 or self.relax_steps == 0:
            return
        friction = 6 * np.pi * self.viscosity * PA * net.radius
        stiff = max(self.mech.k_wall, self.mech.k_rep, self.mech.k_adh, 4 * np.pi * self.surface_tension)
        dt = 0.1 * friction.min() / stiff
        men = self.meniscus()
        before = net.pos.copy()
        net.overdamped(self.relax_steps, dt, friction, self.mech, self.centres, self.pradius, men)
        jump = np.max(np.linalg.norm(net.pos - before, axis=1), initial=0.0) if np.all(np.isfinite(net.pos)) else np.inf
        if not jump <= self.radius:
            raise RhizoscaleError(f"the mucilage network exploded at t = {self.time:g} s (drying step ending "
                                  f"there): a bead moved {jump:.3g} um, more than the particle radius; "
                                  "lower the repulsion or adhesion stiffness")
        if men.active:
            s, _ = meniscus_distance(net.pos, self._bridge, self.centres)
            self.wet = (s < 0).astype(np.uint8)

    def advance_to(self, t: float) -> None:
        """Dry from ``self.time`` to ``t`` [s] in one drying step."""
        dt = float(t) - self.time
        if dt < 0:
            raise ValueError(f"cannot step back from {self.time} to {t}")
        self._evaporate(self.evaporation_rate * dt)
        self.time = float(t)
        self._shrink()
        self._update_bridge()
        self._relax()
        if self.connected:
            self.connected = self.bridge_intact or self.network_spans()
            if not self.connected:
                self.connection_lost[:] = (self.time, self.total_water())

    # ------------------------------------------------------------------ checkpoints and outputs
    def checkpoint_state(self) -> dict:
        return {"time": self.time, "free_water": self.free_water, "films": self.films.copy(),
                "evaporated": self.evaporated, "bridge_intact": int(self.bridge_intact),
                "connected": int(self.connected), "wet": self.wet.copy(),
                "bridge_rupture": self.bridge_rupture.copy(), "connection_lost": self.connection_lost.copy(),
                "bridge": np.array([self._bridge.volume]), "network": self.network.state(),
                "rest0": self.rest0.copy(), "radius0": self.radius0.copy()}

    def restore_state(self, s: dict) -> None:
        self.time = float(s["time"])
        self.free_water = float(s["free_water"])
        self.films = np.array(s["films"], float)
        self.evaporated = float(s["evaporated"])
        self.bridge_intact = bool(int(s["bridge_intact"]))
        self.connected = bool(int(s["connected"]))
        self.wet = np.array(s["wet"], np.uint8)
        self.bridge_rupture = np.array(s["bridge_rupture"], float)
        self.connection_lost = np.array(s["connection_lost"], float)
        self.network = BeadNetwork.from_state(s["network"])
        self.rest0 = np.array(s["rest0"], float)
        self.radius0 = np.array(s["radius0"], float)
        self._restore_bridge(s)

    def _restore_bridge(self, s: dict) -> None:
        """The liquid bridge of a checkpoint (a subclass's own bridge shape)."""
        self._bridge = toroidal_bridge(float(np.asarray(s["bridge"])[0]), self.separation, self.radius,
                                       self.contact_angle, self.surface_tension)

    def observables(self) -> dict:
        """Scalars of the current state (units in :data:`OBSERVABLE_UNITS`)."""
        net = self.network
        force = self._bridge.force if self.bridge_intact else 0.0
        return {"time": self.time, "total_water": self.total_water(), "free_water": self.free_water,
                "film_water": float(self.films.sum()), "bead_water": float(net.water.sum()),
                "evaporated": self.evaporated, "polymer": float(net.polymer.sum()),
                "liquid_volume": self.liquid_volume(), "capillary_force": force,
                "bridge_intact": float(self.bridge_intact), "connected": float(self.connected),
                "intact_bonds": float(net.bond_alive.sum()), "adhering_beads": float(net.tether_alive.sum())}

    OBSERVABLE_UNITS = {"time": "s", "total_water": "um3", "free_water": "um3", "film_water": "um3",
                        "bead_water": "um3", "evaporated": "um3", "polymer": "pg", "liquid_volume": "um3",
                        "capillary_force": "uN", "bridge_intact": "1", "connected": "1",
                        "intact_bonds": "count", "adhering_beads": "count"}

    def state(self) -> xr.Dataset:
        """The current observables as a Dataset with units."""
        return xr.Dataset({k: ((), v, {"units": self.OBSERVABLE_UNITS[k]}) for k, v in self.observables().items()})


class DryingRecorder:
    """Records a model's observables after every step and its beads at snapshot times.

    A callback of :class:`~rhizoscale.simulation.Simulation`: call it as ``recorder(sim)``
    (observables) and ``recorder.snapshot(sim)`` (bead positions, wet flags and the
    bridge); it keeps plain arrays and checkpoints them, so a resumed run keeps what was
    recorded.
    """

    def __init__(self):
        self.rows: list[list[float]] = []
        self.snap_times: list[float] = []
        self.snap_pos: list[np.ndarray] = []
        self.snap_wet: list[np.ndarray] = []
        self.snap_bridge: list[np.ndarray] = []

    NAMES = tuple(MucilageBridgeModel.OBSERVABLE_UNITS)

    def __call__(self, sim) -> None:
        obs = sim.model.observables()
        self.rows.append([obs[k] for k in self.NAMES])

    def snapshot(self, sim) -> None:
        m = sim.model
        b = m._bridge
        self.snap_times.append(m.time)
        self.snap_pos.append(m.network.pos.copy())
        self.snap_wet.append(m.wet.copy())
        self.snap_bridge.append(np.array([float(m.bridge_intact), b.r1, b.r2, b.half_length, b.beta]))

    def series(self) -> dict[str, np.ndarray]:
        arr = np.array(self.rows, float).reshape(-1, len(self.NAMES))
        return {k: arr[:, i] for i, k in enumerate(self.NAMES)}

    def checkpoint_state(self) -> dict:
        n = np.array([len(p) for p in self.snap_pos], np.int64)
        return {"rows": np.array(self.rows, float).reshape(-1, len(self.NAMES)),
                "snap_times": np.array(self.snap_times, float), "snap_counts": n,
                "snap_pos": np.concatenate(self.snap_pos).reshape(-1, 3) if self.snap_pos else np.zeros((0, 3)),
                "snap_wet": np.concatenate(self.snap_wet) if self.snap_wet else np.zeros(0, np.uint8),
                "snap_bridge": np.array(self.snap_bridge, float).reshape(-1, 5)}

    def restore_state(self, s: dict) -> None:
        self.rows = [list(r) for r in np.asarray(s["rows"], float)]
        self.snap_times = [float(t) for t in np.asarray(s["snap_times"])]
        cuts = np.cumsum(np.asarray(s["snap_counts"], np.int64))[:-1]
        self.snap_pos = list(np.split(np.asarray(s["snap_pos"], float).reshape(-1, 3), cuts)) if len(self.snap_times) else []
        self.snap_wet = list(np.split(np.asarray(s["snap_wet"], np.uint8), cuts)) if len(self.snap_times) else []
        self.snap_bridge = [np.asarray(b, float) for b in np.asarray(s["snap_bridge"], float).reshape(-1, 5)]
