"""claimlab's machinery. Its modules import downward only, in the order of LAYERS (bottom first), so each
can be read, tested and changed knowing only what is below it; tests/test_imports.py fails on a module
that imports one above it, or one that is not listed. A function-local import of a claimlab module is for
a module that imports Keras, TensorFlow, JAX or MLflow when imported (`--list` stays free of them)."""

LAYERS = (
    # foundations: no claimlab imports
    "errors", "paths", "backend",
    # claims, rules, statistics, the results' types and config: pure Python and NumPy
    "stats", "domains", "verdict", "schema", "spec", "config",
    # data, models and training (layers and models import Keras; jax_seeds imports JAX inside its functions)
    "data", "layers", "models", "checks", "jax_seeds", "train",
    # results on disk: safe writes, figures, the scope report, the reproduction check, provenance
    "files", "plots", "scope", "reproduce", "provenance",
    # the experiments, and what reads them: summary.md, the ledger, citations
    "registry", "report", "cite",
    # running: MLflow, worker pools, Ray, one experiment's run, the Keras 2 column
    "tracking", "execute", "ray_executor", "run", "keras2",
    # the command line
    "cli",
)
