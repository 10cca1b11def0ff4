"""The labelled voxel image shared by the pore-scale and single-root case studies."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError

__all__ = ["Phase", "Image"]

#: roles a phase can play in a transport problem
ROLES = ("pore", "solid", "air", "root", "hair", "water", "mucilage", "pom", "other")


@dataclass(frozen=True)
class Phase:
    """One material of a segmented image.

    Parameters
    ----------
    name : str
        Phase name, e.g. ``"aggregate"``, ``"macropore"``, ``"root"``.
    label : int
        Voxel value of this phase.
    diffusivity : float
        Diffusion coefficient in this phase [cm^2 s^-1 or relative units]; 0 for phases
        that do not conduct.
    role : str
        What the phase is physically (one of ``ROLES``: pore, solid, air, root, hair,
        water, mucilage, pom (particulate organic matter), other); solvers select by role.

    Raises
    ------
    InputError
        Unknown role, or a negative or non-finite diffusivity.

    Examples
    --------
    >>> from rhizoscale import Phase
    >>> Phase("aggregate", 1, diffusivity=2.88e-7, role="pore")
    Phase(name='aggregate', label=1, diffusivity=2.88e-07, role='pore')
    """

    name: str
    label: int
    diffusivity: float = 0.0
    role: str = "other"

    def __post_init__(self):
        if self.role not in ROLES:
            raise InputError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}",
                             source="phases", field=self.name)
        if not np.isfinite(self.diffusivity) or self.diffusivity < 0:
            raise InputError(f"diffusivity must be finite and >= 0, got {self.diffusivity}",
                             source="phases", field=f"{self.name}.diffusivity")


@dataclass(frozen=True, eq=False)
class Image:
    """A labelled 2D or 3D voxel image with a physical voxel size and a phase table.

    Parameters
    ----------
    labels : (nz, ny, nx) or (ny, nx) integer array
        Phase label of every voxel.
    voxel_size : float or sequence of floats
        Edge length of a voxel along each array axis [cm]; anisotropic voxels allowed.
    phases : sequence of Phase
        Phase table; every label in the image must appear in it.
    metadata : dict
        Provenance (file, generator and its seed, units).
    origin : sequence of floats, optional
        The outer corner of the first voxel, a point in space written like
        :attr:`RegularGrid.lower <rhizoscale.core.grid.RegularGrid>`: ``(x, y, z)``
        (2D: ``(x, y)``) [cm], default 0. Arrays are indexed ``(z, y, x)`` as grids are,
        so array axis ``k`` runs along physical axis ``ndim - 1 - k``; voxel centres are
        ``origin + (i + 1/2) * voxel_size`` along each axis (:meth:`centers`), the cell
        centres of :meth:`to_grid`.

    Raises
    ------
    InputError
        Labels not 2D/3D integers, a label missing from the phase table, duplicate
        labels, or a bad voxel size.

    See Also
    --------
    rhizoscale.image.io.read_image : read labels from TIFF, NumPy or raw files.
    rhizoscale.image.generators : synthetic images.

    Examples
    --------
    >>> import numpy as np
    >>> from rhizoscale import Image, Phase
    >>> phases = (Phase("air", 0, 0.0, "air"), Phase("soil", 1, 2.88e-7, "pore"), Phase("root", 2, 0.0, "root"))
    >>> image = Image(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 1, 1]]), 0.1, phases)   # 1 mm pixels
    >>> image
    Image(3 x 4 voxels of 0.1 x 0.1 cm, phases ['air', 'soil', 'root'])
    >>> image.volume_fractions()["soil"], image.mask("root").sum(), image.voxel_volume
    (0.5, np.int64(2), 0.010000000000000002)
    >>> image.diffusivity()[0]                   # per voxel, from the phase table
    array([0.00e+00, 0.00e+00, 2.88e-07, 2.88e-07])
    """

    labels: np.ndarray
    voxel_size: tuple[float, ...]
    phases: tuple[Phase, ...]
    metadata: dict = field(default_factory=dict)
    origin: tuple[float, ...] | None = None

    def __post_init__(self):
        src = self.metadata.get("source", "image")
        labels = np.asarray(self.labels)
        if labels.ndim not in (2, 3):
            raise InputError(f"an image must be 2D or 3D, got {labels.ndim}D", source=src)
        if not np.issubdtype(labels.dtype, np.integer):
            if not np.all(np.isfinite(labels)):
                raise InputError("image contains non-finite values", source=src)
            if np.any(labels != np.round(labels)):
                raise InputError("labels must be integers (is this a grey-value image, "
                                 "not a segmented one?)", source=src)
            labels = labels.astype(np.int32)
        try:
            vs = np.broadcast_to(np.asarray(self.voxel_size, dtype=float), (labels.ndim,))
        except (TypeError, ValueError):
            raise InputError(f"voxel size {self.voxel_size} does not fit a {labels.ndim}D image of "
                             f"shape {labels.shape} (give one value or {labels.ndim})", source=src,
                             field="voxel_size") from None
        if np.any(~np.isfinite(vs)) or np.any(vs <= 0):
            raise InputError(f"voxel size must be positive, got {self.voxel_size}", source=src,
                             field="voxel_size")
        phases = tuple(self.phases)
        names = [p.name for p in phases]
        if len(set(names)) != len(names):
            raise InputError("phase names must be unique", source=src, field="phases")
        known = {p.label for p in phases}
        if len(known) != len(phases):
            raise InputError("phase labels must be unique", source=src, field="phases")
        present = np.unique(labels)
        unknown = [int(v) for v in present if int(v) not in known]
        if unknown:
            raise InputError(f"labels {unknown} have no entry in the phase table "
                             f"(known: {sorted(known)})", source=src, field="phases")
        origin = np.broadcast_to(np.asarray(0.0 if self.origin is None else self.origin, dtype=float),
                                 (labels.ndim,))
        if np.any(~np.isfinite(origin)):
            raise InputError(f"origin must be finite, got {self.origin}", source=src, field="origin")
        object.__setattr__(self, "origin", tuple(float(v) for v in origin))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "voxel_size", tuple(float(v) for v in vs))
        object.__setattr__(self, "phases", phases)

    # ------------------------------------------------------------------ access
    @property
    def ndim(self) -> int:
        return self.labels.ndim

    @property
    def shape(self) -> tuple[int, ...]:
        return self.labels.shape

    @property
    def voxel_volume(self) -> float:
        """Volume (3D, cm^3) or area (2D, cm^2) of one voxel."""
        return float(np.prod(self.voxel_size))

    def phase(self, name: str) -> Phase:
        """The phase called ``name`` (an :class:`InputError` when there is none).
        """
        for p in self.phases:
            if p.name == name:
                return p
        raise InputError(f"no phase named {name!r} (phases: {', '.join(p.name for p in self.phases)})",
                         source=self.metadata.get("source", "image"))

    def mask(self, *names_or_roles: str) -> np.ndarray:
        """Boolean mask of the voxels whose phase name or role is one of the arguments."""
        labels = [p.label for p in self.phases if p.name in names_or_roles or p.role in names_or_roles]
        return np.isin(self.labels, labels)

    def diffusivity(self) -> np.ndarray:
        """Voxel-wise diffusivity from the phase table (float array of the image's shape)."""
        table = {p.label: p.diffusivity for p in self.phases}
        lut_labels = np.array(sorted(table), dtype=np.int64)
        lut_values = np.array([table[k] for k in lut_labels])
        return lut_values[np.searchsorted(lut_labels, self.labels)]

    def volume_fractions(self) -> dict[str, float]:
        """Fraction of the image volume taken by each phase."""
        counts = {p.name: int(np.count_nonzero(self.labels == p.label)) for p in self.phases}
        total = self.labels.size
        return {k: v / total for k, v in counts.items()}

    def with_phases(self, phases) -> "Image":
        """The same voxels with another phase table (e.g. other diffusivities)."""
        return replace(self, phases=tuple(phases))

    def with_labels(self, labels: np.ndarray, **metadata) -> "Image":
        """Other voxels, same voxel size and phases."""
        return Image(labels, self.voxel_size, self.phases, {**self.metadata, **metadata}, self.origin)

    def centers(self, axis: str | int) -> np.ndarray:
        """Voxel-centre coordinates along ``axis`` [cm]: ``"x"``, ``"y"``, ``"z"`` as for
        :meth:`RegularGrid.centers <rhizoscale.core.grid.RegularGrid.centers>`, or an
        array axis number (0 is z in 3D, y in 2D)."""
        if isinstance(axis, str):
            names = ("z", "y", "x")[-self.ndim:]
            if axis not in names:
                raise InputError(f"axis must be one of {names}, got {axis!r}", field="axis")
            axis = names.index(axis)
        start = self.origin[self.ndim - 1 - axis]
        return start + (np.arange(self.shape[axis]) + 0.5) * self.voxel_size[axis]

    def to_grid(self):
        """The :class:`~rhizoscale.core.grid.RegularGrid` of a 3D image's voxels (same
        cells, same coordinates), for fields computed on the image.

        >>> import numpy as np
        >>> im = Image(np.zeros((2, 3, 4), np.uint8), (0.1, 0.2, 0.3), (Phase("a", 0, 1.0, "pore"),),
        ...            origin=(1.0, 2.0, 3.0))
        >>> g = im.to_grid()
        >>> g.shape, g.lower, [round(v, 9) for v in g.upper]
        ((2, 3, 4), (1.0, 2.0, 3.0), [2.2, 2.6, 3.2])
        >>> bool(np.allclose(g.centers("z"), im.centers("z")))
        True
        """
        from .grid import RegularGrid
        if self.ndim != 3:
            raise InputError("only a 3D image has a 3D grid", source=self.metadata.get("source", "image"))
        extent = np.asarray(self.shape[::-1], float) * np.asarray(self.voxel_size[::-1])
        lower = np.asarray(self.origin, float)
        return RegularGrid(tuple(lower), tuple(lower + extent), self.shape)

    def __repr__(self) -> str:
        size = " x ".join(f"{n}" for n in self.shape)
        return (f"Image({size} voxels of {' x '.join(f'{v:g}' for v in self.voxel_size)} cm, "
                f"phases {[p.name for p in self.phases]})")
