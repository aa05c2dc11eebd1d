"""Where batch work runs: in this process, a local dask cluster, or a remote one.

:func:`dask_client` gives a ``distributed.Client`` for an existing
scheduler (``--scheduler ADDRESS``), a new local cluster with ``workers``
single-threaded worker processes, or None (work stays in this process; dask
arrays then use the threaded scheduler). dask.distributed is imported only
when a cluster is asked for. Local workers are started with glibc keeping
freed memory for reuse (dask's ``MALLOC_TRIM_THRESHOLD_`` setting slows the
kernels down), and without the statistical profiler that feeds the
dashboard (there is none).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["dask_client", "default_workers"]

#: Local workers keep the freed memory of the kernels' temporary arrays for
#: the next chunk: glibc serves allocations below 32 MiB from its heap and
#: gives memory back to the system only above 256 MiB free at the top
#: (dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` returns it at once, so
#: every chunk faults its pages in again). Measured on a chunk of 16 XANES
#: files in a fresh process: 24 ms with dask's setting, 18-20 ms with
#: glibc's defaults, 16.5 ms with these. They do not sample their own
#: stacks every 10 ms for the dashboard's profile, since a local cluster is
#: started without a dashboard (measured: 450 -> 510 files/s on 2 workers).
_LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 256 * 2**20,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 * 2**20,
    "distributed.worker.profile.enabled": False,
}


def default_workers() -> int:
    """Worker count for a local cluster: the CPUs this process may use.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextlib.contextmanager
def dask_client(
    *, scheduler: str | None = None, workers: int | None = None, processes: bool = True
) -> Iterator[Any]:
    """Context manager yielding a dask.distributed Client, or None.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); wins over ``workers``.
    workers : int, optional
        Start a local cluster with this many single-threaded workers when > 1;
        with 0, 1 or None no cluster is started and None is yielded.
    processes : bool, default True
        Local workers as processes (True) or threads of this process.

    Examples
    --------
    >>> with dask_client(workers=1) as client:
    ...     print(client)
    None
    """
    if not scheduler and not (workers and workers > 1):
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    import dask

    with dask.config.set(_LOCAL_CLUSTER_CONFIG), LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None
    ) as cluster, Client(cluster) as client:
        yield client
