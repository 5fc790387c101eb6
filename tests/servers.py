"""Real servers for tests, on 127.0.0.1 only, each started in its own process group and stopped by its
pid (mlflow server forks uvicorn workers: the whole group goes)."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mlflow_server(tmp_path: Path, backend_store_uri: str, *extra: str, env: dict | None = None,
                  start_timeout: float = 120):
    """`mlflow server` on a free port of 127.0.0.1; yields its URI."""
    port = free_port()
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    log = open(tmp_path / f"mlflow-server-{port}.log", "w")
    process = subprocess.Popen(
        [str(mlflow_cli), "server", "--backend-store-uri", backend_store_uri, "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", *extra],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + start_timeout
        while True:
            try:
                if requests.get(f"{uri}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"mlflow server did not start: {(tmp_path / log.name).read_text()[-2000:]}")
            time.sleep(0.5)
        yield uri
    finally:
        stop_group(process)
        log.close()


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group of `process`, SIGKILL after 30 s; already gone is fine."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=30)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=30)
