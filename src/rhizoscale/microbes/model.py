"""The individual-based bacteria model of case study 5 (a Model of the run contract).

Units: µm, h, fg C (concentrations fg C µm^-3); the output Dataset states them.

State: per voxel, DOC (dissolved organic carbon, water voxels only) in two pools --
``doc`` (labile: root exudates, exudate additions and necromass), ``doc_pom`` (from
POM) --,
necromass and the CO2 respired there [fg C]; per POM voxel, particulate organic carbon [fg C]; per cell, the
arrays of :mod:`rhizoscale.microbes.kernels`. One step of length ``h`` (operator
splitting, in this order):

1. hydrolysis (once per diffusion step, below), exact over that step: POM loses ``P (1 - exp(-k h))`` with
   ``k = k_pom (1 + a B / (K_B + B))`` (``B``: active biomass in the water voxels the POM
   voxel releases into; ``a = 0``: no priming), shared equally among those voxels, into
   ``doc_pom``; necromass returns to ``doc`` at ``k_necro`` in its voxel;
2. exudation into ``doc``: the integral of the flux density over the step times the
   root-water face area of each water voxel touching the root; or, for a concentration
   boundary (:class:`RootConcentration`), the water voxels touching the root are set to
   ``c(t) V`` at the start of the sub-step (an operator-split Dirichlet condition) and
   the mass this adds (or removes: re-uptake by the root) is booked as exuded;
3. DOC diffusion of each pool in water (the POM pool only while it holds carbon) (:class:`~rhizoscale.microbes.diffusion.DOCDiffusion`, backward
   Euler on the shared voxel operator);
4. every cell (:func:`~rhizoscale.microbes.kernels.agent_step`): uptake shared
   order-free, maintenance, growth, respiration, dormancy, resuscitation, death,
   motility, attachment;
5. dead cells removed (their carbon is necromass), dividing cells split (mother share
   ``0.5 +- division_split``, uniform, from the cell's own random stream; daughters get
   new ids in the order of their mothers' ids, so the result does not depend on rows).

Two time steps (multi-rate). ``step(dt)`` cuts ``dt`` into equal agent sub-steps no
longer than ``max_step`` (default: the shorter of a tenth of the shortest ``1 / q_max``,
so that no cell takes up more than about 10 % of its mass in a sub-step and the explicit
uptake stays accurate, and ``h^2 / (6 D_m)`` of the most motile species, so that the
random walk's step probability ``6 D_m dt / h^2`` stays <= 1 and the walk has the
species' diffusivity instead of a clamped one). Steps 2, 4 and 5 run every agent
sub-step; the slow pools' hydrolysis (1) and the DOC diffusion (3) run once every ``k`` of
them, at the start of each group of ``k`` sub-steps, over the group's whole length
(``k h``; a last, shorter group of the call over its own length), with ``k`` the largest
whole number of sub-steps within
``diffusion_step`` (default: the uptake bound ``0.1 / q_max``; ``k = 1`` gives the
one-rate scheme exactly). Between diffusion steps the cells deplete their voxels' DOC,
which the next diffusion step then redistributes (a Lie splitting, first order in the
diffusion step). The exchange is exact: cells take only what their voxel holds
(sharing), diffusion keeps the sum (flux form), so the carbon balance holds to round-off
whatever the two steps, and no pool goes negative.

Which ratio is safe: the splitting error is the resupply a voxel misses between
diffusion steps. It is small while the cells of a voxel cannot empty it within a diffusion
step: the voxel depletion number ``h_d * sum_i(q_max,i m_i) / (K_s V + DOC_v)`` below
~0.1 in the voxels that matter (for the soil_bacteria set and 10 µm voxels, a micro-colony
voxel of 10 cells of 45 fg in DOC near ``K_s`` allows about 6 s; with DOC 100 times
``K_s`` about 0.15 h). The diffusion length per diffusion step, ``sqrt(6 D h_d)`` (1.5 mm
for glucose and 0.15 h), is far beyond the voxel, so each diffusion step equilibrates the
pores and uptake, not diffusion, limits ``h_d``. The default ``h_d = 0.1 / q_max`` is the
former one-rate step: no less accurate than before, but under-resolving colonies in
depleted water. The convergence (first order in ``h_d``, against the ``k = 1`` run) is
tested by ``test_multirate_splitting_converges_first_order_and_keeps_carbon`` and the
figures are in ``docs/cs5-microbes.md``.

Carbon balance (checked every step by :meth:`carbon_balance_error`):
POM + DOC (both pools) + active + dormant biomass + necromass + CO2 = initial + exuded.
"""

from __future__ import annotations

import math
import time

import numpy as np
import xarray as xr

from ..errors import InputError
from .diffusion import DOCDiffusion
from .kernels import (ATTACHED, DEAD, DIVIDE, DORMANT, STREAM_SPLIT, TRAIT_COLUMNS, agent_step,
                      uniform)
from .lattice import MicrobeLattice
from .parameters import SoilBacteriaParameters, SpeciesTraits, trait_table

__all__ = ["Agents", "RootExudation", "RootConcentration", "MicrobeModel", "radial_doc",
           "AGENT_BYTES"]

#: bytes per cell held by the model: id 8, voxel 4, mass 8, species 1, state 1, starve 4,
#: lag 4 (30, plus a quarter of room to grow: 38) and the kernel's three float64 scratch
#: values (24)
AGENT_BYTES = 62

#: sub-steps between sorts of the cells by voxel (cache locality)
SORT_INTERVAL = 16

_AGENT_FIELDS = (("id", np.int64), ("voxel", np.int32), ("mass", np.float64),
                 ("species", np.uint8), ("state", np.uint8), ("starve", np.float32),
                 ("lag", np.float32))


class Agents:
    """Bacteria as a structure of arrays (one row per cell; see :mod:`.kernels`).

    Examples
    --------
    >>> a = Agents.new(voxel=[3, 3], mass=[30.0, 40.0], species=[0, 0])
    >>> len(a), a.id.tolist(), a.mass.sum()
    (2, [0, 1], np.float64(70.0))
    """

    fields = tuple(name for name, _ in _AGENT_FIELDS)

    def __init__(self, **arrays):
        for name, dtype in _AGENT_FIELDS:
            setattr(self, name, np.ascontiguousarray(arrays[name], dtype=dtype))
        n = {getattr(self, f).shape for f in self.fields}
        if len(n) != 1:
            raise InputError("agent arrays must all have one length", field="agents")
        self._buffers = None          # room to grow into (append), see _grow

    @classmethod
    def new(cls, voxel, mass, species, first_id: int = 0) -> "Agents":
        voxel = np.asarray(voxel)
        n = voxel.size
        return cls(id=np.arange(first_id, first_id + n), voxel=voxel, mass=mass, species=species,
                   state=np.zeros(n), starve=np.zeros(n), lag=np.zeros(n))

    def __len__(self) -> int:
        return int(self.mass.size)

    def take(self, index) -> "Agents":
        return Agents(**{f: getattr(self, f)[index] for f in self.fields})

    def append(self, other: "Agents") -> None:
        """Add ``other``'s rows at the end; the arrays keep spare room (a quarter more)
        so that the few daughters of a step are written in place, not the whole table
        copied (the fields stay views of the first rows of their buffers)."""
        n, m = len(self), len(other)
        if not self._has_room(n + m):
            cap = int(1.25 * (n + m)) + 16
            buffers = {}
            for f, dtype in _AGENT_FIELDS:
                buffers[f] = np.empty(cap, dtype)
                buffers[f][:n] = getattr(self, f)
            self._buffers = buffers
        for f in self.fields:
            buf = self._buffers[f]
            buf[n:n + m] = getattr(other, f)
            setattr(self, f, buf[:n + m])

    def _has_room(self, size: int) -> bool:
        if self._buffers is None:
            return False
        for f in self.fields:
            buf, arr = self._buffers[f], getattr(self, f)
            if (buf.size < size or arr.__array_interface__["data"][0]
                    != buf.__array_interface__["data"][0]):
                return False
        return True

    def remove(self, rows) -> None:
        """Remove the rows ``rows`` (sorted, distinct), filling the holes with the last
        rows (work in proportion to the removed rows; row order is not meaningful).

        >>> a = Agents.new(voxel=[0, 1, 2, 3], mass=[1.0, 2.0, 3.0, 4.0], species=[0] * 4)
        >>> a.remove(np.array([1])); a.mass.tolist()
        [1.0, 4.0, 3.0]
        """
        rows = np.asarray(rows, np.int64)
        n = len(self)
        keep = n - rows.size
        holes = rows[rows < keep]
        tail_dead = np.zeros(rows.size, bool)
        tail_dead[rows[rows >= keep] - keep] = True
        movers = np.arange(keep, n)[~tail_dead]
        for f in self.fields:
            arr = getattr(self, f)
            arr[holes] = arr[movers]
            setattr(self, f, arr[:keep])

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.fields}

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in self.fields)


class RootExudation:
    """Carbon flux density through the root surface versus time (piecewise linear).

    Parameters
    ----------
    times : array [h]
    flux : array [fg C µm^-2 h^-1]
        Flux density into the water at each time; constant beyond the ends.

    Examples
    --------
    >>> ex = RootExudation([0.0, 2.0], [0.0, 1.0])
    >>> ex.amount(0.0, 2.0), ex.amount(2.0, 4.0)          # per µm^2 of root surface
    (1.0, 2.0)
    """

    def __init__(self, times, flux):
        self.times = np.atleast_1d(np.asarray(times, float))
        self.flux = np.atleast_1d(np.asarray(flux, float))
        if self.times.shape != self.flux.shape or self.times.size == 0:
            raise InputError("exudation times and fluxes must be 1D arrays of one length",
                             field="exudation")
        if np.any(np.diff(self.times) <= 0):
            raise InputError("exudation times must increase", field="exudation.time")
        if np.any(self.flux < 0) or not np.all(np.isfinite(self.flux)):
            raise InputError("exudation flux must be finite and >= 0 (uptake by the root is not "
                             "modelled)", field="exudation.flux")

    @classmethod
    def constant(cls, flux: float) -> "RootExudation":
        return cls([0.0], [flux])

    @classmethod
    def from_boundary_series(cls, series, scale: float = 1.0) -> "RootExudation":
        """From a flux :class:`~rhizoscale.products.BoundarySeries` (e.g. case study 3's
        ``root_surface_flux_*``), converting its units (µg cm^-2 s^-1 or d^-1, fg µm^-2
        h^-1; the exudate mass is taken as carbon mass) and scaling by ``scale``."""
        if series.quantity != "flux":
            raise InputError(f"exudation needs a flux series, got a {series.quantity} series",
                             field="exudation")
        data = series.data
        if "point" in data.dims:
            data = data.mean("point")
        units = data.attrs.get("units", "")
        factors = {"ug cm-2 s-1": 1e9 / 1e8 * 3600.0, "ug cm-2 d-1": 1e9 / 1e8 / 24.0,
                   "fg um-2 h-1": 1.0}
        if units not in factors:
            raise InputError(f"exudation flux units {units!r} not understood (use one of "
                             f"{', '.join(factors)})", field="exudation")
        t_units = data["time"].attrs.get("units", "")
        t_factors = {"s": 1 / 3600.0, "h": 1.0, "d": 24.0}
        if t_units not in t_factors:
            raise InputError(f"exudation time units {t_units!r} not understood (s, h or d)",
                             field="exudation")
        return cls(np.asarray(data["time"].values, float) * t_factors[t_units],
                   np.asarray(data.values, float) * factors[units] * scale)

    def __call__(self, t):
        return np.interp(t, self.times, self.flux)

    def amount(self, t0: float, t1: float) -> float:
        """Integral of the flux density over ``[t0, t1]`` [fg C µm^-2] (exact)."""
        inner = self.times[(self.times > t0) & (self.times < t1)]
        t = np.concatenate([[t0], inner, [t1]])
        f = self(t)
        return float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(t)))


class RootConcentration:
    """DOC concentration held on the water voxels touching the root versus time
    (piecewise linear; constant beyond the ends).

    Parameters
    ----------
    times : array [h]
    concentration : array [fg C µm^-3]

    Examples
    --------
    >>> bc = RootConcentration([0.0, 2.0], [0.0, 0.01])
    >>> float(bc(1.0)), float(bc(5.0))
    (0.005, 0.01)
    """

    #: concentration units understood -> factor to fg C µm^-3 (1 fg µm^-3 = 1 g L^-1)
    UNITS = {"fg um-3": 1.0, "g L-1": 1.0, "mg cm-3": 1.0, "mg L-1": 1e-3, "ug cm-3": 1e-3,
             "ug mL-1": 1e-3, "g m-3": 1e-3}

    def __init__(self, times, concentration):
        self.times = np.atleast_1d(np.asarray(times, float))
        self.concentration = np.atleast_1d(np.asarray(concentration, float))
        if self.times.shape != self.concentration.shape or self.times.size == 0:
            raise InputError("boundary times and concentrations must be 1D arrays of one length",
                             field="boundary_series")
        if np.any(np.diff(self.times) <= 0):
            raise InputError("boundary series times must increase", field="boundary_series")
        if np.any(self.concentration < 0) or not np.all(np.isfinite(self.concentration)):
            raise InputError("boundary concentrations must be finite and >= 0",
                             field="boundary_series")

    @classmethod
    def from_boundary_series(cls, series, scale: float = 1.0) -> "RootConcentration":
        """From a concentration :class:`~rhizoscale.products.BoundarySeries` (mass units:
        ``fg um-3``, ``g L-1``, ``mg cm-3``, ``mg L-1``, ``ug cm-3``, ``ug mL-1``,
        ``g m-3``; the exudate mass is taken as carbon mass), times in s, h or d, averaged
        over points, scaled by ``scale``."""
        if series.quantity != "concentration":
            raise InputError(f"a concentration boundary needs a concentration series, got a "
                             f"{series.quantity} series", field="boundary_series")
        data = series.data
        if "point" in data.dims:
            data = data.mean("point")
        units = data.attrs.get("units", "")
        if units not in cls.UNITS:
            raise InputError(f"boundary concentration units {units!r} not understood (use one "
                             f"of {', '.join(cls.UNITS)})", field="boundary_series")
        t_units = data["time"].attrs.get("units", "")
        t_factors = {"s": 1 / 3600.0, "h": 1.0, "d": 24.0}
        if t_units not in t_factors:
            raise InputError(f"boundary series time units {t_units!r} not understood (s, h or d)",
                             field="boundary_series")
        return cls(np.asarray(data["time"].values, float) * t_factors[t_units],
                   np.asarray(data.values, float) * cls.UNITS[units] * scale)

    def __call__(self, t):
        return np.interp(t, self.times, self.concentration)


def radial_doc(lattice: MicrobeLattice, c_surface: float, decay_length: float) -> np.ndarray:
    """A static radial DOC gradient: ``c_surface exp(-d / decay_length)`` in water voxels
    at distance ``d`` from the root surface, as mass per voxel [fg C].

    Parameters
    ----------
    c_surface : float [fg C µm^-3]
    decay_length : float [µm]
    """
    c = c_surface * np.exp(-lattice.distance_to_root / decay_length)
    return np.where(lattice.water, c * lattice.voxel_volume, 0.0)


class MicrobeModel:
    """Bacteria, DOC, POM, necromass and CO2 on a pore-scale lattice (µm, h, fg C).

    Parameters
    ----------
    lattice : MicrobeLattice
    species : list of SpeciesTraits
    agents : Agents
        Initial cells (voxels must be water).
    doc_diffusivity : float [µm^2 h^-1]
    pom_hydrolysis, necromass_hydrolysis : float [h^-1]
    priming_factor : float [1]; priming_half_biomass : float [fg C]
    doc : array, optional
        Initial labile (exudate-derived) DOC per voxel [fg C] (0 off water).
    doc_pom : array, optional
        Initial POM-derived DOC per voxel [fg C] (0 off water).
    pom : array, optional
        Initial POM per voxel [fg C].
    exudation : RootExudation or RootConcentration, optional
        Flux density through the root-water faces, or the concentration held in the water
        voxels touching the root.
    seed : int
    max_step : float, optional
        Longest agent sub-step [h] (default in the module docs).
    diffusion_step : float, optional
        Longest DOC diffusion step [h] (a whole number of agent sub-steps; default
        ``0.1 / q_max`` of the fastest species; module docs for the safe range).
    diffusion_rtol : float
        CG tolerance of the diffusion step (:class:`DOCDiffusion`).
    diffusion_solver : {"amg", "geometric"}
        Multigrid of the diffusion step (:class:`DOCDiffusion`).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.microbes import MicrobeLattice, MicrobeModel, Agents, load_bacteria
    >>> lat = MicrobeLattice(np.ones((4, 4, 4), bool), voxel_size=10.0)
    >>> p = load_bacteria()
    >>> cells = Agents.new(voxel=np.arange(64), mass=np.full(64, 30.0), species=np.zeros(64))
    >>> m = MicrobeModel(lat, p.species, cells, doc_diffusivity=p.doc_diffusivity,
    ...                  pom_hydrolysis=0.0, necromass_hydrolysis=0.0,
    ...                  doc=np.full((4, 4, 4), 50.0), seed=1)
    >>> m.step(1.0)

    The balance holds to round-off; the diffusion's flux-form update subtracts fluxes about
    ``D dt / h^2`` (here 3600) times the masses, so its round-off is that many machine
    epsilons (measured: 1e-13 to 1.5e-12 relative, depending on the traits):

    >>> bool(abs(m.carbon_balance_error()) < 1e-11), bool(m.co2_total > 0)
    (True, True)
    """

    def __init__(self, lattice: MicrobeLattice, species, agents: Agents, *, doc_diffusivity: float,
                 pom_hydrolysis: float = 0.0, necromass_hydrolysis: float = 0.0,
                 priming_factor: float = 0.0, priming_half_biomass: float = 100.0,
                 doc=None, pom=None, exudation=None, seed: int = 0, doc_pom=None,
                 max_step: float | None = None, diffusion_rtol: float = 1e-8,
                 diffusion_solver: str = "amg", diffusion_step: float | None = None):
        self.lattice = lattice
        self.species = [s if isinstance(s, SpeciesTraits) else SpeciesTraits(**s) for s in species]
        self.traits = trait_table(self.species)
        self.split = np.array([s.division_split for s in self.species])
        self.seed = int(seed)
        shape = lattice.shape
        self.doc = np.zeros(shape) if doc is None else np.array(doc, dtype=np.float64)
        if self.doc.shape != shape:
            raise InputError(f"initial DOC has shape {self.doc.shape}, the lattice {shape}", field="doc")
        if np.any(self.doc < 0) or np.any(self.doc[~lattice.water] != 0):
            raise InputError("initial DOC must be >= 0 and only in water voxels", field="doc")
        self.doc_pom = np.zeros(shape) if doc_pom is None else np.array(doc_pom, dtype=np.float64)
        if self.doc_pom.shape != shape or np.any(self.doc_pom < 0) or np.any(self.doc_pom[~lattice.water] != 0):
            raise InputError("initial POM-derived DOC must be >= 0, of the lattice's shape and only "
                             "in water voxels", field="doc_pom")
        pom_grid = np.zeros(shape) if pom is None else np.asarray(pom, dtype=np.float64)
        if pom_grid.shape != shape or np.any(pom_grid < 0):
            raise InputError("initial POM must be a non-negative array of the lattice's shape",
                             field="pom")
        self.pom_voxels, self.pom_indptr, self.pom_targets = lattice.pom_targets(pom_grid)
        self.pom = pom_grid.ravel()[self.pom_voxels].copy()
        counts = np.diff(self.pom_indptr)
        self._pom_owner = np.repeat(np.arange(self.pom_voxels.size), counts)
        self._pom_count = counts
        self.necro = np.zeros(shape)
        self.co2 = np.zeros(shape)
        if np.any(agents.species >= len(self.species)):
            raise InputError("an agent's species is not in the species table", field="agents.species")
        if len(agents) and not np.all(lattice.water.ravel()[agents.voxel]):
            raise InputError("every initial cell must sit in a water voxel", field="agents.voxel")
        if np.any(agents.mass <= 0):
            raise InputError("cell carbon must be positive", field="agents.mass")
        self.agents = agents
        self.next_id = int(agents.id.max()) + 1 if len(agents) else 0
        self.k_pom, self.k_necro = float(pom_hydrolysis), float(necromass_hydrolysis)
        self.priming_factor, self.priming_half_biomass = float(priming_factor), float(priming_half_biomass)
        for name, v in (("pom_hydrolysis", self.k_pom), ("necromass_hydrolysis", self.k_necro),
                        ("priming_factor", self.priming_factor), ("doc_diffusivity", doc_diffusivity)):
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"must be finite and >= 0, got {v}", field=name)
        if exudation is not None and not isinstance(exudation, (RootExudation, RootConcentration)):
            raise InputError("exudation must be a RootExudation (flux) or a RootConcentration",
                             field="exudation")
        self.exudation = exudation
        self._exu_voxels = np.flatnonzero(lattice.root_faces.ravel() > 0)
        self._exu_area = lattice.root_faces.ravel()[self._exu_voxels] * lattice.face_area
        if exudation is not None and self._exu_voxels.size == 0:
            raise InputError("exudation needs a root: no water voxel touches a root voxel",
                             field="exudation")
        self.diffusion = DOCDiffusion(lattice.water, lattice.voxel_size, doc_diffusivity,
                                      rtol=diffusion_rtol, solver=diffusion_solver)
        uptake_bound = 0.1 / float(self.traits[:, TRAIT_COLUMNS.index("q_max")].max())
        walk = float(self.traits[:, TRAIT_COLUMNS.index("motility")].max())
        walk_bound = lattice.voxel_size ** 2 / (6.0 * walk) if walk > 0 else math.inf
        #: the default agent step's two bounds [h]: a tenth of the fastest cell's 1/q_max
        #: and h^2 / (6 D_m) of the most motile strain (longer steps clamp the walk)
        self.uptake_bound, self.walk_bound = uptake_bound, walk_bound
        self.max_step = min(uptake_bound, walk_bound) if max_step is None else float(max_step)
        if not (self.max_step > 0 and math.isfinite(self.max_step)):
            raise InputError(f"max_step must be positive, got {max_step}", field="max_step")
        self.diffusion_step = (max(uptake_bound, self.max_step) if diffusion_step is None
                               else float(diffusion_step))
        if not (self.diffusion_step > 0 and math.isfinite(self.diffusion_step)):
            raise InputError(f"diffusion_step must be positive, got {diffusion_step}",
                             field="diffusion_step")
        self._water_u8 = lattice.water.ravel().astype(np.uint8)
        self._root_adj_u8 = (lattice.root_faces.ravel() > 0).astype(np.uint8)
        self._ws: dict = {}
        #: wall-clock seconds spent per part (not part of the state)
        self.timings = {"carbon pools": 0.0, "diffusion": 0.0, "agents": 0.0}
        self.agent_steps = 0
        self.time = 0.0
        self.iteration = 0
        self.exuded_total = 0.0
        self.co2_total = 0.0
        self.initial_carbon = self.total_carbon()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_parameters(cls, lattice: MicrobeLattice, params: SoilBacteriaParameters, *, seed: int = 0,
                        n_cells: int | None = None, **kwargs) -> "MicrobeModel":
        """Cells placed by the calibrated Thomas process (:mod:`.placement`), species by
        their ``initial_share``, masses uniform in ``[0.5, 1) m_div``; ``n_cells``
        replaces the count the density gives (same clustering)."""
        agents = initial_cells(lattice, params, seed=seed, n_cells=n_cells)
        return cls(lattice, params.species, agents, doc_diffusivity=params.doc_diffusivity,
                   pom_hydrolysis=params.pom_hydrolysis, necromass_hydrolysis=params.necromass_hydrolysis,
                   priming_factor=params.priming_factor, priming_half_biomass=params.priming_half_biomass,
                   seed=seed, **kwargs)

    # ------------------------------------------------------------------ accounting
    def biomass(self, dormant: bool | None = None) -> float:
        a = self.agents
        if dormant is None:
            return float(a.mass.sum())
        sel = ((a.state & DORMANT) != 0) == dormant
        return float(a.mass[sel].sum())

    def total_carbon(self) -> float:
        """POM + DOC + biomass + necromass + CO2 [fg C]."""
        return (float(self.pom.sum()) + self.doc_total() + self.biomass()
                + float(self.necro.sum()) + self.co2_total)

    def doc_total(self) -> float:
        """DOC of both pools [fg C]."""
        return float(self.doc.sum()) + float(self.doc_pom.sum())

    def carbon_balance_error(self) -> float:
        """(total - initial - exuded) / (initial + exuded) [1]."""
        ref = self.initial_carbon + self.exuded_total
        return (self.total_carbon() - ref) / ref if ref > 0 else 0.0

    # ------------------------------------------------------------------ stepping
    def step(self, dt: float) -> None:
        """Advance by ``dt`` [h] in equal agent sub-steps of at most ``max_step``, the DOC
        diffusing once per group of sub-steps no longer than ``diffusion_step`` (module
        docs)."""
        if not (dt > 0 and math.isfinite(dt)):
            raise InputError(f"time step must be positive, got {dt}", field="dt")
        n, k = self.substeps(dt)
        t0 = self.time
        for j in range(n):
            t1 = t0 + dt * (j + 1) / n
            span = None
            if j % k == 0:          # a group starts: diffuse over its whole length
                span = t0 + dt * min(j + k, n) / n - self.time
            self._substep(t1 - self.time, span)
            self.time = t1

    def substeps(self, dt: float) -> tuple[int, int]:
        """``(n, k)`` for a step of ``dt`` [h]: ``n`` equal agent sub-steps of at most
        ``max_step``, the DOC diffusing once per ``k`` of them (as many whole sub-steps as
        ``diffusion_step`` holds, at least one: a ``diffusion_step`` shorter than the
        sub-step diffuses every sub-step)."""
        n = max(1, math.ceil(dt / self.max_step * (1 - 1e-12)))
        k = max(1, math.floor(self.diffusion_step / (dt / n) * (1 + 1e-12)))
        return n, k

    def _hydrolysis(self, h: float) -> None:
        doc = self.doc_pom.ravel()
        if self.pom.size and self.k_pom > 0:
            k = np.full(self.pom.size, self.k_pom)
            if self.priming_factor > 0 and len(self.agents):
                a = self.agents
                active = (a.state & DORMANT) == 0
                b = np.bincount(a.voxel[active], weights=a.mass[active], minlength=doc.size)
                near = np.bincount(self._pom_owner, weights=b[self.pom_targets],
                                   minlength=self.pom.size)
                k *= 1.0 + self.priming_factor * near / (self.priming_half_biomass + near)
            released = self.pom * -np.expm1(-k * h)
            released[self._pom_count == 0] = 0.0            # no water contact, no enzymes
            self.pom -= released
            share = released / np.maximum(self._pom_count, 1)
            parts = share[self._pom_owner]
            last = self.pom_indptr[1:][self._pom_count > 0] - 1
            rest = released[self._pom_count > 0] - share[self._pom_count > 0] * (self._pom_count[self._pom_count > 0] - 1)
            parts[last] = rest                              # the shares sum to the release
            np.add.at(doc, self.pom_targets, parts)
        if self.k_necro > 0:
            released = self.necro * -np.expm1(-self.k_necro * h)
            self.necro -= released
            self.doc += released

    def _substep(self, h: float, diffuse: float | None) -> None:
        t0 = time.perf_counter()
        if diffuse is not None:
            self._hydrolysis(diffuse)        # slow pools: exact over the diffusion step
        if isinstance(self.exudation, RootConcentration):
            flat = self.doc.ravel()
            old = flat[self._exu_voxels]
            new = np.full(old.shape, float(self.exudation(self.time)) * self.lattice.voxel_volume)
            flat[self._exu_voxels] = new
            self.exuded_total += float(new.sum()) - float(old.sum())
        elif self.exudation is not None:
            amount = self.exudation.amount(self.time, self.time + h)
            if amount > 0:
                added = amount * self._exu_area
                self.doc.ravel()[self._exu_voxels] += added
                self.exuded_total += float(added.sum())
        t1 = time.perf_counter()
        if diffuse is not None:
            self.doc = self.diffusion.step(self.doc, diffuse)
            if self.doc_pom.any():
                self.doc_pom = self.diffusion.step(self.doc_pom, diffuse)
        t2 = time.perf_counter()
        a = self.agents
        if len(a):
            up, resp, nec = agent_step(a.id, a.voxel, a.mass, a.species, a.state, a.starve, a.lag,
                                       self.traits, self.doc.ravel(), self.doc_pom.ravel(),
                                       self._water_u8,
                                       self._root_adj_u8, self.co2.ravel(), self.necro.ravel(),
                                       self.lattice.shape, self.lattice.voxel_size, h, self.seed,
                                       self.iteration, self._ws)
            self.co2_total += resp
            self._deaths_and_divisions()
            if self.iteration % SORT_INTERVAL == 0:
                # rows in voxel order: the kernel's voxel reads become nearly sequential
                # (2x faster at 1e6 cells on 128^3); results do not depend on row order
                order = np.argsort(self.agents.voxel, kind="stable")
                self.agents = self.agents.take(order)
        t3 = time.perf_counter()
        self.timings["carbon pools"] += t1 - t0
        self.timings["diffusion"] += t2 - t1
        self.timings["agents"] += t3 - t2
        self.agent_steps += len(self.agents)
        self.iteration += 1

    def _deaths_and_divisions(self) -> None:
        a = self.agents
        dead = np.flatnonzero(a.state & DEAD)
        if dead.size:
            a.remove(dead)
        divide = np.flatnonzero(a.state & DIVIDE)
        if divide.size:
            order = divide[np.argsort(a.id[divide], kind="stable")]
            u = uniform(self.seed, a.id[order], self.iteration, STREAM_SPLIT)
            share = 0.5 + self.split[a.species[order]] * (2.0 * u - 1.0)
            m = a.mass[order]
            mother = share * m
            daughters = a.take(order)
            daughters.mass = m - mother
            daughters.id = np.arange(self.next_id, self.next_id + order.size, dtype=np.int64)
            daughters.starve[:] = 0.0
            self.next_id += order.size
            a.mass[order] = mother
            a.state[order] &= np.uint8(~DIVIDE & 0xFF)
            daughters.state &= np.uint8(~DIVIDE & 0xFF)
            a.append(daughters)

    # ------------------------------------------------------------------ contract
    def checkpoint_state(self) -> dict:
        state = {f"agents_{k}": v.copy() for k, v in self.agents.as_dict().items()}
        state.update(doc=self.doc.copy(), doc_pom=self.doc_pom.copy(), pom=self.pom.copy(), necro=self.necro.copy(),
                     co2=self.co2.copy(), time=self.time, iteration=self.iteration,
                     next_id=self.next_id, exuded_total=self.exuded_total,
                     co2_total=self.co2_total, initial_carbon=self.initial_carbon, seed=self.seed)
        return state

    def restore_state(self, state: dict) -> None:
        self.agents = Agents(**{f: np.asarray(state[f"agents_{f}"]) for f in Agents.fields})
        self.doc = np.array(state["doc"], dtype=np.float64)
        self.doc_pom = np.array(state["doc_pom"], dtype=np.float64)
        self.pom = np.array(state["pom"], dtype=np.float64)
        self.necro = np.array(state["necro"], dtype=np.float64)
        self.co2 = np.array(state["co2"], dtype=np.float64)
        self.time = float(state["time"])
        self.iteration = int(state["iteration"])
        self.next_id = int(state["next_id"])
        self.exuded_total = float(state["exuded_total"])
        self.co2_total = float(state["co2_total"])
        self.initial_carbon = float(state["initial_carbon"])
        self.seed = int(state["seed"])

    def state(self) -> xr.Dataset:
        """Fields and totals with units (µm, h, fg C)."""
        lat = self.lattice
        V = lat.voxel_volume
        a = self.agents
        n = lat.water.size
        dormant = (a.state & DORMANT) != 0
        biomass = np.bincount(a.voxel, weights=a.mass, minlength=n).reshape(lat.shape)
        active = np.bincount(a.voxel[~dormant], weights=a.mass[~dormant], minlength=n).reshape(lat.shape)
        cells = np.bincount(a.voxel, minlength=n).reshape(lat.shape)
        coords = {ax: (ax, (np.arange(k) + 0.5) * lat.voxel_size, {"units": "um"})
                  for ax, k in zip(("z", "y", "x"), lat.shape)}
        dims = ("z", "y", "x")
        ds = xr.Dataset({
            "doc": (dims, (self.doc + self.doc_pom) / V, {"units": "fg um-3", "long_name": "dissolved organic carbon concentration (both pools)"}),
            "doc_labile": (dims, self.doc / V, {"units": "fg um-3", "long_name": "labile (exudate- and necromass-derived) DOC concentration"}),
            "doc_pom": (dims, self.doc_pom / V, {"units": "fg um-3", "long_name": "POM-derived DOC concentration"}),
            "pom": (dims, self._pom_grid(), {"units": "fg", "long_name": "particulate organic carbon per voxel"}),
            "biomass": (dims, biomass, {"units": "fg", "long_name": "bacterial carbon per voxel"}),
            "active_biomass": (dims, active, {"units": "fg", "long_name": "active bacterial carbon per voxel"}),
            "cells": (dims, cells.astype(np.int32), {"units": "1", "long_name": "cells per voxel"}),
            "necromass": (dims, self.necro, {"units": "fg", "long_name": "necromass carbon per voxel"}),
            "co2": (dims, self.co2, {"units": "fg", "long_name": "CO2-C respired in the voxel since the start"}),
        }, coords=coords, attrs={"time": self.time, "time_units": "h", "units_system": "um, h, fg C"})
        for name, value, desc in (
                ("total_doc", self.doc_total(), "DOC (both pools)"),
                ("total_doc_pom", float(self.doc_pom.sum()), "POM-derived DOC"), ("total_pom", float(self.pom.sum()), "POM"),
                ("total_biomass", self.biomass(), "bacterial carbon"),
                ("dormant_biomass", self.biomass(True), "dormant bacterial carbon"),
                ("total_necromass", float(self.necro.sum()), "necromass"),
                ("co2_total", self.co2_total, "CO2-C respired"), ("exuded_total", self.exuded_total, "exuded carbon")):
            ds[name] = ((), value, {"units": "fg", "long_name": desc})
        ds["n_cells"] = ((), len(a), {"units": "1"})
        ds["n_dormant"] = ((), int(dormant.sum()), {"units": "1"})
        ds["n_attached"] = ((), int(((a.state & ATTACHED) != 0).sum()), {"units": "1"})
        return ds

    def _pom_grid(self) -> np.ndarray:
        g = np.zeros(self.lattice.water.size)
        g[self.pom_voxels] = self.pom
        return g.reshape(self.lattice.shape)

    @property
    def nbytes_agents(self) -> int:
        """Bytes held per cell (arrays and kernel scratch) times the cells."""
        return AGENT_BYTES * len(self.agents)


def initial_cells(lattice: MicrobeLattice, params: SoilBacteriaParameters, *, seed: int = 0,
                  n_cells: int | None = None) -> Agents:
    """Cells of a calibrated Thomas process moved into water (:mod:`.placement`).

    ``n_cells`` fixes the count exactly (clusters of the calibrated mean size); without
    it the count is the Thomas process's (Poisson clusters at the parameter set's
    density), and a lattice that draws no cell is refused (``InputError`` naming
    ``n_cells``): a run without cells is no experiment."""
    from .placement import place_in_water, thomas_parameters, thomas_points, thomas_points_of_count
    rng = np.random.default_rng(seed)
    density = params.cell_density * params.bulk_density * 1e-12          # cells per µm^3
    kappa, mu = thomas_parameters(density, params.neighbours_within, params.neighbour_distance,
                                  params.cluster_radius)
    box = np.array(lattice.shape, float) * lattice.voxel_size
    if n_cells is not None:                      # exactly n_cells, in clusters of mean size mu
        pts = thomas_points_of_count(box, n_cells, mu, params.cluster_radius, rng)
    else:
        pts = thomas_points(box, kappa, mu, params.cluster_radius, rng)
        if len(pts) == 0:
            raise InputError(
                f"no cells placed: at {density * 1e12:.3g} cells cm-3 the lattice "
                f"({np.prod(box):.3g} um3) holds on average {kappa * np.prod(box):.2g} clusters "
                f"of {mu:.0f} cells and this seed drew none; give n_cells or a larger lattice",
                field="n_cells")
    voxel = place_in_water(pts, lattice.water, lattice.voxel_size)
    shares = np.array([s.initial_share for s in params.species], float)
    if shares.sum() <= 0:
        raise InputError("at least one species needs a positive initial_share", field="species")
    species = rng.choice(len(shares), size=voxel.size, p=shares / shares.sum()).astype(np.uint8)
    m_div = np.array([s.m_div for s in params.species])[species]
    mass = m_div * (0.5 + 0.5 * rng.random(voxel.size))
    return Agents.new(voxel, mass, species)
