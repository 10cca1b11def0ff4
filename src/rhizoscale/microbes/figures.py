"""Figures of case study 5: respiration curves (Fig. 13) and rhizosphere profiles."""

from __future__ import annotations

import numpy as np

__all__ = ["respiration_figures", "rhizosphere_figures"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def respiration_figures(ts, config, note: str = "") -> dict:
    """Respiration rate, cumulative CO2 and biomass after exudate additions (Fig. 13);
    ``note`` is added to the title (which replicate is drawn)."""
    plt = _plt()
    t = ts["time"].values
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    colours = plt.cm.viridis(np.linspace(0.1, 0.9, ts.sizes["run"]))
    for k, (lab, c) in enumerate(zip(ts["run"].values, colours)):
        add = float(ts["addition"].values[k])
        b = ts["biomass_per_g"].values[k]
        grows = b.max() > (1 + config.growth_threshold) * b[0]
        name = f"{add:g} µg C g⁻¹ ({'growth' if grows else 'pulse, no growth'})"
        axes[0].plot(t, ts["respiration_rate"].values[k], color=c, label=name)
        axes[1].plot(t, ts["co2"].values[k] / ts["co2"].values[k].max() if ts["co2"].values[k].max() > 0
                     else ts["co2"].values[k], color=c)
        axes[2].plot(t, b / b[0], color=c, label=name)
    axes[2].axhline(1 + config.growth_threshold, color="k", ls=":", lw=0.8,
                    label=f"growth criterion (+{100 * config.growth_threshold:g} %)")
    axes[0].set_ylabel("respiration [µg CO₂-C g⁻¹ h⁻¹]")
    axes[1].set_ylabel("cumulative CO₂ / final [–]")
    axes[2].set_ylabel("biomass / initial [–]")
    for ax in axes:
        ax.set_xlabel("time after addition [h]")
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.suptitle("Exudate additions to bare soil: respiration and growth (cf. the paper's Fig. 13)" + note)
    return {"fig13_respiration.png": fig}


def rhizosphere_figures(ts, prof, config, note: str = "") -> dict:
    """Biomass, active fraction and respiration versus distance from the root surface over
    time, per saturation; totals over time; ``note`` is added to the titles."""
    plt = _plt()
    figs = {}
    runs = list(prof["run"].values)
    times = prof["time"].values
    pick = np.unique(np.linspace(0, times.size - 1, min(4, times.size)).round().astype(int))
    d = prof["distance"].values
    fig, axes = plt.subplots(3, len(runs), figsize=(4.4 * len(runs), 10), layout="constrained",
                             squeeze=False, sharex=True)
    for j, lab in enumerate(runs):
        p = prof.sel(run=lab)
        w_all = p["water_volume"].values
        for i in pick:
            w = w_all[i]
            c = plt.cm.plasma(i / max(times.size - 1, 1))
            with np.errstate(invalid="ignore", divide="ignore"):
                axes[0, j].plot(d, p["biomass"].values[i] / w, color=c, label=f"{times[i]:g} h")
                axes[1, j].plot(d, p["active_fraction"].values[i], color=c)
                if i > 0:
                    dt = times[i] - times[i - 1]
                    axes[2, j].plot(d, (p["co2"].values[i] - p["co2"].values[i - 1]) / dt / w, color=c)
        axes[0, j].set_title(lab.replace("_", " "))
        axes[0, j].set_ylabel("biomass [fg C µm⁻³ water]")
        axes[1, j].set_ylabel("active fraction [–]")
        axes[2, j].set_ylabel("respiration [fg C µm⁻³ h⁻¹]")
        axes[2, j].set_xlabel("distance from the root surface [µm]")
        axes[0, j].legend(fontsize=7)
    fig.suptitle(f"Bacteria around an exuding root ({config.profile_bin:g} µm bins; "
                 f"a {config.coarse_bin / 1000:g} mm sample would average the whole domain)" + note)
    figs["profiles_vs_distance.png"] = fig
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    t = ts["time"].values
    for k, lab in enumerate(ts["run"].values):
        axes[0].plot(t, ts["biomass_per_g"].values[k], label=str(lab).replace("_", " "))
        axes[1].plot(t, ts["respiration_rate"].values[k])
    axes[0].set_ylabel("biomass [µg C g⁻¹]")
    axes[1].set_ylabel("respiration [µg CO₂-C g⁻¹ h⁻¹]")
    for ax in axes:
        ax.set_xlabel("time [h]")
    axes[0].legend(fontsize=8)
    if note:
        fig.suptitle(note.lstrip("; "), fontsize=10)
    figs["timeseries.png"] = fig
    return figs
