"""Every quote is verbatim in the source file and lines it cites, so a clone can check every claim."""

import pytest

from claimlab import config, registry

CLAIMS = [(e.name, c) for e in registry.load_all() for c in e.claims]


def assert_verbatim(quote: str, source) -> None:
    """Every line of `quote`, and every fragment of a line cut at " … ", is in the cited lines (spacing aside)."""
    cited = " ".join(source.text().split())
    for line in quote.splitlines():
        for fragment in line.split(" … "):
            assert " ".join(fragment.split()) in cited, f"{fragment!r} not in {source.cite()}"


@pytest.mark.parametrize("experiment,claim", CLAIMS, ids=[f"{e}:{c.id}" for e, c in CLAIMS])
def test_quote_is_verbatim_in_the_cited_lines(experiment, claim):
    assert_verbatim(claim.quote, claim.source)


@pytest.mark.parametrize("experiment,claim", CLAIMS, ids=[f"{e}:{c.id}" for e, c in CLAIMS])
def test_every_claim_states_its_rule(experiment, claim):
    cfg = config.resolve(registry.load(experiment))
    assert len(claim.rule_for(cfg).describe()) > 40
    assert claim.hypothesis


ADVICE = [(e.name, advice) for e in registry.load_all() for advice in e.not_judged]


@pytest.mark.parametrize("experiment,advice", ADVICE, ids=[f"{e}:{a.source.file[:3]}:{a.source.lines}" for e, a in ADVICE])
def test_each_line_not_judged_is_verbatim_in_its_source_and_says_why(experiment, advice):
    assert_verbatim(advice.quote, advice.source)
    assert len(advice.why) > 40


def test_the_ledgers_not_judged_section_lists_every_declared_line_with_its_reason():
    from claimlab import report

    experiments = registry.load_all()
    section = report.not_judged_section(experiments)
    assert ADVICE and section.startswith("\n## Not judged\n")
    rows = [line for line in section.splitlines() if line.startswith("| sources/")]
    assert len(rows) == len(ADVICE)
    for (name, advice), row in zip(ADVICE, rows):
        first, last = advice.source.line_range()
        span = f"lines {advice.source.lines}" if last > first else f"line {advice.source.lines}"  # "line 13"
        assert f"| sources/{advice.source.file}, {span} | {name} |" in row
        assert " ".join(advice.quote.split()) in row and " ".join(advice.why.split()) in row
    assert report.not_judged_section([e for e in experiments if not e.not_judged]) == ""


def test_a_not_judged_entry_without_a_reason_is_refused_as_the_module_loads():
    import types

    from claimlab.registry import _validate
    from claimlab.spec import Advice, Source

    module = types.ModuleType("probe")
    module.TITLE, module.CLAIMS = "probe", []
    module.NOT_JUDGED = [Advice("a quote", Source("004_6e8709b0f2e54d47.txt", "72", "a title"), " ")]
    with pytest.raises(TypeError, match="each saying why it is not judged"):
        _validate("probe", module)
    module.NOT_JUDGED = ["a bare string"]
    with pytest.raises(TypeError, match="NOT_JUDGED lists claimlab.spec.Advice"):
        _validate("probe", module)


def test_a_citation_says_line_for_one_line_and_lines_for_a_range():
    from claimlab.spec import Source
    assert Source("004_6e8709b0f2e54d47.txt", "72", "a title").cite() == \
        'sources/004_6e8709b0f2e54d47.txt, line 72 ("a title")'
    assert Source("004_6e8709b0f2e54d47.txt", "72-75", "a title").cite() == \
        'sources/004_6e8709b0f2e54d47.txt, lines 72-75 ("a title")'


def test_summary_md_says_line_for_one_line_and_lines_for_a_range():
    import pandas as pd
    from claimlab.report import summary_markdown
    from claimlab.schema import SourceRef
    from conftest import a_claim, a_summary

    one = a_claim("A1", source=SourceRef("thread.md", "27", "a thread"))
    span = a_claim("A2", source=SourceRef("thread.md", "27-30", "a thread"))
    text = summary_markdown(a_summary([one, span]), [], pd.DataFrame())
    assert "(../../sources/thread.md#L27-L27), line 27, \"a thread\"." in text
    assert "(../../sources/thread.md#L27-L30), lines 27-30, \"a thread\"." in text
    assert "lines 27," not in text
