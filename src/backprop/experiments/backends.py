"""Where trials run: in this process, in local worker processes, or on a Dask cluster.

Every backend takes the prepared data once, in :meth:`Backend.start`, before any trial:

- ``serial`` keeps them in this process;
- ``processes`` (the default) starts joblib's loky workers with the data as their initializer
  argument, so each worker receives them once when it starts, and with one BLAS thread each
  (``OMP/OPENBLAS/MKL_NUM_THREADS=1`` and threadpoolctl) so the workers do not fight over the
  cores. A worker that dies breaks loky's pool: the trials in flight are submitted again to a
  fresh pool, the finished ones stay recorded;
- ``dask`` scatters the data to every worker of the cluster (``broadcast=True``): each trial
  then names them by their future, and the scheduler re-runs the trials of a worker that died
  (``retries`` covers trials that raise for reasons outside the trial, such as a lost
  connection). Should the cluster lose every copy of the data (the workers holding them died
  before the copies spread), the data are scattered again and the trials that needed them
  submitted again, up to ``retries`` times.

A trial computes with one BLAS thread on every backend, so the same trial gives the same bits
wherever it runs.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import uuid
from collections import deque
from typing import Any

from .trial import Task, TrialResult, execute, one_blas_thread

ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                                         "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
NAMES = ("serial", "processes", "dask")


class Backend:
    """Submit tasks, then take results back one at a time as they finish."""

    name = "backend"
    workers = 1

    def start(self, shared: dict[str, Any]) -> None:
        raise NotImplementedError

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def next_result(self) -> TrialResult:
        """The next finished trial (blocks until one is)."""
        raise NotImplementedError

    @property
    def in_flight(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers (and a cluster this backend started)."""

    def describe(self) -> str:
        return f"{self.name}, {self.workers} worker{'s' if self.workers != 1 else ''}"


class Serial(Backend):
    """Trials one after another in this process, under one BLAS thread."""

    name = "serial"

    def start(self, shared: dict[str, Any]) -> None:
        from threadpoolctl import threadpool_limits

        self._shared = shared
        self._queue: deque[Task] = deque()
        self._limits = threadpool_limits(limits=1)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def next_result(self) -> TrialResult:
        return execute(self._queue.popleft(), self._shared)

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        limits = getattr(self, "_limits", None)
        if limits is not None:
            limits.restore_original_limits()
            self._limits = None


_SHARED: dict[str, Any] = {}


def _receive(shared: dict[str, Any]) -> None:
    """Worker initializer: keep the data for every trial this worker will run."""
    one_blas_thread()
    _SHARED.update(shared)


def _execute_here(task: Task) -> TrialResult:
    return execute(task, _SHARED)


def _started() -> int:
    return os.getpid()


class Processes(Backend):
    """Local worker processes (joblib's loky), the data sent once per worker."""

    name = "processes"
    max_restarts = 3

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1; got {workers}")

    def start(self, shared: dict[str, Any]) -> None:
        self._shared = shared
        self._futures: dict[cf.Future, Task] = {}
        self._ready: deque[TrialResult] = deque()
        self.restarts = 0
        self._open()

    def _open(self) -> None:
        from joblib.externals.loky import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_receive,
                                         initargs=(self._shared,), env=ONE_THREAD_ENV)
        # The pool spawns its workers on the first task: start them now, so that start-up
        # (Python, NumPy, the data) is not counted as the first trials' time.
        self._pool.submit(_started).result()

    def submit(self, task: Task) -> None:
        self._futures[self._pool.submit(_execute_here, task)] = task

    def next_result(self) -> TrialResult:
        from joblib.externals.loky.process_executor import BrokenProcessPool

        while not self._ready:
            done, _ = cf.wait(list(self._futures), return_when=cf.FIRST_COMPLETED)
            broken = False
            for future in done:
                try:
                    self._ready.append(future.result())
                    del self._futures[future]
                except BrokenProcessPool:
                    broken = True
            if broken:
                self._reopen()
        return self._ready.popleft()

    def _reopen(self) -> None:
        """A worker died (killed, out of memory): run its unfinished trials again."""
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise RuntimeError(f"the worker pool broke {self.restarts} times (workers killed "
                               "or out of memory); the finished trials are recorded: continue "
                               "with --resume")
        lost = list(self._futures.values())
        self._pool.shutdown(wait=True, kill_workers=True)
        self._futures.clear()
        self._open()
        for task in lost:
            self.submit(task)

    @property
    def in_flight(self) -> int:
        return len(self._futures) + len(self._ready)

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True, kill_workers=True)
            self._pool = None


def _execute_on_dask(task: Task, shared: dict[str, Any]) -> TrialResult:
    one_blas_thread()
    return execute(task, shared)


class Dask(Backend):
    """A Dask distributed cluster: an existing one (``scheduler``) or a LocalCluster of
    ``local_workers`` processes started here (and closed at the end)."""

    name = "dask"
    retries = 2

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None,
                 client: Any = None) -> None:
        if sum(x is not None for x in (scheduler, local_workers, client)) != 1:
            raise ValueError("the Dask backend needs exactly one of scheduler='tcp://HOST:8786', "
                             "local_workers=N or client=")
        self.scheduler, self.local_workers, self._client = scheduler, local_workers, client
        self._own_client = client is None
        self._cluster = None

    def start(self, shared: dict[str, Any]) -> None:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the Dask backend needs dask[distributed]: "
                              "pip install 'backprop[experiments]'") from exc
        if self._client is None:
            if self.local_workers is not None:
                self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             env=ONE_THREAD_ENV)
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.scheduler)
        self.workers = len(self._client.scheduler_info()["workers"]) or 1
        self._where = self.scheduler or ("LocalCluster" if self._cluster is not None
                                         else "client")
        self._data = shared
        self._generation = 0  # how many times the data were scattered again
        self._scatter()
        self._done = as_completed()
        self._tasks: dict[str, tuple[Task, int]] = {}
        self._token = uuid.uuid4().hex[:8]

    def _scatter(self) -> None:
        # One object for all the data, scattered to every worker once. hash=False gives each
        # scatter its own key: a sweep never shares its data's key with one before it that
        # the scheduler may still be forgetting.
        [self._shared] = self._client.scatter([self._data], broadcast=True, hash=False)

    def submit(self, task: Task) -> None:
        key = f"trial-{task.number}-{task.key}-{self._token}-{self._generation}"
        self._tasks[key] = (task, self._generation)
        self._done.add(self._client.submit(_execute_on_dask, task, self._shared,
                                           retries=self.retries, key=key))

    def next_result(self) -> TrialResult:
        while True:
            future = next(self._done)
            task, generation = self._tasks.pop(future.key)
            try:
                return future.result()
            except Exception as exc:  # the cluster gave up on it (KilledWorker after retries)
                if self._data_lost(generation):
                    self.submit(task)  # with the data scattered again
                    continue
                return TrialResult(task.key, task.number, "failed",
                                   error=f"{type(exc).__name__}: {exc}", worker="(lost)")

    def _data_lost(self, generation: int) -> bool:
        """Whether a trial submitted with the ``generation``-th scatter failed because the
        cluster lost the data (scattering them again when that is news), and may run again."""
        if generation < self._generation:
            return True  # lost before; already scattered again
        if self._shared.status == "finished" or self._generation >= self.retries:
            return False  # the data are there: the trial failed on its own
        self._generation += 1
        self._scatter()
        return True

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def describe(self) -> str:
        where = getattr(self, "_where", self.scheduler or "LocalCluster")
        return f"dask ({where}), {self.workers} worker{'s' if self.workers != 1 else ''}"

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def make(backend: str | Backend = "processes", workers: int | None = None,
         scheduler: str | None = None, dask_local: int | None = None) -> Backend:
    """The backend for the command-line options (``--scheduler`` and ``--dask-local`` choose
    Dask; otherwise ``backend`` names one)."""
    if isinstance(backend, Backend):
        return backend
    if scheduler is not None or dask_local is not None:
        return Dask(scheduler=scheduler, local_workers=dask_local)
    if backend == "serial":
        return Serial()
    if backend == "processes":
        return Processes(workers)
    raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(NAMES)} "
                     "(dask needs scheduler= or dask_local=)")
