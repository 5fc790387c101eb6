"""Every empirical claim's verdict and scope in the ledger of an earlier commit beside today's ledger:
what the regeneration (and the rules it was run under) changed. Markdown on stdout.

    python regeneration/verdicts_before_after.py 17fba2a    # the results before the validity and statistics issues
"""
import subprocess
import sys
from pathlib import Path

LEDGER = "results/README.md"


def without_link(cell: str) -> str:
    """The text of a cell that is one markdown link, whose text may hold brackets (a CI); else the cell."""
    if cell.startswith("[") and cell.endswith(")") and "](" in cell:
        return cell[1:cell.rindex("](")]
    return cell


def empirical_rows(ledger_text: str) -> dict[str, dict[str, str]]:
    """claim id -> its experiment, verdict and scope, read off the ledger's table (links dropped)."""
    rows = {}
    for line in ledger_text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[2] != "empirical":
            continue
        unlinked = [without_link(cell) for cell in cells]
        rows[unlinked[0]] = {"experiment": unlinked[1], "verdict": unlinked[3], "scope": unlinked[4]}
    return rows


def main(before_commit: str) -> None:
    before = empirical_rows(subprocess.run(["git", "show", f"{before_commit}:{LEDGER}"], check=True,
                                           capture_output=True, text=True).stdout)
    after = empirical_rows(Path(LEDGER).read_text())
    print(f"| claim | experiment | verdict at {before_commit} | verdict now | scope at {before_commit} | scope now |")
    print("|---|---|---|---|---|---|")
    for claim in sorted(before.keys() | after.keys(), key=lambda c: ((after.get(c) or before[c])["experiment"], c)):
        old, new = before.get(claim, {}), after.get(claim, {})
        print(f"| {claim} | {(new or old)['experiment']} | {old.get('verdict', '(not yet a claim)')} | "
              f"{new.get('verdict', '(gone)')} | {old.get('scope', '')} | {new.get('scope', '')} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "17fba2a")
