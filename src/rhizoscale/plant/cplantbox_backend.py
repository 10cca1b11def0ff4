"""Grow a root system with CPlantBox (optional dependency) and convert it to a RootSystem.

Install with ``pip install "rhizoscale[cplantbox]"``. The parameters are handed to
CPlantBox as an XML file written by :func:`~rhizoscale.parameters.cplantbox_xml.write_cplantbox_xml`,
the system is simulated in daily steps, and each CPlantBox root becomes one polyline
with CPlantBox's node creation times (a lateral's first node is its branching point at
its emergence time, as in rhizoscale's own model).

References
----------
Schnepf A et al. (2018) CRootBox: a structural-functional modelling framework for root
systems. Ann Bot 121:1033-1053.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from ..parameters.cplantbox_xml import write_cplantbox_xml
from ..parameters.root_architecture import PlantParameters
from ..core.root_system import RootSystem

__all__ = ["cplantbox_available", "grow_with_cplantbox", "root_system_from_cplantbox"]

INSTALL_HINT = 'the cplantbox backend needs CPlantBox: pip install "rhizoscale[cplantbox]"'


def cplantbox_available() -> bool:
    """True when CPlantBox (module ``plantbox``) can be imported.

    Returns
    -------
    bool

    Examples
    --------
    >>> from rhizoscale.plant.cplantbox_backend import cplantbox_available
    >>> isinstance(cplantbox_available(), bool)
    True
    """
    try:
        import plantbox  # noqa: F401
    except ImportError:
        return False
    return True


def root_system_from_cplantbox(plant, time: float | None = None, metadata: dict | None = None) -> RootSystem:
    """Convert a simulated CPlantBox ``Plant``/``RootSystem`` into a :class:`RootSystem`.

    Roots with fewer than two nodes (not yet emerged) are left out. Roots from the seed
    each get their own copy of the seed node.

    Parameters
    ----------
    plant : plantbox.Plant or plantbox.RootSystem
        A simulated CPlantBox object (optional dependency ``rhizoscale[cplantbox]``).
    time : float, optional
        Age at observation [d].
    metadata : dict, optional
        Provenance to record (``software`` is set to CPlantBox).

    Returns
    -------
    RootSystem
        Node coordinates [cm] and creation times [d] as CPlantBox stores them.

    References
    ----------
    Schnepf A et al. (2018) CRootBox: a structural-functional modelling framework for root
    systems. Annals of Botany 121(5): 1033-1053.

    Examples
    --------
    With CPlantBox installed (``pip install "rhizoscale[cplantbox]"``):

    >>> import importlib.util
    >>> if importlib.util.find_spec("plantbox"):
    ...     import plantbox as pb
    ...     from rhizoscale.plant import load_plant_parameters
    ...     from rhizoscale.parameters.cplantbox_xml import write_cplantbox_xml
    ...     import tempfile, pathlib
    ...     with tempfile.TemporaryDirectory() as tmp:
    ...         xml = pathlib.Path(tmp) / "vicia_faba.xml"
    ...         write_cplantbox_xml(load_plant_parameters("vicia_faba"), xml)
    ...         plant = pb.Plant()
    ...         plant.readParameters(str(xml))
    ...     plant.initialize(False)
    ...     plant.simulate(3.0, False)
    ...     rs = root_system_from_cplantbox(plant, time=3.0)
    ...     assert rs.time == 3.0 and rs.n_roots >= 1
    """
    organs = [o for o in plant.getOrgans(2) if o.getNumberOfNodes() > 1]
    index = {o.getId(): i for i, o in enumerate(organs)}
    polylines, times, radii, parents, parent_nodes, types = [], [], [], [], [], []
    for o in organs:
        n = o.getNumberOfNodes()
        pts = np.array([[v.x, v.y, v.z] for v in o.getNodes()], dtype=float)
        polylines.append(pts)
        times.append(np.array([o.getNodeCT(i) for i in range(n)], dtype=float))
        radii.append(float(o.getParameter("radius")))
        parent = o.getParent()
        pid = index.get(parent.getId(), -1) if parent is not None and parent.organType() == 2 else -1
        parents.append(pid)
        parent_nodes.append(int(o.parentNI) if pid >= 0 else -1)
        types.append(int(o.getParameter("subType")))
    return RootSystem.from_polylines(polylines, times, radii, parents=parents,
                                     parent_nodes=parent_nodes, root_types=types, time=time,
                                     metadata=dict(metadata or {}, software="CPlantBox"))


def grow_with_cplantbox(params: PlantParameters, days: float, seed: int = 1, confinement=None,
                        callback: Callable[[float, float], None] | None = None) -> RootSystem:
    """Grow ``params`` for ``days`` [d] with CPlantBox (seeded) and return a RootSystem.

    The parameters are written to a CPlantBox XML file and simulated in steps of at most
    one day. Used by :func:`~rhizoscale.plant.grow_root_system` with
    ``backend="cplantbox"``.

    Parameters
    ----------
    params : PlantParameters
        Root architecture parameters.
    days : float
        Simulated time [d].
    seed : int
        CPlantBox's random seed.
    confinement : None
        Not supported yet (an :class:`InputError` when given).
    callback : callable, optional
        ``callback(done_days, total_days)`` after each step.

    Returns
    -------
    RootSystem

    Raises
    ------
    InputError
        CPlantBox is not installed, or a confinement was given.

    References
    ----------
    Schnepf A et al. (2018) CRootBox: a structural-functional modelling framework for root
    systems. Annals of Botany 121(5): 1033-1053.

    Examples
    --------
    Where CPlantBox is installed this grows the root system; without it the backend says
    how to install it:

    >>> from rhizoscale.errors import InputError
    >>> from rhizoscale.plant import load_plant_parameters
    >>> try:
    ...     rs = grow_with_cplantbox(load_plant_parameters("vicia_faba"), 3.0, seed=1)
    ...     outcome = f"grown for {rs.time:g} d"
    ... except InputError as err:
    ...     outcome = str(err)
    >>> outcome in ("grown for 3 d", 'backend: ' + INSTALL_HINT)
    True
    """
    try:
        import plantbox as pb
    except ImportError:
        raise InputError(INSTALL_HINT, field="backend") from None
    if confinement is not None:
        raise InputError("confinement is not yet passed to the cplantbox backend; use "
                         "backend='rhizoscale'", field="confinement")
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / f"{params.name}.xml"
        write_cplantbox_xml(params, xml)
        plant = pb.Plant()
        plant.readParameters(str(xml))
    plant.setSeed(int(seed))
    plant.initialize(False)
    done = 0.0
    while done < days - 1e-12:
        step = min(1.0, days - done)
        plant.simulate(step, False)
        done += step
        if callback:
            callback(done, days)
    return root_system_from_cplantbox(plant, time=days,
                                      metadata={"parameters": params.name, "seed": int(seed)})
