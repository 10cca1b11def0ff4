"""Stochastic root architecture growth in the RootBox/CPlantBox tradition.

The rules (Leitner et al. 2010; Schnepf et al. 2018), stated as implemented here:

* **Realisation.** Each root draws its own parameters from its type's means and standard
  deviations (normal, clipped at 0): basal zone ``lb``, apical zone ``la``, growth rate
  ``r``, radius ``a``, insertion angle ``theta``. A root type with successors gets
  ``nob = max(int((lmax - la - lb)/ln + 1), 1)`` branching points (± the spread that error
  propagation of the standard deviations gives, as in CPlantBox) and ``nob - 1``
  inter-branch distances drawn from ``ln ± ln_sd``; its maximal length is
  ``K = lb + sum(ln_i) + la``. A type without successors has ``K = lmax ± lmax_sd``.
* **Growth law.** Length at age t: linear ``l = min(K, r t)`` (``gf = 2``) or negative
  exponential ``l = K (1 - exp(-r t / K))`` (``gf = 1``). A root emerging at ``t0`` has
  length ``l(T - t0)`` at the end, and each node's creation time is *exactly* the time its
  tip passed it, ``t0 + age(s)`` with s the node's arc length (case study 1 integrates
  sources along these tip paths).
* **Branching.** Branching points sit at ``lb, lb + ln_1, ...``. A lateral emerges when
  its parent's tip has passed the branching point by the effective apical zone
  ``max(la - mean(ln)/2, 0)`` (CPlantBox's distance-based delay), i.e. at
  ``t0 + age(s_bp + la_eff)``; its type is drawn from the successor rules. Its first own
  node repeats the branching point, with the emergence time.
* **Headings.** A lateral leaves its parent at angle ``theta`` to the parent's heading at
  the branching point, at a uniformly random radial angle; the taproot grows straight
  down, basal and shoot-borne roots at ``theta`` from the vertical. Each new segment
  (length ``<= dx``) turns by the best of ``1 + N sqrt(dx)`` (randomly rounded) random
  perturbations (angle ``~ sigma sqrt(dx) N(0, 1)``) according to the tropism objective:
  gravitropism (lowest z), plagiotropism (most horizontal), exotropism (closest to the
  initial heading).
* **Confinement.** A heading whose new node would leave the geometry is redrawn (new
  radial angles, then larger angles, as CPlantBox does); a tip that finds no way stops.

The system grows generation by generation (all roots of one topological order at once),
so the Python work is per generation and the per-segment work is in a Numba kernel.

References
----------
Leitner D, Klepsch S, Bodner G, Schnepf A (2010) A dynamic root system growth model based
on L-Systems. Plant Soil 332:177-192.
Schnepf A, Leitner D, Landl M, Lobet G, Mai TH, Morandage S, Sheng C, Zörner M,
Vanderborght J, Vereecken H (2018) CRootBox: a structural-functional modelling framework
for root systems. Ann Bot 121:1033-1053.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError, ResourceError
from ..parameters._base import load_parameter_set
from ..parameters.cplantbox_xml import read_cplantbox_xml
from ..parameters.root_architecture import PlantParameters, check_plant_parameters
from . import _growth_kernels as K
from .confinement import Confinement
from ..core.root_system import RootSystem

__all__ = ["load_plant_parameters", "grow_root_system", "length_at_age", "age_at_length"]

#: a guard against successor rules that multiply without end
MAX_ROOTS = 2_000_000
MAX_GENERATIONS = 100


def load_plant_parameters(name_or_path: str | Path | PlantParameters) -> PlantParameters:
    """Load root architecture parameters.

    Parameters
    ----------
    name_or_path : str, path or PlantParameters
        A shipped set (``"vicia_faba"``, ``"brassica_napus"``), a YAML file in the
        rhizoscale parameter format, or a CPlantBox XML file (``.xml``); a
        :class:`PlantParameters` is returned as it is.

    Returns
    -------
    PlantParameters
        Checked (taproot present, successors defined, values in range).

    Raises
    ------
    InputError
        Unknown name, missing or malformed file, or inconsistent parameters; the message
        names the file and the field.

    Examples
    --------
    >>> from rhizoscale.plant import load_plant_parameters
    >>> faba = load_plant_parameters("vicia_faba")
    >>> [rt.name for rt in faba.root_types], faba.root_type(1).r       # taproot rate [cm d-1]
    (['taproot', 'lateral', 'lateral'], 2.0710001)
    """
    if isinstance(name_or_path, PlantParameters):
        return name_or_path
    path = Path(name_or_path)
    if path.suffix.lower() == ".xml":
        params = read_cplantbox_xml(path)
        check_plant_parameters(params, str(path))
        return params
    params = load_parameter_set(PlantParameters, name_or_path)
    check_plant_parameters(params, str(name_or_path))
    return params


def length_at_age(age, r, k, gf):
    """Root length [cm] at ``age`` [d] for rate ``r`` [cm/d], maximum ``k`` [cm], law ``gf``.

    ``gf = 2``: linear ``min(k, r t)``; ``gf = 1``: negative exponential ``k (1 - exp(-r t/k))``
    (CPlantBox's growth functions).

    Parameters
    ----------
    age : float or array
        Root age [d] (negative ages count as 0).
    r : float or array
        Initial elongation rate [cm d-1].
    k : float or array
        Maximal length [cm].
    gf : int or array
        Growth law: 1 negative exponential, 2 linear.

    Returns
    -------
    ndarray
        Length [cm] (broadcast shape; 0 where ``k <= 0``).

    References
    ----------
    Leitner, D., et al. (2010). A dynamic root system growth model based on L-systems.
    Plant Soil, 332, 177–192.

    Examples
    --------
    >>> from rhizoscale.plant.growth import length_at_age
    >>> length_at_age([1.0, 2.0, 100.0], r=2.0, k=150.0, gf=2)
    array([  2.,   4., 150.])
    >>> round(float(length_at_age(10.0, r=2.0, k=10.0, gf=1)), 3)
    8.647
    """
    age, r, k, gf = np.broadcast_arrays(*(np.asarray(v, float) for v in (age, r, k, gf)))
    t = np.maximum(age, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        negexp = np.where(k > 0, -k * np.expm1(-(r / np.where(k > 0, k, 1)) * t), 0.0)
    out = np.where(gf == K.GF_LINEAR, np.minimum(k, r * t), negexp)
    return np.where(k > 0, out, 0.0)


def age_at_length(length, r, k, gf):
    """Age [d] at which a root reaches ``length`` [cm] (inverse of :func:`length_at_age`; inf if never).

    Parameters
    ----------
    length : float or array
        Root length [cm].
    r, k, gf : float or array
        Rate [cm d-1], maximal length [cm] and growth law, as in :func:`length_at_age`.

    Returns
    -------
    ndarray
        Age [d] (``inf`` where the length is never reached).

    Examples
    --------
    >>> from rhizoscale.plant.growth import age_at_length
    >>> float(age_at_length(10.0, r=2.0, k=150.0, gf=2)), float(age_at_length(10.0, r=2.0, k=10.0, gf=1))
    (5.0, inf)
    """
    s, r, k, gf = np.broadcast_arrays(*(np.asarray(v, float) for v in (length, r, k, gf)))
    with np.errstate(divide="ignore", invalid="ignore"):
        lin = np.where(r > 0, s / np.where(r > 0, r, 1), np.inf)
        ratio = np.where(k > 0, s / np.where(k > 0, k, 1), np.inf)
        neg = np.where((ratio < 1) & (r > 0), -k / np.where(r > 0, r, 1) * np.log1p(-np.where(ratio < 1, ratio, 0)), np.inf)
    return np.where(gf == K.GF_LINEAR, lin, neg)


class _TypeTable:
    """Root type parameters as arrays indexed by the position in ``root_types``."""

    def __init__(self, p: PlantParameters):
        rts = p.root_types
        self.index = {rt.subType: i for i, rt in enumerate(rts)}
        get = lambda name: np.array([getattr(rt, name) for rt in rts], dtype=float)  # noqa: E731
        for name in ("lb", "lb_sd", "la", "la_sd", "ln", "ln_sd", "lmax", "lmax_sd", "r", "r_sd",
                     "a", "a_sd", "theta", "theta_sd", "tropismN", "tropismS", "dx"):
            setattr(self, name, get(name))
        self.gf = np.array([rt.gf for rt in rts], dtype=np.int64)
        self.tropismT = np.array([rt.tropismT for rt in rts], dtype=np.int64)
        self.has_laterals = np.array([rt.has_laterals for rt in rts])
        self.subtype = np.array([rt.subType for rt in rts], dtype=np.int64)
        self.nobs = np.array([_nob_sd(rt) for rt in rts])
        # successor rules: (parent type index, number, cumulative probabilities, child type indices)
        self.rules = []
        for i, rt in enumerate(rts):
            for s in rt.successors:
                probs = s.probabilities or [1.0 / len(s.subtypes)] * len(s.subtypes)
                self.rules.append((i, s.number, np.cumsum(probs),
                                   np.array([self.index[st] for st in s.subtypes], dtype=np.int64)))


def _nob_sd(rt) -> float:
    """Spread of the number of branching points from error propagation (as CPlantBox)."""
    if rt.ln <= 0 or rt.lmax <= 0:
        return 0.0
    rel_ln = rt.ln_sd / rt.ln
    sd = (rt.lmax_sd / rt.lmax - rel_ln) * rt.lmax / rt.ln
    if rt.la > 0:
        sd -= (rt.la_sd / rt.la - rel_ln) * rt.la / rt.ln
    if rt.lb > 0:
        sd -= (rt.lb_sd / rt.lb - rel_ln) * rt.lb / rt.ln
    return max(sd, 0.0)


def _realize(tt: _TypeTable, ti: np.ndarray, rng: np.random.Generator) -> dict:
    """Draw the individual parameters of roots of type indices ``ti`` (vectorised)."""
    n = len(ti)
    z = rng.standard_normal((7, n))
    pos = lambda mean, sd, k: np.maximum(mean[ti] + z[k] * sd[ti], 0.0)  # noqa: E731
    lb, la, r, theta = pos(tt.lb, tt.lb_sd, 0), pos(tt.la, tt.la_sd, 1), pos(tt.r, tt.r_sd, 2), \
        pos(tt.theta, tt.theta_sd, 3)
    a = np.maximum(tt.a[ti] + z[4] * tt.a_sd[ti], np.minimum(0.01, tt.a[ti]))
    lat = tt.has_laterals[ti]
    ln_mean = tt.ln[ti]
    with np.errstate(divide="ignore", invalid="ignore"):
        nob0 = np.where(ln_mean > 0, np.floor((tt.lmax[ti] - la - lb) / np.where(ln_mean > 0, ln_mean, 1) + 1), 1)
    nob0 = np.maximum(nob0, 1)
    nob = np.maximum(np.round(nob0 + z[5] * tt.nobs[ti]), 1).astype(np.int64)
    nob[~lat] = 0
    n_ln = np.maximum(nob - 1, 0)
    total = int(n_ln.sum())
    ln_root = np.repeat(np.arange(n), n_ln)
    ln_vals = np.maximum(ln_mean[ln_root] + rng.standard_normal(total) * tt.ln_sd[ti][ln_root], 0.0)
    sum_ln = np.bincount(ln_root, weights=ln_vals, minlength=n)
    mean_ln = np.where(n_ln > 0, sum_ln / np.maximum(n_ln, 1), 0.0)
    kmax = np.where(lat, lb + sum_ln + la, np.maximum(tt.lmax[ti] + z[6] * tt.lmax_sd[ti], 0.0))
    # branching points: lb, lb + ln_1, lb + ln_1 + ln_2, ... (nob of them)
    bp_ptr = np.concatenate([[0], np.cumsum(nob)])
    bp_root = np.repeat(np.arange(n), nob)
    steps = np.zeros(int(bp_ptr[-1]))
    # within each root, step k > 0 is ln_k; ln values are stored root by root
    first = bp_ptr[:-1][nob > 0]
    mask = np.ones(len(steps), dtype=bool)
    mask[first] = False
    steps[mask] = ln_vals
    csum = np.cumsum(steps)
    start_of_root = np.repeat(csum[first] - steps[first], nob[nob > 0]) if len(first) else np.zeros(0)
    bp_s = lb[bp_root] + (csum - start_of_root)
    return dict(lb=lb, la=la, r=r, a=a, theta=theta, k=kmax, nob=nob, bp_ptr=bp_ptr, bp_s=bp_s,
                bp_root=bp_root, la_eff=np.maximum(la - mean_ln / 2.0, 0.0))


def _base_roots(p: PlantParameters, tt: _TypeTable, days: float):
    """Type indices and emergence times of the roots that start at the seed."""
    types, times = [tt.index[1]], [0.0]
    sd = p.seed
    basal = tt.index.get(sd.basal_type, tt.index[1])
    for i in range(sd.maxB):
        t = sd.firstB + i * sd.delayB
        if t >= days:
            break
        types.append(basal)
        times.append(t)
    if sd.nC > 0:
        # shoot-borne roots are started at the seed, like CPlantBox's deprecated handling
        sb = tt.index.get(sd.shootborne_type, tt.index[1])
        crown = 0
        while sd.firstSB + crown * sd.delayRC < days:
            for j in range(sd.nC):
                t = sd.firstSB + crown * sd.delayRC + j * sd.delaySB
                if t < days:
                    types.append(sb)
                    times.append(t)
            crown += 1
            if sd.delayRC <= 0 or len(types) > MAX_ROOTS:
                break
    return np.array(types, dtype=np.int64), np.array(times, dtype=float)


def grow_root_system(
    parameters: PlantParameters | str | Path,
    days: float,
    seed: int = 1,
    confinement: Confinement | None = None,
    callback: Callable[[float, float], None] | None = None,
    backend: str = "rhizoscale",
) -> RootSystem:
    """Grow a root system for ``days`` days.

    Parameters
    ----------
    parameters : PlantParameters, str or path
        Parameters, or anything :func:`load_plant_parameters` accepts.
    days : float
        Simulated time since sowing [d].
    seed : int
        Seed of the random number generator (same seed, same root system).
    confinement : Confinement, optional
        Geometry the roots must stay in (:mod:`rhizoscale.plant.confinement`).
    callback : callable, optional
        ``callback(done_days, total_days)`` for progress.
    backend : {"rhizoscale", "cplantbox"}
        ``"cplantbox"`` grows with CPlantBox (optional dependency ``rhizoscale[cplantbox]``).

    Returns
    -------
    RootSystem
        Nodes [cm], exact node creation times [d], radii [cm], topology.

    Raises
    ------
    InputError
        Bad parameters, days, backend, or a seed outside the confinement.

    References
    ----------
    Leitner, D., Klepsch, S., Bodner, G., & Schnepf, A. (2010). A dynamic root system
    growth model based on L-systems. Plant Soil, 332, 177–192. Schnepf, A., et al. (2018).
    CRootBox: a structural–functional modelling framework for root systems. Ann. Bot.,
    121, 1033–1053.

    Examples
    --------
    >>> from rhizoscale.plant import Box, grow_root_system
    >>> rs = grow_root_system("vicia_faba", 10, seed=1)
    >>> rs.n_roots, round(rs.total_length(), 1)                     # roots, cm
    (78, 130.7)
    >>> pot = Box((-5, -5, -15), (5, 5, 0))                          # cm
    >>> bool(grow_root_system("vicia_faba", 10, seed=1, confinement=pot).nodes[:, 2].min() >= -15)
    True
    """
    params = load_plant_parameters(parameters)
    check_plant_parameters(params)
    try:
        days = float(days)
    except (TypeError, ValueError):
        raise InputError(f"must be a number (got {days!r})", field="days") from None
    if not math.isfinite(days) or days < 0:
        raise InputError(f"must be finite and >= 0 (got {days})", field="days")
    if confinement is not None and not isinstance(confinement, Confinement):
        raise InputError("must be a Box, Cylinder or Rhizotron", field="confinement")
    seed_pos = np.asarray(params.seed.position, dtype=float)
    if confinement is not None and not bool(confinement.contains(seed_pos)):
        raise InputError(f"the seed {seed_pos.tolist()} lies outside the confinement {confinement!r}",
                         source=params.name, field="seed.position")
    if backend == "cplantbox":
        from .cplantbox_backend import grow_with_cplantbox

        return grow_with_cplantbox(params, days, seed=seed, confinement=confinement, callback=callback)
    if backend != "rhizoscale":
        raise InputError(f"unknown backend {backend!r} (use 'rhizoscale' or 'cplantbox')", field="backend")

    rng = np.random.default_rng(seed)
    tt = _TypeTable(params)
    conf_kind = 0 if confinement is None else confinement.kind
    conf_params = np.zeros(1) if confinement is None else np.ascontiguousarray(confinement.params, float)
    if callback:
        callback(0.0, days)

    # generation 0: roots from the seed
    ti, t0 = _base_roots(params, tt, days)
    n0 = len(ti)
    start = np.tile(seed_pos, (n0, 1))
    down = np.tile([0.0, 0.0, -1.0], (n0, 1))
    parent_root = np.full(n0, -1, dtype=np.int64)
    parent_node = np.full(n0, -1, dtype=np.int64)
    parent_heading = down
    is_base = True

    out_nodes, out_time, out_radius, out_counts = [], [], [], []
    out_parent, out_parent_node, out_order, out_type = [], [], [], []
    n_roots_done = 0
    n_nodes_done = 0
    generation = 0
    while len(ti):
        if generation >= MAX_GENERATIONS or n_roots_done + len(ti) > MAX_ROOTS:
            raise ResourceError(f"more than {MAX_ROOTS} roots or {MAX_GENERATIONS} orders: the "
                                "successor rules multiply without bound for these parameters")
        real = _realize(tt, ti, rng)
        theta = real["theta"]
        if is_base:
            theta = np.where(ti == tt.index[1], 0.0, theta)  # the taproot grows straight down
        beta = 2 * np.pi * rng.random(len(ti))
        heading0 = K.initial_headings(np.ascontiguousarray(parent_heading, float), theta, beta)
        gf = tt.gf[ti]
        final = length_at_age(days - t0, real["r"], real["k"], gf)
        # keep the branching points the tip can reach
        reach = real["bp_s"] <= final[real["bp_root"]] + 1e-9
        bp_root = real["bp_root"][reach]
        bp_s = real["bp_s"][reach]
        bp_ptr = np.concatenate([[0], np.cumsum(np.bincount(bp_root, minlength=len(ti)))])
        dx = tt.dx[ti]
        cap = np.ceil(final / dx).astype(np.int64) + np.diff(bp_ptr) + 2
        node_ptr = np.concatenate([[0], np.cumsum(cap)])
        nodes, node_s, node_t, n_nodes, bp_node, bp_heading, grown = K.walk_roots(
            np.ascontiguousarray(start, float), heading0, t0, real["r"], real["k"], gf, dx,
            tt.tropismT[ti], tt.tropismN[ti], tt.tropismS[ti], final, bp_ptr, bp_s, node_ptr,
            conf_kind, conf_params, rng)

        # roots that grew (more than their first node) join the system
        alive = n_nodes >= 2
        new_index = np.full(len(ti), -1, dtype=np.int64)
        new_index[alive] = n_roots_done + np.arange(int(alive.sum()))
        slot_root = np.repeat(np.arange(len(ti)), n_nodes)
        slot_local = np.arange(int(n_nodes.sum())) - np.repeat(np.cumsum(n_nodes) - n_nodes, n_nodes)
        slots = node_ptr[:-1][slot_root] + slot_local
        keep = alive[slot_root]
        slots, slot_root = slots[keep], slot_root[keep]
        counts = n_nodes[alive]
        first_global = n_nodes_done + np.concatenate([[0], np.cumsum(counts)[:-1]])
        root_first = np.full(len(ti), -1, dtype=np.int64)
        root_first[alive] = first_global
        out_nodes.append(nodes[slots])
        out_time.append(node_t[slots])
        out_radius.append(real["a"][slot_root])
        out_counts.append(counts)
        out_parent.append(parent_root[alive])
        out_parent_node.append(parent_node[alive])
        out_order.append(np.full(int(alive.sum()), generation, dtype=np.int64))
        out_type.append(tt.subtype[ti[alive]])
        n_roots_done += int(alive.sum())
        n_nodes_done += int(counts.sum())

        # laterals: branching points passed, emerging before the end
        ok = (bp_node >= 0) & alive[bp_root]
        broot = bp_root[ok]
        emerge = t0[broot] + age_at_length(bp_s[ok] + real["la_eff"][broot], real["r"][broot],
                                           real["k"][broot], gf[broot])
        ok_t = emerge < days
        broot, emerge = broot[ok_t], emerge[ok_t]
        bnode = bp_node[ok][ok_t]
        bhead = bp_heading[ok][ok_t]
        bpos = nodes[node_ptr[broot] + bnode]
        parent_type = ti[broot]
        new = {k: [] for k in ("ti", "t0", "start", "head", "proot", "pnode", "order")}
        for r_type, number, cum, children in tt.rules:
            sel = np.flatnonzero(parent_type == r_type)
            if len(sel) == 0 or number <= 0:
                continue
            sel = np.repeat(sel, number)
            u = rng.random(len(sel))
            which = np.searchsorted(cum, u, side="left")
            hit = which < len(children)
            sel, which = sel[hit], which[hit]
            new["ti"].append(children[which])
            new["t0"].append(emerge[sel])
            new["start"].append(bpos[sel])
            new["head"].append(bhead[sel])
            new["proot"].append(new_index[broot[sel]])
            new["pnode"].append(root_first[broot[sel]] + bnode[sel])
            new["order"].append(sel)
        if new["ti"]:
            order = np.argsort(np.concatenate(new["order"]), kind="stable")
            ti = np.concatenate(new["ti"])[order]
            t0 = np.concatenate(new["t0"])[order]
            start = np.concatenate(new["start"])[order]
            parent_heading = np.concatenate(new["head"])[order]
            parent_root = np.concatenate(new["proot"])[order]
            parent_node = np.concatenate(new["pnode"])[order]
        else:
            ti = np.zeros(0, dtype=np.int64)
        is_base = False
        generation += 1
        if callback:
            callback(days * generation / (generation + 1), days)

    counts = np.concatenate(out_counts)
    rs = RootSystem(
        nodes=np.concatenate(out_nodes),
        node_time=np.concatenate(out_time),
        node_radius=np.concatenate(out_radius),
        root_node_ptr=np.concatenate([[0], np.cumsum(counts)]),
        root_node_idx=np.arange(int(counts.sum())),
        root_parent=np.concatenate(out_parent),
        root_parent_node=np.concatenate(out_parent_node),
        root_order=np.concatenate(out_order),
        root_type=np.concatenate(out_type),
        time=days,
        metadata={"software": "rhizoscale growth model", "parameters": params.name,
                  "seed": int(seed), "days": days,
                  "confinement": repr(confinement) if confinement is not None else None,
                  "units": {"length": "cm", "time": "d"}},
    )
    if callback:
        callback(days, days)
    return rs
