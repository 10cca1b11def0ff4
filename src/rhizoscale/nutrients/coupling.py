"""Coupling of the per-segment rhizosphere models to the 3D soil model.

Scheme (sequential, one-step lag; mass-conservative; independent of the 3D cell size)
-------------------------------------------------------------------------------------
The 3D model holds all soil phosphate and citrate. The 1D models are sub-grid
closures: they resolve the steep radial profiles next to each root segment, which set
the concentration at the root surface and hence the Michaelis–Menten uptake and the
citrate-driven P desorption there. Every geometric quantity that links the two is
defined by the root system and fixed physical lengths, never by the 3D cells, so that
refining the 3D grid refines the far field and leaves the model unchanged:

* ``r1`` (outer radius of a segment's cylinder) is half the mean inter-root distance,
  ``1/sqrt(pi RLD)``, with the root length density taken over a fixed **support**
  grid of cells of ``rld_support_cm`` (default 1 cm: the scale over which roots count
  as neighbours), length-weighted over the support cells the segment crosses, floored
  at ``min_r1_factor * r0`` and capped at the support size
  (:func:`~rhizoscale.nutrients.cylinders.support_outer_radius`);
* "the soil a cylinder stands for" is the soil within ``r1`` of the segment (the share
  of the cylinder in each 3D cell, :func:`~rhizoscale.nutrients.cylinders.cylinder_cell_weights`);
* the outer boundary value of a cylinder is the 3D solution concentration averaged
  over the cylinder surface at distance ``r1`` (trilinear interpolation,
  :func:`~rhizoscale.nutrients.cylinders.ring_interpolation_weights`);
* exuded citrate enters the 3D soil over the root's own cross-section (the cylinder
  of radius ``r0``), where it physically crosses into the soil. A line source of zero
  thickness would make the 3D field near the root logarithmically singular, so the 3D
  cells at the root would never converge; a source of the root's own radius has a
  converging 3D field everywhere, identical to the line source's beyond ``r0``. On
  grids coarser than the root it falls in the cells the segment crosses, as a line
  source would;
* P taken up is charged to the soil within ``r1`` (the soil the cylinder's totals are
  matched to, step 2), in proportion to what each cell holds there: the root takes
  what its 1D model says lies within ``r1``. Charging it to the root's cross-section
  instead fails on fine grids (the few cells under the root run empty while the 1D
  model, matched to the P within ``r1``, keeps taking P, at any step size).

As the 3D cells shrink, the 3D field at distance ``r1`` and its integral within ``r1``
converge, and with them the boundary values and totals handed to the 1D models, hence
the root-surface fluxes and the uptake (``bench_nutrients.py --convergence``).

Each coupling step ``t -> t + dt``:

1. segments created by ``t + dt`` are activated; ``r1`` is recomputed from the support
   RLD of the active segments; cylinders whose ``r1`` moved by more than 2 % are
   re-gridded (and their soil weights recomputed); new cylinders start uniform at the
   3D solution concentration at distance ``r1`` around them;
2. the 3D model is the ledger of all soil P and citrate; the 1D models provide the
   shape of the near-root profiles. Each cylinder's totals are rescaled, species by
   species (multiplying the totals, which keeps them non-negative and the profile's
   shape), so that its mean equals the mean total of the 3D soil within ``r1`` of the
   segment: a cylinder never holds more or less than the soil it stands for, even
   where cylinders of neighbouring roots overlap;
3. every 1D model advances over ``dt`` (implicit, own sub-steps if needed) with its
   outer concentration held at the 3D value at ``r1`` at time ``t`` (the lag);
4. the root-surface exchange integrated over the step (µmol) is the 3D source:
   citrate exuded over the cells the root's cross-section occupies, P taken up from
   the soil within ``r1`` (by share x total P held there, so a cell that holds nothing
   is not charged); the 3D model advances over ``dt``;
5. if the 3D step fails (a concentration would turn negative, e.g. roots taking more P
   from a cell than it holds because the step is too long for the lag) both models
   are reset to time ``t`` and the step is halved; every reduction is reported.

Because only the root-surface fluxes cross between the models, and the spreading
weights of every segment sum to exactly 1 (parts beyond a wall are mirrored back into
the box), the global balance ``M3D(t) - M3D(0) = exuded - taken up - decayed(3D)``
holds to the solver tolerance; it is reported for every step. Each 1D model also
balances on its own (storage change = root-surface flux - flux through r1 - decay).

Units: µmol, cm, s inside; root system times in days are converted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, RhizoscaleError
from ..core.grid import RegularGrid, segment_cell_lengths
from ..core.units import SECONDS_PER_DAY
from .cylinders import (
    cylinder_cell_weights,
    ring_interpolation_weights,
    support_outer_radius,
)
from .parameters import CitrateParameters, PhosphateParameters, SoilParameters
from .rhizosphere import RhizosphereConstants, RhizosphereModels
from .soil3d import SoilModel3D

__all__ = ["CoupledUptakeModel", "StepRecord", "SECONDS_PER_DAY"]



@dataclass
class StepRecord:
    """Budget after one coupling step (cumulative amounts in µmol).

    Attributes
    ----------
    time_s, dt_s : float
        Time at the end of the step and the step [s].
    n_segments : int
        Active root segments (rhizosphere models).
    uptake : float
        Phosphate taken up since the start [µmol].
    exudation : float
        Citrate exuded since the start [µmol].
    decay : (2,) array
        Phosphate and citrate decomposed since the start [µmol].
    mass : (2,) array
        Amounts in the soil (3D model plus rhizospheres) [µmol].
    balance_error : (2,) array
        Relative mass-balance error per species [1].
    reductions : int
        Step reductions (halvings) this step needed.
    warnings : list of str
        What went wrong and was handled.

    Examples
    --------
    Made by :meth:`CoupledUptakeModel.step`:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.plant import RootSystem
    >>> from rhizoscale.nutrients import load_citrate, load_phosphate, load_soil
    >>> s = np.linspace(0, 1, 11)
    >>> tap = np.stack([np.full(11, 1.0), np.full(11, 0.5), -0.2 - 3 * s], axis=1)    # [cm]
    >>> roots = RootSystem.from_polylines([tap], [2 * s], [0.05])    # 3 cm grown in 2 d
    >>> grid = RegularGrid.from_resolution((0, 0, -4), (2, 1, 0), 0.5)
    >>> model = CoupledUptakeModel(roots, grid, load_soil(), load_phosphate(), load_citrate(),
    ...                            n_radial_cells=8)
    >>> for _ in range(4):
    ...     record = model.step(6 * 3600.0)                         # 6 h steps [s]
    >>> record.time_s, record.n_segments, round(record.uptake, 6)      # [s], [1], [umol]
    (86400.0, 5, 0.002349)
    >>> bool(np.all(np.abs(record.balance_error) < 1e-12))
    True
    """

    time_s: float
    dt_s: float
    n_segments: int
    uptake: float
    exudation: float
    decay: np.ndarray
    mass: np.ndarray
    balance_error: np.ndarray  # relative, per species
    reductions: int = 0
    warnings: list = field(default_factory=list)


def clip_segments_to_box(a, b, lower, upper):
    """End points of the parts of segments ``a -> b`` (shape (n, 3), cm) inside a box.

    A segment meets a box in one interval of its parameter (the box is convex), found
    by clipping against the three slabs (Liang–Barsky). Segments that miss the box come
    back with both ends at the same point.

    Parameters
    ----------
    a, b : (n, 3) arrays
        Segment end points (x, y, z) [cm].
    lower, upper : 3 floats
        Box corners [cm].

    Returns
    -------
    a, b : (n, 3) arrays
        End points of the parts inside [cm].

    References
    ----------
    Liang, Y.-D., & Barsky, B. A. (1984). A new concept and method for line clipping.
    ACM Transactions on Graphics, 3(1), 1-22.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[-1.0, 0.5, -0.5], [5.0, 5.0, 5.0]])
    >>> b = np.array([[2.0, 0.5, -0.5], [6.0, 6.0, 6.0]])    # the second misses the box
    >>> clip_segments_to_box(a, b, (0, 0, -1), (1, 1, 0))
    (array([[ 0. ,  0.5, -0.5],
           [ 5. ,  5. ,  5. ]]), array([[ 1. ,  0.5, -0.5],
           [ 5. ,  5. ,  5. ]]))
    """
    a = np.asarray(a, float)
    d = np.asarray(b, float) - a
    t0 = np.zeros(len(a))
    t1 = np.ones(len(a))
    for axis in range(3):
        da = d[:, axis]
        moving = da != 0.0
        safe = np.where(moving, da, 1.0)
        ta = (lower[axis] - a[:, axis]) / safe
        tb = (upper[axis] - a[:, axis]) / safe
        t0 = np.where(moving, np.maximum(t0, np.minimum(ta, tb)), t0)
        t1 = np.where(moving, np.minimum(t1, np.maximum(ta, tb)), t1)
    t1 = np.maximum(t1, t0)
    return a + t0[:, None] * d, a + t1[:, None] * d


def _apply_rows(op: sp.csr_matrix, values: np.ndarray, n: int) -> np.ndarray:
    """``(op @ values.T)[:n]`` for per-cell fields ``values`` (2, n_cells), one species at a
    time (SciPy would copy the transposed fields on every call)."""
    return np.stack([op @ values[0], op @ values[1]], axis=1)[:n]


class CoupledUptakeModel:
    """Phosphate uptake by a growing, citrate-exuding root system.

    Parameters
    ----------
    root_system : RootSystem
        Timed architecture (cm, d).
    grid : RegularGrid
        The 3D soil box (cm); roots must lie inside it.
    soil, phosphate, citrate : parameter sets
    n_radial_cells : int
        Radial cells per rhizosphere model.
    exudation : bool
        Switch citrate exudation on or off (off: the reference without exudation).
    diffusivity : callable, optional
        Effective diffusivity model for the 3D and 1D models (default Millington–Quirk).
    outside : {"error", "exclude"}
        What to do with root segments (partly) outside the box.
    rld_support_cm : float
        Size of the fixed averaging cells over which the root length density that
        sets ``r1`` is taken [cm] (independent of the 3D grid).
    min_r1_factor : float
        Floor of ``r1 / r0``.
    match_soil_totals : bool
        Rescale every rhizosphere profile at the start of each step so that the
        cylinder holds, on average, what the 3D soil within ``r1`` holds (step 2 of the
        scheme). Without it the cylinders keep their own content and can keep feeding
        uptake from soil the 3D model has already depleted (only for comparison).

    References
    ----------
    .. [1] Schnepf, A., Leitner, D., & Klepsch, S. (2012). Modeling phosphorus uptake by
       a growing and exuding root system. Vadose Zone Journal, 11(3).

    Examples
    --------
    One taproot growing through a small box for a day, exuding citrate:

    >>> import numpy as np
    >>> from rhizoscale.grid import RegularGrid
    >>> from rhizoscale.plant import RootSystem
    >>> from rhizoscale.nutrients import load_citrate, load_phosphate, load_soil
    >>> s = np.linspace(0, 1, 11)
    >>> tap = np.stack([np.full(11, 1.0), np.full(11, 0.5), -0.2 - 3 * s], axis=1)    # [cm]
    >>> roots = RootSystem.from_polylines([tap], [2 * s], [0.05])    # 3 cm grown in 2 d
    >>> grid = RegularGrid.from_resolution((0, 0, -4), (2, 1, 0), 0.5)
    >>> model = CoupledUptakeModel(roots, grid, load_soil(), load_phosphate(), load_citrate(),
    ...                            n_radial_cells=8)
    >>> for _ in range(4):
    ...     record = model.step(6 * 3600.0)                         # 6 h steps [s]
    >>> round(record.uptake, 6), round(record.exudation, 5)            # [umol]
    (0.002349, 0.04886)
    >>> bool(np.abs(record.balance_error).max() < 1e-12)               # phosphate, citrate
    True
    """

    def __init__(self, root_system, grid: RegularGrid, soil: SoilParameters, phosphate: PhosphateParameters,
                 citrate: CitrateParameters, *, n_radial_cells: int = 12, exudation: bool = True,
                 diffusivity=None, outside: str = "error", rld_support_cm: float = 1.0,
                 min_r1_factor: float = 3.0, match_soil_totals: bool = True):
        self.grid = grid
        self.soil = soil
        self.phosphate = phosphate
        self.citrate = citrate
        self.warnings: list[str] = []
        self.soil3d = SoilModel3D(
            grid, theta=soil.water_content, porosity=soil.porosity, bulk_density=soil.bulk_density,
            smax=(soil.smax_phosphate, soil.smax_citrate), affinity=(soil.k_phosphate, soil.k_citrate),
            d_water=(phosphate.d_water, citrate.d_water), decay=(0.0, citrate.decay_rate),
            diffusivity=diffusivity, initial=(soil.initial_phosphate, 0.0))
        deff = self.soil3d.effective_diffusivity
        if any(np.ndim(d) != 0 for d in deff):
            # the radial models need one number: use the mean of the principal values
            deff = [float(np.mean(np.diag(d)) if np.ndim(d) == 2 else np.mean(d)) for d in deff]
        self.constants = RhizosphereConstants(
            theta=soil.water_content, bulk_density=soil.bulk_density,
            smax=(soil.smax_phosphate, soil.smax_citrate), affinity=(soil.k_phosphate, soil.k_citrate),
            diffusivity=(float(deff[0]), float(deff[1])), decay=(0.0, citrate.decay_rate),
            imax=phosphate.imax, km=phosphate.km, cmin=phosphate.cmin)
        self.exudation_on = bool(exudation)
        self.match_soil_totals = bool(match_soil_totals)
        if not (np.isfinite(rld_support_cm) and rld_support_cm > 0):
            raise InputError(f"rld_support_cm must be > 0, got {rld_support_cm}", field="rld_support_cm")
        if not (np.isfinite(min_r1_factor) and min_r1_factor > 1):
            raise InputError(f"min_r1_factor must be > 1, got {min_r1_factor}", field="min_r1_factor")
        self.rld_support_cm = float(rld_support_cm)
        self.min_r1_factor = float(min_r1_factor)
        self.support = RegularGrid.from_resolution(grid.lower, grid.upper, self.rld_support_cm)

        # ---- segments, sorted by creation time (active segments are a prefix)
        rs = root_system
        order = np.argsort(rs.segment_time, kind="stable")
        seg = rs.segments[order]
        self.seg_a = rs.nodes[seg[:, 0]]
        self.seg_b = rs.nodes[seg[:, 1]]
        self.seg_time_s = rs.segment_time[order] * SECONDS_PER_DAY
        self.seg_radius = rs.segment_radius[order]
        self.seg_root = rs.segment_root[order]
        self.seg_length = rs.segment_lengths[order]
        if np.any(self.seg_radius <= 0):
            raise InputError("every root segment needs a positive radius", field="radius")
        # arc position (cm from the root's base) of each segment's distal end, for tip zones
        lengths_orig = rs.segment_lengths
        root_orig = rs.segment_root
        time_orig = rs.segment_time
        arc = np.zeros(len(lengths_orig))
        for r in range(rs.n_roots):  # once at set-up, not in the time loop
            idx = np.flatnonzero(root_orig == r)
            idx = idx[np.argsort(time_orig[idx], kind="stable")]
            arc[idx] = np.cumsum(lengths_orig[idx])
        self.seg_arc = arc[order]

        pieces_seg, pieces_cell, pieces_len = segment_cell_lengths(grid, self.seg_a, self.seg_b)
        inside = np.bincount(pieces_seg, weights=pieces_len, minlength=len(order))
        out = self.seg_length - inside > 1e-9 * np.maximum(self.seg_length, 1.0)
        if np.any(out):
            k = int(np.argmax(out))
            where = np.round(self.seg_b[k], 3).tolist()
            msg = (f"{int(out.sum())} root segment(s) lie partly or wholly outside the soil box "
                   f"{grid.lower}-{grid.upper} cm (first at {where} cm, day "
                   f"{self.seg_time_s[k] / SECONDS_PER_DAY:.2f})")
            if outside == "error":
                raise InputError(msg + "; confine the roots to the rhizotron or enlarge the box",
                                 field="root_system")
            self.warnings.append(msg + "; only the parts inside take up and exude")
        keep = inside > 0
        # drop segments wholly outside; renumber pieces
        new_index = np.cumsum(keep) - 1
        for name in ("seg_a", "seg_b", "seg_time_s", "seg_radius", "seg_root", "seg_arc"):
            setattr(self, name, getattr(self, name)[keep])
        part = out[keep]
        if np.any(part):  # cut partly outside segments to their part in the box
            self.seg_a[part], self.seg_b[part] = clip_segments_to_box(
                self.seg_a[part], self.seg_b[part], grid.lower, grid.upper)
        self.seg_length = inside[keep]
        self.original_segment = order[keep]
        self.piece_seg = new_index[pieces_seg]
        self.piece_cell = pieces_cell
        self.piece_frac = pieces_len / self.seg_length[self.piece_seg]
        self.piece_len = pieces_len
        ps = np.argsort(self.piece_seg, kind="stable")
        self.piece_seg, self.piece_cell = self.piece_seg[ps], self.piece_cell[ps]
        self.piece_frac, self.piece_len = self.piece_frac[ps], self.piece_len[ps]
        self.n_total = len(self.seg_length)
        # where each segment's root-surface fluxes enter the soil: its own cross-section
        ds, dc, dw = cylinder_cell_weights(grid, self.seg_a, self.seg_b, self.seg_radius)
        self.dep_seg, self.dep_cell, self.dep_w = ds, dc, dw
        # soil within r1 (totals) and at r1 (boundary values); rebuilt where r1 moves
        self._kernel_r1 = np.zeros(self.n_total)
        self._disk = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        self._ring = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        self._disk_op = sp.csr_matrix((self.n_total, grid.n_cells))
        self._ring_op = sp.csr_matrix((self.n_total, grid.n_cells))

        self.rhizo = RhizosphereModels(self.constants, n_cells=n_radial_cells, capacity=max(self.n_total, 1))
        self.time = 0.0
        self.mass0 = self.soil3d.mass()
        self.cum_uptake = 0.0
        self.cum_exudation = 0.0
        self.cum_decay = np.zeros(2)
        self.segment_uptake = np.zeros(self.n_total)  # µmol per segment, cumulative
        self.segment_exudation = np.zeros(self.n_total)
        self.last_record: StepRecord | None = None   # of the last step (for recorders)

    # ------------------------------------------------------------------ helpers
    def _n_active(self, t: float) -> int:
        return int(np.searchsorted(self.seg_time_s, t, side="right"))

    def outer_radius(self, n: int) -> np.ndarray:
        """``r1 = 1/sqrt(pi RLD)`` [cm] of the first ``n`` segments, RLD over the fixed support."""
        return support_outer_radius(self.support, self.seg_a[:n], self.seg_b[:n], self.seg_radius[:n],
                                    min_factor=self.min_r1_factor, max_radius=self.rld_support_cm)

    def _update_soil_kernels(self, index: np.ndarray, r1: np.ndarray) -> None:
        """Recompute the within-r1 and at-r1 weights of the segments ``index`` (radii ``r1``)."""
        if len(index) == 0:
            return
        self._kernel_r1[index] = r1
        redo = np.zeros(self.n_total, bool)
        redo[index] = True
        a, b = self.seg_a[index], self.seg_b[index]
        for name, fn in (("_disk", cylinder_cell_weights), ("_ring", ring_interpolation_weights)):
            s_old, c_old, w_old = getattr(self, name)
            keep = ~redo[s_old]
            s_new, c_new, w_new = fn(self.grid, a, b, r1)
            trip = (np.concatenate([s_old[keep], index[s_new]]), np.concatenate([c_old[keep], c_new]),
                    np.concatenate([w_old[keep], w_new]))
            setattr(self, name, trip)
            op = sp.csr_matrix((trip[2], (trip[0], trip[1])), shape=(self.n_total, self.grid.n_cells))
            setattr(self, name + "_op", op)

    def soil_at_r1(self, values: np.ndarray, n: int) -> np.ndarray:
        """Per-cell fields (2, n_cells) averaged over each cylinder surface at r1 -> (n, 2)."""
        return _apply_rows(self._ring_op, values, n)

    def soil_within_r1(self, values: np.ndarray, n: int) -> np.ndarray:
        """Per-cell fields (2, n_cells) averaged over the soil within r1 of each segment -> (n, 2)."""
        return _apply_rows(self._disk_op, values, n)

    def exudation_rates(self, n: int, t: float) -> np.ndarray:
        """Citrate efflux of the first ``n`` segments at time ``t`` [µmol cm-2 s-1]."""
        e = np.full(n, self.citrate.exudation_rate if self.exudation_on else 0.0)
        zone = self.citrate.exudation_zone
        if zone is not None and n:
            # distance of each segment behind its root's current tip
            tip_arc = np.zeros(int(self.seg_root.max()) + 1)
            np.maximum.at(tip_arc, self.seg_root[:n], self.seg_arc[:n])
            behind = tip_arc[self.seg_root[:n]] - self.seg_arc[:n]
            e = np.where(behind <= zone, e, 0.0)
        return e

    # ------------------------------------------------------------------ stepping
    def _try_step(self, dt: float) -> StepRecord | None:
        t1 = self.time + dt
        n_old = self.rhizo.n
        n = self._n_active(t1)
        saved = (self.rhizo.c[:n_old].copy(), self.rhizo.faces[:n_old].copy(), n_old,
                 self._kernel_r1.copy(), self._disk, self._ring, self._disk_op, self._ring_op)
        r1 = self.outer_radius(n)
        old_r1 = self.rhizo.faces[:n_old, -1]
        moved = np.abs(r1[:n_old] / old_r1 - 1.0) > 0.02 if n_old else np.zeros(0, bool)
        r1[:n_old] = np.where(moved, r1[:n_old], old_r1)
        self._update_soil_kernels(np.concatenate([np.flatnonzero(moved), np.arange(n_old, n)]),
                                  np.concatenate([r1[:n_old][moved], r1[n_old:n]]))
        cells = self.soil3d.c  # state at t (lagged outer condition)
        totals = self.soil3d.totals()
        cb = self.soil_at_r1(cells, n)
        if np.any(moved):
            self.rhizo.set_outer_radius(r1[:n_old], cb[:n_old])
        if n > n_old:
            self.rhizo.add(self.seg_radius[n_old:n], r1[n_old:n], cb[n_old:n])
        if self.match_soil_totals and n:
            self.rhizo.match_totals(self.soil_within_r1(totals, n))
        # a segment created during the step exudes for the part of the step it exists
        exist = np.clip((t1 - np.maximum(self.seg_time_s[:n], self.time)) / dt, 0.0, 1.0)
        out = self.rhizo.advance(dt, cb, self.exudation_rates(n, self.time) * exist)
        if out["failed"]:
            self._restore(saved)
            return None
        up = out["uptake"] * self.seg_length[:n]
        ex = out["exudation"] * self.seg_length[:n]
        src = np.zeros((2, self.grid.n_cells))
        # P taken up by a segment is charged to the soil its cylinder stands for (the soil
        # within r1, to which the cylinder's totals were matched), in proportion to what
        # each cell holds there (share x total P): the root takes what the 1D model says
        # is within r1, and a depleted cell is not charged for P held by its neighbours
        ds, dc, dw = self._disk
        m = ds < n
        ds, dc, dw = ds[m], dc[m], dw[m]
        held = dw * totals[0][dc]
        norm = np.bincount(ds, weights=held, minlength=n)
        pw = np.where(norm[ds] > 0, held / np.where(norm[ds] > 0, norm[ds], 1.0), dw)
        src[0] = -np.bincount(dc, weights=pw * up[ds], minlength=self.grid.n_cells) / dt
        # exuded citrate enters the soil where it crosses into it: over the root's own
        # cross-section (no positivity limit applies to a source)
        m = self.dep_seg < n
        ps, pc, pf = self.dep_seg[m], self.dep_cell[m], self.dep_w[m]
        src[1] = np.bincount(pc, weights=pf * ex[ps], minlength=self.grid.n_cells) / dt
        res = self.soil3d.step(dt, src)
        if res is None:
            self._restore(saved)
            return None
        self.time = t1
        self.cum_uptake += float(up.sum())
        self.cum_exudation += float(ex.sum())
        self.cum_decay += res["decay"]
        self.segment_uptake[:n] += up
        self.segment_exudation[:n] += ex
        mass = self.soil3d.mass()
        expected = self.mass0 + np.array([-self.cum_uptake, self.cum_exudation]) - self.cum_decay
        scale = np.maximum(np.array([self.mass0[0], self.cum_exudation]), 1e-300)
        err = (mass - expected) / scale
        return StepRecord(t1, dt, n, self.cum_uptake, self.cum_exudation, self.cum_decay.copy(), mass, err)

    def _restore(self, saved) -> None:
        c, f, n_old, kr1, disk, ring, disk_op, ring_op = saved
        self.rhizo.c[:n_old] = c
        self.rhizo.faces[:n_old] = f
        self.rhizo.n = n_old
        self._kernel_r1, self._disk, self._ring = kr1, disk, ring
        self._disk_op, self._ring_op = disk_op, ring_op

    def step(self, dt: float, *, max_reductions: int = 10) -> StepRecord:
        """Advance by ``dt`` [s], halving the step when a sub-model fails (reported)."""
        done = 0.0
        reductions = 0
        h = dt
        notes = []
        rec = None
        while done < dt * (1 - 1e-12):
            h = min(h, dt - done)
            r = self._try_step(h)
            if r is None:
                if reductions >= max_reductions:
                    raise RhizoscaleError(
                        f"coupled step at t = {self.time / SECONDS_PER_DAY:.3f} d failed even with "
                        f"dt = {h:.3g} s: concentrations would become negative (check the uptake and "
                        "sorption parameters; Imax may exceed what the soil can supply)")
                reductions += 1
                h *= 0.5
                continue
            done += h
            rec = r
        if reductions:
            notes.append(f"coupling step at t = {self.time / SECONDS_PER_DAY:.3f} d reduced {reductions} "
                         f"time(s) to {h:.3g} s to keep concentrations non-negative")
        rec.dt_s = dt
        rec.reductions = reductions
        rec.warnings = notes
        self.last_record = rec
        return rec

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> dict:
        """Everything that changes while stepping (plain arrays; see
        :class:`rhizoscale.simulation.Simulation`). The set-up (segments, weights of the
        root cross-sections) is rebuilt from the root system and parameters."""
        n = self.rhizo.n
        return {
            "time": self.time, "cum_uptake": self.cum_uptake, "cum_exudation": self.cum_exudation,
            "cum_decay": self.cum_decay, "segment_uptake": self.segment_uptake,
            "segment_exudation": self.segment_exudation, "kernel_r1": self._kernel_r1,
            "disk": dict(zip(("seg", "cell", "w"), self._disk)),
            "ring": dict(zip(("seg", "cell", "w"), self._ring)),
            "rhizo": {"c": self.rhizo.c[:n], "faces": self.rhizo.faces[:n], "n": n,
                      "substeps": self.rhizo.substeps},
            "soil": {"c": self.soil3d.c, "newton_iterations": self.soil3d.newton_iterations,
                     "linear_sweeps": self.soil3d.linear_sweeps,
                     # the predictor's previous state and step (none: dt 0)
                     "c_previous": (self.soil3d.previous[0] if self.soil3d.previous is not None
                                    else np.zeros((2, 0))),
                     "dt_previous": (self.soil3d.previous[1] if self.soil3d.previous is not None
                                     else 0.0)},
            "n_total": self.n_total, "n_cells": self.grid.n_cells,
        }

    def restore_state(self, s: dict) -> None:
        """Continue from :meth:`checkpoint_state` (of a model built with the same inputs)."""
        if int(s["n_total"]) != self.n_total or int(s["n_cells"]) != self.grid.n_cells:
            raise InputError("the checkpoint belongs to another root system or grid", source="checkpoint")
        self.time = float(s["time"])
        self.cum_uptake, self.cum_exudation = float(s["cum_uptake"]), float(s["cum_exudation"])
        self.cum_decay = np.array(s["cum_decay"], dtype=float)
        self.segment_uptake = np.array(s["segment_uptake"], dtype=float)
        self.segment_exudation = np.array(s["segment_exudation"], dtype=float)
        self._kernel_r1 = np.array(s["kernel_r1"], dtype=float)
        for name in ("_disk", "_ring"):
            d = s[name[1:]]
            trip = (np.array(d["seg"], np.int64), np.array(d["cell"], np.int64), np.array(d["w"], float))
            setattr(self, name, trip)
            setattr(self, name + "_op", sp.csr_matrix((trip[2], (trip[0], trip[1])),
                                                      shape=(self.n_total, self.grid.n_cells)))
        n = int(s["rhizo"]["n"])
        self.rhizo.c[:n] = s["rhizo"]["c"]
        self.rhizo.faces[:n] = s["rhizo"]["faces"]
        self.rhizo.n = n
        self.rhizo.substeps = int(s["rhizo"]["substeps"])
        self.soil3d.c = np.array(s["soil"]["c"], dtype=float)
        self.soil3d.newton_iterations = int(s["soil"]["newton_iterations"])
        self.soil3d.linear_sweeps = int(s["soil"]["linear_sweeps"])
        dt_prev = float(s["soil"].get("dt_previous", 0.0))
        self.soil3d.previous = ((np.array(s["soil"]["c_previous"], dtype=float), dt_prev)
                                if dt_prev > 0 else None)

    def state(self) -> "xr.Dataset":
        """The model's state now as a Dataset with units: solution and total (dissolved +
        sorbed) concentrations of phosphate and citrate on the 3D grid [µmol cm-3], the
        cumulative uptake and exudation [µmol]; ``time`` [d] as a scalar coordinate."""
        import xarray as xr
        dims, shape = ("z", "y", "x"), self.grid.shape
        c, tot = self.soil3d.c, self.soil3d.totals()
        return xr.Dataset(
            {"phosphate": (dims, c[0].reshape(shape), {"units": "umol cm-3",
                                                       "long_name": "phosphate in soil solution"}),
             "citrate": (dims, c[1].reshape(shape), {"units": "umol cm-3",
                                                     "long_name": "citrate in soil solution"}),
             "phosphate_total": (dims, tot[0].reshape(shape), {"units": "umol cm-3",
                                                               "long_name": "phosphate, dissolved + sorbed"}),
             "citrate_total": (dims, tot[1].reshape(shape), {"units": "umol cm-3",
                                                             "long_name": "citrate, dissolved + sorbed"}),
             "cumulative_uptake": ((), self.cum_uptake, {"units": "umol", "long_name": "P taken up"}),
             "cumulative_exudation": ((), self.cum_exudation, {"units": "umol",
                                                               "long_name": "citrate exuded"})},
            coords={**self.grid.coords(), "time": ((), self.time / SECONDS_PER_DAY, {"units": "d"})})

    # ------------------------------------------------------------------ outputs
    def profiles(self) -> dict[str, np.ndarray]:
        """Per-segment radial profiles of the active models: ``r`` (n, N+1) [cm],
        ``phosphate`` and ``citrate`` (n, N+1) solution concentrations [µmol cm-3]."""
        n = self.rhizo.n
        return {"r": self.rhizo.centres(), "phosphate": self.rhizo.c[:n, 0].copy(),
                "citrate": self.rhizo.c[:n, 1].copy(), "segment": self.original_segment[:n]}
