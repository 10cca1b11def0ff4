"""The two-phase pseudopotential lattice-Boltzmann model (a Model of the contract).

:class:`TwoPhaseLBM` holds the populations of the fluid nodes of a labelled geometry and
steps them with :mod:`.stream_collide`. Model time is counted in lattice steps; with a
:class:`~rhizoscale.porescale.calibration.LatticeUnits` it is reported in seconds and
lengths in cm. Walls: every solid label has a virtual wall density ``rho_w`` (its
pseudopotential ``psi(rho_w)`` acts on the neighbouring fluid, Benzi et al. 2006); values
near the liquid density wet (contact angle < 90°), near the gas density do not (> 90°).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import InputError, RhizoscaleError
from .equation_of_state import EOS_KINDS, CarnahanStarlingEOS, ShanChenEOS, li_sigma
from .lattice import CS2, Lattice, velocity_set
from ..solvers._numba import level_threads, use_threads
from . import _lattice_kernels as _lk
from .stream_collide import (FORCINGS, collide_kernel, density_kernel, equilibrium, fluid_index,
                             psi_of_density, step_reference)

__all__ = ["TwoPhaseLBM", "NonFiniteState", "TRT_MAGIC"]

#: the TRT "magic" parameter Lambda = (1/w+ - 1/2)(1/w- - 1/2) = 3/16 puts halfway
#: bounce-back walls exactly midway for Poiseuille flow, independent of viscosity
#: (Ginzburg 2008)
TRT_MAGIC = 3.0 / 16.0


class NonFiniteState(RhizoscaleError):
    """The populations became non-finite (an unstable run); names the step and the node."""


class TwoPhaseLBM:
    """Single-component two-phase Shan–Chen lattice Boltzmann on a labelled geometry.

    Parameters
    ----------
    walls : (nz, ny, nx) or (ny, nx) int array
        0 on fluid voxels, a solid label (> 0) on solid voxels.
    density : array like ``walls`` or float
        Initial fluid density [lattice units] (solid voxels ignored); populations start at
        equilibrium at rest.
    eos : ShanChenEOS or CarnahanStarlingEOS
        Pseudopotential and its interaction strength.
    wall_density : dict {label: float} or float
        Virtual density of each solid label [lattice units] (wetting); one float for all.
    tau : float
        Relaxation time of the symmetric moments (viscosity ``nu = c_s^2 (tau - 1/2)``).
    collision : {"trt", "bgk"}
        TRT with ``magic`` (default) or BGK.
    forcing : {"guo", "edm", "li", "shift"}
        Forcing scheme (see :mod:`.stream_collide`); ``"shift"`` needs BGK. ``"li"`` is
        Guo's forcing with Li, Luo & Li's (2013) term that makes the flat-interface
        coexistence densities thermodynamically consistent (Maxwell construction).
    sigma : float, optional
        Li et al.'s parameter of the ``"li"`` forcing [-]; default
        :func:`.equation_of_state.li_sigma` of ``eos`` (the value whose predicted
        coexistence meets the Maxwell construction). Ignored by the other forcings.
    dtype : numpy dtype
        Storage of the populations (float32 default; float64 for reference runs).
    kernel : {"numba", "numba-generic", "numpy"}
        The fast kernel (unrolled per lattice, :mod:`.kernel_codegen`), the generic Numba
        kernel, or their NumPy specification.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.porescale import ShanChenEOS, TwoPhaseLBM
    >>> rho = np.full((32, 32), 0.15); rho[8:24, 8:24] = 2.1
    >>> m = TwoPhaseLBM(np.zeros((32, 32), int), rho, ShanChenEOS(G=-4.7))
    >>> m0 = m.mass(); m.step(50)
    >>> bool(abs(m.mass() / m0 - 1) < 1e-5), m.time
    (True, 50.0)
    """

    def __init__(self, walls, density, eos, *, wall_density=None, tau: float = 1.0,
                 collision: str = "trt", magic: float = TRT_MAGIC, forcing: str = "guo",
                 dtype=np.float32, kernel: str = "numba", lattice: str | None = None,
                 check_interval: int = 100, sigma: float | None = None):
        walls = np.asarray(walls)
        if walls.ndim not in (2, 3) or not np.issubdtype(walls.dtype, np.integer):
            raise InputError("walls must be a 2D or 3D integer label array", field="walls")
        self.ndim = walls.ndim
        self.lattice: Lattice = velocity_set(lattice or self.ndim)
        if self.lattice.dim != self.ndim:
            raise InputError(f"lattice {self.lattice.name} does not fit a {self.ndim}D geometry",
                             field="lattice")
        self.shape = walls.shape
        w3 = walls.reshape((1,) * (3 - self.ndim) + walls.shape)
        if (w3 < 0).any():
            raise InputError("solid labels must be > 0 (0 is fluid)", field="walls")
        # labels in the smallest integer type that holds them (1 byte for < 256 labels):
        # part of the memory per fluid node on soil images (40-70 % solid)
        self.walls = w3.astype(np.min_scalar_type(int(w3.max())), copy=False)
        solid = w3 > 0
        if solid.all():
            raise InputError("the geometry has no fluid (pore) voxel", field="walls")
        if not np.isfinite(tau) or tau <= 0.5:
            raise InputError(f"tau must be > 1/2 (positive viscosity), got {tau}", field="tau")
        if tau > 5.0:
            raise InputError(f"tau = {tau} > 5: the pseudopotential interface and wall "
                             "positions become viscosity-dependent and inaccurate", field="tau")
        if collision not in ("trt", "bgk"):
            raise InputError(f"unknown collision {collision!r}; use trt or bgk", field="collision")
        if forcing not in FORCINGS:
            raise InputError(f"unknown forcing {forcing!r}; use {', '.join(FORCINGS)}",
                             field="forcing")
        if forcing == "shift" and collision != "bgk":
            raise InputError("the velocity-shift forcing is defined for BGK only", field="forcing")
        if kernel not in ("numba", "numba-generic", "numpy"):
            raise InputError(f"unknown kernel {kernel!r}", field="kernel")
        if not isinstance(eos, (ShanChenEOS, CarnahanStarlingEOS)):
            raise InputError("eos must be a ShanChenEOS or a CarnahanStarlingEOS", field="eos")
        self.eos = eos
        self.tau = float(tau)
        self.omega_plus = 1.0 / self.tau
        if collision == "trt":
            self.omega_minus = 1.0 / (magic / (self.tau - 0.5) + 0.5)
        else:
            self.omega_minus = self.omega_plus
        self.collision, self.forcing_name, self.kernel = collision, forcing, kernel
        self.forcing = FORCINGS[forcing]
        if forcing != "li":
            self.sigma = 0.0
        elif sigma is None:
            self.sigma = li_sigma(eos)
        else:
            if not (math.isfinite(sigma) and sigma >= 0):
                raise InputError(f"sigma of the li forcing must be finite and >= 0, got {sigma}",
                                 field="sigma")
            self.sigma = float(sigma)
        self.kind = EOS_KINDS[eos.kind]
        self.params = np.asarray(eos.params, dtype=np.float64)
        self.G = float(eos.coupling)
        self.dtype = np.dtype(dtype)
        self.check_interval = int(check_interval)

        self.index = fluid_index(solid)
        self.n_fluid = int((~solid).sum())
        self.wall_density = self._wall_densities(wall_density)
        self.psi = np.zeros(solid.shape, dtype=np.float32)
        for label, rho_w in self.wall_density.items():
            self.psi[self.walls == label] = float(psi_of_density(rho_w, self.kind, self.params))
        rho = np.broadcast_to(np.asarray(density, dtype=np.float64), walls.shape)
        rho = rho.reshape(w3.shape)[~solid]
        if not np.all(np.isfinite(rho)) or (rho <= 0).any():
            raise InputError("initial densities must be finite and > 0", field="density")
        if isinstance(eos, CarnahanStarlingEOS) and (rho >= 4.0 / eos.b).any():
            raise InputError(f"initial density above the Carnahan–Starling packing limit 4/b = "
                             f"{4.0 / eos.b}", field="density")
        self._lat = (np.ascontiguousarray(self.lattice.velocities, dtype=np.int64),
                     np.ascontiguousarray(self.lattice.weights, dtype=np.float64),
                     np.ascontiguousarray(self.lattice.opposite, dtype=np.int64))
        self.set_density_fluid(rho)
        name = self.lattice.name.lower()
        scheme = {0: "shift", 1: "guo", 2: "edm", 3: "guo"}[self.forcing]
        self._step = getattr(_lk, f"step_{name}_{scheme}")     # the fused step of the forcing
        self._density = getattr(_lk, f"density_{name}")
        self._moments = getattr(_lk, f"moments_{name}")
        self.time = 0.0
        self.iteration = 0

    @property
    def solid(self) -> np.ndarray:
        """Solid nodes, a ``(nz, ny, nx)`` boolean grid (2D: ``nz = 1``), derived from the
        index (not stored: memory per fluid node)."""
        return self.index < 0

    def _wall_densities(self, wall_density) -> dict:
        labels = [int(v) for v in np.unique(self.walls) if v > 0]
        if wall_density is None:
            wall_density = {}
        if np.isscalar(wall_density):
            wall_density = {label: float(wall_density) for label in labels}
        out = {}
        for label in labels:
            if label not in wall_density:
                raise InputError(f"no wall density (wetting) given for solid label {label}",
                                 field="wall_density")
            value = float(wall_density[label])
            if not math.isfinite(value) or value < 0:
                raise InputError(f"wall density of label {label} must be finite and >= 0",
                                 field="wall_density")
            out[label] = value
        return out

    # ------------------------------------------------------------------------ stepping
    def step(self, dt: float = 1) -> None:
        """Advance ``dt`` lattice steps (a positive integer; model time is in steps)."""
        n = int(round(dt))
        if n < 1 or abs(n - dt) > 1e-9:
            raise InputError(f"the lattice model steps whole lattice steps, got dt = {dt}",
                             field="dt")
        e, w, opp = self._lat
        for s in range(n):
            if self.kernel == "numba-generic":
                density_kernel(self.f, self.index, self.psi, e, opp, self.kind, self.params)
                collide_kernel(self.f, self._fnew, self.index, self.psi, e, w, opp, self.G,
                               self.omega_plus, self.omega_minus, self.forcing, self.sigma)
                self.f, self._fnew = self._fnew, self.f
            elif self.kernel == "numba":
                self._step(self.f, self._fnew, self.index, self.psi, self.kind, self.params,
                           self.G, self.omega_plus, self.omega_minus, self.sigma, self._slabs())
                self.f, self._fnew = self._fnew, self.f
            else:
                self.f = step_reference(self.f, self.index, self.psi, self.lattice, self.G,
                                        self.kind, self.params, self.omega_plus,
                                        self.omega_minus, self.forcing, self.sigma)
            self.iteration += 1
            if self.check_interval and self.iteration % self.check_interval == 0:
                self._check_finite()
        self.time += n
        self._check_finite()

    def _slabs(self) -> int:
        """Slabs of planes of the fused step (:mod:`.kernel_codegen`): one on the serial
        build; with threads, four per thread (dynamic scheduling evens out a core lost to
        another process) of at least 8 planes (each slab recomputes the density of two
        halo planes). The result does not depend on it."""
        n = self.index.size
        if not use_threads(n):
            return 1
        planes = self.index.shape[0] if self.ndim == 3 else self.index.shape[1]
        return max(1, min(4 * level_threads(n), planes // 8))

    def advance_to(self, t: float) -> None:
        """Step until model time ``t`` [lattice steps]."""
        n = int(round(t - self.time))
        if n > 0:
            self.step(n)

    def _check_finite(self) -> None:
        total = float(self.f.sum(dtype=np.float64))
        if math.isfinite(total):
            return
        bad = ~np.isfinite(self.f).all(axis=0)
        k = int(np.flatnonzero(bad)[0])
        z, y, x = (int(v) for v in np.argwhere(self.index == k)[0])
        where = f"(z, y, x) = ({z}, {y}, {x})" if self.ndim == 3 else f"(y, x) = ({y}, {x})"
        raise NonFiniteState(
            f"non-finite populations at lattice step {self.iteration}, node {where} "
            f"({int(bad.sum())} nodes); the parameters are unstable (lower the density ratio, "
            f"raise tau, or use TRT with the guo/edm forcing)")

    # ------------------------------------------------------------------------ moments
    def mass(self) -> float:
        """Total fluid mass, the sum of all populations [lattice density x nodes]."""
        return float(self.f.sum(dtype=np.float64))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Density and physical velocity of the fluid nodes, full-grid arrays.

        Returns ``rho`` (NaN on solid) and ``u`` with a last axis of array-order
        components (``z, y, x``; 2D: ``y, x``) [lattice units]. Costs two density passes;
        :meth:`density` alone costs one.
        """
        rho = np.empty(self.solid.shape)
        u = np.empty(self.solid.shape + (3,))
        self._density(self.f, self.index, self.psi, self.kind, self.params, rho)
        self._moments(self.f, self.index, self.psi, self.G, rho, u)
        return rho.reshape(self.shape), u.reshape(self.shape + (3,))[..., 3 - self.ndim:]

    def density(self) -> np.ndarray:
        """Density of the fluid nodes on the full grid, NaN on solid [lattice units]: one
        pass over the populations (no velocity)."""
        rho = np.empty(self.solid.shape)
        self._density(self.f, self.index, self.psi, self.kind, self.params, rho)
        return rho.reshape(self.shape)

    def pressure(self, rho) -> np.ndarray:
        """Bulk pressure of the model's EOS [lattice units]."""
        return self.eos.pressure(rho)

    def set_density(self, rho) -> None:
        """Reset the populations to equilibrium at rest with densities ``rho`` (full grid)."""
        r = np.asarray(rho, dtype=np.float64).reshape(self.solid.shape)[~self.solid]
        self.set_density_fluid(r)

    def set_density_fluid(self, rho) -> None:
        """Equilibrium at rest with densities ``rho[k]`` as the *pre-collision* state.

        The stored populations are post-collision ones that the next step pulls, so the
        equilibrium is stored "unstreamed": ``f*_i(y) = feq_i(y + e_i)`` (or ``feq_i(y)`` where
        ``y + e_i`` is solid, the value bounce-back returns to ``y``); the first collision
        then sees exactly ``feq(rho, 0)`` at every node (as in Krüger et al. 2017, ch. 9).
        """
        feq = equilibrium(np.asarray(rho, dtype=np.float64), np.zeros((len(rho), 3)),
                          self.lattice)
        fluid = ~self.solid
        f = np.empty_like(feq)
        for i, e in enumerate(self.lattice.velocities):
            dest = np.roll(self.index, shift=tuple(-e), axis=(0, 1, 2))[fluid]   # y + e_i
            f[i] = np.where(dest >= 0, feq[i, np.maximum(dest, 0)], feq[i])
        self.f = f.astype(self.dtype)
        self._fnew = np.empty_like(self.f)

    def scale_populations(self, factor) -> None:
        """Multiply the populations of every fluid node by ``factor`` (full grid or scalar):
        removes (< 1) or adds mass at unchanged velocity."""
        fac = np.broadcast_to(np.asarray(factor, dtype=np.float64), self.shape)
        fac = fac.reshape(self.solid.shape)[~self.solid]
        self.f = (self.f * fac[None, :]).astype(self.dtype)

    # ------------------------------------------------------------------------ state
    def checkpoint_state(self) -> dict:
        return {"f": self.f.copy(), "psi": self.psi.copy(), "time": float(self.time),
                "iteration": int(self.iteration)}

    def restore_state(self, state: dict) -> None:
        f = np.asarray(state["f"])
        if f.shape != self.f.shape:
            raise InputError(f"checkpoint populations {f.shape} do not fit this model "
                             f"{self.f.shape}", field="f")
        self.f = f.astype(self.dtype).copy()
        self._fnew = np.empty_like(self.f)
        self.psi = np.asarray(state["psi"], dtype=np.float32).copy()
        self.time = float(state["time"])
        self.iteration = int(state["iteration"])

    def state(self, units=None) -> xr.Dataset:
        """Density, velocity and pressure as an xarray Dataset.

        Parameters
        ----------
        units : LatticeUnits, optional
            Conversion to physical units (cm, s, kg m^-3, Pa); lattice units without.
        """
        rho, u = self.moments()
        dims = ("z", "y", "x")[3 - self.ndim:]
        p = np.where(np.isfinite(rho), self.eos.pressure(np.nan_to_num(rho, nan=1e-9)), np.nan)
        if units is None:
            coords = {d: (d, np.arange(n) + 0.5, {"units": "lattice spacing"})
                      for d, n in zip(dims, self.shape)}
            lu = {"rho": "lattice density", "u": "lattice spacing per step", "p": "lattice pressure",
                  "t": "lattice steps"}
            t = self.time
        else:
            coords = {d: (d, (np.arange(n) + 0.5) * units.dx_cm, {"units": "cm"})
                      for d, n in zip(dims, self.shape)}
            rho, u, p = units.density(rho), units.velocity(u), units.pressure(p)
            lu = {"rho": "kg m-3", "u": "m s-1", "p": "Pa", "t": "s"}
            t = units.time(self.time)
        ds = xr.Dataset(
            {"density": (dims, rho, {"units": lu["rho"], "long_name": "fluid density"}),
             "pressure": (dims, p, {"units": lu["p"], "long_name": "bulk pressure of the EOS"}),
             "solid": (dims, self.walls.reshape(self.shape),
                       {"units": "1", "long_name": "solid label (0 fluid)"})},
            coords=coords, attrs={"time": t, "time_units": lu["t"], "lattice": self.lattice.name,
                                  "eos": self.eos.kind, "forcing": self.forcing_name,
                                  "li_sigma": self.sigma,
                                  "collision": self.collision})
        for a, d in enumerate(dims):
            ds[f"velocity_{d}"] = (dims, u[..., a], {"units": lu["u"]})
        return ds

    def bytes_per_fluid_node(self) -> float:
        """Memory held per fluid node: two population arrays, index, psi and label grids
        [bytes]: ``2 q s + (4 + 4 + 1) / porosity`` (D3Q19, float32: 152 B + 9 B per
        voxel)."""
        total = 2 * self.f.nbytes + self.index.nbytes + self.psi.nbytes + self.walls.nbytes
        return total / self.n_fluid
