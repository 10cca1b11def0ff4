"""Where a study keeps its samples and results: plain data, appended as samples finish.

A study folder holds ``study.json`` (the specification and the hash of the design),
``samples.npy`` (the design, float64; read with ``allow_pickle=False``) and
``results.f64``: one fixed-size record of float64 per finished sample
(``index, q_1, ..., q_k``), appended and flushed as each sample completes. A study that
was killed resumes from the complete records (a torn last record is dropped) and
computes only the samples that have none. Nothing in the folder is ever unpickled.
While a study runs it holds an exclusive lock on ``.lock`` in the folder (POSIX
``flock``, released by the system when the process ends, however it ends), so a second
study started on the same folder is refused instead of appending to the same records.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None

import numpy as np

from ..errors import InputError

__all__ = ["SampleStore", "design_hash"]


def design_hash(spec: dict, samples: np.ndarray) -> str:
    """SHA-256 (16 hex digits) of a study's specification and design."""
    h = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(samples, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


class SampleStore:
    """The results of one study in ``folder`` (see the module docs).

    Parameters
    ----------
    folder : path-like
    spec : dict
        Plain-data specification (parameters, quantities, method, seed, ...).
    samples : ndarray (n, d)
        The design: parameter values of every sample.
    quantities : list of str
        Names of the quantities of interest (the record layout).
    """

    def __init__(self, folder, spec: dict, samples: np.ndarray, quantities: list[str]):
        self.folder = Path(folder)
        self.spec, self.samples, self.quantities = spec, np.asarray(samples, float), list(quantities)
        self.hash = design_hash(spec, self.samples)
        self.width = 1 + len(self.quantities)
        self.path = self.folder / "results.f64"

    #: what a study writes into its folder (removed by ``open(overwrite=True)``)
    FILES = ("study.json", "samples.npy", "results.f64", "warnings.jsonl", "indices.nc", "summary.json")

    def open(self, overwrite: bool = False) -> "SampleStore":
        """Create the folder, or check that it holds this very study (same design hash).

        With ``overwrite`` a previous study's files in the folder (see ``FILES`` and its
        ``sensitivity_*.png`` figures) are removed first, once the folder's lock is
        held; other files are left alone.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create the study folder ({err.strerror})", source=self.folder,
                             field="--out") from None
        meta = self.folder / "study.json"
        if not meta.is_file():
            # a study writes study.json first: without it the folder's files are someone else's
            # (a `rhizoscale run` folder holds a summary.json of its own): neither reuse nor discard them
            foreign = [n for n in (".rhizoscale-run.json", *self.FILES) if (self.folder / n).exists()]
            if foreign:         # refused before the lock: no .lock file is left in someone else's folder
                raise InputError(f"is not a sensitivity study's folder (it holds {foreign[0]} but no study.json; "
                                 "a run's folder?): choose another --out (--overwrite only discards a study)",
                                 source=self.folder, field="--out")
        self._lock()
        if overwrite:
            for f in [*(self.folder / n for n in self.FILES), *self.folder.glob("sensitivity_*.png")]:
                f.unlink(missing_ok=True)
        if meta.is_file():
            try:
                old = json.loads(meta.read_text(encoding="utf-8"))
            except ValueError:
                old = {}
            if old.get("design_hash") != self.hash:
                raise InputError(f"holds another study (design {old.get('design_hash')}, this one {self.hash}); "
                                 "choose another --out, or --overwrite to discard it", source=self.folder, field="--out")
        else:
            np.save(self.folder / "samples.npy", self.samples, allow_pickle=False)
            tmp = meta.with_suffix(".json.part")
            tmp.write_text(json.dumps({"design_hash": self.hash, "quantities": self.quantities,
                                       "n_samples": len(self.samples), **self.spec}, indent=2, default=str))
            os.replace(tmp, meta)
        return self

    def _lock(self) -> None:
        self._lock_fh = None
        if fcntl is None:
            return
        fh = open(self.folder / ".lock", "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise InputError("is in use by another study that is still running; wait for it, stop it, "
                             "or choose another --out", source=self.folder, field="--out") from None
        self._lock_fh = fh

    def close(self) -> None:
        """Release the folder's lock (also released when the process ends)."""
        fh, self._lock_fh = getattr(self, "_lock_fh", None), None
        if fh is not None:
            fh.close()

    def __enter__(self) -> "SampleStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done(self) -> dict[int, np.ndarray]:
        """Finished samples: index -> quantity values (torn trailing bytes are cut off)."""
        if not self.path.is_file():
            return {}
        raw = self.path.read_bytes()
        n = len(raw) // (8 * self.width)
        if n * 8 * self.width != len(raw):
            with open(self.path, "r+b") as fh:
                fh.truncate(n * 8 * self.width)
        rec = np.frombuffer(raw[:n * 8 * self.width], dtype="<f8").reshape(n, self.width)
        return {int(r[0]): r[1:].copy() for r in rec}

    def warnings(self) -> list[tuple[int, str]]:
        """Warnings of the stored samples, ``[(index, message), ...]`` (a torn last line is
        dropped; a sample run twice, e.g. killed between its warnings and its values, counts once)."""
        path = self.folder / "warnings.jsonl"
        if not path.is_file():
            return []
        seen, out = set(), []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                i, msg = json.loads(line)
            except ValueError:
                continue
            if (int(i), str(msg)) not in seen:
                seen.add((int(i), str(msg)))
                out.append((int(i), str(msg)))
        return out

    def append_warnings(self, pairs) -> None:
        """Store ``[(index, message), ...]`` (one JSON line each, flushed)."""
        if not pairs:
            return
        with open(self.folder / "warnings.jsonl", "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps([int(i), str(m)]) + "\n" for i, m in pairs))
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, indices, values) -> None:
        """Store finished samples (flushed to disk before returning)."""
        rec = np.column_stack([np.asarray(indices, float), np.atleast_2d(np.asarray(values, float))])
        with open(self.path, "ab") as fh:
            fh.write(rec.astype("<f8").tobytes())
            fh.flush()
            os.fsync(fh.fileno())
