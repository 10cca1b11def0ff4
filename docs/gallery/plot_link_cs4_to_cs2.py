"""
Linking scales — a pore-scale diffusivity table (CS4) drives phosphate uptake (CS2)
===================================================================================

Upscaling in one script. Case study 2 needs the effective diffusion coefficient of
phosphate and citrate in soil; by default it uses Millington–Quirk,
``D_eff = D_w θ^(10/3)/φ²`` (Millington & Quirk 1961), which knows only the water
content θ and porosity φ. Case study 4 computes ``D_eff(θ, mucilage)`` from pore-scale
images by homogenisation. Here a CS4 *property table* replaces Millington–Quirk in CS2.

In a scenario file the same link is one key of the ``cs2-phosphate-uptake`` case::

    soil_diffusivity: {model: table, table: effective_diffusivity_table.nc, mucilage_fraction: 0.1}
"""

# %%
# Step 1 (pore scale): tabulate D_eff(θ, mucilage) of a generated sand
# --------------------------------------------------------------------
# :func:`~rhizoscale.homogenization.effective_property_table` places liquid in a periodic
# packing at each water content (water films, then mucilage bridges for a share of the
# liquid), computes the effective diffusion tensor of each image and stores the mean
# principal value relative to free water (``d_eff``). The packing's porosity is the CS2
# soil's (0.5). A 3 × 3 mm 2D section is small — a real table wants larger or 3D samples.
import matplotlib.pyplot as plt
import numpy as np

from rhizoscale.grid import RegularGrid
from rhizoscale.homogenization import effective_property_table
from rhizoscale.image.generators import sand_packing
from rhizoscale.nutrients import CoupledUptakeModel, load_citrate, load_phosphate, load_soil
from rhizoscale.plant import Box, grow_root_system
from rhizoscale.products import TabulatedRelation
from rhizoscale.simulation import IterationInterval, Simulation
from rhizoscale.soil import millington_quirk

soil, phosphate, citrate = load_soil("cs2_soil_medium_sorption"), load_phosphate(), load_citrate()
packing = sand_packing((300, 300), 1e-3, porosity=soil.porosity, seed=3)
water_contents = np.round(np.arange(0.05, 0.501, 0.05), 2)
table = effective_property_table(packing, water_contents, mucilage_fractions=[0.0, 0.1])
print(table["d_eff"].to_pandas().round(4))          # rows: theta, columns: mucilage share

# %%
# The table crosses to the root-system scale as a *product*: a constitutive relation
# :class:`~rhizoscale.products.TabulatedRelation` with provenance, called like
# :func:`~rhizoscale.soil.millington_quirk` as ``f(theta, porosity, d_water)``. (A
# ``cs4-homogenisation`` run returns the same relations in ``products.relations`` and
# writes the table to ``effective_diffusivity_table.nc``, which a CS2 scenario names in
# ``soil_diffusivity: {model: table, ...}``.)
models = {
    "Millington–Quirk": None,                                  # CS2's default
    "CS4 table, water only": TabulatedRelation.from_table(table, mucilage_fraction=0.0,
                                                          source="this example"),
    "CS4 table, 10 % mucilage": TabulatedRelation.from_table(table, mucilage_fraction=0.1,
                                                             source="this example"),
}
theta = soil.water_content
for name, f in models.items():
    d = millington_quirk(theta, soil.porosity) if f is None else f(theta, soil.porosity)
    print(f"{name:25s}: D_eff / D_w at theta = {theta}: {d:.4f}")

# %%
# Step 2 (root system): phosphate uptake with each soil diffusivity
# ------------------------------------------------------------------
# The same small oilseed-rape root system and soil box as in the CS2 example, citrate
# exudation on; only ``diffusivity=`` changes (used by the 3D soil model and by every
# segment's 1D rhizosphere model).
days, dt = 6.0, 2 * 3600.0
lower, upper = (-6.0, -6.0, -20.0), (6.0, 6.0, 0.0)
roots = grow_root_system("brassica_napus", days, seed=1, confinement=Box(lower, upper))
grid = RegularGrid.from_resolution(lower, upper, 0.5)
uptake = {}
for name, f in models.items():
    model = CoupledUptakeModel(roots, grid, soil, phosphate, citrate, diffusivity=f, n_radial_cells=8)
    # the model steps; a Simulation owns the clock and calls the recorder after each step
    sim = Simulation(model, stop_time=days * 86400.0, dt=dt, name=name)
    t, u = [0.0], [0.0]
    sim.add_callback("record", lambda s: (t.append(s.time / 86400.0), u.append(s.model.cum_uptake)),
                     IterationInterval(1))
    sim.run()
    uptake[name] = (np.array(t), np.array(u))
    print(f"{name:25s}: D_eff(P) = {float(model.soil3d.effective_diffusivity[0]):.3e} cm2 s-1, "
          f"P uptake after {days:g} d = {u[-1]:.4f} umol")

# %%
# The figure: the upscaled constitutive relation, and what it changes at the plant scale.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.5, 4.3))
colours = dict(zip(models, plt.cm.viridis([0.0, 0.45, 0.8])))
th = table["theta"].values
ax0.plot(th, table["millington_quirk"], "--", color=colours["Millington–Quirk"], label="Millington–Quirk")
for muc, name in ((0.0, "CS4 table, water only"), (0.1, "CS4 table, 10 % mucilage")):
    row = table.sel(mucilage_fraction=muc)
    ax0.plot(th, row["d_eff"], "o-", ms=4, color=colours[name], label=name)
    ax0.fill_between(th, row["d_min"], row["d_max"], color=colours[name], alpha=0.2)
ax0.axvline(theta, color="0.5", lw=0.8)
ax0.text(theta, ax0.get_ylim()[1] * 0.95, " CS2 soil", va="top", fontsize=8, color="0.3")
ax0.set_xlabel(r"water content $\theta$ [cm$^3$ cm$^{-3}$]")
ax0.set_ylabel(r"$D_\mathrm{eff}/D_w$ (band: principal values)")
ax0.set_title(f"pore scale: sand, porosity {packing.porosity:.2f}")
ax0.legend(fontsize=8)
for name, (t, u) in uptake.items():
    ax1.plot(t, u, color=colours[name], ls="--" if name == "Millington–Quirk" else "-", label=name)
ax1.set_xlabel("time [d]")
ax1.set_ylabel("cumulative P uptake [µmol]")
ax1.set_title("root system: P uptake with citrate exudation")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
