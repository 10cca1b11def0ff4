"""CPlantBox XML reader: every shipped file reads, bad files give one clear error."""

from pathlib import Path

import pytest

from rhizoscale.errors import InputError
from rhizoscale.parameters.cplantbox_xml import read_cplantbox_xml, write_cplantbox_xml
from rhizoscale.plant import load_plant_parameters

FIXTURE = """<plant>
  <seed name="fixture" subType="0">
    <parameter name="seedPos.z" value="-1.5"/>
    <parameter name="maxB" value="2"/>
    <parameter name="firstB" value="3"/>
    <parameter name="delayB" value="2"/>
    <parameter name="maxTil" value="0"/>
    <parameter name="mysteryKnob" value="7"/>
  </seed>
  <root name="taproot" subType="1">
    <parameter name="lb" value="1" dev="0.1"/>
    <parameter name="la" value="5"/>
    <parameter name="ln" value="0.5" dev="0.05"/>
    <parameter name="lmax" value="{lmax}"/>
    <parameter name="r" value="2"/>
    <parameter name="a" value="0.1"/>
    <parameter name="tropismT" value="1"/>
    <parameter name="tropismN" value="2"/>
    <parameter name="tropismS" value="0.2"/>
    <parameter name="dx" value="0.25"/>
    <parameter name="gf" value="2"/>
    <parameter name="colorR" value="0.5"/>
    <parameter name="lnk" value="0.3"/>
    <parameter name="successor" ruleId="0" numLat="1" Where="" subType="2" organType="2" percentage="0.7"/>
    <parameter name="successor" ruleId="0" numLat="1" Where="" subType="3" organType="2" percentage="0.3"/>
  </root>
  <root name="lateral" subType="2">
    <parameter name="lmax" value="4" dev="0.4"/>
    <parameter name="r" value="1"/>
    <parameter name="a" value="0.05"/>
    <parameter name="theta" value="1.2"/>
  </root>
  <root name="fine" subType="3">
    <parameter name="lmax" value="1"/>
    <parameter name="r" value="0.5"/>
    <parameter name="a" value="0.02"/>
  </root>
  <stem name="mainstem" subType="1"><parameter name="lmax" value="10"/></stem>
</plant>
"""


def _write(tmp_path, text, name="fixture.xml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_fixture_values_successors_and_warnings(tmp_path):
    p = read_cplantbox_xml(_write(tmp_path, FIXTURE.format(lmax=50)))
    tap = p.root_type(1)
    assert (tap.lb, tap.lb_sd, tap.la, tap.ln, tap.ln_sd, tap.lmax, tap.r) == (1, 0.1, 5, 0.5, 0.05, 50, 2)
    assert tap.successors[0].subtypes == [2, 3]
    assert tap.successors[0].probabilities == [0.7, 0.3]
    assert p.root_type(2).lmax_sd == 0.4
    assert p.seed.position == (0.0, 0.0, -1.5)
    assert (p.seed.maxB, p.seed.firstB, p.seed.delayB) == (2, 3.0, 2.0)
    text = " | ".join(p.reader_warnings)
    assert "mysteryKnob" in text and "lnk" in text and "stem" in text
    assert "colorR" not in text  # harmless display parameters are not reported


def test_roundtrip_through_writer(tmp_path):
    p = read_cplantbox_xml(_write(tmp_path, FIXTURE.format(lmax=50)))
    out = tmp_path / "again.xml"
    write_cplantbox_xml(p, out)
    q = read_cplantbox_xml(out)
    assert [rt.model_dump() for rt in q.root_types] == [rt.model_dump() for rt in p.root_types]
    assert q.seed == p.seed


def test_negative_value_names_file_and_field(tmp_path):
    path = _write(tmp_path, FIXTURE.format(lmax=-3), name="Faba.xml")
    with pytest.raises(InputError) as err:
        read_cplantbox_xml(path)
    assert "Faba.xml" in str(err.value) and "root_types[0].lmax" in str(err.value)


def test_nan_value_is_rejected(tmp_path):
    with pytest.raises(InputError, match=r"root_types\[0\]\.lmax"):
        read_cplantbox_xml(_write(tmp_path, FIXTURE.format(lmax="nan")))


def test_non_numeric_value_is_rejected(tmp_path):
    with pytest.raises(InputError, match=r"root_types\[0\]\.lmax.*not a number"):
        read_cplantbox_xml(_write(tmp_path, FIXTURE.format(lmax="long")))


def test_malformed_xml_reports_line(tmp_path):
    bad = FIXTURE.format(lmax=50).replace('<root name="lateral" subType="2">', '<root name="lateral" subType="2"')
    with pytest.raises(InputError, match=r"line \d+"):
        read_cplantbox_xml(_write(tmp_path, bad))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_cplantbox_xml(tmp_path / "nope.xml")


def test_load_plant_parameters_dispatches_on_xml(tmp_path):
    p = load_plant_parameters(_write(tmp_path, FIXTURE.format(lmax=50)))
    assert p.name == "fixture"


def _cplantbox_rootsystem_dir():
    pb = pytest.importorskip("plantbox")
    d = Path(pb.__file__).parent / "modelparameter" / "structural" / "rootsystem"
    if not d.is_dir():
        pytest.skip("CPlantBox parameter files not installed")
    return d


def test_reads_every_cplantbox_rootsystem_xml():
    d = _cplantbox_rootsystem_dir()
    files = sorted(d.glob("*.xml"))
    assert len(files) > 20
    for f in files:
        p = read_cplantbox_xml(f)
        assert p.root_types, f.name
