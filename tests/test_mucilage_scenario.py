"""Case study 4 mucilage: the scenario's bad input, memory estimate and a resumed run."""

import pytest

from rhizoscale.errors import InputError
from rhizoscale.scenario import load_scenario


def _write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text("case: cs4-mucilage-bridge\n" + text)
    return path


@pytest.mark.parametrize("text, field", [
    ("concentrations: [0.0]\n", "concentrations"),
    ("concentrations: [80.0]\n", "concentrations"),
    ("concentrations: [2, 2]\n", "concentrations"),
    ("separation: -1\n", "separation"),
    ("time: {stop: 10 s, dt: 20 s}\n", "time.dt"),
    ("time: {stop: 10 s, outputs: [20 s]}\n", "time.outputs"),
    ("liquid_volume: 0\n", "liquid_volume"),
    ("parameters: {network.particle_radius: -5}\n", "network.particle_radius"),
])
def test_bad_scenarios_name_the_field(tmp_path, text, field):
    with pytest.raises(InputError) as err:
        load_scenario(_write(tmp_path, text))
    assert field in str(err.value)


def test_volume_outside_the_pendular_range_is_refused_before_drying(tmp_path):
    from rhizoscale.scenario import run_scenario
    sc = load_scenario(_write(tmp_path, "liquid_volume: 100.0\nconcentrations: [1.0]\n"))
    with pytest.raises(InputError, match="liquid_volume"):
        run_scenario(sc, tmp_path / "out")


def test_memory_estimate_grows_with_beads_and_image():
    from rhizoscale.mucilage.scenario import Config, estimate_memory
    small = estimate_memory(Config(concentrations=[1.0], liquid_volume=1e4)).total
    dense = estimate_memory(Config(concentrations=[20.0], liquid_volume=1e4)).total
    fine = estimate_memory(Config(concentrations=[1.0], liquid_volume=1e4, image_voxel_size=0.5)).total
    assert small < dense and small < fine
    assert 0.19 < small / 2 ** 30 < 1
