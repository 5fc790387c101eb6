"""MLflow: one experiment per claim experiment, a parent run per invocation, a child run per trial.

All writes go through one MlflowClient in the runner process, batched (one log_batch per trial).
Runs are opened explicitly and always closed with a final status: FINISHED, FAILED or KILLED.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from claimlab.errors import UsageError
from claimlab.spec import TrialResult
from claimlab.verdict import VERDICT_CODE, Outcome

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MLFLOW_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves when not told otherwise
PARAM_LIMIT = 6000  # MLflow 3 keeps at most this many characters of a param value
BATCH_METRICS, BATCH_PARAMS = 1000, 100

ROLE, ARM, SEED, CONFIG_HASH = "claimlab.role", "claimlab.arm", "claimlab.seed", "claimlab.config_hash"
HISTORY_KEYS = "claimlab.history_keys"


def resolve_uri(cli_uri: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else a SQLite file in the working directory."""
    return cli_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def check_reachable(uri: str) -> None:
    """Fail fast, with what to do, when a tracking server is not there (MLflow would retry for minutes)."""
    scheme = urlparse(uri).scheme
    if scheme in ("http", "https"):
        import requests

        try:
            response = requests.get(uri.rstrip("/") + "/health", timeout=5)
            response.raise_for_status()
        except requests.RequestException as error:
            raise UsageError(
                f"cannot reach the MLflow tracking server at {uri} ({type(error).__name__}); start it with "
                f"`mlflow server --backend-store-uri sqlite:///mlflow.db` or pass --tracking-uri sqlite:///mlflow.db"
            ) from None
    elif scheme == "sqlite":
        path = Path(uri[len("sqlite:///"):])
        if not path.parent.exists():
            raise UsageError(f"--tracking-uri {uri}: the folder {path.parent} does not exist")
    elif scheme not in ("", "file", "databricks"):
        raise UsageError(f"--tracking-uri {uri}: unsupported scheme {scheme!r}; use sqlite:///FILE or http://HOST:PORT")


def _artifact_location(uri: str, experiment_name: str) -> str | None:
    """Keep a SQLite store's artifacts beside its database file, not wherever the command ran."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):]).resolve()
        return (db.parent / "mlartifacts" / experiment_name).as_uri()
    return None


def metric_key(*parts: str) -> str:
    """A metric key MLflow accepts, from parts joined by '/': letters, digits and `_-. /` (anything else
    becomes _), and no empty or dot-only segment (MLflow rejects a key that would normalise, as a path,
    to another key). A rejected key would fail the whole batch, and with it the run's report."""
    key = re.sub(r"[^A-Za-z0-9_\-. /]", "_", "/".join(parts))
    return "/".join(segment for segment in key.split("/") if segment.strip("."))


def parent_metrics(verdicts: dict[str, Outcome]) -> dict[str, float]:
    """A run's verdicts as parent-run metrics, so the quick, full and --set variant runs of one experiment
    line up in MLflow's compare view.

    Per claim: `CLAIM/verdict_code` (supported 1, inconclusive 0, refuted -1); the deciding comparison,
    when exactly one decided, as `CLAIM/difference`, `CLAIM/ci_low`, `CLAIM/ci_high`; and every comparison
    as `CLAIM/NAME/difference` and so on (a name that repeats within a claim gets " on METRIC" appended).
    Per arm and metric: `arm/ARM/METRIC/mean`, `/ci_low`, `/ci_high`. Non-finite values are left out: the
    compare view shows a missing value more plainly than a NaN.
    """
    metrics = {}
    for claim_id, outcome in verdicts.items():
        metrics[metric_key(claim_id, "verdict_code")] = VERDICT_CODE[outcome.verdict]
        headline = outcome.headline()
        if headline is not None:
            metrics.update(_estimate_metrics(claim_id, "difference", headline))
        repeated = {name for name, count in Counter(c.name for c in outcome.comparisons).items() if count > 1}
        for comparison in outcome.comparisons:
            name = f"{comparison.name} on {comparison.metric}" if comparison.name in repeated else comparison.name
            metrics.update(_estimate_metrics(metric_key(claim_id, name), "difference", comparison))
        for arm in outcome.arms:  # arms judged by several claims have the same summary in each
            metrics.update(_estimate_metrics(metric_key("arm", arm.arm, arm.metric), "mean", arm))
    return {key: float(value) for key, value in metrics.items() if value is not None and math.isfinite(value)}


def _estimate_metrics(prefix: str, estimate_name: str, estimate) -> dict:
    """An estimate (a Comparison or an ArmSummary: mean, ci_low, ci_high) as three metrics under prefix."""
    return {metric_key(prefix, estimate_name): estimate.mean, metric_key(prefix, "ci_low"): estimate.ci_low,
            metric_key(prefix, "ci_high"): estimate.ci_high}


def _quiet_mlflow() -> None:
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Tracker:
    """The runner's single writer to MLflow for one claim experiment."""

    def __init__(self, uri: str, experiment_name: str):
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        _quiet_mlflow()
        import mlflow
        from mlflow import MlflowClient

        self.uri = uri
        mlflow.set_tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=uri)
        existing = self.client.get_experiment_by_name(experiment_name)
        if existing is None:
            self.experiment_id = self.client.create_experiment(
                experiment_name, artifact_location=_artifact_location(uri, experiment_name),
                tags={"claimlab.experiment": experiment_name},
            )
        else:
            self.experiment_id = existing.experiment_id
        self.experiment_name = experiment_name

    def ui_url(self, run_id: str) -> str:
        """A link to a run in the UI's Model-training view (MLflow 3 opens experiments in its GenAI view):
        on the tracking server when the store is one, else where `mlflow ui` serves by default."""
        base = self.uri.rstrip("/") if urlparse(self.uri).scheme in ("http", "https") else MLFLOW_UI
        return f"{base}/#/experiments/{self.experiment_id}/runs/{run_id}?workflowType=machine_learning"

    # ---- parent runs -------------------------------------------------------------------------
    def start_parent(self, run_name: str, tags: dict, params: dict) -> str:
        run = self.client.create_run(self.experiment_id, run_name=run_name, tags={ROLE: "parent", **tags})
        self.log_params(run.info.run_id, params)
        return run.info.run_id

    def resumable_parent(self, config_hash: str):
        """The latest parent run of this config that did not finish, or None."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{ROLE}` = 'parent' and tags.`{CONFIG_HASH}` = '{config_hash}'",
            order_by=["attributes.start_time DESC"], max_results=1,
        )
        if runs and runs[0].info.status != "FINISHED":
            return runs[0].info.run_id
        return None

    def reopen(self, run_id: str, tags: dict) -> None:
        self.client.update_run(run_id, status="RUNNING")
        self.set_tags(run_id, tags)

    # ---- trials ------------------------------------------------------------------------------
    def start_trial(self, parent_id: str, arm: str, seed: int, config_hash: str) -> str:
        run = self.client.create_run(
            self.experiment_id, run_name=f"{arm}/seed{seed}",
            tags={"mlflow.parentRunId": parent_id, ROLE: "trial", ARM: arm, SEED: str(seed),
                  CONFIG_HASH: config_hash},
        )
        return run.info.run_id

    def log_trial(self, run_id: str, arm: str, seed: int, cfg: dict, result: TrialResult) -> None:
        """Params, per-epoch curves (step = epoch), final metrics and dataset inputs, in a few batches."""
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), now, epoch)
            for key, values in result.history.items()
            for epoch, value in enumerate(values, start=1)
        ]
        metrics += [Metric(key, float(value), now, 0) for key, value in result.metrics.items()]
        metrics.append(Metric("trial/seconds", float(result.seconds), now, 0))
        for start in range(0, len(metrics), BATCH_METRICS):
            self.client.log_batch(run_id, metrics=metrics[start : start + BATCH_METRICS])
        self.log_params(run_id, {"arm": arm, "seed": seed, **cfg})
        self.client.log_batch(run_id, tags=[RunTag(HISTORY_KEYS, json.dumps(sorted(result.history)))])
        self.log_datasets(run_id, result.datasets)

    def log_datasets(self, run_id: str, datasets) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        inputs = [
            DatasetInput(
                Dataset(name=d.name, digest=d.digest, source_type="code", source=json.dumps({"origin": d.source}),
                        profile=json.dumps(d.profile)),
                tags=[InputTag("mlflow.data.context", d.context)],
            )
            for d in datasets
        ]
        if inputs:
            self.client.log_inputs(run_id, datasets=inputs)

    def finished_trials(self, config_hash: str) -> dict[tuple[str, int], TrialResult]:
        """(arm, seed) -> result of every FINISHED trial of this config in the store (latest wins)."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(f"tags.`{ROLE}` = 'trial' and tags.`{CONFIG_HASH}` = '{config_hash}' "
                           "and attributes.status = 'FINISHED'"),
            order_by=["attributes.start_time ASC"], max_results=50000,
        )
        found = {}
        for run in runs:
            history_keys = json.loads(run.data.tags.get(HISTORY_KEYS, "[]"))
            history = {
                key: [m.value for m in sorted(self.client.get_metric_history(run.info.run_id, key),
                                              key=lambda m: m.step)]
                for key in history_keys
            }
            metrics = {k: v for k, v in run.data.metrics.items() if k not in history_keys and k != "trial/seconds"}
            result = TrialResult(metrics=metrics, history=history,
                                 seconds=run.data.metrics.get("trial/seconds", 0.0))
            found[(run.data.tags[ARM], int(run.data.tags[SEED]))] = result
        return found

    # ---- shared ------------------------------------------------------------------------------
    def log_params(self, run_id: str, params: dict) -> None:
        from mlflow.entities import Param

        existing = self.client.get_run(run_id).data.params
        items = [Param(str(k), str(v)[:PARAM_LIMIT]) for k, v in params.items() if str(k) not in existing]
        for start in range(0, len(items), BATCH_PARAMS):
            self.client.log_batch(run_id, params=items[start : start + BATCH_PARAMS])

    def log_metrics(self, run_id: str, metrics: dict) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        for start in range(0, len(items), BATCH_METRICS):
            self.client.log_batch(run_id, metrics=items[start : start + BATCH_METRICS])

    def set_tags(self, run_id: str, tags: dict) -> None:
        from mlflow.entities import RunTag

        if tags:
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)[:PARAM_LIMIT]) for k, v in tags.items()])

    def end(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status=status)

    def log_results(self, run_id: str, results_dir: Path, verdict_table, figures: dict) -> None:
        """The parent's artifacts: the verdict table, each figure, and the whole results folder."""
        self.client.log_table(run_id, data=verdict_table, artifact_file="verdicts.json")
        for name, figure in figures.items():
            self.client.log_figure(run_id, figure, f"figures/{name}.png", save_kwargs={"bbox_inches": "tight"})
        for path in sorted(results_dir.iterdir()):
            if path.is_file() and path.suffix != ".png":
                self.client.log_artifact(run_id, str(path))
