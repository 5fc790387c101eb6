"""MLflow: one experiment per claim experiment, a parent run per invocation, a child run per trial.

All writes go through one MlflowClient in the runner process, batched (one log_batch per trial).
Runs are opened explicitly and always closed with a final status: FINISHED, FAILED or KILLED.
"""

from __future__ import annotations

import contextlib
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
from claimlab.files import json_safe
from claimlab.spec import TrialResult
from claimlab.verdict import VERDICT_CODE, Outcome

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MLFLOW_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves when not told otherwise
PARAM_LIMIT = 6000  # MLflow 3 keeps at most this many characters of a param value
BATCH_METRICS, BATCH_PARAMS = 1000, 100

ROLE, ARM, SEED, CONFIG_HASH = "claimlab.role", "claimlab.arm", "claimlab.seed", "claimlab.config_hash"
HISTORY_KEYS = "claimlab.history_keys"
OWNER = "claimlab.owner"  # host:pid:start of the runner process that opened the run (see Owner)
SQLITE_BUSY_MS = 60_000  # how long a writer waits for another process's SQLite lock before failing
RETRIES = 5  # and then how many times a locked write is retried, with backoff


class Owner:
    """Which process owns a RUNNING run: its host, pid, and the pid's start time (so a pid the system
    reused for another process is not mistaken for the owner). A run whose owner is gone is an orphan."""

    @staticmethod
    def _start_ticks(pid: int) -> str:
        """The process's start time in clock ticks since boot (Linux /proc), or '' elsewhere."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return ""
        return stat.rsplit(")", 1)[1].split()[19]  # field 22; the command name may contain spaces

    @classmethod
    def me(cls) -> str:
        import socket

        return f"{socket.gethostname()}:{os.getpid()}:{cls._start_ticks(os.getpid())}"

    @classmethod
    def is_gone(cls, owner: str | None) -> bool:
        """True when the owner is known dead: same host, and its pid is gone or belongs to a newer process.
        A run with no owner tag (opened before owners were recorded) counts as gone; a run owned on another
        host is never judged from here."""
        import socket

        if not owner:
            return True
        host, _, rest = owner.partition(":")
        pid_text, _, ticks = rest.partition(":")
        if host != socket.gethostname():
            return False
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return bool(ticks) and cls._start_ticks(int(pid_text)) != ticks


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
        check_credentials(uri)
    elif scheme == "sqlite":
        path = Path(uri[len("sqlite:///"):])
        if not path.parent.exists():
            raise UsageError(f"--tracking-uri {uri}: the folder {path.parent} does not exist")
        check_sqlite_store(path, uri)
    elif scheme not in ("", "file", "databricks"):
        raise UsageError(f"--tracking-uri {uri}: unsupported scheme {scheme!r}; use sqlite:///FILE or http://HOST:PORT")


def check_sqlite_store(path: Path, uri: str) -> None:
    """A store file that exists must be an SQLite database that MLflow made (or an empty one): say so
    before MLflow fails on it with a raw SQLAlchemy error, or migrates someone else's database."""
    import sqlite3

    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise UsageError(f"--tracking-uri {uri}: {path} is a folder, not a database file")
    from contextlib import closing

    try:
        read_only = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(read_only, uri=True, timeout=SQLITE_BUSY_MS / 1000)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise UsageError(f"--tracking-uri {uri}: {path} is not a usable SQLite database ({error}); move it "
                         "aside or pass another --tracking-uri") from None
    if tables and not {"alembic_version", "experiments", "runs"} <= tables:
        raise UsageError(f"--tracking-uri {uri}: {path} is an SQLite database but not an MLflow store; pass "
                         "another --tracking-uri") from None
    if any(name.startswith("_alembic_tmp_") for name in tables):
        raise UsageError(f"--tracking-uri {uri}: {path} holds a half-finished MLflow migration (from a crash "
                         "during store creation); restore a backup or start a new store") from None


def _busy_timeout_on_sqlite_connections() -> None:
    """Every SQLite connection this process opens waits up to SQLITE_BUSY_MS for a lock another process
    holds (SQLite's default is 5 s, too short beside a second runner writing a batch)."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(_busy_timeout_on_sqlite_connections, "installed", False):
        return

    @event.listens_for(Engine, "connect")
    def _set_busy_timeout(connection, _record):
        if isinstance(connection, sqlite3.Connection):
            connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")

    _busy_timeout_on_sqlite_connections.installed = True


class RetryingClient:
    """An MlflowClient whose calls are retried, with backoff, when SQLite reports the database locked
    (after the busy timeout): another runner writing at the same moment is not a failure."""

    def __init__(self, client):
        self._client = client
        self.seconds = 0.0  # spent in MLflow calls: the benchmark's "MLflow logging" phase

    def __getattr__(self, name):
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                for attempt in range(RETRIES + 1):
                    try:
                        return method(*args, **kwargs)
                    except Exception as error:
                        if "database is locked" not in str(error) or attempt == RETRIES:
                            raise
                        time.sleep(0.5 * 2 ** attempt)
            finally:
                self.seconds += time.perf_counter() - started

        return call


def _store_lock(uri: str):
    """A lock file beside a SQLite store, held while the store is created or migrated: MLflow's
    migrations are not safe to run twice at once (two fresh runners would leave the file broken)."""
    from contextlib import nullcontext

    from filelock import FileLock

    if not uri.startswith("sqlite:///"):
        return nullcontext()
    path = Path(uri[len("sqlite:///"):])
    return FileLock(str(path.with_name(path.name + ".lock")), timeout=300)


def schema_copy_dir() -> Path:
    """Where the empty MLflow schema that new SQLite stores are copied from is kept, one file per MLflow
    version (beside JAX's compilation cache: claimlab.backend.compile_cache_dir)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "claimlab" / "mlflow-schema"


def _new_sqlite_store_from_schema_copy(uri: str) -> None:
    """Create a new SQLite store as a copy of an empty one that MLflow's own code made: MLflow creates a
    store by running its 50-odd schema migrations one by one, 2-4 s of CPU per new store (every test run
    and every first run in a folder), while the copy takes milliseconds. The copy holds exactly what MLflow
    made for this MLflow version: its tables and schema version, no experiment, no run; MlflowClient then
    opens it as it opens any store (it checks the schema version and adds the Default experiment). Called
    under _store_lock. Anything unexpected leaves the store to MLflow, as before."""
    if not uri.startswith("sqlite:///") or "?" in uri or uri.endswith(":memory:"):  # a file, as named
        return
    store = Path(uri[len("sqlite:///"):])
    if store.exists() or not store.parent.is_dir():  # an existing store; or MLflow's own error for the folder
        return
    try:
        import shutil

        import mlflow

        schema = schema_copy_dir() / f"mlflow-{mlflow.__version__}.db"
        if not _is_empty_mlflow_store(schema):  # never made, or damaged since: made again
            _make_empty_schema(schema)
        shutil.copyfile(schema, store)
    except Exception:  # noqa: BLE001 - an optimisation only: MLflow creates the store itself
        store.unlink(missing_ok=True)


def _is_empty_mlflow_store(path: Path) -> bool:
    """Whether `path` is a readable SQLite database with MLflow's schema version and no experiment."""
    import sqlite3

    if not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return (len(db.execute("SELECT version_num FROM alembic_version").fetchall()) == 1
                    and db.execute("SELECT COUNT(*) FROM experiments").fetchone()[0] == 0)
    except sqlite3.Error:
        return False


def _make_empty_schema(path: Path) -> None:
    """An empty MLflow store at `path`, made by MLflow's own table creation and migrations (what
    SqlAlchemyStore runs on a new database), written under a temporary name and renamed, so that a
    runner beside this one never copies a half-made file."""
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    engine = sqlalchemy.create_engine(f"sqlite:///{partial}")
    try:
        _initialize_tables(engine)
        engine.dispose()
        os.replace(partial, path)
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)


def check_credentials(uri: str) -> None:
    """A server with authentication (`mlflow server --app-name basic-auth`) must accept the credentials
    MLflow's clients read from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD: one authenticated
    read before any training, so a missing or wrong login is a usage error, not a crash mid-run. The
    credentials are never printed."""
    import requests

    username = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    auth = (username, password or "") if username else None
    try:
        response = requests.get(uri.rstrip("/") + "/api/2.0/mlflow/experiments/search",
                                params={"max_results": 1}, auth=auth, timeout=10)
    except requests.RequestException as error:
        raise UsageError(f"cannot reach the MLflow tracking server at {uri} ({type(error).__name__})") from None
    if response.status_code == 401:
        what = "refused the login in" if auth else "requires a login: set"
        raise UsageError(f"the tracking server at {uri} {what} MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
                         "(401 Unauthorized)")
    if response.status_code == 403:
        raise UsageError(f"the tracking server at {uri} accepted the login but refuses this user access "
                         "(403 Forbidden): ask its admin for EDIT permission")


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

        _quiet_mlflow()  # again: importing mlflow set its loggers to INFO
        self.uri = uri
        _busy_timeout_on_sqlite_connections()
        mlflow.set_tracking_uri(uri)
        # One process at a time creates (and migrates) the store, which MlflowClient() does, and the experiment.
        with _store_lock(uri):
            _new_sqlite_store_from_schema_copy(uri)
            try:
                self.client = RetryingClient(MlflowClient(tracking_uri=uri))
                existing = self.client.get_experiment_by_name(experiment_name)
            except Exception as error:
                raise UsageError(f"--tracking-uri {uri}: MLflow cannot open this store ({type(error).__name__}: "
                                 f"{str(error).splitlines()[0][:200]})") from None
            if existing is None:
                self.experiment_id = self.client.create_experiment(
                    experiment_name, artifact_location=_artifact_location(uri, experiment_name),
                    tags={"claimlab.experiment": experiment_name},
                )
            else:
                self.experiment_id = existing.experiment_id
        self.experiment_name = experiment_name
        self.owner = Owner.me()

    def ui_url(self, run_id: str) -> str:
        """A link to a run in the UI's Model-training view (MLflow 3 opens experiments in its GenAI view):
        on the tracking server when the store is one, else where `mlflow ui` serves by default."""
        base = self.uri.rstrip("/") if urlparse(self.uri).scheme in ("http", "https") else MLFLOW_UI
        return f"{base}/#/experiments/{self.experiment_id}/runs/{run_id}?workflowType=machine_learning"

    # ---- runs --------------------------------------------------------------------------------
    def start_run(self, run_name: str, tags: dict) -> str:
        """A new run of this experiment: every MLflow run the lab makes starts here."""
        return self.client.create_run(self.experiment_id, run_name=run_name, tags=tags).info.run_id

    def start_parent(self, run_name: str, tags: dict, params: dict) -> str:
        run_id = self.start_run(run_name, {ROLE: "parent", OWNER: self.owner, **tags})
        self.log_params(run_id, params)
        return run_id

    def resumable_parent(self, config_hash: str, finished_too: bool = False):
        """The latest parent run of this config that ended unfinished (KILLED or FAILED), or None; with
        `finished_too`, the latest that ended at all. A RUNNING one belongs to a live runner (end_orphans
        has ended the others): it is not taken over."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{ROLE}` = 'parent' and tags.`{CONFIG_HASH}` = '{config_hash}'",
            order_by=["attributes.start_time DESC"], max_results=20,
        )
        ended = [run for run in runs if run.info.status != "RUNNING"]
        if not ended or (ended[0].info.status == "FINISHED" and not finished_too):
            return None
        return ended[0].info.run_id

    def reopen(self, run_id: str, tags: dict) -> None:
        self.client.update_run(run_id, status="RUNNING")
        self.set_tags(run_id, {OWNER: self.owner, **tags})

    def end_orphans(self, config_hash: str) -> int:
        """End as KILLED every RUNNING run (parent or trial) of this config whose owner process is gone:
        what a SIGKILLed or crashed runner left open. Returns how many were ended."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{CONFIG_HASH}` = '{config_hash}' and attributes.status = 'RUNNING'",
            max_results=50000,
        )
        orphans = [run for run in runs if Owner.is_gone(run.data.tags.get(OWNER))]
        for run in orphans:
            self.set_tags(run.info.run_id, {"claimlab.ended_as_orphan_by": self.owner})
            self.client.set_terminated(run.info.run_id, status="KILLED")
        return len(orphans)

    # ---- trials ------------------------------------------------------------------------------
    def start_trial(self, parent_id: str, arm: str, seed: int, config_hash: str) -> str:
        return self.start_run(f"{arm}/seed{seed}", {"mlflow.parentRunId": parent_id, ROLE: "trial", ARM: arm,
                                                     SEED: str(seed), CONFIG_HASH: config_hash, OWNER: self.owner})

    def log_checks(self, run_name: str, tags: dict, checks: dict, cfg: dict) -> str:
        """The exact checks as one finished run (role `checks`): numeric values as metrics, the config as
        params, everything in checks.json. Keras 3's run and `--keras 2`'s are written alike."""
        run_id = self.start_run(run_name, {ROLE: "checks", **tags})
        self.log_metrics(run_id, {metric_key(name, key): value for name, values in checks.items()
                                  for key, value in values.items()
                                  if isinstance(value, (int, float)) and not isinstance(value, bool)})
        self.log_params(run_id, cfg)
        self.client.log_dict(run_id, json_safe(checks), "checks.json")
        self.end(run_id, "FINISHED")
        return run_id

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
