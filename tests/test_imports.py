"""The shape of the code: the machinery imports downward only (claimlab.LAYERS), a function-local import of
a claimlab module is only for one that imports Keras, TensorFlow, JAX or MLflow (so `--list` stays free of
them), and no function is longer than a screen."""

import ast
from pathlib import Path

import pytest

import claimlab

ROOT = Path(__file__).resolve().parent.parent
HEAVY_PACKAGES = {"keras", "tensorflow", "jax", "mlflow"}


def claimlab_imports(tree: ast.Module) -> list[tuple[str, bool, int]]:
    """(claimlab module imported, whether at the top level, line) for every import of a claimlab module."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("claimlab"):
            names = [a.name for a in node.names] if node.module == "claimlab" else [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("claimlab.")]
        else:
            continue
        found += [(name, id(node) in top, node.lineno) for name in names if name != "LAYERS"]
    return found


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def imports_heavy_package(module: str) -> bool:
    tree = parse(ROOT / "claimlab" / f"{module}.py")
    for node in tree.body:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        if any(name.split(".")[0] in HEAVY_PACKAGES for name in names):
            return True
    return False


MODULES = sorted(path.stem for path in (ROOT / "claimlab").glob("*.py") if path.stem != "__init__")


def test_every_module_is_in_the_declared_order_once():
    assert sorted(claimlab.LAYERS) == MODULES
    assert len(set(claimlab.LAYERS)) == len(claimlab.LAYERS)


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_only_modules_below_it(module):
    position = claimlab.LAYERS.index(module)
    upward = [f"line {line}: {name}" for name, _, line in claimlab_imports(parse(ROOT / "claimlab" / f"{module}.py"))
              if claimlab.LAYERS.index(name) >= position]
    assert not upward, f"claimlab.{module} imports modules at or above its layer: {upward}"


@pytest.mark.parametrize("path", sorted((ROOT / "claimlab").glob("*.py")) + sorted((ROOT / "experiments").glob("*.py")),
                         ids=lambda path: f"{path.parent.name}/{path.name}")
def test_function_local_imports_only_keep_heavy_packages_out(path):
    local = [f"line {line}: {name}" for name, at_top, line in claimlab_imports(parse(path))
             if not at_top and not imports_heavy_package(name)]
    assert not local, f"{path.name} imports these inside functions; import them at the top: {local}"


def test_the_check_sees_an_upward_import():
    # the checker itself: an import of a higher module, at the top or inside a function, is found
    tree = ast.parse("from claimlab import run\n\ndef f():\n    from claimlab.cli import main\n")
    assert [(name, at_top) for name, at_top, _ in claimlab_imports(tree)] == [("run", True), ("cli", False)]
    assert imports_heavy_package("models") and not imports_heavy_package("stats")


LONGEST_FUNCTION = 60  # lines: a longer function does several things, and reads better as several functions


@pytest.mark.parametrize("path", sorted((ROOT / "claimlab").glob("*.py")) + sorted((ROOT / "experiments").glob("*.py")),
                         ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_function_is_longer_than_a_screen(path):
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, from line {node.lineno})"
            for node in ast.walk(parse(path)) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > LONGEST_FUNCTION]
    assert not long, f"{path.name}: split these: {long}"


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("[a-z]*.py")), ids=lambda path: path.name)
def test_an_experiment_states_its_claims_before_any_code(path):
    # docstring, claims, config, settings, model, trials, checks: rules and checks a claim names by name
    # are bound by the registry, so nothing forces the claims below the code they name
    tree = parse(path)
    claims = next(node.lineno for node in tree.body if isinstance(node, ast.Assign)
                  and any(getattr(target, "id", "") == "CLAIMS" for target in node.targets))
    code = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)) or (
        isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("CONFIG", "ARMS", "SETTINGS") for t in node.targets))]
    assert all(node.lineno > claims for node in code), f"{path.name}: CLAIMS (line {claims}) comes after code"
