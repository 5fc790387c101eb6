"""Where trials run: one worker per GPU where TensorFlow sees GPUs, one per core elsewhere."""

import subprocess
import sys
from pathlib import Path

import pytest

from claimlab.execute import cpu_jobs, gpu_for_each_worker
from conftest import ROOT


def test_each_worker_gets_a_gpu_round_robin():
    assert gpu_for_each_worker(2, 2) == [0, 1]
    assert gpu_for_each_worker(3, 2) == [0, 1, 0]  # more workers than GPUs share them
    assert gpu_for_each_worker(2, 0) == []  # no GPU: no pinning


@pytest.mark.skipif(any(Path("/dev").glob("nvidia[0-9]*")), reason="this machine has an NVIDIA device")
def test_a_machine_without_gpus_gets_one_job_per_core_without_importing_tensorflow(process):
    probe = ("import sys; from claimlab.execute import default_jobs; "
             "print(default_jobs(), 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(cpu_jobs()), "False"]
