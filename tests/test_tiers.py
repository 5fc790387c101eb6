"""The two test tiers (tests/conftest.py): integration is marked from the fixtures a test uses, and a test
outside it that imports a framework or starts a process fails, saying which fixture to use."""

from conftest import ROOT

pytest_plugins = ["pytester"]


def test_the_fast_tier_refuses_frameworks_and_processes_and_the_fixtures_mark_integration(pytester, process):
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_probe="""
        import subprocess
        import sys

        import pytest


        @pytest.fixture(scope="module")
        def shared_data():
            import jax  # a module-scoped fixture is guarded too
            return jax


        def test_imports_keras():
            import keras


        def test_starts_a_process():
            subprocess.run([sys.executable, "-c", "pass"])


        def test_fixture_imports_jax(shared_data):
            pass


        def test_pure_arithmetic():
            assert 1 + 1 == 2


        def test_with_the_keras_fixture(keras):
            assert keras.__name__ == "keras"


        def test_with_a_fixture_built_on_process(runner):
            assert callable(runner)
    """)
    fast = pytester.runpytest_subprocess("-m", "not integration", "-p", "no:cacheprovider")
    fast.assert_outcomes(passed=1, failed=2, errors=1, deselected=2)
    out = fast.stdout.str()
    assert "test_imports_keras imports keras: request the `keras` fixture" in out
    assert "test_starts_a_process starts a process: request the `process` fixture" in out
    assert "test_fixture_imports_jax imports jax" in out
    marked = pytester.runpytest_subprocess("-m", "integration", "-p", "no:cacheprovider")
    marked.assert_outcomes(passed=2, deselected=4)
