"""rhizoscale: linking rhizosphere processes across scales.

Pore (µm) -> single root (mm) -> root system (cm-m). The shared data model:

* :class:`~rhizoscale.plant.RootSystem` — timed root architecture
* :class:`~rhizoscale.image.Image` — labelled voxel image with voxel size and phases
* fields — :class:`xarray.DataArray` on a :class:`~rhizoscale.grid.RegularGrid`
* parameters — pydantic models with units and literature sources
* scenarios — YAML files run by ``rhizoscale run``
"""

__version__ = "0.1.0"

from .errors import InputError, ResourceError, RhizoscaleError  # noqa: E402
from .core.grid import RegularGrid, half_mean_interroot_distance, root_length_density  # noqa: E402
from .image import Image, Phase  # noqa: E402
from .plant import RootSystem  # noqa: E402

__all__ = [
    "__version__",
    "Image",
    "InputError",
    "Phase",
    "RegularGrid",
    "ResourceError",
    "RhizoscaleError",
    "RootSystem",
    "half_mean_interroot_distance",
    "root_length_density",
]
