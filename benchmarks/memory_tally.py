"""Where the bytes of a solve go: the NumPy arrays alive at a point of the run, by name.

Used by ``bench_homogenization.py --tally`` and ``bench_diffusion.py --tally``: at the
first preconditioner application of each solve (when every work vector exists) the
arrays reachable from the call stack are listed, each once (views are counted with the
array that owns the memory), with the name it was first reached by and its bytes per
voxel of the image. Arrays allocated inside compiled kernels (row buffers) and Numba's
own memory are not seen; the line "not in arrays" is the rest of the RSS above the
baseline.
"""

from __future__ import annotations

import sys

import numpy as np


def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def live_arrays(frame, min_bytes: int) -> list[tuple[str, np.ndarray]]:
    """``(name, owning array)`` of every array of at least ``min_bytes`` reachable from
    the locals of ``frame`` and its callers (breadth first, so the shortest name wins)."""
    seen_obj: set[int] = set()
    owners: dict[int, tuple[str, np.ndarray]] = {}
    queue: list[tuple[str, object]] = []
    f = frame
    while f is not None:
        for k, v in f.f_locals.items():
            queue.append((f"{f.f_code.co_name}:{k}", v))
        f = f.f_back
    head = 0
    while head < len(queue) and head < 200_000:
        name, obj = queue[head]
        head += 1
        if id(obj) in seen_obj or isinstance(obj, (type, type(sys), str, bytes, int, float)):
            continue
        seen_obj.add(id(obj))
        if isinstance(obj, np.ndarray):
            own = _owner(obj)
            if own.nbytes >= min_bytes and id(own) not in owners:
                owners[id(own)] = (name, own)
            continue
        if isinstance(obj, dict):
            items = obj.items()
        elif isinstance(obj, (list, tuple, set, frozenset)):
            items = ((f"[{i}]", v) for i, v in enumerate(obj))
        elif callable(obj):
            continue
        elif isinstance(getattr(obj, "__dict__", None), dict):
            items = vars(obj).items()
        else:
            continue
        for k, v in items:
            queue.append((f"{name}.{k}" if not str(k).startswith("[") else f"{name}{k}", v))
    return list(owners.values())


def tally(n_voxels: int, rss_above_base: float | None = None, frame=None,
          title: str = "") -> str:
    """A table of the live arrays (bytes per voxel), largest first."""
    frame = frame or sys._getframe(1)
    rows = live_arrays(frame, max(1, n_voxels // 64))
    rows.sort(key=lambda r: -r[1].nbytes)
    total = sum(a.nbytes for _, a in rows)
    lines = [f"live arrays {title}(>= 1/64 B per voxel), bytes per voxel of {n_voxels:,}:"]
    for name, a in rows:
        lines.append(f"  {a.nbytes / n_voxels:6.2f}  {str(a.dtype):8s} {str(a.shape):18s} {name}")
    lines.append(f"  {total / n_voxels:6.2f}  total in arrays")
    if rss_above_base is not None:
        lines.append(f"  {(rss_above_base - total) / n_voxels:6.2f}  not in arrays "
                     f"(RSS above the baseline: {rss_above_base / n_voxels:.2f})")
    return "\n".join(lines)


def install(n_voxels: int, base_rss: int, modules, solves: int = 3) -> None:
    """Print :func:`tally` at the first preconditioner application of the first
    ``solves`` calls of ``pcg`` made through ``modules`` (which imported it by name)."""
    import os

    from rhizoscale.solvers import multigrid

    state = {"pending": False, "done": 0}
    apply = multigrid.Multigrid.apply

    def current_rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def traced_apply(self, r, out):
        if state["pending"]:
            state["pending"] = False
            print(tally(n_voxels, current_rss() - base_rss, sys._getframe(1),
                        f"in solve {state['done']} "), flush=True)
        return apply(self, r, out)

    multigrid.Multigrid.apply = traced_apply
    for module in modules:
        pcg = module.pcg

        def traced_pcg(*args, _pcg=pcg, **kwargs):
            if state["done"] < solves:
                state["pending"] = True
                state["done"] += 1
            return _pcg(*args, **kwargs)

        module.pcg = traced_pcg
