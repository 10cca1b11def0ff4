"""The timed root architecture shared by every case study.

A :class:`RootSystem` stores what a root architecture model or a digitised root system
knows: node coordinates (cm), the time each node was created (d), which nodes form each
root (one polyline per root), and the branching topology. The system at any earlier time
is the part whose nodes existed then (:meth:`RootSystem.at`), and the path of a root tip
over time is its polyline parametrised by node creation times (:meth:`RootSystem.tip_path`).

Conventions
-----------
* Coordinates in cm, z pointing up; the soil surface is z = 0, roots grow to z < 0.
* Times in days since sowing. ``time`` is the age at which the system is observed.
* Each root owns its nodes (``root_nodes(i)``). A lateral root branches from node
  ``root_parent_node[i]`` of its parent; the segment that joins the branching node to the
  lateral's first node belongs to the lateral, and is left out when both points coincide
  (as in files whose laterals repeat the branching point), so no segment has zero length.
* ``root_order`` is 0 for roots from the seed, 1 for their laterals, and so on;
  ``root_type`` is the model's root type number (CPlantBox ``subType``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["RootSystem"]


def _as(a, dtype, shape_tail=()):
    arr = np.ascontiguousarray(np.asarray(a, dtype=dtype))
    return arr


@dataclass(frozen=True, eq=False)
class RootSystem:
    """Timed root architecture (see the module docstring for conventions).

    Parameters
    ----------
    nodes : (N, 3) float array
        Node coordinates [cm].
    node_time : (N,) float array
        Creation time of each node [d].
    node_radius : (N,) float array
        Root radius at each node [cm].
    root_node_ptr : (R + 1,) int array
        Root ``i`` owns nodes ``root_node_idx[root_node_ptr[i]:root_node_ptr[i+1]]``, base to tip.
    root_node_idx : (N,) int array
        Node indices of all roots, concatenated.
    root_parent : (R,) int array
        Parent root of each root, -1 for roots that start at the seed.
    root_parent_node : (R,) int array
        Node of the parent from which the root branches, -1 for roots from the seed.
    root_order : (R,) int array
        Topological order (0 = from the seed).
    root_type : (R,) int array
        Root type (CPlantBox ``subType``), for parameters and colouring.
    time : float
        Age at observation [d]; defaults to the latest node time.
    root_plant : (R,) int array, optional
        Plant of each root (several plants per scene in RSML); zeros by default.
    metadata : dict
        Free-form provenance (software, parameter set, seed, units).

    See Also
    --------
    RootSystem.from_polylines : build one from one polyline per root.
    rhizoscale.plant.grow_root_system : grow one.
    rhizoscale.io.rsml.read_rsml : read one from RSML.

    Examples
    --------
    >>> from rhizoscale.plant import grow_root_system
    >>> rs = grow_root_system("vicia_faba", days=10, seed=1)
    >>> rs
    RootSystem(78 roots, 735 segments, 130.7 cm, age 10 d)
    >>> rs.at(5.0)                                 # the same system on day 5
    RootSystem(1 roots, 74 segments, 10.4 cm, age 5 d)
    >>> rs.summary()["roots_per_order"]
    [1, 48, 29]
    """

    nodes: np.ndarray
    node_time: np.ndarray
    node_radius: np.ndarray
    root_node_ptr: np.ndarray
    root_node_idx: np.ndarray
    root_parent: np.ndarray
    root_parent_node: np.ndarray
    root_order: np.ndarray
    root_type: np.ndarray
    time: float | None = None
    root_plant: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "nodes", _as(self.nodes, np.float64).reshape(-1, 3))
        n = len(self.nodes)
        set_(self, "node_time", _as(self.node_time, np.float64).reshape(-1))
        set_(self, "node_radius", _as(self.node_radius, np.float64).reshape(-1))
        for name in ("root_node_ptr", "root_node_idx", "root_parent", "root_parent_node",
                     "root_order", "root_type"):
            set_(self, name, _as(getattr(self, name), np.int64).reshape(-1))
        r = len(self.root_node_ptr) - 1
        if self.root_plant is None:
            set_(self, "root_plant", np.zeros(r, dtype=np.int64))
        else:
            set_(self, "root_plant", _as(self.root_plant, np.int64).reshape(-1))
        src = self.metadata.get("source", "root system")
        if len(self.node_time) != n or len(self.node_radius) != n:
            raise InputError("node_time and node_radius must have one value per node", source=src)
        for name in ("root_parent", "root_parent_node", "root_order", "root_type", "root_plant"):
            if len(getattr(self, name)) != r:
                raise InputError(f"{name} must have one value per root", source=src, field=name)
        if r < 0 or self.root_node_ptr[0] != 0 or self.root_node_ptr[-1] != len(self.root_node_idx):
            raise InputError("root_node_ptr does not index root_node_idx", source=src)
        if np.any(np.diff(self.root_node_ptr) < 1):
            raise InputError("every root needs at least one node", source=src, field="root_node_ptr")
        if len(self.root_node_idx) != n or (n and not np.array_equal(np.sort(self.root_node_idx), np.arange(n))):
            raise InputError("every node must belong to exactly one root", source=src)
        if not np.all(np.isfinite(self.nodes)):
            raise InputError("node coordinates must be finite", source=src, field="nodes")
        if not np.all(np.isfinite(self.node_time)) or np.any(self.node_time < 0):
            raise InputError("node times must be finite and >= 0", source=src, field="node_time")
        if not np.all(np.isfinite(self.node_radius)) or np.any(self.node_radius < 0):
            raise InputError("root radii must be finite and >= 0", source=src, field="radius")
        bad = (self.root_parent >= r) | (self.root_parent < -1)
        if np.any(bad):
            raise InputError("parent root index out of range", source=src, field="root_parent")
        has_parent = self.root_parent >= 0
        if np.any(has_parent & ((self.root_parent_node < 0) | (self.root_parent_node >= n))):
            raise InputError("a lateral root needs a valid branching node", source=src,
                             field="root_parent_node")
        if self.time is None:
            set_(self, "time", float(self.node_time.max()) if n else 0.0)
        else:
            set_(self, "time", float(self.time))
        for arr in (self.nodes, self.node_time, self.node_radius, self.root_node_ptr,
                    self.root_node_idx, self.root_parent, self.root_parent_node, self.root_order,
                    self.root_type, self.root_plant):
            arr.flags.writeable = False
        self._build_topology()

    def _build_topology(self) -> None:
        """Predecessor of each node and the segment list (derived, cached)."""
        n = len(self.nodes)
        counts = np.diff(self.root_node_ptr)
        root_of_slot = np.repeat(np.arange(self.n_roots), counts)
        first = np.zeros(len(self.root_node_idx), dtype=bool)
        first[self.root_node_ptr[:-1]] = True
        prev = np.full(n, -1, dtype=np.int64)
        idx = self.root_node_idx
        prev[idx[~first]] = idx[np.flatnonzero(~first) - 1]
        prev[idx[first]] = self.root_parent_node[root_of_slot[first]]
        node_root = np.empty(n, dtype=np.int64)
        node_root[idx] = root_of_slot
        distal = np.flatnonzero(prev >= 0)
        proximal = prev[distal]
        # a lateral whose first point repeats its branching point gets no zero-length segment
        length = np.linalg.norm(self.nodes[distal] - self.nodes[proximal], axis=1)
        keep = length > 0
        object.__setattr__(self, "_prev", prev)
        object.__setattr__(self, "_node_root", node_root)
        object.__setattr__(self, "_segments", np.stack([proximal[keep], distal[keep]], axis=1))
        for arr in (prev, node_root, self._segments):
            arr.flags.writeable = False
        t_prev = np.where(prev >= 0, self.node_time[np.maximum(prev, 0)], -np.inf)
        if np.any(self.node_time < t_prev - 1e-9):
            bad = int(np.argmax(self.node_time < t_prev - 1e-9))
            raise InputError(
                f"node {bad} (root {node_root[bad]}) is older than the node before it; "
                "node times must not decrease from base to tip",
                source=self.metadata.get("source", "root system"), field="node_time",
            )

    @classmethod
    def from_polylines(
        cls,
        polylines: Sequence[np.ndarray],
        times: Sequence[np.ndarray],
        radii: Sequence[np.ndarray] | Sequence[float] | float,
        parents: Sequence[int] | None = None,
        parent_nodes: Sequence[int] | None = None,
        root_types: Sequence[int] | None = None,
        time: float | None = None,
        plants: Sequence[int] | None = None,
        metadata: dict | None = None,
    ) -> "RootSystem":
        """Build a root system from one polyline per root.

        Parameters
        ----------
        polylines : list of (n_i, 3) arrays
            Node coordinates of each root, base to tip [cm].
        times : list of (n_i,) arrays
            Node creation times [d].
        radii : float, list of floats (per root) or list of (n_i,) arrays
            Radius [cm].
        parents : list of int, optional
            Parent root index per root (-1 for roots from the seed). Parents must come
            before their laterals.
        parent_nodes : list of int, optional
            Index *within the parent's polyline* of the branching node. When omitted, the
            parent node nearest to the lateral's first point is used.
        root_types : list of int, optional
            Root type per root; defaults to ``order + 1``.
        time : float, optional
            Age at observation [d].

        plants : list of int, optional
            Plant of each root (several plants per scene); zeros by default.
        metadata : dict, optional
            Provenance.

        Returns
        -------
        RootSystem

        Raises
        ------
        InputError
            Inconsistent lengths, non-finite values, a parent after its lateral, or node times
            that decrease from base to tip.

        Examples
        --------
        A taproot growing 1 cm d-1 with one lateral from its node at 2 cm (day 2):

        >>> import numpy as np
        >>> from rhizoscale import RootSystem
        >>> tap = np.array([[0, 0, 0], [0, 0, -1], [0, 0, -2], [0, 0, -3]], float)
        >>> lateral = np.array([[0.5, 0, -2], [1.0, 0, -2]])
        >>> rs = RootSystem.from_polylines([tap, lateral], [np.array([0., 1., 2., 3.]), np.array([2.5, 3.0])],
        ...                                [0.05, 0.02], parents=[-1, 0], parent_nodes=[None, 2])
        >>> rs.n_roots, rs.total_length(), rs.root_order.tolist()
        (2, 4.0, [0, 1])
        """
        r = len(polylines)
        parents = [-1] * r if parents is None else list(parents)
        if len(times) != r or len(parents) != r:
            raise InputError("polylines, times and parents must have one entry per root")
        pts, tms, rad, ptr = [], [], [], [0]
        parent_node_global = np.full(r, -1, dtype=np.int64)
        order = np.zeros(r, dtype=np.int64)
        offset = 0
        for i in range(r):
            p = np.asarray(polylines[i], dtype=float).reshape(-1, 3)
            t = np.asarray(times[i], dtype=float).reshape(-1)
            if len(p) == 0 or len(t) != len(p):
                raise InputError(f"root {i}: needs at least one point and one time per point")
            if np.isscalar(radii):
                a = np.full(len(p), float(radii))
            else:
                ri = radii[i]
                a = np.full(len(p), float(ri)) if np.ndim(ri) == 0 else np.asarray(ri, float)
            if len(a) != len(p):
                raise InputError(f"root {i}: one radius per point expected")
            par = parents[i]
            if par >= i:
                raise InputError(f"root {i}: parent {par} must come before its laterals")
            if par >= 0:
                order[i] = order[par] + 1
                pstart, pend = ptr[par], ptr[par + 1]
                if parent_nodes is not None and parent_nodes[i] is not None and parent_nodes[i] >= 0:
                    local = int(parent_nodes[i])
                    if local >= pend - pstart:
                        raise InputError(f"root {i}: branching node {local} beyond its parent's nodes")
                else:
                    d = np.linalg.norm(np.concatenate(pts)[pstart:pend] - p[0], axis=1)
                    local = int(np.argmin(d))
                parent_node_global[i] = pstart + local
            pts.append(p)
            tms.append(t)
            rad.append(a)
            offset += len(p)
            ptr.append(offset)
        types = order + 1 if root_types is None else np.asarray(root_types, dtype=np.int64)
        nodes = np.concatenate(pts) if pts else np.zeros((0, 3))
        return cls(
            nodes=nodes,
            node_time=np.concatenate(tms) if tms else np.zeros(0),
            node_radius=np.concatenate(rad) if rad else np.zeros(0),
            root_node_ptr=np.asarray(ptr),
            root_node_idx=np.arange(len(nodes)),
            root_parent=np.asarray(parents),
            root_parent_node=parent_node_global,
            root_order=order,
            root_type=types,
            time=time,
            root_plant=None if plants is None else np.asarray(plants),
            metadata=dict(metadata or {}),
        )

    # ------------------------------------------------------------------ sizes
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_roots(self) -> int:
        return len(self.root_node_ptr) - 1

    @property
    def n_segments(self) -> int:
        return len(self._segments)

    # ------------------------------------------------------------------ per-root access
    def root_nodes(self, i: int) -> np.ndarray:
        """Node indices owned by root ``i``, base to tip."""
        return self.root_node_idx[self.root_node_ptr[i]:self.root_node_ptr[i + 1]]

    def root_polyline(self, i: int, with_base: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates [cm] and times [d] of root ``i``, starting at its branching node."""
        idx = self.root_nodes(i)
        if with_base and self.root_parent_node[i] >= 0:
            idx = np.concatenate([[self.root_parent_node[i]], idx])
        return self.nodes[idx], self.node_time[idx]

    def tip_path(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Times [d] and positions [cm] of the tip of root ``i`` as it grew.

        The tip moves along the root's polyline and passes each node at its creation time;
        between nodes it moves at constant speed (linear interpolation in time). The first
        entry is the branching point at the time the root emerged.
        """
        pts, t = self.root_polyline(i)
        if self.root_parent_node[i] >= 0:
            t = t.copy()
            # a lateral emerges when its first own node starts to grow, not when its
            # branching node was created on the parent
            if len(t) > 1:
                t[0] = max(t[0], self._emergence_time(i))
        return t, pts

    def _emergence_time(self, i: int) -> float:
        idx = self.root_nodes(i)
        base = self.root_parent_node[i]
        # growth from the base to the first node took (distance / local speed); estimate the
        # speed from the next segment when there is one, else assume it started at the base time
        if len(idx) >= 2:
            d0 = np.linalg.norm(self.nodes[idx[0]] - self.nodes[base])
            d1 = np.linalg.norm(self.nodes[idx[1]] - self.nodes[idx[0]])
            dt1 = self.node_time[idx[1]] - self.node_time[idx[0]]
            if d1 > 0 and dt1 > 0:
                return float(self.node_time[idx[0]] - d0 * dt1 / d1)
        return float(self.node_time[base])

    def tip_positions(self, t: float) -> np.ndarray:
        """Tip position [cm] of every root at time ``t`` (NaN for roots not yet emerged)."""
        out = np.full((self.n_roots, 3), np.nan)
        for i in range(self.n_roots):
            tt, pts = self.tip_path(i)
            if t < tt[0]:
                continue
            for k in range(3):
                out[i, k] = np.interp(t, tt, pts[:, k])
        return out

    # ------------------------------------------------------------------ per-segment data
    @property
    def segments(self) -> np.ndarray:
        """(M, 2) node indices (proximal, distal) of every segment."""
        return self._segments

    @property
    def segment_lengths(self) -> np.ndarray:
        s = self._segments
        return np.linalg.norm(self.nodes[s[:, 1]] - self.nodes[s[:, 0]], axis=1)

    @property
    def segment_midpoints(self) -> np.ndarray:
        s = self._segments
        return 0.5 * (self.nodes[s[:, 0]] + self.nodes[s[:, 1]])

    @property
    def segment_time(self) -> np.ndarray:
        """Creation time of each segment [d] (the time its distal node appeared)."""
        return self.node_time[self._segments[:, 1]]

    @property
    def segment_radius(self) -> np.ndarray:
        """Radius of each segment [cm] (that of its distal node)."""
        return self.node_radius[self._segments[:, 1]]

    @property
    def segment_root(self) -> np.ndarray:
        """Root index of each segment."""
        return self._node_root[self._segments[:, 1]]

    @property
    def node_root(self) -> np.ndarray:
        """Root index of each node."""
        return self._node_root

    @property
    def node_parent(self) -> np.ndarray:
        """Predecessor of each node along its root (the branching node for a lateral's first node)."""
        return self._prev

    # ------------------------------------------------------------------ summaries
    def total_length(self, t: float | None = None) -> float:
        """Total root length [cm], at time ``t`` if given."""
        rs = self if t is None else self.at(t)
        return float(rs.segment_lengths.sum())

    def n_roots_at(self, t: float | None = None) -> int:
        """Number of roots that exist (have length > 0) at time ``t``."""
        return (self if t is None else self.at(t)).n_roots

    def root_lengths(self) -> np.ndarray:
        """Length of each root [cm] (including the segment from its branching point)."""
        return np.bincount(self.segment_root, weights=self.segment_lengths, minlength=self.n_roots)

    def depth_profile(self, edges: np.ndarray) -> np.ndarray:
        """Root length [cm] per depth layer, between ``edges`` (z values, cm, increasing).

        Segments are cut exactly at the layer boundaries.
        """
        edges = np.asarray(edges, dtype=float)
        s = self._segments
        z0, z1 = self.nodes[s[:, 0], 2], self.nodes[s[:, 1], 2]
        lo, hi = np.minimum(z0, z1), np.maximum(z0, z1)
        length = self.segment_lengths
        dz = hi - lo
        out = np.zeros(len(edges) - 1)
        for k in range(len(edges) - 1):
            overlap = np.clip(np.minimum(hi, edges[k + 1]) - np.maximum(lo, edges[k]), 0, None)
            frac = np.where(dz > 0, overlap / np.where(dz > 0, dz, 1),
                            ((lo >= edges[k]) & (lo < edges[k + 1])).astype(float))
            out[k] = np.sum(frac * length)
        return out

    # ------------------------------------------------------------------ time slicing
    def at(self, t: float) -> "RootSystem":
        """The root system as it was at time ``t`` [d].

        Nodes created at or before ``t`` are kept; a root tip growing at ``t`` gets one extra
        node, interpolated between its last node and the next, so length grows continuously
        in time. Roots that had not emerged by ``t`` are left out.

        Examples
        --------
        >>> import numpy as np
        >>> from rhizoscale import RootSystem
        >>> root = RootSystem.from_polylines([np.array([[0, 0, 0], [0, 0, -2.0]])], [np.array([0.0, 2.0])], 0.05)
        >>> root.at(0.5).total_length()                 # the tip is interpolated between nodes
        0.5
        """
        t = float(t)
        if t >= self.node_time.max(initial=0.0):
            return self if t == self.time else self._with_time(t)
        nt, prev = self.node_time, self._prev
        keep = nt <= t
        t_prev = np.where(prev >= 0, nt[np.maximum(prev, 0)], np.inf)
        partial = (~keep) & (prev >= 0) & (t_prev <= t)
        # new coordinates for the interpolated tips
        p = np.maximum(prev, 0)
        span = nt - t_prev
        frac = np.where(partial & (span > 0), (t - t_prev) / np.where(span > 0, span, 1), 0.0)
        pos = self.nodes.copy()
        pos[partial] = self.nodes[p[partial]] + frac[partial, None] * (self.nodes[partial] - self.nodes[p[partial]])
        time = nt.copy()
        time[partial] = t
        rad = self.node_radius
        moved = np.linalg.norm(pos - self.nodes[p], axis=1) > 0
        include = keep | (partial & (frac > 0) & moved)
        # a root exists at t if it owns an included node
        node_root = self._node_root
        root_alive = np.zeros(self.n_roots, dtype=bool)
        root_alive[node_root[include]] = True
        # keep laterals only if their branching node exists
        pn = self.root_parent_node
        root_alive &= (pn < 0) | include[np.maximum(pn, 0)]
        include &= root_alive[node_root]
        new_index = np.full(self.n_nodes, -1, dtype=np.int64)
        order_nodes = self.root_node_idx[include[self.root_node_idx]]
        new_index[order_nodes] = np.arange(len(order_nodes))
        counts = np.bincount(node_root[order_nodes], minlength=self.n_roots)[root_alive]
        new_root = np.full(self.n_roots, -1, dtype=np.int64)
        new_root[root_alive] = np.arange(root_alive.sum())
        parent = self.root_parent[root_alive]
        return RootSystem(
            nodes=pos[order_nodes],
            node_time=time[order_nodes],
            node_radius=rad[order_nodes],
            root_node_ptr=np.concatenate([[0], np.cumsum(counts)]),
            root_node_idx=np.arange(len(order_nodes)),
            root_parent=np.where(parent >= 0, new_root[np.maximum(parent, 0)], -1),
            root_parent_node=np.where(pn[root_alive] >= 0, new_index[np.maximum(pn[root_alive], 0)], -1),
            root_order=self.root_order[root_alive],
            root_type=self.root_type[root_alive],
            time=t,
            root_plant=self.root_plant[root_alive],
            metadata=dict(self.metadata),
        )

    def _with_time(self, t: float) -> "RootSystem":
        return RootSystem(
            nodes=self.nodes, node_time=self.node_time, node_radius=self.node_radius,
            root_node_ptr=self.root_node_ptr, root_node_idx=self.root_node_idx,
            root_parent=self.root_parent, root_parent_node=self.root_parent_node,
            root_order=self.root_order, root_type=self.root_type, time=t,
            root_plant=self.root_plant, metadata=dict(self.metadata),
        )

    def renumbered(self, root_order: np.ndarray | None = None) -> "RootSystem":
        """A copy with roots in ``root_order`` (parents first) and nodes numbered root by root.

        Node numbering is an internal detail (a growth model may number nodes by creation
        time); two systems with equal roots, in the same order, are equal after renumbering.
        """
        order = np.arange(self.n_roots) if root_order is None else np.asarray(root_order, dtype=np.int64)
        if sorted(order.tolist()) != list(range(self.n_roots)):
            raise InputError("root_order must be a permutation of the roots")
        new_root = np.empty(self.n_roots, dtype=np.int64)
        new_root[order] = np.arange(self.n_roots)
        parent = self.root_parent[order]
        if np.any((parent >= 0) & (new_root[np.maximum(parent, 0)] >= np.arange(self.n_roots))):
            raise InputError("root_order must put every parent before its laterals")
        idx = np.concatenate([self.root_nodes(i) for i in order]) if self.n_roots else np.zeros(0, int)
        new_node = np.empty(self.n_nodes, dtype=np.int64)
        new_node[idx] = np.arange(len(idx))
        counts = np.diff(self.root_node_ptr)[order]
        pn = self.root_parent_node[order]
        return RootSystem(
            nodes=self.nodes[idx], node_time=self.node_time[idx], node_radius=self.node_radius[idx],
            root_node_ptr=np.concatenate([[0], np.cumsum(counts)]),
            root_node_idx=np.arange(len(idx)),
            root_parent=np.where(parent >= 0, new_root[np.maximum(parent, 0)], -1),
            root_parent_node=np.where(pn >= 0, new_node[np.maximum(pn, 0)], -1),
            root_order=self.root_order[order], root_type=self.root_type[order], time=self.time,
            root_plant=self.root_plant[order], metadata=dict(self.metadata),
        )

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corner [cm] of the axis-aligned box around all nodes."""
        return self.nodes.min(axis=0), self.nodes.max(axis=0)

    def summary(self) -> dict:
        """Key figures (JSON-ready)."""
        lo, hi = self.bounds() if self.n_nodes else (np.zeros(3), np.zeros(3))
        return {
            "time_d": self.time,
            "n_roots": self.n_roots,
            "n_segments": self.n_segments,
            "total_length_cm": self.total_length(),
            "max_depth_cm": float(-lo[2]),
            "roots_per_order": np.bincount(self.root_order).tolist() if self.n_roots else [],
            "length_per_order_cm": np.bincount(
                self.root_order[self.segment_root], weights=self.segment_lengths
            ).tolist() if self.n_segments else [],
        }

    def __repr__(self) -> str:
        return (f"RootSystem({self.n_roots} roots, {self.n_segments} segments, "
                f"{self.total_length():.1f} cm, age {self.time:g} d)")
