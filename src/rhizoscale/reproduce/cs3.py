"""Claims of case study 3 (root hairs and exudate diffusion on an image, Fig. 8)."""

from __future__ import annotations

import numpy as np

from .claim import Claim, Measured, Missing, PaperValue, RelativeTolerance, Study
from .examples import example

SOURCE = "Schnepf et al. 2022, CS3 (maize, synchrotron µCT); DESIGN.md §4"
SEEDS = (1, 2, 3)
#: quick: the paper's ROI at 40 µm voxels (calibrated the same way; hair contact per voxel
#: face is coarser, so fewer hairs reach the target)
_QUICK = {"sample": {"shape": [35, 33, 45], "voxel_size": 4.0e-3}, "time": {"stop": "600 s"}}

STUDIES = [Study(f"cs3-root-hairs-seed{s}", {**example("cs3-root-hairs"), "name": f"cs3-root-hairs-seed{s}", "seed": s},
                 _QUICK, note=f"the shipped example (20 µm voxels, 1 h), seed {s}",
                 quick_note="the ROI at 40 µm voxels (35 x 33 x 45), 600 s", show_figures=s == SEEDS[0])
           for s in SEEDS]
_ALL = tuple(st.id for st in STUDIES)
#: hair elongation rate [cm d-1] and the hair radius the paper's Pe uses [cm] (DESIGN.md §4)
HAIR_SPEED, HAIR_RADIUS_PE = 0.144, 18e-4


def _over_seeds(name, scale=1.0, units=""):
    def measure(p):
        vals = [p[s].scalars[name].value for s in _ALL]
        got = [v * scale for v in vals if v is not None and np.isfinite(v)]
        if len(got) < len(vals):
            return Measured(f"not reached inside the ROI in {len(vals) - len(got)} of {len(vals)} seeds",
                            note="the ROI's farthest soil is ~0.8 mm from the root surface")
        a = np.asarray(got)
        return Measured(float(a.mean()), units,
                        note=f"mean of seeds {', '.join(map(str, SEEDS))}: " + ", ".join(f"{v:.3g}" for v in a)
                             + f" (sd {a.std(ddof=1):.2g})")
    return measure


def _geometry(what, units):
    """A geometric quantity of the hairless sample over the seeds: a phase volume [mm³] or
    the epidermis area [mm²]."""
    def one(prod):
        c = prod.info["cs3"]
        if what == "epidermis":
            return c["without_hairs"]["epidermis_area_cm2"] * 100.0
        return c["volumes_mm3"][what]

    def measure(p):
        a = np.asarray([one(p[s]) for s in _ALL])
        roi = p[_ALL[0]].info["cs3"]["volumes_mm3"]["roi"]
        return Measured(float(a.mean()), units, note=f"ROI {roi:.2f} mm³ (the paper's four volumes add up to "
                        f"3.2 mm³); seeds {', '.join(map(str, SEEDS))}: " + ", ".join(f"{v:.3g}" for v in a))
    return measure


def _hair_contact(p):
    measured = _over_seeds("contact_fraction_with_hairs")(p)
    dens = [p[s].info["cs3"].get("sample", {}).get("hair_density_per_mm") for s in _ALL]
    if all(d is not None for d in dens):
        measured.note += (f"; the bisected hair count gives {np.mean(dens):.0f} hairs per mm of root "
                          f"(seeds: {', '.join(f'{d:.0f}' for d in dens)}; maize 161 per mm, Reid 1981) — "
                          "a check, not a target")
    return measured


def _hair_peclet(p):
    d = example("cs3-root-hairs")["diffusivity"]
    return Measured(HAIR_SPEED / 86400.0 * HAIR_RADIUS_PE / d, "1",
                    note="Pe = v r / D, hair elongation 0.144 cm d⁻¹, r = 18 µm (the paper's), D = 2.88e-7 cm² s⁻¹")


#: maize axile-root elongation [cm d-1]: "about 3 cm day-1" throughout a 5-week rhizotron
#: experiment (Cahn, Zobel & Bouldin 1989, Plant Soil 119:271-279, doi:10.1007/BF02370419).
#: Not the paper's value (it gives none): a literature input, so Pe is a prediction.
ROOT_SPEED = 3.0


def _root_peclet(p):
    ex = example("cs3-root-hairs")
    d, r = ex["diffusivity"], ex["sample"]["root_radius"]
    return Measured(ROOT_SPEED / 86400.0 * r / d, "1",
                    note=f"Pe = v r / D with v = {ROOT_SPEED:g} cm d⁻¹ (maize axile roots, Cahn et al. 1989; the "
                         f"paper gives no rate), r = {r * 1e4:.0f} µm (the example's root), D = {d:.3g} cm² s⁻¹. "
                         "The paper's 2.41 implies v = 2.0 cm d⁻¹ with this r and D")


CALIBRATION = "a calibration target of the generator (an input), not a prediction"
PREDICTION = ("a prediction over seeds; 10 %: a hair's flux is converged to ~10 % at 20 µm voxels (the "
              "calibrated hair count is not: see docs/cs3-root-hairs.md)")
GEOMETRY = "the paper's measured geometry, a calibration target of the generator (not a prediction)"
RATIO_NOTE = ("predicted from the calibrated geometry (hairs grow through air and touch soil at contacts only); "
              "no parameter was tuned to it. Still ~2x the paper's: see docs/cs3-root-hairs.md "
              "('Why the ratio is not 3')")
CLAIMS = [
    Claim("cs3-aggregate-volume", "CS3", "Soil aggregates in the ROI (1.8 x 1.3 x 1.4 mm): 1.3 mm³",
          PaperValue(1.3, "mm³", SOURCE), RelativeTolerance(0.1, 0.3, GEOMETRY), _ALL,
          _geometry("aggregate", "mm³"), note="macropore porosity of the soil outside the gap: 1.1 / 2.4"),
    Claim("cs3-pore-volume", "CS3", "Macropores in the ROI: 1.1 mm³",
          PaperValue(1.1, "mm³", SOURCE), RelativeTolerance(0.1, 0.3, GEOMETRY), _ALL,
          _geometry("macropore", "mm³")),
    Claim("cs3-air-around-root-volume", "CS3", "Air surrounding the root: 0.4 mm³",
          PaperValue(0.4, "mm³", SOURCE), RelativeTolerance(0.1, 0.3, GEOMETRY), _ALL,
          _geometry("air_gap", "mm³"), note="generator: gap volume = root volume (the paper's 0.4 / 0.4)"),
    Claim("cs3-root-volume", "CS3", "Root in the ROI: 0.4 mm³",
          PaperValue(0.4, "mm³", SOURCE), RelativeTolerance(0.1, 0.3, GEOMETRY), _ALL,
          _geometry("root", "mm³"), note="follows from the 300 µm radius over 1.4 mm"),
    Claim("cs3-epidermis-area", "CS3", "Epidermis area in the ROI: 3.9 mm²",
          PaperValue(3.9, "mm²", SOURCE), RelativeTolerance(0.1, 0.3, GEOMETRY), _ALL,
          _geometry("epidermis", "mm²"),
          note="voxel-face area; the generator roughens the epidermis to 1.48x a smooth cylinder's area"),
    Claim("cs3-contact-without-hairs", "CS3", "Epidermis in contact with soil without hairs: 6.1 %",
          PaperValue(0.061, "1", SOURCE), RelativeTolerance(0.03, 0.1, CALIBRATION), _ALL,
          _over_seeds("contact_fraction_without_hairs"),
          note="faces root|aggregate / faces root|other; bisected on the gap-free share of the surface"),
    Claim("cs3-contact-with-hairs", "CS3", "Root and hairs in contact with soil: 17.7 % of the epidermis",
          PaperValue(0.177, "1", SOURCE), RelativeTolerance(0.03, 0.1, CALIBRATION), _ALL, _hair_contact,
          note="(faces root|aggregate + hair|aggregate) / epidermis faces; bisected on the hair count"),
    Claim("cs3-mass-without-hairs", "CS3", "Carbon into soil after 1 h without hairs: 0.067 µg",
          PaperValue(0.067, "µg", SOURCE), RelativeTolerance(0.1, 0.5, PREDICTION), _ALL,
          _over_seeds("mass_into_soil_without_hairs", units="µg")),
    Claim("cs3-mass-with-hairs", "CS3", "Carbon into soil after 1 h with hairs: 0.204 µg",
          PaperValue(0.204, "µg", SOURCE), RelativeTolerance(0.1, 0.5, PREDICTION), _ALL,
          _over_seeds("mass_into_soil_with_hairs", units="µg")),
    Claim("cs3-mass-ratio", "CS3", "Hairs raise the carbon into soil about threefold (0.204 / 0.067)",
          PaperValue(3.04, "1", SOURCE), RelativeTolerance(0.1, 0.5, PREDICTION), _ALL,
          _over_seeds("mass_ratio_with_to_without_hairs"), note=RATIO_NOTE),
    Claim("cs3-distance-without-hairs", "CS3", "Concentration below 1 % of c_in beyond 0.29 mm without hairs",
          PaperValue(0.29, "mm", SOURCE), RelativeTolerance(0.1, 0.5, "a prediction over seeds"), _ALL,
          _over_seeds("distance_1_percent_without_hairs", 10.0, "mm")),
    Claim("cs3-distance-with-hairs", "CS3", "Concentration below 1 % of c_in beyond 0.74 mm with hairs",
          PaperValue(0.74, "mm", SOURCE), RelativeTolerance(0.1, 0.5, "a prediction over seeds"), _ALL,
          _over_seeds("distance_1_percent_with_hairs", 10.0, "mm")),
    Claim("cs3-peclet-hair", "CS3", "Root-hair Péclet number ≈ 0.01",
          PaperValue(0.01, "1", SOURCE), RelativeTolerance(0.1, 0.5, "a closed form of the inputs; the paper gives one digit"),
          (_ALL[0],), _hair_peclet),
    Claim("cs3-peclet-root", "CS3", "Rhizosphere Péclet number of the root 2.41",
          PaperValue(2.41, "1", SOURCE),
          RelativeTolerance(0.1, 0.5, "a closed form of the inputs, with a literature elongation rate that is not "
                            "the paper's (the paper does not give its own)"),
          (_ALL[0],), _root_peclet),
]
