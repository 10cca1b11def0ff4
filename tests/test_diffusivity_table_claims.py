"""Verdicts of the cs4-diffusivity-table claims (rhizoscale.link.claims) on synthetic tables:
each rule can fail (blocked-then-opened at θ = 0.19, only at another θ, never; mirrored
tensors diagonal or not; Millington–Quirk against 2.3457e-2)."""

from types import SimpleNamespace

import numpy as np
import xarray as xr

from rhizoscale.reproduce import collect, judge

CLAIMS = {c.id: c for c in collect().claims}


def _products(water, mucilage, *, mirror_off=0.0, mq=0.19 ** (10 / 3) / 0.41 ** 2, study="cs4-diffusivity-table"):
    """A table at theta 0.1 and 0.19 (2D): water-only and 10 % mucilage tensors (diagonals)."""
    t = np.zeros((2, 2, 2, 2))
    for i in range(2):
        t[i, 0] = np.diag(water[i])
        t[i, 1] = np.diag(mucilage[i])
    mirror = t.copy()
    mirror[..., 0, 1] = mirror[..., 1, 0] = mirror_off
    ev = np.sort(np.linalg.eigvalsh(t), axis=-1)
    dims = ("theta", "mucilage_fraction")
    table = xr.Dataset({"tensor": (dims + ("i", "j"), t), "tensor_mirror": (dims + ("i", "j"), mirror),
                        "d_eff": (dims, ev.mean(-1)), "d_min": (dims, ev[..., 0]), "d_max": (dims, ev[..., -1])},
                       coords={"theta": [0.1, 0.19], "mucilage_fraction": [0.0, 0.1]}, attrs={"porosity": 0.41})
    images = xr.Dataset(attrs={"mucilage_fraction": 0.1})
    p = SimpleNamespace(fields={"effective_diffusivity_table.nc": table, "images.nc": images},
                        info={"bridge_span": {"gap_over_radius": 0.27}}, value=lambda k: mq)
    return {study: p}


def verdict(cid, products):
    return judge(CLAIMS[cid], products)["verdict"]


def test_blocked_then_opened_at_0_19_partly_elsewhere_or_not_at_all():
    opened = _products([[0.01, 0.0], [0.03, 0.0]], [[0.01, 0.0], [0.03, 0.01]])
    assert verdict("cs4-table-opens-2d", opened) == "reproduced"
    elsewhere = _products([[0.01, 0.0], [0.03, 0.0]], [[0.01, 0.002], [0.03, 0.0]])
    assert verdict("cs4-table-opens-2d", elsewhere) == "partly"
    never = _products([[0.01, 0.0], [0.03, 0.0]], [[0.01, 0.0], [0.02, 0.0]])
    assert verdict("cs4-table-opens-2d", never) == "not reproduced"
    not_blocked = _products([[0.01, 0.001], [0.03, 0.02]], [[0.01, 0.002], [0.03, 0.03]])
    assert verdict("cs4-table-opens-2d", not_blocked) == "not reproduced"
    three_d = _products([[0.01, 0.0], [0.03, 0.0]], [[0.01, 0.0], [0.03, 0.01]], study="cs4-diffusivity-table-3d")
    assert verdict("cs4-table-opens-3d", three_d) == "reproduced"


def test_mirror_diagonal_and_millington_quirk():
    base = ([[0.01, 0.0], [0.03, 0.0]], [[0.01, 0.0], [0.03, 0.01]])
    assert verdict("cs4-table-mirror-diagonal", _products(*base)) == "reproduced"
    assert verdict("cs4-table-mirror-diagonal", _products(*base, mirror_off=1e-6)) == "not reproduced"
    assert verdict("cs4-table-millington-quirk", _products(*base)) == "reproduced"
    assert verdict("cs4-table-millington-quirk", _products(*base, mq=0.0240)) == "not reproduced"
