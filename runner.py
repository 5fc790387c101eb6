#!/usr/bin/env python
"""claimlab: test the claims of deep-learning Q&A threads with measurements.

    python runner.py --list
    python runner.py gap_vs_flatten [--profile smoke|quick|full] [--set dataset=mnist1d] ...

The machinery lives in claimlab/, one file per claim experiment in experiments/.
"""

import sys

from claimlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
