"""One biological step of every bacterium: the NumPy specification and its Numba kernel.

Units: µm, h, fg C. Agents are a structure of arrays (one row per cell):

=========  ========  ==========================================================
array      dtype     meaning
=========  ========  ==========================================================
id         int64     identity (keys the counter-based random numbers)
voxel      int32     flat index (C order) of the voxel the cell sits in
mass       float64   cell carbon [fg C]
species    uint8     row in the trait table
state      uint8     bit 0 dormant, bit 1 attached to the root
starve     float32   time uptake has failed to cover maintenance [h]
lag        float32   lag phase left after resuscitation [h]
=========  ========  ==========================================================

DOC comes in two pools per voxel: pool 0, labile (root exudates, exudate additions,
necromass), and pool 1, from particulate organic matter (POM). Each species weighs them by its
carbon-source preference ``p`` in [0, 1]: weights ``a0 = min(1, 2 p)`` on pool 0 and
``a1 = min(1, 2 (1 - p))`` on pool 1 (``p = 0.5``: a generalist that sees the sum;
``p = 1``: exudates only; ``p = 0``: POM-derived DOC only).

The step (Pirt 1965; Monod 1949; the INDISIM family of Ginovart et al. 2002 and
Portell et al. 2018 that case study 5 adapts):

1. demand ``u_i = q_max S / (K_s + S) m_i dt`` of every active cell from its voxel's
   weighted concentration ``S = a0 C0 + a1 C1`` (``C = DOC / V`` before uptake), with
   ``q_max = mu_max / Y + m_s`` (Pirt: ``mu = Y (q - m_s)``), split between the pools in
   the ratio ``a0 C0 : a1 C1``; a cell in its lag phase asks for no more than its
   maintenance ``m_s m_i dt``; dormant cells ask for nothing;
2. sharing, order-free and per pool: when a voxel's summed demand on a pool exceeds
   that pool's DOC, every cell gets the same fraction ``DOC / demand`` of its demand on
   it (so the pool is emptied, never overdrawn, and no cell is served first);
3. maintenance first: uptake beyond maintenance becomes biomass with yield ``Y`` (the
   rest is respired); uptake short of maintenance is made up from the cell's own
   carbon (endogenous respiration) and the starvation clock runs; after
   ``t_dormancy`` of uninterrupted shortfall the cell goes dormant (maintenance times
   ``dormant_maintenance``); a dormant cell whose voxel holds ``C >= c_resuscitation``
   becomes active with a lag phase ``lag``; thresholds compare with ``S``;
4. death: below ``m_min`` or with probability ``1 - exp(-mortality dt)``; the carbon goes
   to the voxel's necromass; an active cell of mass ``>= m_div`` is marked to divide
   (the split is done by the model);
5. motility of active, unattached cells after every uptake is booked: with probability
   ``min(1, 6 D_m dt / h^2)`` a step to a face neighbour if it is water (random
   direction; with probability ``chemotaxis`` towards the neighbour of highest ``S``);
   attachment in a voxel touching the root with probability ``1 - exp(-k_att dt)``.

Random numbers are a hash (SplitMix64) of ``(seed, id, step, stream)``, so a cell's
draws do not depend on its row: permuting the rows permutes the results.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["DORMANT", "ATTACHED", "DEAD", "DIVIDE", "TRAIT_COLUMNS", "uniform",
           "agent_step", "agent_step_reference"]

DORMANT, ATTACHED, DEAD, DIVIDE = 1, 2, 4, 8

#: columns of the trait table handed to the kernels (one row per species)
TRAIT_COLUMNS = ("q_max", "k_s", "yield_", "maintenance", "m_div", "m_min", "mortality",
                 "t_dormancy", "c_resuscitation", "dormant_maintenance", "lag", "motility",
                 "chemotaxis", "attachment", "weight_exudate", "weight_pom")
(Q_MAX, K_S, YIELD, MAINT, M_DIV, M_MIN, MORT, T_DORM, C_RES, DORM_M, LAG, MOTIL, CHEMO,
 ATTACH, W0, W1) = range(len(TRAIT_COLUMNS))

_STREAM_DEATH, _STREAM_MOVE, _STREAM_DIRECTION, _STREAM_CHEMO, _STREAM_ATTACH = 0, 1, 2, 3, 4
STREAM_SPLIT = 5

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)
_K_ID = np.uint64(0xD1B54A32D192ED03)
_K_STEP = np.uint64(0xAEF17502108EF2D9)
_K_STREAM = np.uint64(0x8CB92BA72F3D8DD7)


# --------------------------------------------------------------------------- random numbers
def uniform(seed, ids, step, stream):
    """Uniform [0, 1) numbers hashed from ``(seed, id, step, stream)`` (NumPy; SplitMix64).

    >>> u = uniform(1, np.arange(3), 0, 0)
    >>> bool(np.all((u >= 0) & (u < 1))), bool(np.array_equal(u, uniform(1, np.arange(3), 0, 0)))
    (True, True)
    """
    with np.errstate(over="ignore"):
        x = (np.uint64(seed) * _C1) ^ (np.asarray(ids).astype(np.uint64) * _K_ID) \
            ^ (np.uint64(step) * _K_STEP) ^ (np.uint64(stream) * _K_STREAM)
        for _ in range(2):
            z = x + _C1
            z = (z ^ (z >> np.uint64(30))) * _C2
            z = (z ^ (z >> np.uint64(27))) * _C3
            x = z ^ (z >> np.uint64(31))
        return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always")
def _uniform1(seed, agent_id, step, stream):
    x = (np.uint64(seed) * _C1) ^ (np.uint64(agent_id) * _K_ID) \
        ^ (np.uint64(step) * _K_STEP) ^ (np.uint64(stream) * _K_STREAM)
    for _ in range(2):
        z = x + _C1
        z = (z ^ (z >> np.uint64(30))) * _C2
        z = (z ^ (z >> np.uint64(27))) * _C3
        x = z ^ (z >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# --------------------------------------------------------------------------- specification
def _neighbour_table(voxel, shape):
    """(n, 6) flat index of the face neighbours (+x, -x, +y, -y, +z, -z), -1 outside."""
    nz, ny, nx = shape
    v = voxel.astype(np.int64)
    z, rem = np.divmod(v, ny * nx)
    y, x = np.divmod(rem, nx)
    out = np.full((v.size, 6), -1, np.int64)
    out[:, 0] = np.where(x + 1 < nx, v + 1, -1)
    out[:, 1] = np.where(x > 0, v - 1, -1)
    out[:, 2] = np.where(y + 1 < ny, v + nx, -1)
    out[:, 3] = np.where(y > 0, v - nx, -1)
    out[:, 4] = np.where(z + 1 < nz, v + nx * ny, -1)
    out[:, 5] = np.where(z > 0, v - nx * ny, -1)
    return out


def agent_step_reference(ids, voxel, mass, species, state, starve, lag, traits, doc, doc_pom,
                         water, root_adjacent, co2, necro, shape, voxel_size, dt, seed, step):
    """One step of every agent (NumPy specification of :func:`agent_step`).

    Updates ``voxel, mass, state, starve, lag`` (agents) and ``doc, doc_pom, co2, necro``
    (flat voxel arrays [fg C]) in place; marks dead cells ``DEAD`` and cells to divide
    ``DIVIDE`` in ``state``.

    Parameters
    ----------
    traits : float64 array (n_species, len(TRAIT_COLUMNS))
        Per species: ``q_max`` [h^-1], ``k_s`` [fg µm^-3], yield [1], maintenance
        [h^-1], ``m_div``, ``m_min`` [fg C], mortality [h^-1], ``t_dormancy`` [h],
        ``c_resuscitation`` [fg µm^-3], dormant maintenance factor [1], lag [h],
        motility [µm^2 h^-1], chemotaxis [1], attachment [h^-1], weights of the
        exudate and POM-derived pools [1].
    doc, doc_pom : float64 flat arrays
        Exudate-derived and POM-derived DOC per voxel [fg C].
    water, root_adjacent : uint8 flat arrays
        1 where the voxel holds water / touches the root.
    shape : (nz, ny, nx); voxel_size [µm]; dt [h]; seed, step : int

    Returns
    -------
    (uptake, respired, necromass) : floats [fg C]
        Totals of the step.
    """
    V = voxel_size ** 3
    tr = traits[species]
    v = voxel.astype(np.int64)
    dormant = (state & DORMANT) != 0
    a0c0 = tr[:, W0] * (doc[v] / V)
    a1c1 = tr[:, W1] * (doc_pom[v] / V)
    c = a0c0 + a1c1
    q = tr[:, Q_MAX] * c / (tr[:, K_S] + c)
    maint_rate = tr[:, MAINT]
    q = np.where(lag > 0, np.minimum(q, maint_rate), q)
    demand = np.where(dormant, 0.0, q * mass * dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        f0 = np.where(c > 0, a0c0 / c, 1.0)
    demand0 = demand * f0
    demand1 = demand - demand0
    uptake = np.zeros(mass.size)
    takes = []
    for pool, d in ((doc, demand0), (doc_pom, demand1)):
        voxel_demand = np.zeros(pool.size)
        np.add.at(voxel_demand, v, d)
        short = voxel_demand[v] > pool[v]
        with np.errstate(divide="ignore", invalid="ignore"):
            take = np.where(short, d * (pool[v] / voxel_demand[v]), d)
        takes.append(take)
        uptake = uptake + take
    # active cells: maintenance first
    maint = maint_rate * mass * dt
    covered = uptake >= maint
    growth = np.where(covered, tr[:, YIELD] * (uptake - maint), 0.0)
    deficit = np.where(covered, 0.0, maint - uptake)
    resp_active = np.where(covered, uptake - growth, uptake + deficit)
    new_mass_active = mass + growth - deficit
    new_starve_active = np.where(covered, 0.0, starve + np.float32(dt)).astype(np.float32)
    new_lag_active = np.maximum(lag - np.float32(dt), np.float32(0.0)).astype(np.float32)
    go_dormant = ~dormant & (new_starve_active >= tr[:, T_DORM])
    # dormant cells: reduced maintenance from their own carbon; resuscitation
    maint_dormant = tr[:, DORM_M] * maint
    wake = dormant & (c >= tr[:, C_RES])
    mass[:] = np.where(dormant, mass - maint_dormant, new_mass_active)
    respired = np.where(dormant, maint_dormant, resp_active)
    starve[:] = np.where(dormant | go_dormant, np.float32(0.0), new_starve_active)
    lag[:] = np.where(dormant, np.where(wake, tr[:, LAG].astype(np.float32), lag),
                      new_lag_active)
    st = state.copy()
    st = np.where(go_dormant, st | DORMANT, st)
    st = np.where(wake, st & ~np.uint8(DORMANT), st)
    # death and division
    u_death = uniform(seed, ids, step, _STREAM_DEATH)
    dies = (mass < tr[:, M_MIN]) | (u_death < -np.expm1(-tr[:, MORT] * dt))
    divides = ~dies & ((st & DORMANT) == 0) & (mass >= tr[:, M_DIV])
    st = np.where(dies, st | DEAD, st)
    st = np.where(divides, st | DIVIDE, st)
    # the voxels' books, in row order
    for pool, take in zip((doc, doc_pom), takes):
        np.subtract.at(pool, v, take)
        np.maximum(pool, 0.0, out=pool)     # an emptied pool: round-off below 0 is 0
    np.add.at(co2, v, respired)
    np.add.at(necro, v[dies], mass[dies])
    # motility and attachment (after every uptake is booked)
    mobile = ((st & (DORMANT | ATTACHED | DEAD)) == 0)
    p_move = np.minimum(1.0, 6.0 * tr[:, MOTIL] * dt / voxel_size ** 2)
    moves = mobile & (uniform(seed, ids, step, _STREAM_MOVE) < p_move)
    nb = _neighbour_table(v, shape)
    direction = np.minimum((uniform(seed, ids, step, _STREAM_DIRECTION) * 6).astype(np.int64), 5)
    target = nb[np.arange(v.size), direction]
    safe = np.maximum(nb, 0)
    seen = tr[:, W0, None] * doc[safe] + tr[:, W1, None] * doc_pom[safe]
    nb_doc = np.where((nb >= 0) & (water[safe] != 0), seen, -1.0)
    best = np.argmax(nb_doc, axis=1)
    here = tr[:, W0] * doc[v] + tr[:, W1] * doc_pom[v]
    uphill = nb_doc[np.arange(v.size), best] > here
    chemo = uniform(seed, ids, step, _STREAM_CHEMO) < tr[:, CHEMO]
    target = np.where(chemo, np.where(uphill, nb[np.arange(v.size), best], -1), target)
    ok = moves & (target >= 0)
    ok &= water[np.maximum(target, 0)] != 0
    v_new = np.where(ok, target, v)
    attach = (mobile & ~ok & (root_adjacent[v] != 0)
              & (uniform(seed, ids, step, _STREAM_ATTACH) < -np.expm1(-tr[:, ATTACH] * dt)))
    st = np.where(attach, st | ATTACHED, st)
    voxel[:] = v_new.astype(voxel.dtype)
    state[:] = st.astype(np.uint8)
    return float(uptake.sum()), float(respired.sum()), float(mass[dies].sum())


# --------------------------------------------------------------------------- Numba kernel
@numba.njit(cache=True, parallel=True, fastmath=False)
def _agent_step(ids, voxel, mass, species, state, starve, lag, traits, doc, doc_pom, water,
                root_adjacent, co2, necro, nz, ny, nx, voxel_size, dt, seed, step,
                demand, demand_pom, respired, voxel_demand, voxel_demand_pom,
                p_death, p_move, p_attach):
    n = mass.size
    V = voxel_size ** 3
    fdt = np.float32(dt)
    # 1. demand from the concentrations before uptake, split between the pools
    for i in numba.prange(n):
        s = species[i]
        if state[i] & DORMANT:
            demand[i] = 0.0
            demand_pom[i] = 0.0
            continue
        v = voxel[i]
        a0c0 = traits[s, W0] * (doc[v] / V)
        c = a0c0 + traits[s, W1] * (doc_pom[v] / V)
        q = traits[s, Q_MAX] * c / (traits[s, K_S] + c)
        if lag[i] > 0 and q > traits[s, MAINT]:
            q = traits[s, MAINT]
        d = q * mass[i] * dt
        f0 = a0c0 / c if c > 0 else 1.0
        demand[i] = d * f0
        demand_pom[i] = d - demand[i]
    # 2. summed demand per voxel and pool (row order, as np.add.at)
    for i in range(n):
        voxel_demand[voxel[i]] += demand[i]
        voxel_demand_pom[voxel[i]] += demand_pom[i]
    # 3. uptake, metabolism, fate
    for i in numba.prange(n):
        s = species[i]
        v = voxel[i]
        m = mass[i]
        st = np.int64(state[i])
        if st & DORMANT:
            maint = traits[s, DORM_M] * (traits[s, MAINT] * m * dt)
            m = m - maint
            respired[i] = maint
            demand[i] = 0.0
            demand_pom[i] = 0.0
            starve[i] = 0.0
            c = traits[s, W0] * (doc[v] / V) + traits[s, W1] * (doc_pom[v] / V)
            if c >= traits[s, C_RES]:
                st = st & ~np.int64(DORMANT)
                lag[i] = np.float32(traits[s, LAG])
        else:
            u0 = demand[i]
            if voxel_demand[v] > doc[v]:
                u0 = u0 * (doc[v] / voxel_demand[v])
            u1 = demand_pom[i]
            if voxel_demand_pom[v] > doc_pom[v]:
                u1 = u1 * (doc_pom[v] / voxel_demand_pom[v])
            demand[i] = u0
            demand_pom[i] = u1
            u = 0.0 + u0 + u1
            maint = traits[s, MAINT] * m * dt
            if u >= maint:
                growth = traits[s, YIELD] * (u - maint)
                respired[i] = u - growth
                m = m + growth
                starve[i] = 0.0
            else:
                deficit = maint - u
                respired[i] = u + deficit
                m = m - deficit
                starve[i] = starve[i] + fdt
            lag[i] = max(lag[i] - fdt, np.float32(0.0))
            if starve[i] >= traits[s, T_DORM]:
                st = st | DORMANT
                starve[i] = 0.0
        mass[i] = m
        dies = m < traits[s, M_MIN]
        if (not dies) and p_death[s] > 0.0:
            dies = _uniform1(seed, ids[i], step, _STREAM_DEATH) < p_death[s]
        if dies:
            st = st | DEAD
        elif (st & DORMANT) == 0 and m >= traits[s, M_DIV]:
            st = st | DIVIDE
        state[i] = np.uint8(st)
    # 4. the voxels' books, in row order
    total_uptake = 0.0
    total_resp = 0.0
    total_necro = 0.0
    # (a pool's takes sum to at most its DOC, so only the last one can cross 0, by
    # round-off: clipping after each is clipping at the end; the scratch is zeroed here)
    for i in range(n):
        v = voxel[i]
        doc[v] = max(doc[v] - demand[i], 0.0)
        doc_pom[v] = max(doc_pom[v] - demand_pom[i], 0.0)
        co2[v] += respired[i]
        total_uptake += demand[i] + demand_pom[i]
        total_resp += respired[i]
        voxel_demand[v] = 0.0
        voxel_demand_pom[v] = 0.0
        if state[i] & DEAD:
            necro[v] += mass[i]
            total_necro += mass[i]
    # 5. motility and attachment, reading the booked DOC
    nyx = ny * nx
    for i in numba.prange(n):
        st = np.int64(state[i])
        if st & (DORMANT | ATTACHED | DEAD):
            continue
        s = species[i]
        v = np.int64(voxel[i])
        if p_move[s] == 0.0 and (p_attach[s] == 0.0 or root_adjacent[v] == 0):
            continue                   # nothing can happen: no random numbers needed
        moved = False
        if p_move[s] > 0.0 and _uniform1(seed, ids[i], step, _STREAM_MOVE) < p_move[s]:
            z = v // nyx
            rem = v - z * nyx
            y = rem // nx
            x = rem - y * nx
            d = int(_uniform1(seed, ids[i], step, _STREAM_DIRECTION) * 6)
            if d > 5:
                d = 5
            target = np.int64(-1)
            if _uniform1(seed, ids[i], step, _STREAM_CHEMO) < traits[s, CHEMO]:
                best_doc = -1.0
                best = np.int64(-1)
                for k in range(6):
                    t = _face_neighbour(v, x, y, z, nx, ny, nz, nyx, k)
                    if t >= 0 and water[t] != 0:
                        seen = traits[s, W0] * doc[t] + traits[s, W1] * doc_pom[t]
                        if seen > best_doc:
                            best_doc = seen
                            best = t
                if best >= 0 and best_doc > traits[s, W0] * doc[v] + traits[s, W1] * doc_pom[v]:
                    target = best
            else:
                target = _face_neighbour(v, x, y, z, nx, ny, nz, nyx, d)
            if target >= 0 and water[target] != 0:
                voxel[i] = target
                moved = True
        if not moved and root_adjacent[v] != 0 and p_attach[s] > 0.0:
            if _uniform1(seed, ids[i], step, _STREAM_ATTACH) < p_attach[s]:
                state[i] = np.uint8(st | ATTACHED)
    return total_uptake, total_resp, total_necro


@numba.njit(cache=True, inline="always")
def _face_neighbour(v, x, y, z, nx, ny, nz, nyx, k):
    if k == 0:
        return v + 1 if x + 1 < nx else -1
    if k == 1:
        return v - 1 if x > 0 else -1
    if k == 2:
        return v + nx if y + 1 < ny else -1
    if k == 3:
        return v - nx if y > 0 else -1
    if k == 4:
        return v + nyx if z + 1 < nz else -1
    return v - nyx if z > 0 else -1


def agent_step(ids, voxel, mass, species, state, starve, lag, traits, doc, doc_pom, water,
               root_adjacent, co2, necro, shape, voxel_size, dt, seed, step, workspace=None):
    """One step of every agent (Numba); same parameters and results as
    :func:`agent_step_reference`, plus an optional ``workspace`` dict of scratch arrays
    (``demand``, ``demand_pom``, ``respired``: one float64 per agent; ``voxel_demand``,
    ``voxel_demand_pom``: one per voxel, kept at 0 between calls)."""
    n = mass.size
    ws = {} if workspace is None else workspace
    if ws.get("demand") is None or ws["demand"].size < n:
        cap = int(1.25 * n) + 16
        ws["demand"], ws["demand_pom"], ws["respired"] = np.empty(cap), np.empty(cap), np.empty(cap)
    if ws.get("voxel_demand") is None or ws["voxel_demand"].size != doc.size:
        ws["voxel_demand"], ws["voxel_demand_pom"] = np.zeros(doc.size), np.zeros(doc.size)
    nz, ny, nx = shape
    return _agent_step(ids, voxel, mass, species, state, starve, lag, traits, doc, doc_pom, water,
                       root_adjacent, co2, necro, nz, ny, nx, float(voxel_size), float(dt),
                       np.uint64(seed), np.uint64(step), ws["demand"][:n], ws["demand_pom"][:n],
                       ws["respired"][:n], ws["voxel_demand"], ws["voxel_demand_pom"],
                       *step_probabilities(traits, voxel_size, dt))


def step_probabilities(traits, voxel_size, dt):
    """Per species, the probabilities of one step ``dt`` [h] (the formulas of
    :func:`agent_step_reference`): death ``1 - exp(-mortality dt)``, a move
    ``min(1, 6 D_m dt / h^2)``, attachment ``1 - exp(-k_att dt)``."""
    return (np.ascontiguousarray(-np.expm1(-traits[:, MORT] * dt)),
            np.ascontiguousarray(np.minimum(1.0, 6.0 * traits[:, MOTIL] * dt / voxel_size ** 2)),
            np.ascontiguousarray(-np.expm1(-traits[:, ATTACH] * dt)))
