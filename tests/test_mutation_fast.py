"""The fast mutation subset that `make test` (and so CI) runs: mutmut on the FAST rule functions of
scripts/mutation.py (the criteria rule, the audit chain's hash), in a copy of the tree configured to
run only FAST_TESTS (test files that need no database), in about a minute (docs/testing.md has
the measured figure). Every mutant must be killed (or be one of the accepted equivalents). The
whole set of rule functions is `make mutation` (docs/testing.md keeps its last report)."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

REPO = Path(__file__).resolve().parent.parent
#: Seconds. The subset takes about a minute on the 2-core CI machine; well past that, something
#: (a slow test added to FAST_TESTS, a database test reaching a FAST function) needs looking at.
LIMIT = 600


def load_script():
    spec = importlib.util.spec_from_file_location("mutation_script", REPO / "scripts" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_mutant_of_the_fast_rule_subset_survives(tmp_path, shared_dir):
    script = load_script()
    mutmut = Path(sys.executable).with_name("mutmut")
    need(mutmut.exists(), "mutmut is not installed (pip install -e '.[dev]')")
    root = script.targeted_tree(tmp_path / "tree", script.FAST, script.FAST_TESTS)

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_REDIS_URL", "CI")}
    env["SHARED_DIR"] = str(shared_dir)
    try:
        run = subprocess.run([str(mutmut), "run", "--max-children", "2", *script.mutmut_names(script.FAST)],
                             cwd=root, env=env,
                             capture_output=True, text=True, timeout=LIMIT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the fast mutation subset took more than {LIMIT} s (docs/testing.md: about a minute)")
    results = script._results(root)
    chosen = {k: v for k, v in results.items() if any(fnmatch.fnmatch(k, p) for p in script.FAST)}
    assert chosen, f"mutmut produced no results\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    unchecked = sorted(k for k, v in chosen.items() if v is None)
    survivors = sorted(k for k, v in chosen.items()
                       if script.STATUS.get(v, "suspicious") not in ("killed", "timeout", "type check")
                       and k not in script.ACCEPTED)
    assert not unchecked, unchecked
    assert not survivors, "\n".join(
        subprocess.run([str(mutmut), "show", name], cwd=root, capture_output=True, text=True, check=False).stdout
        for name in survivors
    )


def test_the_names_given_to_mutmut_select_the_functions_tests_and_only_their_mutants():
    """`--only` runs only the mutants of the functions it names; the extra globs make mutmut's clean
    run select those functions' tests (it matched none of them, and ran every selected test)."""
    script = load_script()
    names = script.mutmut_names(["config.fsm.x_check_transition__*", "endorsement.rules.x_*"])
    assert names == ["config.fsm.x_check_transition__*", "endorsement.rules.x_*", "config.fsm.x_check_transitio*[n]"]
    functions = ["config.fsm.x_check_transition", "config.fsm.x_allowed_transitions",
                 "endorsement.rules.x_criteria_rule"]
    mutants = ["config.fsm.x_check_transition__mutmut_1", "config.fsm.x_check_transition__mutmut_12",
               "config.fsm.x_allowed_transitions__mutmut_3", "endorsement.rules.x_criteria_rule__mutmut_5"]
    assert [f for f in functions if any(fnmatch.fnmatch(f, n) for n in names)] == [
        "config.fsm.x_check_transition", "endorsement.rules.x_criteria_rule"]
    assert [m for m in mutants if any(fnmatch.fnmatch(m, n) for n in names)] == [
        "config.fsm.x_check_transition__mutmut_1", "config.fsm.x_check_transition__mutmut_12",
        "endorsement.rules.x_criteria_rule__mutmut_5"]
    assert script.only(script._patterns(None), ["config.fsm.x_check_transition__mutmut_3"]) == [
        "config.fsm.x_check_transition__mutmut_3"]
    assert script.only(script._patterns(None), ["badges.fetch.*"]) == [
        "badges.fetch.x__address_problem__*", "badges.fetch.x_checked_address__*"]


def test_every_rule_pattern_names_a_module_mutmut_is_told_to_mutate():
    # A targeted run (`--only … --tests …`) mutates only the files `module_file` gives: a pattern
    # it mapped to no file (`badges.credentials.statuslist.*` once became
    # badges/credentials/statuslist/*.py) made that run mutate nothing and report nothing.
    script = load_script()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for pattern in [p for group in script.RULES.values() for p in group]:
        module = script.module_file(pattern)
        assert (REPO / module).is_file(), (pattern, module)
        assert f'"{module}"' in pyproject, (pattern, module)
    assert script.module_file("badges.credentials.statuslist.*") == "badges/credentials/statuslist.py"
    assert script.module_file("badges.verification.xǁ_Verifierǁissuer__*") == "badges/verification.py"
    assert script.module_file("endorsement.rules.x_*") == "endorsement/rules.py"


def test_mutmut_copies_every_package_of_the_project():
    # A package mutmut does not copy into mutants/ is imported through the venv's editable install,
    # from the checkout it was installed from: in a worktree sharing main's venv, main's learners/
    # imported main's badges.mail_language against the copy's badges.models, and the run stopped.
    import tomllib

    script = load_script()
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.rstrip("*") for name in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(config["tool"]["mutmut"]["source_paths"])
    assert packages <= set(script.COPIED)
