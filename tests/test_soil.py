import pytest

from rhizoscale.errors import InputError
from rhizoscale.soil import millington_quirk, millington_quirk_impedance


def test_millington_quirk_reference_value():
    # DESIGN §5: theta = 0.19, phi = 0.41 gives 2.3457e-2
    assert millington_quirk(0.19, 0.41) == pytest.approx(2.3457e-2, rel=1e-4)
    assert millington_quirk(0.19, 0.41, d_water=2.0) == pytest.approx(2 * 2.3457e-2, rel=1e-4)
    assert 0.19 * millington_quirk_impedance(0.19, 0.41) == pytest.approx(millington_quirk(0.19, 0.41))


@pytest.mark.parametrize("theta, phi", [(0.5, 0.4), (-0.1, 0.4), (0.1, 0.0), (float("nan"), 0.4)])
def test_millington_quirk_rejects_bad_input(theta, phi):
    with pytest.raises(InputError):
        millington_quirk(theta, phi)
