"""Global sensitivity studies on Dask: Morris screening and Saltelli/Sobol' indices (SALib).

A :class:`SensitivityStudy` draws SALib's design over a :class:`ParameterSpace`, sends the
samples to a Dask cluster (a :func:`~rhizoscale.sensitivity.cluster.local_cluster` by
default, or a scheduler address), stores each sample's quantities as it completes
(:class:`~rhizoscale.sensitivity.store.SampleStore`: plain float64 records, no pickles),
and computes the indices with SALib: first-order ``S1``, total ``ST`` and second-order
``S2`` Sobol' indices with bootstrap confidence intervals, or Morris ``mu*`` and
``sigma``. A study stopped part-way (killed, Ctrl-C, a lost machine) resumes from its
folder and computes only the samples without a stored result; a worker lost mid-study
has its samples rerun by Dask (the same numbers: samples are deterministic).

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
indices. Comput. Phys. Commun. 145, 280-297.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. Technometrics 33, 161-174.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environ. Model. Softw. 22, 1509-1518.
Herman, J. & Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. J. Open Source Softw. 2(9), 97.
"""

from __future__ import annotations

import math
import warnings
import time
from pathlib import Path
from typing import Callable

import numpy as np
import xarray as xr

from ..errors import InputError, RhizoscaleError
from .space import ParameterSpace
from .store import SampleStore

__all__ = ["SensitivityStudy", "SensitivityResult", "SensitivityWarning", "StudyInterrupted", "evaluate_batch",
           "MIN_SECOND_ORDER_N"]


class StudyInterrupted(RhizoscaleError):
    """The study stopped before every sample had run; its folder resumes it."""


def evaluate_batch(model: Callable, indices, values, names, quantities):
    """Run ``model(**{name: value})`` for each row of ``values`` (on a worker).

    Returns the indices, the quantities (n, q) and the warnings the runs gave, as
    ``[(index, message), ...]`` (from a result's ``warnings`` attribute, see
    :class:`~rhizoscale.sensitivity.models.QuantityValues`).
    """
    from .cluster import worker_threads
    worker_threads()
    out = np.empty((len(indices), len(quantities)))
    said = []
    for k, row in enumerate(np.atleast_2d(values)):
        res = model(**{n: float(v) for n, v in zip(names, row)})
        said.extend((int(indices[k]), str(w)) for w in getattr(res, "warnings", ()))
        try:
            out[k] = [np.nan if res[q] is None else float(res[q]) for q in quantities]
        except KeyError as err:
            raise InputError(f"the model returned no quantity {err.args[0]!r} (it returned "
                             f"{', '.join(map(str, res))})", field="quantities") from None
    return np.asarray(indices), out, said


def _group_warnings(pairs) -> list[dict]:
    """``[(sample, message), ...]`` -> one record per message: how many samples gave it and
    the first of them (at most 20), most frequent first."""
    by: dict[str, set] = {}
    for i, msg in pairs:
        by.setdefault(str(msg), set()).add(int(i))
    rows = [{"message": m, "n_samples": len(ix), "samples": sorted(ix)[:20]} for m, ix in by.items()]
    return sorted(rows, key=lambda r: (-r["n_samples"], r["samples"][0]))


class SensitivityStudy:
    """A sensitivity analysis of ``model`` over ``space`` (see the module docs).

    Parameters
    ----------
    model : callable
        ``model(**values) -> {quantity: value}`` (values keyed by parameter path), e.g. a
        :class:`~rhizoscale.sensitivity.ScenarioModel` or a plain function. It must be
        importable or picklable by Dask to reach the workers.
    space : ParameterSpace or dict
        The parameters (``{path: [low, high] | {dist: ..., ...}}``).
    quantities : list of str
        Names of the quantities of interest.
    method : {"sobol", "morris"}
    n : int
        Base sample size: Sobol' ``N`` (``N (2d + 2)`` runs with second order, ``N (d + 2)``
        without; a power of 2), Morris trajectories (``n (d + 1)`` runs).
    seed : int
        Seed of the design and of the bootstrap.
    second_order : bool
        Sobol' second-order indices (interactions).
    num_levels : int
        Morris grid levels.
    num_resamples, conf_level
        Bootstrap resamples and confidence level of the intervals.

    Examples
    --------
    >>> from rhizoscale.sensitivity.functions import ishigami
    >>> space = {"x1": [-math.pi, math.pi], "x2": [-math.pi, math.pi], "x3": [-math.pi, math.pi]}
    >>> study = SensitivityStudy(ishigami, space, ["y"], n=256)
    >>> study.n_samples
    2048
    """

    def __init__(self, model: Callable, space, quantities, *, method: str = "sobol", n: int = 64,
                 seed: int = 1, second_order: bool = True, num_levels: int = 4,
                 num_resamples: int = 200, conf_level: float = 0.95, source: object = None):
        self.model = model
        self.space = space if isinstance(space, ParameterSpace) else ParameterSpace.from_spec(space, source)
        self.quantities = [quantities] if isinstance(quantities, str) else list(quantities)
        if not self.quantities:
            raise InputError("name at least one quantity of interest", source=source, field="quantities")
        if method not in ("sobol", "morris"):
            raise InputError(f"unknown method {method!r} (sobol or morris)", source=source, field="method")
        if not (isinstance(n, int) and n >= 2):
            raise InputError(f"must be an integer >= 2, got {n!r}", source=source, field="samples")
        if method == "sobol" and n & (n - 1):
            raise InputError(f"Sobol' sequences need a power of 2, got {n}", source=source, field="samples")
        self.method, self.n, self.seed = method, n, int(seed)
        self.second_order, self.num_levels = bool(second_order), int(num_levels)
        self.num_resamples, self.conf_level = int(num_resamples), float(conf_level)
        self.source = source
        self.name = "sensitivity" if source is None else Path(str(source)).stem
        self._unit = None
        #: what the design cannot resolve, said before any sample runs (also in summary.json)
        self.warnings: list[str] = []
        if method == "sobol" and self.second_order and n < MIN_SECOND_ORDER_N:
            self.warnings.append(
                f"{'' if source is None else f'{source}: '}samples: N = {n} cannot resolve second-order "
                f"indices (their bootstrap intervals are about as wide as the indices); use N >= "
                f"{MIN_SECOND_ORDER_N} for interactions, or second_order: false")
        for text in self.warnings:
            warnings.warn(text, SensitivityWarning, stacklevel=2)

    #: what ``rhizoscale run`` prints and dispatches on
    case = "sensitivity"

    # ------------------------------------------------------------------ design
    @property
    def unit_samples(self) -> np.ndarray:
        """The design in the unit hypercube ``(n_samples, d)`` (SALib's samplers)."""
        if self._unit is None:
            problem = self.space.problem()
            if self.method == "sobol":
                from SALib.sample import sobol as sampler
                self._unit = sampler.sample(problem, self.n, calc_second_order=self.second_order,
                                            seed=self.seed)
            else:
                from SALib.sample import morris as sampler
                self._unit = sampler.sample(problem, self.n, num_levels=self.num_levels, seed=self.seed)
        return self._unit

    @property
    def samples(self) -> np.ndarray:
        """Parameter values of every sample ``(n_samples, d)``."""
        return self.space.values(self.unit_samples)

    @property
    def n_samples(self) -> int:
        return len(self.unit_samples)

    def spec(self) -> dict:
        """The study as plain data (its hash names the design in the store)."""
        return {"method": self.method, "n": self.n, "seed": self.seed, "second_order": self.second_order,
                "num_levels": self.num_levels, "parameters": self.space.record(),
                "quantities": self.quantities}

    def check(self) -> None:
        """What the model can check before any sample runs (paths, ranges, quantities)."""
        check = getattr(self.model, "check", None)
        if callable(check):
            check(self.space, self.source)

    # ------------------------------------------------------------------ running
    def run(self, out: str | Path | None = None, *, client=None, scheduler: str | None = None,
            n_workers: int | None = None, batch_size: int | None = None, stop_after: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            overwrite: bool = False) -> "SensitivityResult":
        """Evaluate every sample without a stored result, then the indices.

        Parameters
        ----------
        out : path-like, optional
            Study folder: samples stored as they complete, results and figures written at
            the end; a second call resumes. Without it results stay in memory.
        client : distributed.Client, optional
            Use this client; else connect to ``scheduler`` or start a local cluster of
            ``n_workers`` processes (closed at the end).
        batch_size : int, optional
            Samples per task (default: 1 for scenarios, else about 4 tasks per worker).
        stop_after : int, optional
            Stop (raising :class:`StudyInterrupted`) once this many new samples are stored.
        progress : callable(done, total), optional
        overwrite : bool
            Discard a previous study stored in ``out`` (its samples too) instead of
            resuming it or refusing a different one.
        """
        self.check()
        values = self.samples
        store = SampleStore(out, self.spec(), values, self.quantities).open(overwrite) if out is not None else None
        try:
            return self._run(store, out, client, scheduler, n_workers, batch_size, stop_after, progress)
        finally:
            if store is not None:
                store.close()

    def _run(self, store, out, client, scheduler, n_workers, batch_size, stop_after, progress):
        values = self.samples
        results = store.done() if store is not None else {}
        said = store.warnings() if store is not None else []
        reused = len(results)
        if progress is not None:    # the store is open (its folder checked): the task starts here
            progress(len(results), len(values))
        todo = np.array([i for i in range(len(values)) if i not in results], dtype=int)
        computed = 0
        t0 = time.perf_counter()
        if todo.size:
            from distributed import as_completed
            own, own_client = None, False
            if client is None:
                from .cluster import connect
                client, own = connect(scheduler, n_workers)
                own_client = True
            try:
                workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
                if batch_size is None:
                    batch_size = 1 if hasattr(self.model, "check") else max(1, math.ceil(todo.size / (4 * workers)))
                batches = [todo[k:k + batch_size] for k in range(0, todo.size, batch_size)]
                futures = [client.submit(evaluate_batch, self.model, idx, values[idx], self.space.names,
                                         self.quantities, pure=False) for idx in batches]
                seq = as_completed(futures)
                for fut in seq:
                    idx, y, w = fut.result()
                    if store is not None:
                        store.append_warnings(w)    # before the values: a sample stored has its warnings
                        store.append(idx, y)
                    said.extend(w)
                    results.update({int(i): row for i, row in zip(idx, y)})
                    computed += len(idx)
                    if progress is not None:
                        progress(len(results), len(values))
                    if stop_after is not None and computed >= stop_after and len(results) < len(values):
                        for f in futures:
                            f.cancel()
                        raise StudyInterrupted(f"stopped after {computed} new samples ({len(results)} of "
                                               f"{len(values)} stored); run again with the same folder to resume")
            except BaseException:           # Ctrl-C / SIGTERM too: leave nothing queued
                for f in futures if "futures" in locals() else []:
                    f.cancel()
                raise
            finally:
                if own_client:              # a client this call made (of its cluster or by address)
                    client.close()
                if own is not None:
                    own.close()
        elapsed = time.perf_counter() - t0
        y = np.stack([results[i] for i in range(len(values))])
        result = SensitivityResult(self, y, computed=computed, reused=reused, wall_time_s=elapsed,
                                   sample_warnings=said)
        result.design_hash = store.hash if store is not None else None
        if out is not None:
            result.write(out)
        return result


    # ------------------------------------------------------------------ analysis
    def analyze(self, y: np.ndarray) -> dict:
        """SALib's indices for each quantity: ``{quantity: {name: array}}``."""
        problem = self.space.problem()
        out = {}
        for j, q in enumerate(self.quantities):
            yq = np.asarray(y[:, j], float)
            if not np.all(np.isfinite(yq)):
                raise InputError(f"{int(np.sum(~np.isfinite(yq)))} samples gave no finite value of {q!r}; "
                                 "indices need every sample", field=f"quantities.{q}")
            if self.method == "sobol":
                from SALib.analyze import sobol
                r = sobol.analyze(problem, yq, calc_second_order=self.second_order,
                                  num_resamples=self.num_resamples, conf_level=self.conf_level, seed=self.seed)
                keys = ("S1", "S1_conf", "ST", "ST_conf") + (("S2", "S2_conf") if self.second_order else ())
            else:
                from SALib.analyze import morris
                r = morris.analyze(problem, self.unit_samples, yq, num_resamples=self.num_resamples,
                                   conf_level=self.conf_level, num_levels=self.num_levels, seed=self.seed)
                keys = ("mu", "mu_star", "sigma", "mu_star_conf")
            out[q] = {k: np.asarray(r[k], float) for k in keys}
        return out


class SensitivityWarning(UserWarning):
    """A design that runs but cannot resolve what it asks for (e.g. second-order indices at small N)."""


#: smallest Sobol' base sample N that resolves second-order indices (chosen, measured on
#: the Ishigami function, exact S13 = 0.244, seed 1, 95 % bootstrap intervals:
#: N = 16 gives -0.07 +- 0.46, N = 64 0.24 +- 0.43, N = 256 0.24 +- 0.16, N = 1024
#: 0.24 +- 0.10: 256 is the first N whose interval excludes 0)
MIN_SECOND_ORDER_N = 256


class SensitivityResult:
    """Samples, quantities and indices of a finished study.

    Attributes
    ----------
    y : ndarray (n_samples, n_quantities)
    indices : dict
        ``{quantity: {"S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf"}}`` (Sobol') or
        ``{quantity: {"mu", "mu_star", "sigma", "mu_star_conf"}}`` (Morris).
    computed, reused : int
        Samples evaluated by this run / found stored in the study folder.
    """

    def __init__(self, study: SensitivityStudy, y: np.ndarray, *, computed: int, reused: int,
                 wall_time_s: float, sample_warnings=()):
        self.study, self.y = study, y
        self.sample_warnings = _group_warnings(sample_warnings)
        self.computed, self.reused, self.wall_time_s = computed, reused, wall_time_s
        self.indices = study.analyze(y)
        self.design_hash = None
        self.summary_with_files = {**self.summary(), "wall_time_s": round(wall_time_s, 3), "files": []}

    @property
    def names(self) -> list[str]:
        return self.study.space.names

    def interactions(self, quantity: str, significant: bool = True) -> list[tuple[str, str, float, float]]:
        """Second-order pairs ``(a, b, S2, conf)`` by decreasing ``S2`` (with ``significant``,
        those whose confidence interval excludes 0)."""
        ind = self.indices[quantity]
        if "S2" not in ind:
            return []
        names, rows = self.names, []
        d = len(names)
        for i in range(d):
            for j in range(i + 1, d):
                s, c = float(ind["S2"][i, j]), float(ind["S2_conf"][i, j])
                if not significant or s - c > 0:
                    rows.append((names[i], names[j], s, c))
        return sorted(rows, key=lambda r: -r[2])

    def to_dataset(self) -> xr.Dataset:
        """Indices (and samples) as a Dataset with units (written as ``indices.nc``)."""
        names = self.names
        coords = {"quantity": ("quantity", self.study.quantities, {"units": "1"}),
                  "parameter": ("parameter", names, {"units": "1"})}
        data = {}
        for key in next(iter(self.indices.values())):
            arr = np.stack([self.indices[q][key] for q in self.study.quantities])
            dims = ("quantity", "parameter") if arr.ndim == 2 else ("quantity", "parameter", "parameter_2")
            units = "1" if self.study.method == "sobol" else "units of the quantity per quantile range"
            data[key] = (dims, arr, {"units": units})
        if any(v[1].ndim == 3 for v in data.values()):
            coords["parameter_2"] = ("parameter_2", names, {"units": "1"})
        data["samples"] = (("sample", "parameter"), self.study.samples, {"units": "as the parameter"})
        data["values"] = (("sample", "quantity"), self.y, {"units": "as the quantity"})
        coords["sample"] = ("sample", np.arange(len(self.y)), {"units": "1"})
        return xr.Dataset(data, coords=coords, attrs={"method": self.study.method, "n": self.study.n,
                                                      "seed": self.study.seed,
                                                      "conf_level": self.study.conf_level})

    def summary(self) -> dict:
        """Plain-data summary: indices per quantity, significant interactions, counts."""
        from ..outputs import to_jsonable
        out = {"method": self.study.method, "n_samples": int(len(self.y)), "computed": self.computed,
               "reused": self.reused, "wall_time_s": round(self.wall_time_s, 3),
               "parameters": self.study.space.record(), "quantities": {},
               "warnings": list(self.study.warnings), "sample_warnings": self.sample_warnings}
        for q, ind in self.indices.items():
            rec = {k: {n: v for n, v in zip(self.names, ind[k])} for k in ind if ind[k].ndim == 1}
            if "S2" in ind:
                rec["interactions"] = [{"parameters": [a, b], "S2": s, "conf": c}
                                       for a, b, s, c in self.interactions(q)]
            out["quantities"][q] = rec
        return to_jsonable(out)

    def figures(self) -> dict:
        """One figure per quantity: S1 and ST with intervals (and S2 as a matrix), or Morris
        mu* against sigma."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        figs = {}
        names = self.names
        for q, ind in self.indices.items():
            slug = q.replace("/", "_")
            if self.study.method == "sobol":
                ncol = 2 if "S2" in ind else 1
                fig, axes = plt.subplots(1, ncol, figsize=(5.2 * ncol, 4.2), layout="constrained", squeeze=False)
                ax = axes[0, 0]
                x = np.arange(len(names))
                ax.bar(x - 0.2, ind["S1"], 0.4, yerr=ind["S1_conf"], label="first order $S_1$", capsize=3)
                ax.bar(x + 0.2, ind["ST"], 0.4, yerr=ind["ST_conf"], label="total $S_T$", capsize=3)
                ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
                ax.set_ylabel("Sobol' index")
                ax.set_title(q)
                ax.legend(fontsize=8)
                if "S2" in ind:
                    s2 = np.where(np.triu(np.ones_like(ind["S2"]), 1) > 0, ind["S2"], np.nan)
                    im = axes[0, 1].imshow(s2, cmap="viridis", vmin=0)
                    axes[0, 1].set_xticks(x, names, rotation=30, ha="right", fontsize=8)
                    axes[0, 1].set_yticks(x, names, fontsize=8)
                    # an estimate whose bootstrap interval includes 0 is not a resolved interaction
                    conf = ind.get("S2_conf")
                    if conf is not None:
                        for i, j in zip(*np.nonzero(np.isfinite(s2) & (s2 - conf <= 0))):
                            axes[0, 1].text(j, i, "×", ha="center", va="center", color="white",
                                            fontsize=7)
                    axes[0, 1].set_title("second order $S_{ij}$ (×: interval includes 0)", fontsize=10)
                    fig.colorbar(im, ax=axes[0, 1])
            else:
                fig, ax = plt.subplots(figsize=(5.5, 4.4), layout="constrained")
                ax.errorbar(ind["mu_star"], ind["sigma"], xerr=ind["mu_star_conf"], fmt="o")
                for n, a, b in zip(names, ind["mu_star"], ind["sigma"]):
                    ax.annotate(n, (a, b), fontsize=8)
                ax.set_xlabel(r"$\mu^*$ (mean |elementary effect|)")
                ax.set_ylabel(r"$\sigma$ (non-linearity, interactions)")
                ax.set_title(f"Morris screening: {q}")
            figs[f"sensitivity_{slug}.png"] = fig
        return figs

    def write(self, out: str | Path) -> list[str]:
        """``indices.nc``, ``summary.json`` and figures into the study folder."""
        import json

        from ..io.atomic import atomic_path, atomic_write
        from ..io.netcdf import write_netcdf
        out = Path(out)
        files = ["indices.nc"]
        write_netcdf(self.to_dataset(), out / "indices.nc")
        import matplotlib.pyplot as plt
        for name, fig in self.figures().items():
            with atomic_path(out / name) as tmp:
                fig.savefig(tmp, dpi=130, format="png")
            plt.close(fig)
            files.append(name)
        files = ["study.json", "samples.npy", "results.f64"] + files + ["summary.json"]
        summary = {"run": {"status": "complete", "case": "sensitivity", "name": self.study.name,
                           "design_hash": self.design_hash}, **self.summary(),
                   "wall_time_s": round(self.wall_time_s, 3), "files": files}
        with atomic_write(out / "summary.json") as fh:
            json.dump(summary, fh, indent=2)
        self.summary_with_files = summary
        return files
