"""
CS4 chain — D_eff(θ, mucilage) for the root-system models
=========================================================

The ``cs4-diffusivity-table`` case chains a pore image, a liquid configuration at the
liquid content θ, mucilage bridges across open necks and the homogenisation of each
configuration into one constitutive product: a table of the effective diffusivity
against θ and the mucilage share of the liquid, which case studies 1 and 2 read in place
of Millington–Quirk (``soil_diffusivity.table``). Diffusivities are relative to free water;
mucilage diffuses at half the rate of water.
"""

# %%
# A small 2D sand (1.5 × 1.5 mm, 10 µm pixels, φ = 0.41) over four liquid contents
# ----------------------------------------------------------------------------------
import matplotlib.pyplot as plt

from rhizoscale.link.diffusivity_table import d_eff_figure
from rhizoscale.scenario import run_products, scenario_from_dict

scenario = scenario_from_dict({
    "case": "cs4-diffusivity-table", "seed": 4, "shape": [150, 150],
    "water_contents": [0.12, 0.19, 0.28, 0.41], "mucilage_fractions": [0.0, 0.1],
    "outputs": {"figures": False}})
products = run_products(scenario)
table = products.fields["effective_diffusivity_table.nc"]
print(table.d_eff.to_pandas().round(4))

# %%
# D_eff against θ with and without mucilage, and Millington–Quirk
# ----------------------------------------------------------------
# Solid lines: translation periodisation; dashed: mirrored (diagonal tensors).
fig = d_eff_figure(table, title="generated sand, seed 4, 150 x 150 pixels")
plt.show()

# %%
# The product handed to CS1/CS2
# -----------------------------
# ``d_eff`` is a :class:`~rhizoscale.products.TabulatedRelation` at the scenario's mucilage
# share (0.1): called like ``millington_quirk(theta, porosity, d_water)``.
d_eff = products.relations["d_eff"]
print(d_eff, f"D_eff/D_w at theta = 0.19: {d_eff(0.19):.4f}",
      f"(Millington-Quirk {products.value('millington_quirk'):.4f})")

# %%
# 3D: principal directions on the phase images (Fig. 11b in 3D)
# ----------------------------------------------------------------
# A small 3D sand (32³ voxels of 10 µm, grains of about 50 µm) at θ = 0.1, where the
# water films alone do not connect every direction: the three mid-planes with the
# principal directions projected on them (crosses: blocked, D = 0) and the eigenvectors
# in 3D, water only (top) and with 10 % of the liquid as mucilage bridges spanning up to
# the network's gap (bottom).
scenario_3d = scenario_from_dict({
    "case": "cs4-diffusivity-table", "seed": 1, "shape": [32, 32, 32], "mean_grain_radius": 0.005,
    "water_content": 0.1, "water_contents": [0.1], "mucilage_fractions": [0.0, 0.1],
    "periodisations": ["translation"]})
products_3d = run_products(scenario_3d)
print({k: v.round(5).tolist() for k, v in products_3d.info["tensors_xyz"].items()})
fig3d = products_3d.figures["phases_principal_directions_3d.png"]
plt.show()
