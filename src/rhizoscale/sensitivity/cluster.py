"""Dask clusters for ensembles: a local one by default, any scheduler by address.

The local cluster runs one single-threaded worker process per core, listens on the
loopback interface only (nothing outside the machine can reach it; no dashboard), and
gives each worker ``cores // workers`` threads for Numba and BLAS, so that workers
never oversubscribe the cores. On a shared or remote cluster, connect by address (see
docs/linking-and-sensitivity.md for dask-jobqueue and TLS).
"""

from __future__ import annotations

import logging
import os

__all__ = ["available_cores", "local_cluster", "connect", "THREAD_VARIABLES"]

#: environment variables that set the thread count of Numba and the BLAS libraries
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may use (its CPU affinity, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def local_cluster(n_workers: int | None = None):
    """A :class:`distributed.LocalCluster` of ``n_workers`` processes (default: one per core)
    on 127.0.0.1, one task thread each, Numba/BLAS threads ``max(1, cores // n_workers)``."""
    import dask
    from distributed import LocalCluster
    cores = available_cores()
    n = int(n_workers or cores)
    threads = str(max(1, cores // n))
    env = {k: threads for k in THREAD_VARIABLES}
    # The thread counts must be in the worker's environment before it starts (Dask's
    # "pre-spawn" environment): Numba reads NUMBA_NUM_THREADS at import, and a value set
    # afterwards (Dask's ``env=``) makes the next compilation in the worker fail with
    # "Cannot set NUMBA_NUM_THREADS to a different value" (a cold cache in a study).
    spawn = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **env}
    # no dashboard; the scheduler's HTTP routes (health, metrics) on a free loopback port
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn}):
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None,
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            env=env, silence_logs=logging.ERROR)


def connect(scheduler: str | None = None, n_workers: int | None = None):
    """``(client, cluster)``: a client of the scheduler at ``scheduler`` (``tcp://host:port``
    or ``tls://...`` with the security of Dask's configuration; cluster None), or of a new
    local cluster (close both when done)."""
    from distributed import Client
    if scheduler:
        return Client(scheduler, timeout="30s"), None
    cluster = local_cluster(n_workers)
    return Client(cluster), cluster
