"""
CS4 — a drying liquid bridge held together by mucilage
======================================================

Water between two sand grains forms a pendular bridge; as it dries, the bridge ruptures
when its volume falls below Lian et al.'s (1993) critical volume. Mucilage is a polymer
network in that water: it grips the grains and, above the concentration at which its
chains overlap, keeps the grains connected after the bridge has gone. rhizoscale models
the network as beads and springs pulled by the receding liquid surface (fast mode: a
toroidal bridge) — ``rhizoscale.mucilage``.
"""

# %%
# The liquid surface: a toroidal bridge, checked against Willett et al. (2000)
# ----------------------------------------------------------------------------
# The capillary force of the toroidal bridge (gorge method) stays within 10 % of
# Willett's fit to Young–Laplace solutions up to close to rupture.
import matplotlib.pyplot as plt
import numpy as np

from rhizoscale.mucilage import lian_rupture_distance, toroidal_bridge, willett_force
from rhizoscale.mucilage.drying import MucilageBridgeModel
from rhizoscale.mucilage.parameters import MucilageNetworkParameters
from rhizoscale.parameters import load_parameter_set

fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
for volume in (1e-3, 1e-2, 5e-2):                 # V / R^3
    gaps = np.linspace(0.0, 0.8, 30) * float(lian_rupture_distance(volume, 1.0))
    toroidal = [toroidal_bridge(volume, s, 1.0, 0.0, 1.0).force / (2 * np.pi) for s in gaps]
    line, = ax.plot(gaps, toroidal, label=f"toroidal, V* = {volume:g}")
    ax.plot(gaps, willett_force(volume, gaps, 1.0, 0.0, 1.0) / (2 * np.pi), ls="--", color=line.get_color())
ax.set_xlabel("gap / R")
ax.set_ylabel(r"$F / 2\pi R\gamma$")
ax.set_title("toroidal bridge (solid) vs Willett et al. 2000 (dashed)", fontsize=9)
ax.legend(fontsize=7)

# %%
# Drying with water only and with mucilage
# ----------------------------------------
# A bridge of 4000 µm³ between grains of radius 100 µm, 8 µm apart, dries at
# 400 µm³ s⁻¹. Water only: the connection is lost at Lian's volume. With 3 mg g⁻¹
# mucilage the network spans the gap and keeps the grains connected until its beads dry.
params = load_parameter_set(MucilageNetworkParameters, "mucilage_network")
results = {}
for c in (0.0, 3.0):
    model = MucilageBridgeModel(c, 4000.0, 8.0, params, evaporation_rate=400.0, relax_steps=20, seed=1)
    t = 0.0
    while t < 10.0:                                   # Simulation does this in the case study
        t += 0.5
        model.advance_to(t)
    results[c] = model
    print(f"{c:g} mg/g: {model.network.n} beads; bridge ruptured at {model.bridge_rupture[1]:.0f} um3; "
          f"connection lost at t = {model.connection_lost[0]:g} s with {model.connection_lost[1]:.0f} um3 "
          f"water (Lian's rupture volume {model.rupture_volume_lian:.0f} um3)")

fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
m = results[3.0]
h = params.particle_radius + 4.0
for sign in (-1, 1):
    ax.add_patch(plt.Circle((sign * h, 0), params.particle_radius, color="0.75"))
ax.scatter(m.network.pos[:, 0], m.network.pos[:, 1], s=2, color="#8c510a")
ax.set_xlim(-25, 25)
ax.set_ylim(-25, 25)
ax.set_aspect("equal")
ax.set_title("dried mucilage between the grains (3 mg/g)", fontsize=9)
ax.set_xlabel("x [µm]")
ax.set_ylabel("y [µm]")
