import numpy as np
import pytest

from rhizoscale import InputError
from rhizoscale.io.rsml import read_rsml, write_rsml
from rhizoscale.io.vtk import write_image_vtk, write_root_system_vtk


def _same(a, b):
    a = a.renumbered()
    assert a.n_roots == b.n_roots
    assert np.array_equal(a.nodes, b.nodes)
    assert np.array_equal(a.node_time, b.node_time)
    assert np.array_equal(a.node_radius, b.node_radius)
    assert np.array_equal(a.root_parent, b.root_parent)
    assert np.array_equal(a.root_parent_node, b.root_parent_node)
    assert np.array_equal(a.root_type, b.root_type)
    assert np.array_equal(a.root_order, b.root_order)
    assert a.time == b.time


def test_rsml_round_trip_is_exact(tmp_path, branched_root_system):
    rs = branched_root_system
    path = write_rsml(rs, tmp_path / "rs.rsml")
    back = read_rsml(path)
    _same(rs, back)
    # and once more: the file is a fixed point
    write_rsml(back, tmp_path / "rs2.rsml")
    assert (tmp_path / "rs.rsml").read_bytes() == (tmp_path / "rs2.rsml").read_bytes()


def test_rsml_from_other_tools_nested_laterals_and_ages(tmp_path):
    # SmartRoot/RootNav style: mm units, laterals nested, <sample value=>, ages instead of times
    text = """<?xml version='1.0' encoding='UTF-8'?>
<rsml xmlns:po="http://www.plantontology.org/xml-dtd/po.dtd">
 <metadata><version>1</version><unit>mm</unit><resolution>1</resolution></metadata>
 <scene><plant id="p1">
  <root id="r1" label="primary">
   <geometry><polyline>
    <point x="0" y="0" z="0"/><point x="0" y="0" z="-10"/><point x="0" y="0" z="-20"/>
   </polyline></geometry>
   <functions>
    <function name="diameter" domain="polyline"><sample value="1"/><sample value="1"/><sample value="1"/></function>
    <function name="age" domain="polyline"><sample>4</sample><sample>2</sample><sample>0</sample></function>
   </functions>
   <root id="r2" label="lateral">
    <geometry><polyline><point x="1" y="0" z="-10"/><point x="5" y="0" z="-10"/></polyline></geometry>
    <functions><function name="age" domain="polyline"><sample>1</sample><sample>0</sample></function></functions>
   </root>
  </root>
 </plant></scene>
</rsml>"""
    p = tmp_path / "other.rsml"
    p.write_text(text)
    rs = read_rsml(p)
    assert rs.n_roots == 2
    assert rs.nodes[1, 2] == pytest.approx(-1.0)  # mm -> cm
    assert np.allclose(rs.node_time[:3], [0, 2, 4])
    assert rs.root_parent_node[1] == 1  # nearest node of the parent
    assert rs.node_radius[0] == pytest.approx(0.05)
    assert rs.node_radius[3] == pytest.approx(0.05) and rs.metadata["warnings"]  # default radius
    # connecting segment from the branching node (0,0,-1) to the lateral's first point
    assert rs.total_length() == pytest.approx(2.0 + 0.1 + 0.4)


def test_rsml_without_times_interpolates_from_tip_to_collar(tmp_path):
    text = """<rsml><metadata><unit>cm</unit></metadata><scene><plant>
      <root><geometry><polyline><point x="0" y="0" z="0"/><point x="0" y="0" z="-3"/>
      <point x="0" y="0" z="-4"/></polyline></geometry>
        <root><geometry><polyline><point x="0" y="0" z="-3"/><point x="2" y="0" z="-3"/></polyline></geometry></root>
      </root></plant></scene></rsml>"""
    p = tmp_path / "notime.rsml"
    p.write_text(text)
    with pytest.raises(InputError, match="age"):
        read_rsml(p)
    rs = read_rsml(p, age=8.0)
    # primary: linear in arc length from 0 at the collar to 8 at the tip
    assert np.allclose(rs.node_time[:3], [0.0, 6.0, 8.0])
    # lateral: from its branching node's time (6) to 8 at its tip; first point coincides
    assert np.allclose(rs.node_time[3:], [6.0, 8.0])
    assert rs.time == 8.0


@pytest.mark.parametrize("text, match", [
    ("<rsml><scene><plant><root>", "malformed XML"),
    ("<notrsml/>", "not an RSML"),
    ("<rsml><metadata><unit>pixel</unit></metadata><scene><plant/></scene></rsml>", "unit"),
    ("<rsml><scene><plant><root><geometry><polyline><point x='a' y='0'/></polyline></geometry></root></plant></scene></rsml>",
     "number"),
    ("<rsml><scene><plant><root><geometry><polyline><point x='0' y='0'/></polyline></geometry>"
     "<functions><function name='creation_time'><sample>1</sample><sample>2</sample></function></functions>"
     "</root></plant></scene></rsml>", "samples"),
])
def test_bad_rsml_gives_one_clear_error(tmp_path, text, match):
    p = tmp_path / "bad.rsml"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_rsml(p)
    assert "bad.rsml" in str(err.value)


def test_vtk_files_are_readable(tmp_path, branched_root_system):
    vtk = pytest.importorskip("vtk")
    from rhizoscale import RegularGrid, root_length_density
    rs = branched_root_system
    path = write_root_system_vtk(rs, tmp_path / "roots.vtp")
    assert path.suffix == ".vtp"
    reader = vtk.vtkXMLPolyDataReader()
    reader.SetFileName(str(path))
    reader.Update()
    grid = reader.GetOutput()
    assert grid.GetNumberOfCells() == grid.GetNumberOfLines() == rs.n_roots
    assert grid.GetPointData().GetArray("creation_time") is not None
    g = RegularGrid.from_resolution((-3, -2, -11), (5, 2, 0), 0.5)
    rld = root_length_density(rs, g)
    path = write_image_vtk(rld, tmp_path / "rld.vti")
    r = vtk.vtkXMLImageDataReader()
    r.SetFileName(str(path))
    r.Update()
    img = r.GetOutput()
    assert img.GetDimensions() == (g.shape[2] + 1, g.shape[1] + 1, g.shape[0] + 1)
    arr = img.GetCellData().GetArray("root_length_density")
    vals = np.array([arr.GetValue(i) for i in range(arr.GetNumberOfTuples())])
    # VTK orders cells x fastest: the C-order ravel of the [z, y, x] array
    assert np.allclose(vals, rld.values.ravel())
    assert img.GetOrigin() == pytest.approx((-3, -2, -11))
    assert list(tmp_path.glob("*.part*")) == []


def test_read_cplantbox_rsml(tmp_path):
    pb = pytest.importorskip("plantbox")
    import os
    path = os.path.join(os.path.dirname(pb.__file__), "modelparameter/structural/rootsystem/Faba_synMRI.xml")
    crs = pb.RootSystem()  # (pb.Plant.writeRSML writes no roots in cplantbox 2.1.1)
    crs.readParameters(path)
    crs.setSeed(3)
    crs.initialize(False)
    crs.simulate(10, False)
    out = tmp_path / "cpb.rsml"
    crs.writeRSML(str(out))
    rs = read_rsml(out)
    polys = [np.array([[p.x, p.y, p.z] for p in pl]) for pl in crs.getPolylines()]
    assert rs.n_roots == len(polys)
    total = sum(np.linalg.norm(np.diff(p, axis=0), axis=1).sum() for p in polys)
    assert rs.total_length() == pytest.approx(total, rel=1e-6)
    assert rs.node_time.max() <= 10 + 1e-9


def test_root_vtk_is_polydata_with_one_polyline_per_root(tmp_path, branched_root_system):
    from rhizoscale.io.vtk import read_vtk_arrays
    rs = branched_root_system
    path = write_root_system_vtk(rs, tmp_path / "roots.vtu")
    assert path.name == "roots.vtp"
    assert b'<VTKFile type="PolyData"' in path.read_bytes()[:200]
    arrays = read_vtk_arrays(path)
    # laterals start at their branching node: one extra point each
    n_pts = sum(len(rs.root_nodes(i)) + (rs.root_parent_node[i] >= 0) for i in range(rs.n_roots))
    assert arrays["Points"].shape == (n_pts, 3)
    assert np.array_equal(arrays["offsets"][-1:], [n_pts]) and len(arrays["offsets"]) == rs.n_roots
    assert np.array_equal(arrays["root_id"], np.arange(rs.n_roots))
    assert np.allclose(arrays["Points"][: len(rs.root_nodes(0))], rs.nodes[rs.root_nodes(0)])


def test_image_vtk_is_compressed_and_reads_back(tmp_path):
    from rhizoscale.io.vtk import read_vtk_arrays
    # a smooth CS1-like plume: concentration decaying away from a vertical root
    z, y, x = np.meshgrid(np.linspace(-45, 0, 90), np.linspace(-10, 10, 40), np.linspace(-10, 10, 40),
                          indexing="ij")
    c = (30 * np.exp(-(x**2 + y**2) / 0.5) * np.exp(z / 20)).astype(np.float32)
    duration = np.round(np.clip(c, 0, 21)).astype(np.float32)
    path = write_image_vtk({"c": c, "duration": duration, "mask": c > 1}, tmp_path / "f.vti",
                           origin=(-10, -10, -45), spacing=(0.5, 0.5, 0.5))
    head = path.read_bytes()[:300]
    assert b'compressor="vtkZLibDataCompressor"' in head and b'type="ImageData"' in head
    back = read_vtk_arrays(path)
    assert np.array_equal(back["c"], c) and np.array_equal(back["duration"], duration)
    assert np.array_equal(back["mask"], (c > 1).astype(np.uint8))
    uncompressed = c.nbytes + duration.nbytes + c.size
    assert path.stat().st_size < uncompressed / 8


def test_points_vtk_with_no_points(tmp_path):
    """A CS5 snapshot after every cell died (or of an empty run) is a valid empty .vtp,
    not a TypeError from the block compressor."""
    from rhizoscale.io.vtk import read_vtk_arrays, write_points_vtk
    path = write_points_vtk(np.zeros((0, 3)), {"carbon_fg": np.zeros(0)}, tmp_path / "cells")
    arrays = read_vtk_arrays(path)
    assert arrays["Points"].shape == (0, 3) and arrays["carbon_fg"].size == 0
    assert b'NumberOfPoints="0"' in path.read_bytes()


def test_vtk_blocks_compressed_on_threads_are_the_serial_bytes():
    import zlib
    from rhizoscale.io.vtk import BLOCK_SIZE, _compressed
    a = np.random.default_rng(0).integers(0, 4, 3 * BLOCK_SIZE // 4 + 5, dtype=np.int32)   # 4 blocks
    raw = a.tobytes()
    blocks = [zlib.compress(raw[i:i + BLOCK_SIZE], 6) for i in range(0, len(raw), BLOCK_SIZE)]
    header = np.array([len(blocks), BLOCK_SIZE, len(raw) % BLOCK_SIZE] + [len(b) for b in blocks], dtype="<u8")
    assert len(blocks) == 4
    assert _compressed(a, 6) == header.tobytes() + b"".join(blocks)
