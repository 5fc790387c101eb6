"""A new SQLite store is a copy of an empty store that MLflow's own code made (claimlab.tracking): the same
tables, schema version and rows as the store MLflow makes itself, and a damaged copy is made again."""

import sqlite3

import mlflow
from mlflow import MlflowClient

from claimlab import tracking
from claimlab.tracking import Tracker


def definition(sql):
    """A CREATE statement's lines, in any order: MLflow's migrations write a table's constraints in an
    order that changes from process to process (Python's string hashing), which means nothing."""
    return sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())


def contents(path):
    """Every table's and index's definition; per table its rows (the schema version among them), without
    timestamps."""
    with sqlite3.connect(path) as db:
        tables = sorted((kind, name, table, definition(sql))
                        for kind, name, table, sql in db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        rows = {}
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = [c[1] for c in db.execute(f'PRAGMA table_info("{name}")') if "time" not in c[1]]
            rows[name] = sorted(db.execute(f'SELECT {", ".join(columns)} FROM "{name}"'), key=repr)
    return tables, rows


def test_a_new_store_holds_what_mlflow_makes_and_a_damaged_schema_copy_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    schema = tmp_path / "cache" / "claimlab" / "mlflow-schema" / f"mlflow-{mlflow.__version__}.db"

    Tracker(f"sqlite:///{tmp_path / 'first.db'}", "probe")  # makes the schema copy, then copies it
    assert schema.is_file()
    schema.write_bytes(b"not a database")  # damaged: made again, not copied
    Tracker(f"sqlite:///{tmp_path / 'second.db'}", "probe")
    assert tracking._is_empty_mlflow_store(schema)

    own = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'own.db'}")  # MLflow makes this one itself
    own.create_experiment("probe", artifact_location=tracking._artifact_location(
        f"sqlite:///{tmp_path / 'own.db'}", "probe"), tags={"claimlab.experiment": "probe"})
    made_by_mlflow = contents(tmp_path / "own.db")
    assert made_by_mlflow[1]["alembic_version"] and made_by_mlflow[1]["experiments"]
    assert contents(tmp_path / "first.db") == made_by_mlflow
    assert contents(tmp_path / "second.db") == made_by_mlflow


def test_an_existing_store_is_never_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = tmp_path / "kept.db"
    first = Tracker(f"sqlite:///{store}", "probe")
    run_id = first.start_run("kept", {})
    Tracker(f"sqlite:///{store}", "probe")
    assert MlflowClient(tracking_uri=f"sqlite:///{store}").get_run(run_id).info.run_name == "kept"
