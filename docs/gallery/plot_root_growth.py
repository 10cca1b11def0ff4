"""
Root growth: a timed root system, RSML and root length density
===============================================================

Every case study starts from a :class:`~rhizoscale.plant.RootSystem`: node coordinates
(cm, z up, soil surface at z = 0), the time each node was created (d), radii and the
branching topology. Here we grow a faba bean (*Vicia faba*) root system with the
stochastic growth model of the RootBox/CPlantBox family (Leitner et al. 2010, Plant Soil
333; Schnepf et al. 2018, Ann. Bot. 121), store it as RSML (Lobet et al. 2015, Plant
Physiol. 167) and compute its root length density (RLD, cm of root per cm³ of soil).
"""

# %%
# Grow a root system
# ------------------
# ``"vicia_faba"`` is a shipped parameter set (CPlantBox's ``Faba_synMRI.xml``: taproot
# elongating at 2.07 cm d⁻¹, first- and second-order laterals). The same seed always
# gives the same root system.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import rhizoscale as rz
from rhizoscale.io.rsml import read_rsml, write_rsml
from rhizoscale.plant import grow_root_system, load_plant_parameters
from rhizoscale.plant.figures import plot_root_system

params = load_plant_parameters("vicia_faba")
print(params.root_type(1).r, "cm/d taproot elongation rate")
rs = grow_root_system(params, days=14, seed=1)
print(rs)

# %%
# The system is *timed*: ``rs.at(t)`` is the root system as it was at day ``t`` (tips are
# interpolated between nodes, so the total length is continuous in time).
for day in (3, 7, 14):
    print(f"day {day:2d}: {rs.n_roots_at(day):4d} roots, {rs.total_length(day):6.1f} cm")

# %%
# RSML round trip
# ---------------
# :func:`~rhizoscale.io.rsml.write_rsml` stores coordinates (cm), diameters and node
# creation times (d); reading the file back gives the same root system.
with tempfile.TemporaryDirectory() as tmp:
    path = write_rsml(rs, Path(tmp) / "faba.rsml")
    back = read_rsml(path)
print(f"read back: {back.n_roots} roots, {back.total_length():.6f} cm "
      f"(written {rs.total_length():.6f} cm)")

# %%
# Root length density
# -------------------
# :func:`~rhizoscale.root_length_density` cuts every segment exactly at the cell faces of a
# :class:`~rhizoscale.RegularGrid` and returns an :class:`xarray.DataArray` in cm cm⁻³.
# Its horizontal mean against depth shows the rooting front moving down; the half mean
# distance between roots, ``r1 = 1/sqrt(pi RLD)`` (Barber 1995), is the outer radius of
# the soil cylinder each root draws from (used by case study 2).
grid = rz.RegularGrid.from_resolution((-10, -10, -35), (10, 10, 0), 1.0)
days = (5, 10, 14)
profiles = {day: rz.root_length_density(rs, grid, t=day).mean(dim=("x", "y")) for day in days}
rld14 = rz.root_length_density(rs, grid)
r1 = rz.half_mean_interroot_distance(rld14.where(rld14 > 0))
print(f"median r1 in rooted cells at day 14: {float(r1.median()):.2f} cm")

# %%
# One figure: the architecture coloured by segment age, and the RLD profiles.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 5.5), gridspec_kw={"width_ratios": [1.3, 1]})
plot_root_system(rs, color_by="age", view="xz", ax=ax0, cmap="viridis_r")
colours = plt.cm.cividis(np.linspace(0.0, 0.85, len(days)))
for day, colour in zip(days, colours):
    ax1.plot(profiles[day], profiles[day]["z"], color=colour, label=f"day {day}")
ax1.set_xlabel("mean root length density [cm cm$^{-3}$]")
ax1.set_ylabel("z [cm]")
ax1.set_title("horizontal mean over 20 × 20 cm")
ax1.set_ylim(ax0.get_ylim())
ax1.legend()
fig.tight_layout()
plt.show()
