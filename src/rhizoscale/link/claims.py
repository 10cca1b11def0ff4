"""Claims of case study 4 that the ``cs4-diffusivity-table`` chain answers (``rhizoscale reproduce``).

The paper (Schnepf et al. 2022, CS4, Fig. 11) states, for its 2D sand section at θ = 0.19
(φ = 0.41, mucilage 10 % of the liquid): the water-only tensor has a blocked direction;
mucilage bridges open it; mirrored tensors are diagonal; Millington–Quirk gives 2.3457e-2.
The chain of this package (pore image -> film liquid -> mucilage bridges spanning up to
the bead–spring network's gap -> homogenisation) is run in 2D (the shipped example) and
in 3D; the verdicts are computed from the written table, the same for both:

* *blocked, then opened*: at θ = 0.19 the water-only tensor (translation) has a zero
  principal value while the largest is positive, and with mucilage (``mucilage_fraction``
  of the liquid) it has fewer zero principal values (holds); partly: that happens at
  another θ of the table;
* *mirrored diagonal*: every mirrored tensor of the table has zero off-diagonal terms;
* Millington–Quirk at θ = 0.19 and the image's porosity, against 2.3457e-2 (closed form;
  the porosity is the generated packing's).
"""

from __future__ import annotations

import numpy as np

from ..reproduce.claim import Claim, Measured, PaperValue, RelativeTolerance, Study, Trend
from ..reproduce.examples import example

SOURCE = "Schnepf et al. 2022, CS4 Fig. 11 (2D sand, φ 0.41, θ 0.19, mucilage 10 % of the liquid); DESIGN.md §5"
STUDY_2D = "cs4-diffusivity-table"
STUDY_3D = "cs4-diffusivity-table-3d"
THETA = 0.19
#: the paper's Millington–Quirk value at θ = 0.19, φ = 0.41
MQ_PAPER = 2.3457e-2

STUDIES = [
    Study(STUDY_2D, example("cs4-diffusivity-table"),
          {"shape": [150, 150], "water_contents": [0.12, 0.19, 0.41], "mucilage_fractions": [0.0, 0.1]},
          note="the shipped example: 300 x 300 voxels of 10 µm, seed 4, film liquid, mucilage 3 mg/g "
               "(a 2D medium of parallel cylinders: the network between them spans 0.41 of the pair radius)",
          quick_note="150 x 150 voxels, θ 0.12 / 0.19 / 0.41, mucilage 0 and 10 %"),
    Study(STUDY_3D, {**example("cs4-diffusivity-table"), "seed": 1, "shape": [40, 40, 40],
                     "mean_grain_radius": 0.006, "water_contents": [0.1, 0.19], "mucilage_fractions": [0.0, 0.1]},
          {"shape": [32, 32, 32], "mean_grain_radius": 0.005},
          note="40³ voxels of 10 µm, grains of 60 µm, seed 1, θ 0.1 and 0.19, mucilage 0 and 10 %",
          quick_note="32³ voxels, grains of 50 µm"),
]


def blocked_then_opened(table, fraction: float, theta: float = THETA) -> tuple[bool, list[float]]:
    """(at ``theta`` the water-only tensor is blocked in a direction and mucilage opens one,
    the table's θ where that happens).

    Blocked: a principal value (translation) at most 1e-12 of the largest, the largest
    positive; opened: the tensor with mucilage has fewer such zero principal values.

    >>> import numpy as np, xarray as xr
    >>> t = np.zeros((2, 2, 2, 2))
    >>> t[0, 0] = np.diag([0.02, 0.0]); t[0, 1] = np.diag([0.03, 0.01])     # theta 0.1: opened
    >>> t[1, 0] = np.diag([0.04, 0.0]); t[1, 1] = np.diag([0.04, 0.0])      # theta 0.19: still blocked
    >>> table = xr.Dataset({"tensor": (("theta", "mucilage_fraction", "i", "j"), t)},
    ...                    coords={"theta": [0.1, 0.19], "mucilage_fraction": [0.0, 0.1]})
    >>> blocked_then_opened(table, 0.1)
    (False, [0.1])
    """
    tensors = np.asarray(table["tensor"].values, float)
    th = np.asarray(table["theta"].values, float)
    j0 = int(np.argmin(np.abs(table["mucilage_fraction"].values - 0.0)))
    j1 = int(np.argmin(np.abs(table["mucilage_fraction"].values - fraction)))
    ev = np.linalg.eigvalsh(0.5 * (tensors + np.swapaxes(tensors, -1, -2)))     # (theta, f, nd)
    zeros = np.sum(ev <= 1e-12 * np.maximum(ev.max(axis=-1, keepdims=True), 1e-300), axis=-1)
    blocked = (zeros[:, j0] > 0) & (ev[:, j0].max(axis=-1) > 0)
    opened = blocked & (zeros[:, j1] < zeros[:, j0])
    where = [float(t) for t in th[opened]]
    return bool(np.any(opened & np.isclose(th, theta))), where


def _table(p, study):
    return p[study].fields["effective_diffusivity_table.nc"]


def _opens(study):
    def measure(p):
        t = _table(p, study)
        f = float(p[study].fields["images.nc"].attrs["mucilage_fraction"])
        holds, where = blocked_then_opened(t, f)
        i = int(np.argmin(np.abs(t.theta.values - THETA)))
        j1 = int(np.argmin(np.abs(t.mucilage_fraction.values - f)))
        span = p[study].info.get("bridge_span", {})
        ratio = span.get("gap_over_radius")
        at = (f"θ = {t.theta.values[i]:g}: water only D_min/D_max = {t.d_min.values[i, 0]:.3g}/{t.d_max.values[i, 0]:.3g}, "
              f"mucilage {t.mucilage_fraction.values[j1]:g}: {t.d_min.values[i, j1]:.3g}/{t.d_max.values[i, j1]:.3g}")
        return Measured(at, holds=holds, partly=bool(where),
                        note=(f"blocked and opened at θ = {', '.join(f'{w:g}' for w in where)}; " if where else
                              "no θ of the table has a blocked direction that mucilage opens; ") +
                             (f"bridges span up to {ratio:.3f} of the pair radius (bead–spring network, "
                              f"{span.get('geometry', 'spheres')})" if ratio is not None else "fixed max_bridge_gap"))
    return measure


def _mirror_diagonal(study):
    def measure(p):
        t = _table(p, study)
        m = np.asarray(t["tensor_mirror"].values, float)
        nd = m.shape[-1]
        off = m * (1 - np.eye(nd))
        worst = float(np.abs(off).max() / max(np.abs(m).max(), 1e-300))
        return Measured(f"largest off-diagonal / largest term {worst:.1e} over {m[..., 0, 0].size} tensors",
                        holds=worst == 0.0, note="every (θ, mucilage) entry of the table, mirror periodisation")
    return measure


def _mq(p):
    t = _table(p, STUDY_2D)
    mq = float(p[STUDY_2D].value("millington_quirk"))
    i = int(np.argmin(np.abs(t.theta.values - THETA)))
    return Measured(mq, "1", note=f"porosity {t.attrs.get('porosity', np.nan):.4f}; the table's D_eff at θ = "
                                  f"{t.theta.values[i]:g}: water only {t.d_eff.values[i, 0]:.4g}, with mucilage "
                                  + ", ".join(f"{m:g}: {v:.4g}" for m, v in zip(t.mucilage_fraction.values[1:],
                                                                             t.d_eff.values[i, 1:])))


CLAIMS = [
    Claim("cs4-table-opens-2d", "CS4", "2D: at θ = 0.19 the water-only tensor has a blocked direction and "
          "mucilage bridges open it", PaperValue("D₁ blocked in one direction; D₂ positive definite", "", SOURCE),
          Trend("water-only tensor with a zero principal value, fewer zeros with mucilage, at θ = 0.19 (at "
                "another θ of the table: partly)"), (STUDY_2D,), _opens(STUDY_2D),
          note="the chain's own sample (the paper's image is not public); bridge span from the network model"),
    Claim("cs4-table-opens-3d", "CS4", "3D: at θ = 0.19 the water-only tensor has a blocked direction and "
          "mucilage bridges open it", PaperValue("as in 2D (the paper states it for 2D and 3D)", "", SOURCE),
          Trend("water-only tensor with a zero principal value, fewer zeros with mucilage, at θ = 0.19 (at "
                "another θ of the table: partly)"), (STUDY_3D,), _opens(STUDY_3D),
          note="in 3D the water films percolate at θ = 0.19; the table also holds θ = 0.1"),
    Claim("cs4-table-mirror-diagonal", "CS4", "Mirrored tensors of the table are diagonal",
          PaperValue("D_sym diagonal", "", SOURCE), Trend("every mirrored tensor has zero off-diagonal terms"),
          (STUDY_2D,), _mirror_diagonal(STUDY_2D)),
    Claim("cs4-table-mirror-diagonal-3d", "CS4", "Mirrored 3D tensors of the table are diagonal",
          PaperValue("D_sym diagonal", "", SOURCE), Trend("every mirrored tensor has zero off-diagonal terms"),
          (STUDY_3D,), _mirror_diagonal(STUDY_3D)),
    Claim("cs4-table-millington-quirk", "CS4", "Millington–Quirk of the chain's sand at θ = 0.19: 2.3457e-2",
          PaperValue(MQ_PAPER, "1", SOURCE), RelativeTolerance(1e-3, 1e-2, "a closed form at the packing's porosity"),
          (STUDY_2D,), _mq),
]
