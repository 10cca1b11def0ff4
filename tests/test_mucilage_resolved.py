"""Resolved mode of the mucilage network: the meniscus fitted to a voxel liquid bridge (issue #13).

Oracle: a voxelised toroidal bridge (known r1, r2, contact line) is read back by
Meniscus.from_image; a ruptured bridge gives no surface; swapping the particles
(mirroring the image) changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from rhizoscale.core.image import Image
from rhizoscale.errors import InputError
from rhizoscale.image.generators.granular import AIR, WATER, granular_phases
from rhizoscale.mucilage.bridge import toroidal_bridge
from rhizoscale.mucilage.network import Meniscus, voxel_bridge


def _image(labels):
    return Image(labels, (1e-4,) * 3, granular_phases())        # 1 µm voxels (lengths in cm)


@pytest.mark.parametrize("radius, volume, gap", [(30.0, 0.1, 3.0), (40.0, 0.1, 4.0)])
def test_the_toroidal_bridge_of_a_voxel_image_is_recovered(radius, volume, gap):
    b = toroidal_bridge(volume * radius**3, gap, radius)
    w = int(2 * (b.r1 + b.r2) + 12)
    labels = voxel_bridge(b, (w, w, int(4 * radius + gap + 10)))
    m = Meniscus.from_image(_image(labels), surface_tension=0.072)
    assert m.active
    assert m.r2 == pytest.approx(b.r2, rel=0.05)
    assert m.r1 == pytest.approx(b.r1, rel=0.10)
    assert abs(m.half_length - b.half_length) < 1.0                 # one voxel
    force = np.pi * 0.072 * m.r2 * (1 + m.r2 / m.r1)                # gorge force of the fitted surface
    assert force == pytest.approx(b.force, rel=0.06)
    assert np.allclose(np.abs(m.axis), [0, 0, 1], atol=1e-9)       # along the image's last axis (x)
    # swapping the two particles (mirroring the image) gives the same surface
    flipped = Meniscus.from_image(_image(labels[:, :, ::-1].copy()))
    assert flipped.r1 == pytest.approx(m.r1, abs=1e-9) and flipped.r2 == pytest.approx(m.r2, abs=1e-9)


def test_a_ruptured_bridge_has_no_surface_and_bad_images_are_refused():
    b = toroidal_bridge(0.1 * 30.0**3, 3.0, 30.0)
    labels = voxel_bridge(b, (48, 48, 133))
    mid = labels.shape[2] // 2
    labels[:, :, mid - 1:mid + 1][labels[:, :, mid - 1:mid + 1] == WATER] = AIR    # cut the neck
    assert not Meniscus.from_image(_image(labels)).active
    with pytest.raises(InputError, match="3D"):
        Meniscus.from_image(Image(labels[0], (1e-4,) * 2, granular_phases()))
