"""
CS4 — water at a target saturation by two-phase lattice Boltzmann, then D_eff(θ)
=================================================================================

The liquid configuration of case study 4: a single-component two-phase (Shan–Chen)
lattice-Boltzmann model with a Carnahan–Starling equation of state (Yuan & Schaefer 2006)
brings water in a granular packing to a target saturation — first a morphological
drainage (Hilpert & Miller 2001), then relaxation at fixed liquid mass. The liquid images
are then homogenised (the transport side of case study 4) and compared with
Millington–Quirk. This chaining lives here, outside both case packages: a case package
never imports another.
"""

# %%
# Water at three saturations
# --------------------------
import matplotlib.pyplot as plt
import numpy as np

from rhizoscale.homogenization import effective_diffusion_tensor
from rhizoscale.image.generators import sand_packing
from rhizoscale.image.generators.granular import SOLID, WATER
from rhizoscale.porescale import CarnahanStarlingEOS
from rhizoscale.porescale.saturation import water_at_saturation
from rhizoscale.soil import millington_quirk

packing = sand_packing((64, 64), 1e-3, porosity=0.45, mean_radius=0.008, seed=1)
eos = CarnahanStarlingEOS(0.8)             # liquid/gas density ratio 14, stable with EDM
results = [water_at_saturation(packing.image, s, eos=eos, wall_density=0.15,
                               check_every=200, max_steps=600, u_tol=5e-3, s_tol=2e-3)
           for s in (0.85, 0.6, 0.35)]

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, r in zip(axes, results):
    ax.imshow(r.image.labels, cmap="viridis", origin="lower")
    ax.set_title(f"S = {r.saturation:.2f} ({r.steps} steps)")
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %%
# Effective diffusion against Millington–Quirk
# --------------------------------------------
phi = packing.porosity
theta, d_eff = [], []
for r in results:
    t = float(np.mean(r.image.labels == WATER))
    res = effective_diffusion_tensor(r.image)
    theta.append(t)
    d_eff.append(float(np.mean(np.diag(res.tensor))))
    print(f"theta = {t:.3f}: D_eff/D_w = {d_eff[-1]:.4f}, Millington-Quirk = "
          f"{millington_quirk(t, phi):.4f}")

fig, ax = plt.subplots(figsize=(4, 3.2))
th = np.linspace(0.02, phi, 50)
ax.plot(th, millington_quirk(th, phi), "k--", label="Millington–Quirk")
ax.plot(theta, d_eff, "o", label="LBM liquid + homogenisation")
ax.set_xlabel("water content θ")
ax.set_ylabel("D_eff / D_water")
ax.legend()
fig.tight_layout()
plt.show()
