"""
CS3 — root hairs and exudate diffusion on a segmented image
===========================================================

Case study 3 (after Keyes et al.'s synchrotron images of a maize root) asks how much
root hairs add to the spread of exudates into soil. On a segmented 3D image, exudate
diffuses in the micropores of soil aggregates, ``dc/dt = D ∇²c`` with
D = 2.88e-7 cm² s⁻¹; it is held at c_in = 1037.5 µg cm⁻³ where the root or a hair
touches soil; air-filled macropores do not conduct (no flux). We compare the same
sample with and without hairs after one hour. Units: cm, s, µg.

The real image is not public, so a generator builds a sample calibrated to the geometry
measured on it: a root of radius 300 µm with an epidermis of 3.9 mm², as much air around
it as root (0.4 mm³), aggregates and macropores (1.3 and 1.1 mm³), 6.1 % of the epidermis
touching soil and 17.7 % with hairs. Hairs (0.9 mm long on average, as in maize) grow
through the air and slide along the aggregates they meet, touching soil only there.
"""

# %%
# Generate the sample
# -------------------
# :func:`~rhizoscale.image.generators.rhizosphere_sample` returns two
# :class:`~rhizoscale.Image` objects (labels, voxel size in cm, phase table) and their
# contact statistics; the number of hairs is bisected to reach the target contact fraction
# (the resulting density per mm of root is a check against the literature, 161 mm⁻¹).
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from rhizoscale.diffusion.exudates import simulate_exudate_diffusion
from rhizoscale.image.generators import rhizosphere_sample

sample = rhizosphere_sample(shape=(70, 65, 90), voxel_size=2e-3, seed=1)   # 20 um voxels
image = sample.with_hairs
print(image)
print(f"{sample.hair_count} hairs ({sample.parameters['hair_density_per_mm']:.0f} per mm of root); contact fraction {sample.contact_without_hairs['contact_fraction']:.3f} "
      f"without hairs, {sample.contact_with_hairs['contact_fraction_with_hairs']:.3f} with hairs")

# %%
# Diffuse for one hour
# --------------------
# :func:`~rhizoscale.diffusion.exudates.simulate_exudate_diffusion` solves the voxel
# finite-volume problem with second-order (BDF2) time steps and a matrix-free multigrid
# solver; the mass that entered through the root–soil faces equals the mass in the
# soil (an exact discrete balance).
results = {"with hairs": simulate_exudate_diffusion(sample.with_hairs, t_end=3600.0),
           "without hairs": simulate_exudate_diffusion(sample.without_hairs, t_end=3600.0)}
for label, res in results.items():
    tr = res.transient
    print(f"{label:13s}: {res.mass_into_soil:.3f} ug into the soil after 1 h "
          f"(face fluxes: {tr.mass_from_flux[-1]:.3f} ug)")
ratio = results["with hairs"].mass_into_soil / results["without hairs"].mass_into_soil
print(f"hairs multiply the exuded mass by {ratio:.1f} (paper: 0.204 / 0.067 ug = 3.0)")

# %%
# The gain is a prediction: nothing was tuned to it. The generated sample predicts a
# larger gain than the paper's image (about 6× instead of 3×): its hair contacts, small
# and spread through fresh soil, deliver about twice as much per contact area as the
# root's patches, while the paper's deliver as much. The CS3 guide discusses why.

# %%
# Where the exudate went
# ----------------------
# A cross-section through the most hairs, and the mean concentration against the
# distance from the root surface (Fig. 8c of the paper: hairs carry the exudate farther).
hair = image.mask("hair")
k = int(np.argmax(hair.sum(axis=(1, 2))))
c = results["with hairs"].concentration[k] / 1037.52
h_um = image.voxel_size[2] * 1e4
extent = (0, image.shape[2] * h_um, 0, image.shape[1] * h_um)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.15, 1, 1]})
ax = axes[0]
background = np.select([hair[k], image.mask("root")[k]], [0.0, 0.55], default=0.92)
ax.imshow(background, extent=extent, origin="lower", cmap="gray", vmin=0, vmax=1)
im = ax.imshow(np.ma.masked_invalid(np.where(c > 0, c, np.nan)), extent=extent, origin="lower",
               cmap="viridis", norm=LogNorm(1e-3, 1))
ax.set_xlabel("x [µm]")
ax.set_ylabel("y [µm]")
ax.set_title(f"with hairs, slice z = {k * h_um:.0f} µm, 1 h\n(black: hairs, grey: root, light: air)")
fig.colorbar(im, ax=ax, label="c / c$_{in}$")

colours = {"with hairs": plt.cm.viridis(0.15), "without hairs": plt.cm.viridis(0.7)}
for label, res in results.items():
    prof = res.profile()
    d = prof["distance"].values * 1e4
    axes[1].plot(d, prof["mean"] / res.c_in, color=colours[label], label=label)
    axes[1].fill_between(d, prof["p05"] / res.c_in, prof["p95"] / res.c_in, color=colours[label], alpha=0.2)
    tr = res.transient
    axes[2].plot(np.concatenate([[0], tr.times]) / 60, np.concatenate([[0], tr.mass_in_domain]),
                 "o-", ms=3, color=colours[label], label=label)
axes[1].set_yscale("log")
axes[1].set_ylim(1e-4, 1.5)
axes[1].axhline(0.01, color="0.5", lw=0.8)
axes[1].set_xlabel("distance from the root surface [µm]")
axes[1].set_ylabel("c / c$_{in}$ (mean, 5–95 % band)")
axes[1].set_title("profile in the soil")
axes[1].legend()
axes[2].set_xlabel("time [min]")
axes[2].set_ylabel("exudate in the soil [µg]")
axes[2].set_title(f"mass: ratio {ratio:.1f} after 1 h")
axes[2].legend()
fig.tight_layout()
plt.show()
