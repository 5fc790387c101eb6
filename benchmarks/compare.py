"""Time the runner against the hand-written peer (benchmarks/peer.py), in one invocation, on one machine.

    python benchmarks/compare.py gap_vs_flatten --profile quick --jobs 2
    python benchmarks/compare.py all --profile quick --jobs 2     (the suite: runner against floor)

Runs the peer, then `python runner.py NAME` into a temporary SQLite store and results folder (the
project's results/ is not touched), samples the resident memory of the runner and its workers every
0.2 s, and prints: both wall and CPU times, the ratio runner / peer, the runner's phases (from
CLAIMLAB_PHASES_FILE, which the runner fills in: start-up and imports, data, trials, the trials' own
compute, MLflow logging, reporting, and the workers' idle share), and the peak memory. A benchmark, not
a test: nothing here asserts a time.

With `all`, the suite, twice in one invocation: `python runner.py all` (each experiment on its own
backend: JAX where it is backend-neutral) and `python runner.py all --backend tensorflow`, each with a
fresh XLA compilation cache, then each experiment's floor on its own backend and on TensorFlow; one row
per experiment (its wall time from its summary.json), the peak memory and the cache's size. No peer
there: a sequential loop over the whole suite would take longer than the runner and the floor together,
and the peer's ratio is gap_vs_flatten's.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total / 2**20


def timed(command: list[str], env: dict) -> dict:
    """Run a command; its wall time, its (and its children's) CPU time, and the peak memory of its tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}): {err.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_mb": peak[0], "stdout": out}


def floors(experiment: str, profile: str, jobs: int, env: dict, backend: str | None = None) -> list[dict]:
    """benchmarks/floor.py's JSON lines: one per experiment (and the suite's sum, for all)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py"), experiment, "--profile", profile,
                          "--jobs", str(jobs), *(["--backend", backend] if backend else [])], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def folder_size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def run_suite(profile: str, jobs: int, env: dict, *extra: str) -> dict:
    """`python runner.py all` into a scratch store, with a fresh (cold) XLA compilation cache: its wall and
    CPU time, peak memory, each experiment's wall time (from its summary.json) and the cache's size."""
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch, "xla")
        runner = timed([sys.executable, str(ROOT / "runner.py"), "all", "--profile", profile, "--jobs", str(jobs),
                        *extra, "--tracking-uri", f"sqlite:///{scratch}/mlflow.db", "--results-dir",
                        f"{scratch}/results"], {**env, "CLAIMLAB_XLA_CACHE": str(cache)})
        summaries = [json.loads(path.read_text()) for path in sorted(Path(scratch, "results").glob("*/summary.json"))]
        # by experiment: with --backend, a run's folder is a variant's (gap_vs_flatten@backend=tensorflow)
        runner["walls"] = {s["experiment"]: s["wall_seconds"] for s in summaries}
        runner["backends"] = {s["experiment"]: s["config"].get("backend", "tensorflow") for s in summaries}
        runner["cache_mb"] = folder_size_mb(cache) if cache.exists() else 0.0
    return runner


def compare_suite(profile: str, jobs: int, env: dict) -> None:
    """`python runner.py all` on each experiment's own backend and forced onto TensorFlow, in one invocation,
    each against its floors, experiment by experiment."""
    own = run_suite(profile, jobs, env)
    forced = run_suite(profile, jobs, env, "--backend", "tensorflow")
    *own_floors, own_suite = floors("all", profile, jobs, env)
    tf_floors = {row["experiment"]: row for row in floors("all", profile, jobs, env, "tensorflow")[:-1]}
    for label, run in (("own backends", own), ("forced onto TensorFlow", forced)):
        print(f"\npython runner.py all --profile {profile} --jobs {jobs} ({label}): {run['wall']:.1f} s wall, "
              f"{run['cpu']:.1f} s CPU, peak {run['peak_mb']:.0f} MB, XLA cache {run['cache_mb']:.0f} MB")
    print(f"suite: {own['wall']:.1f} s against {forced['wall']:.1f} s on TensorFlow: "
          f"{own['wall'] / forced['wall']:.2f}x its TensorFlow time")
    print(f"\n{'experiment':<22}{'backend':<12}{'runner s':>9}{'on TF s':>9}{'TF/own':>8}{'floor s':>9}"
          f"{'run/floor':>10}{'TF floor s':>11}")
    for row in own_floors:
        name = row["experiment"]
        wall, on_tf = own["walls"].get(name, float("nan")), forced["walls"].get(name, float("nan"))
        floor, tf_floor = row["floor"], tf_floors.get(name, {}).get("floor")
        print(f"{name:<22}{own['backends'].get(name, '?'):<12}{wall:>9.1f}{on_tf:>9.1f}{on_tf / wall:>8.2f}"
              + (f"{floor:>9.1f}{wall / floor:>10.2f}" if floor else f"{'none':>9}{'':>10}")
              + (f"{tf_floor:>11.1f}" if tf_floor else f"{'none':>11}"))
    with_floor = sum(own["walls"].get(row["experiment"], 0.0) for row in own_floors if row["floor"])
    print(f"\nexperiments with a floor: runner {with_floor:.1f} s, floors {own_suite['floor']:.1f} s "
          f"({own_suite['flops'] / 1e12:.2f} TFLOP), runner / floor {with_floor / own_suite['floor']:.2f}")
    print(f"without one (own training loop or nothing to train): {', '.join(own_suite['no_floor'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", default="gap_vs_flatten")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    print(f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    if args.experiment == "all":
        compare_suite(args.profile, args.jobs, env)
        return

    peer = timed([sys.executable, str(ROOT / "benchmarks" / "peer.py"), args.experiment, "--profile", args.profile], env)
    peer_trials = json.loads(peer["stdout"].strip().splitlines()[-1])["trials"]
    with tempfile.TemporaryDirectory() as scratch:
        phases_file = Path(scratch) / "phases.json"
        runner = timed([sys.executable, str(ROOT / "runner.py"), args.experiment, "--profile", args.profile,
                        "--jobs", str(args.jobs), "--tracking-uri", f"sqlite:///{scratch}/mlflow.db",
                        "--results-dir", f"{scratch}/results"], {**env, "CLAIMLAB_PHASES_FILE": str(phases_file)})
        phases = json.loads(phases_file.read_text())

    print(f"\n{args.experiment}, profile {args.profile}, {len(peer_trials)} trials")
    print(f"{'':<28}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}")
    print(f"{'peer (sequential loop)':<28}{peer['wall']:>9.1f}{peer['cpu']:>9.1f}{peer['peak_mb']:>9.0f}")
    print(f"{f'runner (--jobs {args.jobs})':<28}{runner['wall']:>9.1f}{runner['cpu']:>9.1f}{runner['peak_mb']:>9.0f}")
    print(f"\nrunner / peer wall time: {runner['wall'] / peer['wall']:.2f}")
    print(f"mean trial: {sum(peer_trials) / len(peer_trials):.2f} s in the peer, "
          f"{phases['trial_compute'] / max(1, phases['trials_run']):.2f} s in a runner worker")
    startup = runner["wall"] - phases["run_wall"]
    rows = [("start-up and imports", startup), ("data (prepare)", phases["prepare"]),
            ("trials phase (wall)", phases["trials_wall"]), ("  of which MLflow logging", phases["mlflow_during_trials"]),
            ("reporting (verdicts, files)", phases["report"]), ("MLflow logging, all", phases["mlflow"])]
    print("\nrunner phases (s, share of wall):")
    for name, seconds in rows:
        print(f"  {name:<30}{seconds:>8.1f}{100 * seconds / runner['wall']:>7.1f}%")
    idle = phases["trials_wall"] * phases["jobs"] - phases["trial_compute"]
    print(f"  {'workers idle (jobs x trials wall - compute)':<30}{idle:>8.1f}"
          f"{100 * idle / max(1e-9, phases['trials_wall'] * phases['jobs']):>7.1f}% of worker time")

    floor = floors(args.experiment, args.profile, args.jobs, env)[-1]
    if floor["floor"] is None:
        print(f"\ncompute floor: none ({floor['why']})")
        return
    print(f"\ncompute floor (benchmarks/floor.py): {floor['flops'] / 1e12:.2f} TFLOP of training and evaluation, "
          f"one core at {floor['one_core_flops_per_s'] / 1e9:.1f} GFLOP/s steady state, {args.jobs} cores "
          f"{floor['scaling']:.2f}x one core -> {floor['floor']:.1f} s")
    print(f"runner / floor: {runner['wall'] / floor['floor']:.2f}   peer / floor: {peer['wall'] / floor['floor']:.2f}")


if __name__ == "__main__":
    main()
