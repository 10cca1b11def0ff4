import pytest

from rhizoscale.errors import InputError
from rhizoscale.parameters import ParameterSet, parameter_set_from_dict, quantity
from rhizoscale.io import atomic_write


class Toy(ParameterSet):
    D: float = quantity(1.0, units="cm2 d-1", description="diffusivity", gt=0)
    k: float = quantity(0.1, units="d-1", description="decay rate", ge=0)


def test_values_sources_and_units():
    p = parameter_set_from_dict(Toy, {"name": "toy", "values": {
        "D": {"value": 2.0, "units": "cm2 d-1", "source": "Someone et al. 2020"},
        "k": {"value": 0.3, "source": "chosen: no data"}}})
    assert p.D == 2.0 and p.source("D") == "Someone et al. 2020"
    assert p.chosen() == {"k": "chosen: no data"}
    assert Toy.units("D") == "cm2 d-1"


@pytest.mark.parametrize("values, field", [
    ({"D": {"value": 2.0, "units": "m2 s-1"}}, "D"),
    ({"D": float("nan")}, "D"),
    ({"D": -1.0}, "D"),
    ({"Dx": 1.0}, "Dx"),
])
def test_bad_values_name_the_field(values, field):
    with pytest.raises(InputError) as err:
        parameter_set_from_dict(Toy, {"values": values}, origin="toy.yaml")
    assert "toy.yaml" in str(err.value) and field in str(err.value)


def test_overrides_are_validated():
    p = Toy()
    assert p.with_overrides({"k": 0.5}).source("k") == "user override"
    with pytest.raises(InputError):
        p.with_overrides({"k": -1})
    with pytest.raises(InputError):
        p.with_overrides({"nope": 1})


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    with atomic_write(target) as fh:
        fh.write("whole")
    assert target.read_text() == "whole"


def test_one_set_per_substance_with_a_section_per_model(tmp_path):
    """Citrate is one file: case study 1 reads its rhizodeposition section (ug, cm, d),
    case study 2 its uptake section (umol, cm, s); the substance's decay agrees."""
    from rhizoscale.errors import InputError
    from rhizoscale.nutrients import load_citrate
    from rhizoscale.nutrients.parameters import CitrateParameters
    from rhizoscale.parameters import available_parameter_sets, load_parameter_set
    from rhizoscale.rhizodeposition import ExudateParameters
    cs1 = load_parameter_set(ExudateParameters, "citrate")
    cs2 = load_citrate("citrate")
    assert cs1.name == cs2.name == "citrate" and "citrate_cs2" not in available_parameter_sets()
    # 1.42 d-1 written as 1.64e-5 s-1 (three digits): the same rate to the rounding
    assert cs2.decay_rate * 86400.0 == pytest.approx(cs1.k, rel=3e-3)
    assert load_citrate("citrate_cs2") == cs2            # the old name still reads
    (tmp_path / "s.yaml").write_text("name: x\nrhizodeposition:\n  values: {Q: 1.0}\n")
    with pytest.raises(InputError, match="no section 'uptake'"):
        load_parameter_set(CitrateParameters, tmp_path / "s.yaml")
