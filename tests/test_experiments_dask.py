"""Sweeps on a real Dask cluster: a LocalCluster of 2 worker processes on this machine."""

from __future__ import annotations

import distributed
import experiments_helpers as helpers
import pytest
from experiments_helpers import InterruptAfter, KillOnce
from experiments_helpers import runs as _runs

from backprop.cli import main
from backprop.experiments import sweep
from backprop.experiments.backends import Dask
from backprop.experiments.store import Store

tiny = pytest.fixture(scope="module")(helpers.tiny)  # the tiny sweep's file
serial = pytest.fixture(scope="module")(helpers.serial)  # its serial run


@pytest.fixture(scope="module")
def client():
    """One cluster for the module: starting one takes seconds."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_a_dask_sweep_gives_the_serial_results_bit_for_bit(client, tiny, serial, tmp_path):
    result = sweep(tiny, tmp_path / "out", backend=Dask(client=client), progress=False)
    assert _runs(result.out) == _runs(serial.out)
    assert result.data_sent == 1  # scattered to the workers once, for all 8 trials
    assert all(t["worker"].startswith("tcp://") for t in result.trials)
    assert result.backend == "dask (client), 2 workers"


def test_a_worker_killed_mid_sweep_gets_its_trials_run_again(client, tiny, serial, tmp_path):
    flag = tmp_path / "killed"
    result = sweep(tiny, tmp_path / "out", backend=Dask(client=client), progress=False,
                   callbacks=[KillOnce(flag)])
    assert flag.exists()  # a worker process did die
    assert _runs(result.out) == _runs(serial.out)
    client.wait_for_workers(2, timeout=60)


def test_a_stopped_sweep_resumes_on_the_cluster_from_the_command_line(client, tiny, serial,
                                                                     tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep(tiny, out, backend="serial", progress=False, callbacks=[InterruptAfter(3)])
    address = client.scheduler.address
    assert main(["sweep", str(tiny), "--out", str(out), "--scheduler", address, "--resume",
                 "--quiet", "--no-plots"]) == 0
    assert _runs(out) == _runs(serial.out)
    with Store(out / "sweep.db") as store:
        workers = [t["worker"] for t in store.trials()]
    assert sum(w.startswith("tcp://") for w in workers) == 5  # the 3 done before ran here


class LosesItsDataOnce(Dask):
    """A Dask backend whose cluster loses the scattered data after the third submission, as
    when the workers holding the only copies die."""

    def submit(self, task):
        super().submit(task)
        if task.number == 2 and self._generation == 0:
            self._client.cancel([self._shared], force=True)


def test_data_the_cluster_lost_are_scattered_again_and_the_trials_rerun(client, tiny, serial,
                                                                        tmp_path):
    result = sweep(tiny, tmp_path / "out", backend=LosesItsDataOnce(client=client),
                   progress=False)
    assert _runs(result.out) == _runs(serial.out)  # every trial done, the same bits
    assert result.data_sent == 2  # once, and once again after the loss
