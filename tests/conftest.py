import pytest



@pytest.fixture
def branched_root_system():
    """A curved taproot with two laterals (one of them branched), times increasing to the tips."""
    from rhizoscale.plant.generators import branched_root_system as make
    return make()
