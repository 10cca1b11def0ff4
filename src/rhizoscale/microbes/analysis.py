"""What a microbiologist measures in a run: totals over time, profiles versus distance from
the root surface, agent tables. Units: µm, h, fg C (concentrations fg C µm^-3).
"""

from __future__ import annotations

import numpy as np

from .kernels import ATTACHED, DORMANT

__all__ = ["TOTALS", "totals", "distance_profiles", "MicrobeRecorder", "agent_table",
           "agent_columns", "AgentSnapshots", "write_agents_vtk", "rhizosphere_enrichment",
           "ENRICHMENT_MIN_CELLS"]

#: cells each region (near the root, beyond) must hold at the start for an enrichment
ENRICHMENT_MIN_CELLS = 20

#: recorded totals: name -> (units, description)
TOTALS = {
    "co2": ("fg", "CO2-C respired since the start"),
    "biomass": ("fg", "bacterial carbon (active and dormant)"),
    "active_biomass": ("fg", "carbon of active cells"),
    "cells": ("1", "number of cells"),
    "active_cells": ("1", "number of active cells"),
    "doc": ("fg", "dissolved organic carbon (both pools)"),
    "doc_pom": ("fg", "POM-derived dissolved organic carbon"),
    "pom": ("fg", "particulate organic carbon"),
    "necromass": ("fg", "necromass carbon"),
    "exuded": ("fg", "carbon exuded since the start"),
    "balance_error": ("1", "relative carbon balance error"),
}


def totals(model) -> dict:
    """The :data:`TOTALS` of a :class:`~rhizoscale.microbes.MicrobeModel` now [fg C, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.microbes import Agents, MicrobeLattice, MicrobeModel, load_bacteria
    >>> lat = MicrobeLattice(np.ones((2, 2, 2), bool), voxel_size=10.0)
    >>> cells = Agents.new(voxel=[0, 7], mass=[30.0, 40.0], species=[0, 0])
    >>> m = MicrobeModel(lat, load_bacteria().species, cells, doc_diffusivity=1e4)
    >>> t = totals(m)
    >>> t["biomass"], t["cells"], t["co2"]
    (70.0, 2.0, 0.0)
    """
    a = model.agents
    active = (a.state & DORMANT) == 0
    return {"co2": model.co2_total, "biomass": float(a.mass.sum()),
            "active_biomass": float(a.mass[active].sum()), "cells": float(len(a)),
            "active_cells": float(active.sum()), "doc": model.doc_total(), "doc_pom": float(model.doc_pom.sum()),
            "pom": float(model.pom.sum()), "necromass": float(model.necro.sum()),
            "exuded": model.exuded_total, "balance_error": model.carbon_balance_error()}


def distance_profiles(model, edges) -> dict:
    """Per distance bin from the root surface: water volume [µm^3], biomass, active biomass,
    CO2 respired so far [fg C], DOC [fg C] and cells.

    Parameters
    ----------
    edges : array [µm]
        Bin edges of the distance from the root surface (voxel centres binned).

    Returns
    -------
    dict of str -> array (n_bins,)

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.microbes import Agents, MicrobeLattice, MicrobeModel, load_bacteria
    >>> water = np.ones((1, 1, 6), bool); water[0, 0, 0] = False
    >>> lat = MicrobeLattice(water, voxel_size=10.0, root=~water)
    >>> cells = Agents.new(voxel=[1, 5], mass=[30.0, 40.0], species=[0, 0])
    >>> m = MicrobeModel(lat, load_bacteria().species, cells, doc_diffusivity=1e4)
    >>> p = distance_profiles(m, [0.0, 20.0, 60.0])
    >>> p["biomass"].tolist(), p["water_volume"].tolist()      # [fg], [um^3]
    ([30.0, 40.0], [2000.0, 3000.0])
    """
    lat = model.lattice
    edges = np.asarray(edges, float)
    nb = edges.size - 1
    dist = lat.distance_to_root.ravel()
    bin_of = np.digitize(dist, edges) - 1
    bin_of[(bin_of < 0) | (bin_of >= nb)] = nb            # outside: an overflow bin
    water = lat.water.ravel()
    out = {"water_volume": np.bincount(bin_of[water], minlength=nb + 1)[:nb] * lat.voxel_volume,
           "doc": np.bincount(bin_of, weights=(model.doc + model.doc_pom).ravel(), minlength=nb + 1)[:nb],
           "co2": np.bincount(bin_of, weights=model.co2.ravel(), minlength=nb + 1)[:nb]}
    a = model.agents
    b = bin_of[a.voxel]
    active = (a.state & DORMANT) == 0
    out["biomass"] = np.bincount(b, weights=a.mass, minlength=nb + 1)[:nb]
    out["active_biomass"] = np.bincount(b[active], weights=a.mass[active], minlength=nb + 1)[:nb]
    out["cells"] = np.bincount(b, minlength=nb + 1)[:nb].astype(float)
    return out


class MicrobeRecorder:
    """Callback of :class:`~rhizoscale.simulation.Simulation`: totals (and, with ``edges``,
    distance profiles) at each call; checkpointable (resumed runs keep the record)."""

    def __init__(self, edges=None):
        self.edges = None if edges is None else np.asarray(edges, float)
        self.times: list[float] = []
        self.rows: list[list[float]] = []
        self.profiles: list[dict] = []

    def __call__(self, sim) -> None:
        m = sim.model
        if self.times and abs(self.times[-1] - m.time) <= 1e-12 * max(abs(m.time), 1.0):
            return          # already recorded now (the end falling on the record interval)
        self.times.append(float(m.time))
        t = totals(m)
        self.rows.append([t[k] for k in TOTALS])
        if self.edges is not None:
            self.profiles.append(distance_profiles(m, self.edges))

    def series(self) -> dict:
        rows = np.array(self.rows, float).reshape(len(self.times), len(TOTALS))
        return {"time": np.array(self.times), **{k: rows[:, i] for i, k in enumerate(TOTALS)}}

    def profile_arrays(self) -> dict:
        if not self.profiles:
            return {}
        return {k: np.array([p[k] for p in self.profiles]) for k in self.profiles[0]}

    def checkpoint_state(self) -> dict:
        state = {"times": np.array(self.times), "rows": np.array(self.rows, float).reshape(-1, len(TOTALS))}
        for k, v in self.profile_arrays().items():
            state[f"profile_{k}"] = v
        return state

    def restore_state(self, state: dict) -> None:
        self.times = [float(t) for t in np.asarray(state["times"])]
        self.rows = [list(r) for r in np.asarray(state["rows"])]
        keys = [k[len("profile_"):] for k in state if k.startswith("profile_")]
        n = len(self.times)
        self.profiles = [{k: np.asarray(state[f"profile_{k}"])[i] for k in keys} for i in range(n)] if keys else []


def agent_columns(model) -> dict:
    """The cells now as columns: ``id``, voxel-centre ``x_um, y_um, z_um`` [µm],
    ``carbon_fg`` [fg C], ``species`` (row in the species table), ``dormant``,
    ``attached`` (0/1), ``time_h`` [h]. Copies (a snapshot).

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.microbes import Agents, MicrobeLattice, MicrobeModel, load_bacteria
    >>> lat = MicrobeLattice(np.ones((1, 1, 2), bool), voxel_size=10.0)
    >>> m = MicrobeModel(lat, load_bacteria().species, Agents.new([1], [30.0], [0]), doc_diffusivity=1e4)
    >>> cols = agent_columns(m)
    >>> float(cols["x_um"][0]), float(cols["carbon_fg"][0])
    (15.0, 30.0)
    """
    lat = model.lattice
    a = model.agents
    z, y, x = np.unravel_index(a.voxel, lat.shape)
    h = lat.voxel_size
    return {"id": a.id.copy(), "x_um": (x + 0.5) * h, "y_um": (y + 0.5) * h, "z_um": (z + 0.5) * h,
            "carbon_fg": a.mass.copy(), "species": a.species.astype(np.int32),
            "dormant": ((a.state & DORMANT) != 0).astype(np.uint8),
            "attached": ((a.state & ATTACHED) != 0).astype(np.uint8),
            "time_h": np.full(len(a), float(model.time))}


def columns_csv(columns: dict, species_names) -> str:
    """CSV text of :func:`agent_columns` (species by name); pandas and ParaView read it."""
    import pandas as pd
    names = np.asarray(list(species_names))
    table = pd.DataFrame({k: (names[v] if k == "species" else v) for k, v in columns.items()})
    return table.to_csv(index=False, float_format="%.6g")


def write_agents_vtk(columns: dict, path):
    """The cells of :func:`agent_columns` as VTK vertices (``.vtp``; ParaView) at the voxel
    centres [µm], every other column as point data."""
    from ..io.vtk import write_points_vtk
    pts = np.stack([columns["x_um"], columns["y_um"], columns["z_um"]], axis=1)
    data = {k: v for k, v in columns.items() if k not in ("x_um", "y_um", "z_um")}
    return write_points_vtk(pts, data, path)


class AgentSnapshots:
    """Simulation callback keeping :func:`agent_columns` at the times it is due
    (``SpecifiedTimes`` of the scenario's ``time.outputs``)."""

    def __init__(self):
        self.snapshots: list[dict] = []

    def __call__(self, sim) -> None:
        self.snapshots.append(agent_columns(sim.model))

    def checkpoint_state(self) -> dict:
        """The snapshots taken so far as plain arrays (a resumed run keeps them)."""
        state = {"n_snapshots": np.array(len(self.snapshots))}
        for i, cols in enumerate(self.snapshots):
            state.update({f"s{i}_{k}": v for k, v in cols.items()})
        return state

    def restore_state(self, state: dict) -> None:
        n = int(state["n_snapshots"])
        self.snapshots = [{k[len(f"s{i}_"):]: np.asarray(v) for k, v in state.items() if k.startswith(f"s{i}_")}
                          for i in range(n)]


def agent_table(model) -> str:
    """The cells as CSV text (pandas and ParaView read it): centre of the voxel ``x, y, z``
    [µm], carbon [fg], species name, dormant, attached.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale.microbes import Agents, MicrobeLattice, MicrobeModel, load_bacteria
    >>> lat = MicrobeLattice(np.ones((1, 1, 2), bool), voxel_size=10.0)
    >>> m = MicrobeModel(lat, load_bacteria().species, Agents.new([1], [30.0], [0]), doc_diffusivity=1e4)
    >>> print(agent_table(m).splitlines()[1])
    0,15,5,5,30,competitive,0,0
    """
    lat = model.lattice
    a = model.agents
    z, y, x = np.unravel_index(a.voxel, lat.shape)
    h = lat.voxel_size
    import pandas as pd
    names = np.array([s.name for s in model.species])
    table = pd.DataFrame({"id": a.id, "x_um": (x + 0.5) * h, "y_um": (y + 0.5) * h,
                          "z_um": (z + 0.5) * h, "carbon_fg": a.mass, "species": names[a.species],
                          "dormant": ((a.state & DORMANT) != 0).astype(np.uint8),
                          "attached": ((a.state & ATTACHED) != 0).astype(np.uint8)})
    return table.to_csv(index=False, float_format="%.6g")


def rhizosphere_enrichment(biomass, cells, centres, near: float,
                           min_cells: int = ENRICHMENT_MIN_CELLS):
    """How much more the biomass grew near the root than beyond: the ratio of growth
    factors ``(B_near(end) / B_near(0)) / (B_far(end) / B_far(0))`` [1], with ``near``
    the distance [µm] from the root surface that splits the distance bins (by bin centre).

    Growth factors, not final densities: the cells start in Thomas clusters, so in a small
    domain the final density ratio mostly repeats where the first clusters fell; the ratio
    of growth factors divides that out (1: the root made no difference; > 1: rhizosphere
    effect). Each region must hold at least ``min_cells`` cells at the start, else the
    value is ``None`` and the reason is returned.

    Parameters
    ----------
    biomass, cells : arrays (time, distance)
        Biomass [fg C] and cell counts per distance bin, first and last record used.
    centres : array (distance,) [µm]

    Returns
    -------
    (value or None, details dict: ``cells_near``, ``cells_beyond``, ``growth_near``,
    ``growth_beyond``, ``reason``)

    Examples
    --------
    >>> b = np.array([[100.0, 100.0], [300.0, 150.0]]); n = np.array([[40, 30], [90, 45]])
    >>> value, info = rhizosphere_enrichment(b, n, np.array([25.0, 75.0]), near=50.0)
    >>> value, info["growth_near"], info["growth_beyond"]
    (2.0, 3.0, 1.5)
    >>> rhizosphere_enrichment(b, n, np.array([25.0, 75.0]), near=50.0, min_cells=35)[0] is None
    True
    """
    biomass, cells = np.asarray(biomass, float), np.asarray(cells, float)
    inner = np.asarray(centres) < near
    n_in, n_out = int(cells[0, inner].sum()), int(cells[0, ~inner].sum())
    info = {"cells_near": n_in, "cells_beyond": n_out, "growth_near": None,
            "growth_beyond": None, "reason": None}
    if min(n_in, n_out) < min_cells:
        info["reason"] = (f"{n_in} cells within {near:g} um of the root and {n_out} beyond at "
                          f"the start; each region needs {min_cells}")
        return None, info
    g_in = float(biomass[-1, inner].sum() / biomass[0, inner].sum())
    g_out = float(biomass[-1, ~inner].sum() / biomass[0, ~inner].sum())
    info.update(growth_near=g_in, growth_beyond=g_out)
    if g_out <= 0:
        info["reason"] = "no biomass left beyond the root's neighbourhood"
        return None, info
    return g_in / g_out, info
