"""RSML 1.0 reader and writer (Lobet et al. 2015, Plant Physiology 167: 617–627).

The Root System Markup Language stores a scene of plants, each a tree of ``<root>``
elements with a ``<geometry><polyline>`` of ``<point x= y= z=/>`` and per-point
``<functions>`` (``domain="polyline"``). Laterals are nested inside their parent root.

What rhizoscale writes and reads back exactly (floats are written with Python's
shortest round-trip repr):

* coordinates in cm (``<unit>cm</unit>``),
* ``diameter`` (cm) and ``creation_time`` (d) functions per point,
* root properties ``type`` (root type) and ``parent-node`` (index of the branching point
  in the parent's polyline),
* the observation time in ``<metadata><observation-time unit="d">``.

Files from other tools (CPlantBox, SmartRoot, RootNav, ...) are read too: units ``mm``,
``m``, ``um`` are converted to cm; ``<sample value="..."/>`` and ``<sample>...</sample>``
are both accepted; node times are taken from a function named ``creation_time``,
``creationTime``, ``emergence_time`` or ``emergenceTime``, or derived from an ``age``
function (creation time = observation time - age). When a file has no time at all, node
creation times are interpolated linearly in arc length along each root from its
emergence (the creation time of its branching node; 0 for roots from the seed) to the time
of measurement at its tip, which must then be given (``age=``) — the rule used by Landl
et al. (2021) for digitised roots.
"""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputError
from .atomic import atomic_write

__all__ = ["read_rsml", "write_rsml"]

_TIME_NAMES = ("creation_time", "creationTime", "emergence_time", "emergenceTime",
               "node_creation_time", "nodeCreationTime")
_AGE_NAMES = ("age", "Age", "age [d]")
_DIAM_NAMES = ("diameter", "diameters", "diam", "Diameter", "rootDiameter")
_RADIUS_NAMES = ("radius", "radii", "Radius")
_TYPE_NAMES = ("type", "subType", "root-type", "rootType")
_UNIT_TO_CM = {"cm": 1.0, "mm": 0.1, "m": 100.0, "um": 1e-4, "µm": 1e-4, "micron": 1e-4,
               "inch": 2.54}

#: radius used when a file gives no diameter [cm] (a warning is recorded)
DEFAULT_RADIUS = 0.05


def _fmt(x: float) -> str:
    return repr(float(x))


# --------------------------------------------------------------------------- writing
def write_rsml(root_system, path: str | Path, *, plant_labels: dict | None = None) -> Path:
    """Write a :class:`~rhizoscale.plant.RootSystem` as RSML 1.0, atomically.

    Coordinates in cm, ``diameter`` (cm) and ``creation_time`` (d) per point, root
    properties ``type`` and ``parent-node``, the observation time in the metadata; floats
    are written with Python's shortest round-trip repr, so :func:`read_rsml` gives back the
    same numbers.

    Parameters
    ----------
    root_system : RootSystem
        The roots.
    path : path-like
        Output file (``.rsml``).
    plant_labels : dict, optional
        Label per plant index.

    Returns
    -------
    Path
        The file written.

    References
    ----------
    Lobet, G., et al. (2015). Root System Markup Language: toward a unified root
    architecture description language. Plant Physiol., 167, 617–627.

    See Also
    --------
    read_rsml : has a round-trip example.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.plant import grow_root_system
    >>> rs = grow_root_system("vicia_faba", 3, seed=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_rsml(rs, Path(tmp) / "roots.rsml")
    ...     back = read_rsml(path)
    >>> path.name, round(rs.total_length(), 3), back.total_length() == rs.total_length()
    ('roots.rsml', 6.213, True)
    """
    rs = root_system
    root = ET.Element("rsml")
    meta = ET.SubElement(root, "metadata")
    ET.SubElement(meta, "version").text = "1"
    ET.SubElement(meta, "unit").text = "cm"
    ET.SubElement(meta, "resolution").text = "1"
    ET.SubElement(meta, "last-modified").text = _dt.date.today().isoformat()
    ET.SubElement(meta, "software").text = f"rhizoscale {__version__}"
    ET.SubElement(meta, "observation-time", {"unit": "d"}).text = _fmt(rs.time)
    props = ET.SubElement(meta, "property-definitions")
    for label, typ, unit in (("type", "integer", "none"), ("parent-node", "integer", "none")):
        pd = ET.SubElement(props, "property-definition")
        ET.SubElement(pd, "label").text = label
        ET.SubElement(pd, "type").text = typ
        ET.SubElement(pd, "unit").text = unit
    funs = ET.SubElement(meta, "function-definitions")
    for label, unit in (("diameter", "cm"), ("creation_time", "d")):
        fd = ET.SubElement(funs, "function-definition")
        ET.SubElement(fd, "label").text = label
        ET.SubElement(fd, "unit").text = unit
    for key, value in rs.metadata.items():
        if key in ("seed", "parameters", "model") and value is not None:
            ET.SubElement(meta, "user", {"key": str(key)}).text = str(value)
    scene = ET.SubElement(root, "scene")

    children: dict[int, list[int]] = {i: [] for i in range(rs.n_roots)}
    for i in range(rs.n_roots):
        if rs.root_parent[i] >= 0:
            children[int(rs.root_parent[i])].append(i)
    node_local = np.empty(rs.n_nodes, dtype=np.int64)
    for i in range(rs.n_roots):
        idx = rs.root_nodes(i)
        node_local[idx] = np.arange(len(idx))

    def add_root(parent_el: ET.Element, i: int) -> None:
        el = ET.SubElement(parent_el, "root", {"id": str(i + 1), "label": f"order{int(rs.root_order[i])}"})
        pr = ET.SubElement(el, "properties")
        ET.SubElement(pr, "type", {"value": str(int(rs.root_type[i]))})
        if rs.root_parent_node[i] >= 0:
            ET.SubElement(pr, "parent-node", {"value": str(int(node_local[rs.root_parent_node[i]]))})
        poly = ET.SubElement(ET.SubElement(el, "geometry"), "polyline")
        idx = rs.root_nodes(i)
        for p in rs.nodes[idx]:
            ET.SubElement(poly, "point", {"x": _fmt(p[0]), "y": _fmt(p[1]), "z": _fmt(p[2])})
        fns = ET.SubElement(el, "functions")
        fd = ET.SubElement(fns, "function", {"name": "diameter", "domain": "polyline"})
        for v in rs.node_radius[idx]:
            ET.SubElement(fd, "sample").text = _fmt(2.0 * v)
        ft = ET.SubElement(fns, "function", {"name": "creation_time", "domain": "polyline"})
        for v in rs.node_time[idx]:
            ET.SubElement(ft, "sample").text = _fmt(v)
        for c in children[i]:
            add_root(el, c)

    plants = sorted(set(int(p) for p in rs.root_plant)) or [0]
    for p in plants:
        label = (plant_labels or {}).get(p, f"plant {p + 1}")
        pel = ET.SubElement(scene, "plant", {"id": str(p + 1), "label": label})
        for i in range(rs.n_roots):
            if rs.root_parent[i] < 0 and int(rs.root_plant[i]) == p:
                add_root(pel, i)
    ET.indent(root, space=" ")
    path = Path(path)
    with atomic_write(path, "wb", encoding=None) as fh:
        ET.ElementTree(root).write(fh, encoding="utf-8", xml_declaration=True)
    return path


# --------------------------------------------------------------------------- reading
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _float(text, path, where) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {text!r}", source=path, field=where) from None
    if not np.isfinite(v):
        raise InputError(f"non-finite value {text!r}", source=path, field=where)
    return v


def _check_root_geometry(i, pts, polylines, parent, parent_node, root_id, where, path) -> None:
    """Refuse a root without length: one point, or all its points at one place.

    A lateral's own points may start one node beyond its branching point (files written
    by rhizoscale do that, with a ``parent-node`` property): such a lateral is measured
    from that node. Without ``parent-node`` the branching point would be a guess, so the
    root's own polyline must have a length.
    """
    full = pts
    if parent >= 0 and parent_node is not None and 0 <= parent_node < len(polylines[parent]):
        full = np.vstack([polylines[parent][parent_node], pts])
    length = float(np.linalg.norm(np.diff(full, axis=0), axis=1).sum()) if len(full) > 1 else 0.0
    if length > 0:
        return
    name = f"root {root_id!r}" if root_id is not None else f"root number {i + 1} (no id)"
    what = "has a single point" if len(pts) == 1 else f"has zero length ({len(pts)} points at one place)"
    raise InputError(f"{name} {what}: a root needs two distinct points (a lateral: one beyond its "
                     "branching point); remove it or fix its polyline", source=path, field=where)


def read_rsml(path: str | Path, *, age: float | None = None):
    """Read an RSML file into a :class:`~rhizoscale.plant.RootSystem`.

    Parameters
    ----------
    path : path-like
        RSML file.
    age : float, optional
        Time of measurement [d] (days since sowing). Needed when the file stores no node
        times; overrides the observation time stored in the file otherwise.

    Returns
    -------
    RootSystem
        With ``metadata["warnings"]`` listing anything that was assumed.

    Raises
    ------
    InputError
        Missing or malformed file (with line and column), unknown units, or a file without
        node times and without ``age``.

    References
    ----------
    Lobet, G., et al. (2015). Root System Markup Language: toward a unified root
    architecture description language. Plant Physiol., 167, 617–627.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rhizoscale.io.rsml import read_rsml, write_rsml
    >>> from rhizoscale.plant import grow_root_system
    >>> rs = grow_root_system("vicia_faba", 7, seed=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_rsml(write_rsml(rs, Path(tmp) / "faba.rsml"))
    >>> back.n_roots == rs.n_roots, back.total_length() == rs.total_length(), back.time
    (True, True, 7.0)
    """
    from ..core.root_system import RootSystem

    path = Path(path)
    try:
        tree = ET.parse(path)
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", source=path) from None
    except OSError as err:
        raise InputError(f"cannot read file ({err.strerror})", source=path) from None
    except ET.ParseError as err:
        line, col = err.position
        raise InputError(f"malformed XML at line {line}, column {col + 1}", source=path) from None
    top = tree.getroot()
    if _local(top.tag) != "rsml":
        raise InputError(f"not an RSML file (root element <{_local(top.tag)}>, expected <rsml>)", source=path)
    warnings: list[str] = []
    scale = 1.0
    observation = None
    user: dict[str, str] = {}
    meta = next((e for e in top if _local(e.tag) == "metadata"), None)
    if meta is not None:
        for e in meta:
            tag = _local(e.tag)
            if tag == "unit" and e.text:
                unit = e.text.strip()
                if unit not in _UNIT_TO_CM:
                    raise InputError(f"unsupported unit {unit!r} (use one of {', '.join(_UNIT_TO_CM)}; "
                                     "pixel coordinates need converting first)", source=path,
                                     field="metadata.unit")
                scale = _UNIT_TO_CM[unit]
            elif tag == "user" and "key" in e.attrib:
                user[e.attrib["key"]] = (e.text or "").strip()
            elif tag == "observation-time" and e.text:
                observation = _float(e.text, path, "metadata.observation-time")
    else:
        warnings.append("no <metadata>: assuming coordinates in cm")
    scene = next((e for e in top if _local(e.tag) == "scene"), None)
    if scene is None:
        raise InputError("no <scene> element", source=path)

    polylines, times, ages, diameters, parents, parent_nodes, types, plants = [], [], [], [], [], [], [], []
    ids: list[str | None] = []
    wheres: list[str] = []

    def read_root(el: ET.Element, parent: int, plant: int, where: str) -> None:
        poly = None
        funcs: dict[str, list[float]] = {}
        props: dict[str, float] = {}
        for child in el:
            tag = _local(child.tag)
            if tag == "geometry":
                poly = next((g for g in child if _local(g.tag) == "polyline"), None)
            elif tag == "functions":
                for f in child:
                    if _local(f.tag) != "function":
                        continue
                    name = f.attrib.get("name", "")
                    vals = []
                    for k, s in enumerate(x for x in f if _local(x.tag) == "sample"):
                        text = s.attrib.get("value", s.text)
                        vals.append(_float(text, path, f"{where}.functions.{name}[{k}]"))
                    funcs[name] = vals
            elif tag == "properties":
                for p in child:
                    text = p.attrib.get("value", p.text)
                    try:
                        props[_local(p.tag)] = float(text)
                    except (TypeError, ValueError):
                        pass
        if poly is None:
            raise InputError("root without <geometry><polyline>", source=path, field=where)
        pts = []
        for k, pt in enumerate(x for x in poly if _local(x.tag) == "point"):
            a = pt.attrib
            if "x" not in a or "y" not in a:
                raise InputError("point without x/y coordinates", source=path, field=f"{where}.point[{k}]")
            pts.append([_float(a["x"], path, f"{where}.point[{k}].x"),
                        _float(a["y"], path, f"{where}.point[{k}].y"),
                        _float(a.get("z", "0"), path, f"{where}.point[{k}].z")])
        if not pts:
            raise InputError("root with an empty polyline", source=path, field=where)
        n = len(pts)
        i = len(polylines)
        polylines.append(np.asarray(pts) * scale)

        def per_point(names, what):
            for name in names:
                if name in funcs:
                    v = funcs[name]
                    if len(v) != n:
                        raise InputError(f"function {name!r} has {len(v)} samples for {n} points",
                                         source=path, field=f"{where}.functions.{name}")
                    return np.asarray(v)
            return None

        times.append(per_point(_TIME_NAMES, "time"))
        ages.append(per_point(_AGE_NAMES, "age"))
        d = per_point(_DIAM_NAMES, "diameter")
        if d is None:
            r = per_point(_RADIUS_NAMES, "radius")
            d = None if r is None else 2 * r
        diameters.append(None if d is None else d * scale)
        parents.append(parent)
        pn = props.get("parent-node")
        parent_nodes.append(int(pn) if pn is not None else None)
        t = next((props[k] for k in _TYPE_NAMES if k in props), None)
        types.append(None if t is None else int(t))
        plants.append(plant)
        ids.append(el.attrib.get("id", el.attrib.get("ID")))
        wheres.append(where)
        for k, child in enumerate(c for c in el if _local(c.tag) == "root"):
            read_root(child, i, plant, f"{where}.root[{k}]")

    plant_els = [e for e in scene if _local(e.tag) == "plant"]
    if not plant_els:
        raise InputError("no <plant> in <scene>", source=path)
    for p, pel in enumerate(plant_els):
        for k, rel in enumerate(e for e in pel if _local(e.tag) == "root"):
            read_root(rel, -1, p, f"plant[{p}].root[{k}]")
    if not polylines:
        raise InputError("no roots in the file", source=path)
    for i, pts in enumerate(polylines):
        _check_root_geometry(i, pts, polylines, parents[i], parent_nodes[i], ids[i], wheres[i], path)

    # radii
    radii = []
    for i, d in enumerate(diameters):
        if d is None:
            radii.append(np.full(len(polylines[i]), DEFAULT_RADIUS))
        else:
            radii.append(0.5 * d)
    if any(d is None for d in diameters):
        warnings.append(f"{sum(d is None for d in diameters)} roots without diameter: radius "
                        f"{DEFAULT_RADIUS} cm assumed")
    # orders from nesting
    order = np.zeros(len(parents), dtype=int)
    for i, par in enumerate(parents):
        if par >= 0:
            order[i] = order[par] + 1
    root_types = [t if t is not None else int(order[i]) + 1 for i, t in enumerate(types)]

    # node times
    if all(t is not None for t in times):
        node_times = times
        if age is not None:
            observation = age
    elif all(a is not None for a in ages):
        if age is None:
            age = observation if observation is not None else max(float(np.max(a)) for a in ages)
            warnings.append(f"node ages converted to creation times with observation time {age:g} d")
        node_times = [age - a for a in ages]
        observation = age
        if any(np.any(t < -1e-9) for t in node_times):
            raise InputError(f"node ages exceed the observation time {age:g} d", source=path, field="age")
        node_times = [np.maximum(t, 0.0) for t in node_times]
    else:
        if age is None:
            age = observation
        if age is None:
            raise InputError("the file stores no node times; give the time of measurement (age "
                             "in days) so that times can be interpolated from tip to collar",
                             source=path, field="age")
        if not (np.isfinite(age) and age > 0):
            raise InputError(f"age must be positive, got {age}", source=path, field="age")
        node_times = []
        warnings.append(f"no node times: interpolated linearly from emergence to the tip at {age:g} d")
        for i, pts in enumerate(polylines):
            if parents[i] >= 0:
                par = parents[i]
                ppts = polylines[par]
                if parent_nodes[i] is not None:
                    j = parent_nodes[i]
                else:
                    j = int(np.argmin(np.linalg.norm(ppts - pts[0], axis=1)))
                t0 = float(node_times[par][min(j, len(ppts) - 1)])
                start = ppts[min(j, len(ppts) - 1)]
            else:
                t0, start = 0.0, pts[0]
            seg = np.linalg.norm(np.diff(np.vstack([start, pts]), axis=0), axis=1)
            arc = np.cumsum(seg)
            total = arc[-1]
            frac = arc / total if total > 0 else np.ones_like(arc)
            node_times.append(t0 + frac * (age - t0))
        observation = age

    try:
        rs = RootSystem.from_polylines(
            polylines, node_times, radii, parents=parents, parent_nodes=parent_nodes,
            root_types=root_types, time=observation, plants=plants,
            metadata={**user, "source": str(path), "warnings": warnings, "format": "RSML"},
        )
    except InputError as err:
        raise InputError(err.message, source=path, field=err.field) from None
    # files written by rhizoscale number roots 1..R in memory order: restore it
    try:
        numbers = np.array([int(i) for i in ids]) - 1
    except (TypeError, ValueError):
        numbers = None
    if numbers is not None and np.array_equal(np.sort(numbers), np.arange(len(ids))):
        order = np.argsort(numbers)
        try:
            rs = rs.renumbered(order)
        except InputError:
            pass  # ids do not put parents first: keep the file's nesting order
    return rs
