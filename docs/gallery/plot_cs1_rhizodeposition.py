"""
CS1 — mucilage around a growing root: moving point source and hotspots
======================================================================

Case study 1 (Landl et al. 2021, Front. Plant Sci.) asks where rhizodeposits accumulate
around a growing root system. Mucilage is released at every root tip (a *moving point
source*, Q = 33.4 µg d⁻¹ per tip) and spreads in the soil solution by

.. math:: \\theta R \\, \\partial_t c = \\theta D \\nabla^2 c - \\theta k c + q(x, t),

with D = 1.04e-3 cm² d⁻¹, θ = 0.3, R = 1 and decay k = 0.22 d⁻¹ (values from the
authors' CPlantBox scripts). The field is the superposition of the Green's function
over the tip's path (Carslaw & Jaeger 1959, §10.7). Soil where the liquid concentration
exceeds a threshold (0.33 mg g⁻¹ of dry soil ≈ 1300 µg cm⁻³ of solution) is a *hotspot*.
"""

# %%
# One straight root, its field on a grid
# --------------------------------------
# :func:`~rhizoscale.plant.generators.straight_root_system` makes a root growing down at a
# constant rate; :func:`~rhizoscale.rhizodeposition.rhizodeposition_fields` yields the
# voxel-averaged concentration (µg cm⁻³) at each output time. The plume is
# sub-millimetre (mucilage moves about sqrt(4D/k) ≈ 1.4 mm in its lifetime), so we use
# 0.1 mm voxels in a thin box around the root.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from rhizoscale.grid import RegularGrid
from rhizoscale.parameters import load_parameter_set
from rhizoscale.rhizodeposition import (ExudateParameters, concentration_at, hotspot_volume,
                                        rhizodeposition_fields, steady_state_moving_point_source,
                                        straight_root_system)

mucilage = load_parameter_set(ExudateParameters, "mucilage")
threshold = mucilage.threshold_liquid          # 0.33 mg g-1 as a liquid concentration
print(f"hotspot threshold {threshold:.0f} ug cm-3")

days, velocity = 10.0, 0.5                     # d, cm d-1
root = straight_root_system(velocity, days)    # from (0, 0, 0) down to z = -5 cm
h = 0.01                                       # voxel size [cm]
grid = RegularGrid.from_resolution((-0.3, -0.3, -velocity * days - 0.3), (0.3, 0.3, 0.3), h)
snapshot = list(rhizodeposition_fields(root, grid, mucilage, [days]))[-1]
c = snapshot.concentration                     # array (z, y, x)
print(f"{grid.shape} voxels; mass on the grid / mass released and not decayed = "
      f"{snapshot.mass_in_domain / snapshot.expected_mass:.4f}")
print(f"hotspot volume {hotspot_volume(c, threshold, grid.cell_volume) * 1e3:.1f} mm3")

# %%
# Check against two exact answers
# -------------------------------
# Far enough behind a tip that has moved at a constant rate for a long time, the field
# is steady in the tip's frame: ``c = Q/(4 pi theta D s) exp(-u xi - s sqrt(u^2 + k/D))``,
# ``u = R v/(2D)``, with ``xi`` the coordinate along the motion and ``s`` the distance
# from the tip (:func:`~rhizoscale.rhizodeposition.steady_state_moving_point_source`).
# :func:`~rhizoscale.rhizodeposition.concentration_at` integrates the Green's function
# exactly at chosen points (adaptive quadrature, slow, the reference of the tests).
rho = 0.05                                     # distance from the root axis [cm]
tip_z = -velocity * days
ix = int(np.argmin(np.abs(grid.centers("x") - rho)))
iy = int(np.argmin(np.abs(grid.centers("y") - 0.0)))
z = grid.centers("z")
behind = z - tip_z                              # distance behind the tip along the axis [cm]
xi = np.linspace(-2.0, 0.2, 200)               # xi < 0 behind the tip
steady = steady_state_moving_point_source(xi, rho, velocity, mucilage)
probe_xi = np.array([-1.5, -1.0, -0.5, -0.2, 0.0, 0.1])
probes = np.column_stack([np.full(probe_xi.size, rho), np.zeros(probe_xi.size), tip_z - probe_xi])
exact = concentration_at(root, probes, days, mucilage, epsrel=1e-6)
for x_, c_ in zip(probe_xi, exact):
    print(f"xi = {x_:5.2f} cm: exact {c_:9.2f} ug cm-3, steady state "
          f"{float(steady_state_moving_point_source(x_, rho, velocity, mucilage)):9.2f}")

# %%
# Hotspot volume against elongation rate
# --------------------------------------
# Slow roots pile mucilage up around an almost static tip (very high but in a small
# volume); fast roots spread it thinly along their path. The hotspot volume is largest
# at an intermediate rate (0.2 mm voxels here; see the CS1 guide for the converged scan).
rates = np.array([0.1, 0.2, 0.5, 1.0])
volumes = []
for v in rates:
    r = straight_root_system(v, days)
    g = RegularGrid.from_resolution((-0.3, -0.3, -v * days - 0.3), (0.3, 0.3, 0.3), 0.02)
    s = list(rhizodeposition_fields(r, g, mucilage, [days]))[-1]
    volumes.append(hotspot_volume(s.concentration, threshold, g.cell_volume))
volumes = np.array(volumes)

# %%
# The figure: the plume in a vertical section through the root, the profile beside the
# root against the two exact answers, and the hotspot volume against the rate.
fig, axes = plt.subplots(1, 3, figsize=(11, 4.6), gridspec_kw={"width_ratios": [0.8, 1.3, 1]})
ax = axes[0]
section = c[:, iy, :]
im = ax.pcolormesh(grid.edges("x") * 10, grid.edges("z"), np.maximum(section, 1.0),
                   norm=LogNorm(1.0, section.max()), cmap="viridis", shading="flat")
ax.contour(grid.centers("x") * 10, z, section, levels=[threshold], colors="w", linewidths=1)
ax.set_ylim(tip_z - 0.2, tip_z + 2.5)
ax.set_xlabel("x [mm]")
ax.set_ylabel("z [cm]")
ax.set_title("x–z section (white: hotspot)")
fig.colorbar(im, ax=ax, label="concentration [µg cm$^{-3}$]")

ax = axes[1]
ax.semilogy(-behind, c[:, iy, ix], color="C0", label=f"grid field ({h * 10:g} mm voxels)")
ax.semilogy(xi, steady, "k--", label="steady moving point source")
ax.semilogy(probe_xi, exact, "o", color="C1", label="exact quadrature")
ax.axhline(threshold, color="0.5", lw=0.8, label="hotspot threshold")
ax.set_xlim(-2.0, 0.2)
ax.set_ylim(1.0, 3e4)
ax.set_xlabel(r"$\xi$, position along the motion relative to the tip [cm]")
ax.set_ylabel("concentration [µg cm$^{-3}$]")
ax.set_title(f"{rho * 10:g} mm from the root axis, day {days:g}")
ax.legend(fontsize=8, loc="lower right")

ax = axes[2]
ax.plot(rates, volumes * 1e3, "o-", color="C2", label="mucilage, 10 d")
ax.set_xscale("log")
ax.set_xlabel("elongation rate [cm d$^{-1}$]")
ax.set_ylabel("hotspot volume [mm$^3$]")
ax.set_title("single root, hotspot volume")
ax.legend()
fig.tight_layout()
plt.show()
