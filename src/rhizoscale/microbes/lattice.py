"""The pore-scale lattice of case study 5, read from any labelled :class:`~rhizoscale.core.Image`.

Units of the microbes package: lengths in µm, time in h, carbon in fg C (1 fg = 1e-15 g).
The image's voxel size (cm) is converted once here; concentrations are fg C µm^-3
(1 fg µm^-3 = 1 mg cm^-3 = 1 g L^-1).

What each voxel is comes from the phase table's roles, not from where the image came
from (a morphological generator, a two-phase lattice Boltzmann run or a user's file):

* water: roles ``water``, ``pore`` and ``mucilage`` (DOC lives and diffuses here, bacteria
  live here);
* root: roles ``root`` and ``hair`` (exudation enters the water voxels that share a face
  with a root voxel);
* everything else (``solid``, ``air``, ``other``) holds no DOC and no bacteria;
* particulate organic matter (POM) may sit in any voxel; its hydrolysis product enters
  the voxel itself when it is water, else the water voxels sharing a face with it (an
  enzyme needs water; a POM voxel without water contact is not hydrolysed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..core.image import Image
from ..errors import InputError

__all__ = ["MicrobeLattice", "WATER_ROLES", "ROOT_ROLES", "UM_PER_CM"]

WATER_ROLES = ("water", "pore", "mucilage")
ROOT_ROLES = ("root", "hair")
UM_PER_CM = 1.0e4

#: the six face neighbours (dz, dy, dx)
FACES = np.array([[0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0], [1, 0, 0], [-1, 0, 0]],
                 dtype=np.int64)


def _face_neighbour_counts(mask: np.ndarray, of: np.ndarray) -> np.ndarray:
    """Number of faces each voxel of ``mask`` shares with voxels of ``of`` (closed box)."""
    count = np.zeros(mask.shape, np.int8)
    for axis in range(3):
        for step in (1, -1):
            shifted = np.zeros_like(of)
            src = [slice(None)] * 3
            dst = [slice(None)] * 3
            if step == 1:
                src[axis], dst[axis] = slice(1, None), slice(None, -1)
            else:
                src[axis], dst[axis] = slice(None, -1), slice(1, None)
            shifted[tuple(dst)] = of[tuple(src)]
            count += shifted
    return np.where(mask, count, 0).astype(np.int8)


@dataclass(eq=False)
class MicrobeLattice:
    """Water, root and POM geometry of a pore-scale lattice (µm).

    Parameters
    ----------
    water : bool array (nz, ny, nx)
        Voxels holding water (DOC and bacteria live here).
    voxel_size : float
        Voxel edge [µm] (cubic voxels: the lattice random walk and the face fluxes assume
        them).
    root : bool array, optional
        Root (and hair) voxels.
    labels : array, optional
        The image labels (kept for output).
    phase_names : dict, optional
        label -> phase name (kept for output).

    Attributes
    ----------
    root_faces : int8 array
        Faces each water voxel shares with root voxels (exudation enters through them).
    distance_to_root : float array
        Euclidean distance from each voxel centre to the nearest root voxel centre minus
        half a voxel (distance from the root surface) [µm]; inf without a root.

    Examples
    --------
    >>> import numpy as np
    >>> water = np.ones((4, 4, 4), bool); water[0] = False
    >>> lat = MicrobeLattice(water, voxel_size=10.0, root=~water)
    >>> int(lat.n_water), float(lat.voxel_volume), int(lat.root_faces.sum())
    (48, 1000.0, 16)
    """

    water: np.ndarray
    voxel_size: float
    root: np.ndarray | None = None
    labels: np.ndarray | None = None
    phase_names: dict = field(default_factory=dict)

    def __post_init__(self):
        self.water = np.ascontiguousarray(self.water, dtype=bool)
        if self.water.ndim != 3:
            raise InputError(f"the lattice must be 3D (2D as (1, ny, nx)), got {self.water.ndim}D",
                             field="image")
        if not np.isfinite(self.voxel_size) or self.voxel_size <= 0:
            raise InputError(f"voxel size must be positive, got {self.voxel_size}", field="voxel_size")
        if not self.water.any():
            raise InputError("the lattice has no water voxel (no phase with role water, pore or "
                             "mucilage is present): bacteria and DOC need water", field="image")
        self.root = (np.zeros_like(self.water) if self.root is None
                     else np.ascontiguousarray(self.root, dtype=bool))
        if np.any(self.root & self.water):
            raise InputError("a voxel cannot be both root and water", field="image")
        self.root_faces = _face_neighbour_counts(self.water, self.root)
        if self.root.any():
            d = ndimage.distance_transform_edt(~self.root) * self.voxel_size
            self.distance_to_root = np.maximum(d - 0.5 * self.voxel_size, 0.0)
        else:
            self.distance_to_root = np.full(self.water.shape, np.inf)
        self.water_flat = np.flatnonzero(self.water.ravel()).astype(np.int64)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_image(cls, image: Image, *, require_root: bool = False) -> "MicrobeLattice":
        """The lattice of a labelled image (voxel size converted from cm to µm).

        Parameters
        ----------
        image : Image
            3D (or 2D, taken as one plane) labelled image; roles of its phases decide
            water (water, pore, mucilage) and root (root, hair).
        require_root : bool
            Refuse an image without a root phase (rhizosphere scenarios).

        Raises
        ------
        InputError
            Anisotropic voxels, no water, or (``require_root``) no root voxel.
        """
        labels = image.labels if image.ndim == 3 else image.labels[None]
        vs = np.asarray(image.voxel_size, float)
        if not np.allclose(vs, vs[0], rtol=1e-9):
            raise InputError(f"the microbe lattice needs cubic voxels, got {tuple(vs)} cm",
                             field="voxel_size")
        water = image.mask(*WATER_ROLES) if image.ndim == 3 else image.mask(*WATER_ROLES)[None]
        root = image.mask(*ROOT_ROLES) if image.ndim == 3 else image.mask(*ROOT_ROLES)[None]
        if require_root and not root.any():
            raise InputError("the image has no root voxel (no phase with role root or hair); "
                             "a rhizosphere lattice needs the root label", field="image.labels")
        return cls(water, float(vs[0]) * UM_PER_CM, root, labels,
                   {p.label: p.name for p in image.phases})

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        return self.water.shape

    @property
    def voxel_volume(self) -> float:
        """[µm^3]"""
        return float(self.voxel_size) ** 3

    @property
    def face_area(self) -> float:
        """[µm^2]"""
        return float(self.voxel_size) ** 2

    @property
    def n_water(self) -> int:
        return int(self.water_flat.size)

    def pom_targets(self, pom: np.ndarray):
        """Where the DOC of each POM voxel goes: CSR ``(voxels, indptr, targets)``.

        A POM voxel that is water releases into itself; any other releases into the
        water voxels sharing a face with it, in equal shares (order +x, -x, +y, -y, +z,
        -z); a POM voxel without water contact has no target and is not hydrolysed.
        """
        pom = np.asarray(pom)
        voxels = np.flatnonzero(pom.ravel() > 0).astype(np.int64)
        shape = np.array(self.shape)
        coords = np.stack(np.unravel_index(voxels, self.shape), axis=1)
        flat_water = self.water.ravel()
        lists = []
        for c, v in zip(coords, voxels):          # once at set-up, over POM voxels only
            if flat_water[v]:
                lists.append([v])
                continue
            nb = c + FACES                        # (dz, dy, dx) offsets
            ok = np.all((nb >= 0) & (nb < shape), axis=1)
            idx = np.ravel_multi_index(nb[ok].T, self.shape) if ok.any() else np.zeros(0, np.int64)
            lists.append([int(i) for i in idx if flat_water[i]])
        indptr = np.zeros(voxels.size + 1, np.int64)
        indptr[1:] = np.cumsum([len(t) for t in lists])
        targets = np.array([i for t in lists for i in t], dtype=np.int64)
        return voxels, indptr, targets
