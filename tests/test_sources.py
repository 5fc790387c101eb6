"""Every quote is verbatim in the source file and lines it cites, so a clone can check every claim."""

import pytest

from claimlab import config, registry

CLAIMS = [(e.name, c) for e in registry.load_all() for c in e.claims]


@pytest.mark.parametrize("experiment,claim", CLAIMS, ids=[f"{e}:{c.id}" for e, c in CLAIMS])
def test_quote_is_verbatim_in_the_cited_lines(experiment, claim):
    cited = " ".join(claim.source.text().split())
    for line in claim.quote.splitlines():
        for fragment in line.split(" … "):
            assert " ".join(fragment.split()) in cited, f"{claim.id}: {fragment!r} not in {claim.source.cite()}"


@pytest.mark.parametrize("experiment,claim", CLAIMS, ids=[f"{e}:{c.id}" for e, c in CLAIMS])
def test_every_claim_states_its_rule(experiment, claim):
    cfg = config.resolve(registry.load(experiment))
    assert len(claim.rule_for(cfg).describe()) > 40
    assert claim.hypothesis
