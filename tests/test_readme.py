"""The README's two commands are the ones that work: CI runs the test command, the ledger is current."""

from conftest import ROOT

TEST_COMMAND = 'pip install -e ".[test]" && python -m pytest -q'


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert TEST_COMMAND in readme
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()
    assert "pip install -e . && python runner.py gap_vs_flatten" in readme


def test_readme_shows_the_committed_ledger():
    readme = (ROOT / "README.md").read_text()
    ledger = (ROOT / "results" / "README.md").read_text().split("\n## Not judged\n")[0]  # the claims' table
    start, end = readme.index("<!-- ledger:start -->"), readme.index("<!-- ledger:end -->")
    rows = [line for line in readme[start:end].splitlines() if line.startswith("| ")]
    assert rows and len(rows) == len([line for line in ledger.splitlines() if line.startswith("| ")])


def test_every_link_in_the_readme_and_the_ledger_leads_to_a_committed_file():
    import re

    for page in (ROOT / "README.md", ROOT / "results" / "README.md"):
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), (page.name, target)
