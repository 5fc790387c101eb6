"""One worker pool per command: the runs of `all` or `--settings all` share their workers (they start, and
import TensorFlow, once), and a reused worker gives every trial the numbers a fresh process gives it."""

import pandas as pd

from claimlab import cli, execute

METRICS = ["test/accuracy", "test/loss", "train_eval/accuracy", "shift/accuracy_drop"]


def smoke(name: str, base, jobs: int) -> pd.DataFrame:
    code = cli.main([name, "--profile", "smoke", "--jobs", str(jobs), "--tracking-uri", f"sqlite:///{base / 'm.db'}",
                     "--results-dir", str(base / "results")], out=lambda *a, **k: None)
    assert code == 0
    return pd.read_csv(base / "results" / name / "trials.csv").set_index(["arm", "seed"]).sort_index()


def pool_of(backend: str):
    return execute._workers["pools"].get(backend, (None, 0))[0]


def test_runs_inside_one_command_share_the_workers_and_get_the_numbers_of_fresh_ones(tmp_path, smoke_run, monkeypatch):
    alone = pd.read_csv(smoke_run["folder"] / "trials.csv").set_index(["arm", "seed"]).sort_index()  # --jobs 1
    with execute.keep_workers():
        first = smoke("gap_vs_flatten", tmp_path / "first", jobs=2)
        workers = dict(pool_of("jax")._processes)  # gap_vs_flatten's trials run on JAX
        assert len(workers) == 2 and all(p.is_alive() for p in workers.values())
        second = smoke("gap_vs_flatten", tmp_path / "second", jobs=2)  # every trial again, on the same workers
        assert dict(pool_of("jax")._processes) == workers
        execute.release_workers()  # under the memory limit: kept for the next run
        assert pool_of("jax") is not None
        monkeypatch.setattr(execute, "WORKER_MEMORY_LIMIT", 0)  # workers that have grown past it are replaced
        execute.release_workers()
        assert pool_of("jax") is None
    assert execute._workers["pools"] == {}
    assert not any(p.is_alive() for p in workers.values())  # the block's end stops them
    for trials in (first, second):
        pd.testing.assert_frame_equal(trials[METRICS], alone[METRICS], check_exact=True)

