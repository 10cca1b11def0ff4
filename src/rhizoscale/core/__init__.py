"""The core layer: the data model every case study shares, and nothing else.

* :class:`RootSystem` — timed root architecture (cm, d);
* :class:`Image`, :class:`Phase` — labelled voxels with voxel size, origin and phase table;
* :class:`RegularGrid` — cell-centred grids for fields, root length density;
* :mod:`~rhizoscale.core.units` — the shared unit conversions (d/s, GiB).

Core modules import nothing from the case studies (``plant``, ``rhizodeposition``,
``nutrients``, ``diffusion``, ``homogenization``), the run layer or the CLI; everything
else may import them. Array axes are ``(z, y, x)`` for grids and 3D images alike (2D
images: ``(y, x)``); physical points and boxes are written ``(x, y, z)`` [cm].
"""

from .grid import RegularGrid, half_mean_interroot_distance, root_length_density, segment_cell_lengths
from .image import Image, Phase
from .root_system import RootSystem
from .units import GIB, SECONDS_PER_DAY, from_gib, to_gib

__all__ = ["RootSystem", "Image", "Phase", "RegularGrid", "root_length_density",
           "half_mean_interroot_distance", "segment_cell_lengths", "SECONDS_PER_DAY", "GIB",
           "to_gib", "from_gib"]
