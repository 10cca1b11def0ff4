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

__all__ = ["available_cores", "local_cluster", "connect", "worker_threads", "THREAD_VARIABLES",
           "WORKER_THREADS_VARIABLE"]

#: environment variables that set the thread count of Numba and the BLAS libraries
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: what a local cluster's workers read their Numba thread count from (see worker_threads)
WORKER_THREADS_VARIABLE = "RHIZOSCALE_WORKER_NUMBA_THREADS"


def worker_threads() -> None:
    """Limit the calling thread's Numba threads to the count its worker was given.

    Numba's thread count is per calling thread (:func:`numba.set_num_threads`), so each
    task applies it in the thread that runs it; outside a local-cluster worker (no
    :data:`WORKER_THREADS_VARIABLE`) nothing changes."""
    n = os.environ.get(WORKER_THREADS_VARIABLE)
    if n:
        import numba
        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def available_cores() -> int:
    """Cores this process may use (its CPU affinity, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def local_cluster(n_workers: int | None = None):
    """A :class:`distributed.LocalCluster` of ``n_workers`` processes (default: one per core)
    on 127.0.0.1, one task thread each, Numba/BLAS threads ``max(1, cores // n_workers)``."""
    from distributed import LocalCluster
    cores = available_cores()
    n = int(n_workers or cores)
    threads = str(max(1, cores // n))
    env = {k: threads for k in THREAD_VARIABLES}
    # Numba's count is NOT put in NUMBA_NUM_THREADS: the worker has imported Numba before
    # Dask's ``env=`` is applied, and a changed NUMBA_NUM_THREADS then makes the worker's
    # next compilation fail ("Cannot set NUMBA_NUM_THREADS to a different value once the
    # threads have been launched"); Dask's pre-spawn environment would change the calling
    # process's own environment instead (and break compilations there). Each task sets
    # its thread's Numba count from WORKER_THREADS_VARIABLE (see worker_threads()).
    env[WORKER_THREADS_VARIABLE] = env.pop("NUMBA_NUM_THREADS")
    # no dashboard; the scheduler's HTTP routes (health, metrics) on a free loopback port
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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
