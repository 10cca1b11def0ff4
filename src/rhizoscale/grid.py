"""Regular grids, segment–voxel intersections and root length density.

The public path of :mod:`rhizoscale.core.grid`, where they are defined (the core layer);
``from rhizoscale.grid import RegularGrid`` keeps working.
"""

from .core.grid import *  # noqa: F401,F403
from .core.grid import __all__  # noqa: F401
