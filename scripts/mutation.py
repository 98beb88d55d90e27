"""`make mutation`: mutation testing of the rules a certification body is trusted for (docs/testing.md).

Runs mutmut (configured in pyproject.toml, `[tool.mutmut]`) on the rule functions named in RULES
below, then prints every surviving mutant (with its diff) and the score per module. Exit status 1
when a mutant survives that is not listed in ACCEPTED (equivalent mutants, each with its reason
in docs/testing.md).

    python scripts/mutation.py            # the rule functions (what `make mutation` runs)
    python scripts/mutation.py --fast     # FAST against FAST_TESTS only: the subset CI runs (about a minute)
    python scripts/mutation.py --report   # print the last results again without running
    python scripts/mutation.py --unchecked  # only the mutants a stopped run left without a result
    python scripts/mutation.py --only 'endorsement.rules.*'   # only the RULES patterns matching GLOB
    python scripts/mutation.py --only 'institutions.*' --tests tests/institutions/test_permissions.py
                                          # in a copy (.mutation-targeted/) selecting only those tests
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")

#: The rule functions, as mutmut names them: `<module>.x_<function>__mutmut_<n>` for a function,
#: `<module>.xǁ<Class>ǁ<method>__mutmut_<n>` for a method.
RULES: dict[str, list[str]] = {
    "endorsement/rules.py (the criteria rule)": ["endorsement.rules.x_*"],
    "config/fsm.py (transitions: permission and condition checks)": [
        "config.fsm.x_check_transition__*", "config.fsm.x_allowed_transitions__*", "config.fsm.x__transition_of__*",
    ],
    "endorsement/models.py (transition permissions, append-only rows)": [
        "endorsement.models.x__editor__*", "endorsement.models.x__manager__*", "endorsement.models.x__reporter__*",
        "endorsement.models.xǁAuditEventǁ*", "endorsement.models.xǁAuditCheckpointǁ*",
    ],
    "institutions/models.py (transition permissions, the role questions)": [
        "institutions.models.x__manager__*", "institutions.models.x__owner_or_manager__*",
        "institutions.models.x__staff_manager__*", "institutions.models.x_staff_of__*",
        "institutions.models.x_is_manager__*", "institutions.models.x_may_manage_staff__*",
    ],
    "institutions/permissions.py (roles, organisation scoping)": ["institutions.permissions.x_*"],
    "endorsement/audit.py (the audit chain)": [
        "endorsement.audit.x__event_payload__*", "endorsement.audit.x_event_hash__*",
        "endorsement.audit.x_audit_record__*", "endorsement.audit.x_audit_verify__*",
    ],
    "endorsement/checkpoints.py (signed checkpoints)": [
        # checkpoint_signed_bytes (one f-string) has no mutant; Checkpoint.signed_bytes passes its fields.
        "endorsement.checkpoints.x_checkpoint_signed_bytes__*", "endorsement.checkpoints.xǁCheckpointǁsigned_bytes__*",
        "endorsement.checkpoints.x_checkpoint_make__*",
        "endorsement.checkpoints.x_checkpoint_parse__*", "endorsement.checkpoints.x_checkpoint_check_signature__*",
        "endorsement.checkpoints.x_chain_against__*", "endorsement.checkpoints.x_audit_verify_against__*",
    ],
    "badges/status.py (status lists: which bits are set)": [
        "badges.status.x__set_indices__*", "badges.status.x_status_list_publish__*",
    ],
    "badges/credentials/statuslist.py (the bitstring)": ["badges.credentials.statuslist.*"],
    "badges/fetch.py (address and scheme rules)": [
        "badges.fetch.x__address_problem__*", "badges.fetch.x_checked_address__*",
    ],
    "institutions/keys.py (key storage)": [
        "institutions.keys.x__context__*", "institutions.keys.x__create_key__*",
        "institutions.keys.x_signing_material__*",
    ],
    "badges/credentials/keys.py (key encryption)": [
        "badges.credentials.keys.x_encrypt_private_key__*", "badges.credentials.keys.x_decrypt_private_key__*",
        "badges.credentials.keys.x__aad__*", "badges.credentials.keys.x__derive_key__*",
        "badges.credentials.keys.x__decode_multikey__*",
    ],
    "badges/batches.py (batch validation)": ["badges.batches.x_rows_validate__*", "badges.batches.x_rows_from_json__*"],
    "badges/credentials/canon.py (safe mode)": [
        "badges.credentials.canon.x_check_control_characters__*", "badges.credentials.canon.x__is_absolute_iri__*",
        "badges.credentials.canon.x__check_iri__*", "badges.credentials.canon.x_scan_expanded__*",
        "badges.credentials.canon.x__check_property__*", "badges.credentials.canon.x_expand_with__*",
        "badges.credentials.canon.xǁ_DroppedTermsǁ*",
    ],
    "badges/credentials/proof.py (proof checks)": [
        "badges.credentials.proof.x__check_proof_shape__*", "badges.credentials.proof.x__verify_one__*",
    ],
    "badges/verification.py (verification checks)": [
        f"badges.verification.xǁ_Verifierǁ{name}__*"
        for name in ("issuer", "dates", "status", "status_entry", "status_list_problem", "subject")
    ],
}

#: The subset CI runs (`make test` runs tests/test_mutation_fast.py, which runs this): the criteria
#: rule and the audit chain's hash, the two rules everything else rests on, with test files that need
#: no database (each mutant then runs in well under a second), so that it costs CI about two minutes.
#: The rest, `endorsement_allowed` and `audit_verify` included, is `make mutation`.
FAST = [
    "endorsement.rules.x_criteria_rule__*", "endorsement.rules.x_reviewers_required__*",
    "endorsement.audit.x_event_hash__*", "endorsement.audit.x__event_payload__*",
]
FAST_TESTS = ["tests/endorsement/test_rules.py", "tests/endorsement/test_audit_hash.py"]

#: Mutants accepted as equivalent (no test can tell them apart); the reason for each is in
#: docs/testing.md, "Accepted equivalent mutants".
ACCEPTED: set[str] = {
    "config.fsm.x__transition_of__mutmut_10",  # `if has_transition else None` -> always get_transition (None then)
    "endorsement.audit.x_audit_record__mutmut_67",  # head.save(update_fields=[seq, hash]) -> all fields: the same two
    "badges.credentials.statuslist.xǁStatusListǁset_indices__mutmut_4",  # range(8) -> range(9)
    "endorsement.audit.x_audit_verify__mutmut_4",  # iterator(chunk_size=2000) -> None (Django's default, 2000)
    "endorsement.audit.x_audit_verify__mutmut_8",  # chunk_size 2000 -> 2001 (a fetch size, not a rule)
    "endorsement.checkpoints.x_checkpoint_check_signature__mutmut_8",  # partition -> rpartition
    "endorsement.audit.x_event_hash__mutmut_4",  # ensure_ascii=False -> None (json tests it for truth)
    "endorsement.audit.x_event_hash__mutmut_18",  # encode("utf-8") -> encode("UTF-8") (the same codec)
    "institutions.models.x_is_manager__mutmut_3",  # getattr(user, "is_superuser", False) -> None, in an `if`
    "institutions.models.x_staff_of__mutmut_4",  # getattr(user, "is_authenticated", False) -> None, in an `if not`
    "badges.credentials.proof.x__check_proof_shape__mutmut_91",  # signature b"" -> b"XXXX": 4 bytes, not 64
    "badges.credentials.proof.x__check_proof_shape__mutmut_100",  # the same, when base58btc decoding fails
    "badges.credentials.statuslist.xǁStatusListǁencode__mutmut_9",  # compresslevel=9 dropped: gzip's default is 9
    "badges.credentials.keys.x__derive_key__mutmut_20",  # encode("utf-8") -> encode("UTF-8"): the same codec
    "badges.fetch.x__address_problem__mutmut_16",  # allow_loopback=False -> None: only ever truth-tested
    "badges.fetch.x__address_problem__mutmut_32",  # "6to4" -> "XX6to4XX": 2002::/16 is global on Python 3.11
    "badges.fetch.x__address_problem__mutmut_33",  # "6to4" -> "6TO4": the same
    "badges.fetch.x_checked_address__mutmut_77",  # getaddrinfo(host, port) -> (host, None): port is only echoed
    "badges.fetch.x_checked_address__mutmut_81",  # type=SOCK_STREAM dropped: the same addresses, deduplicated
    "endorsement.models.x__editor__mutmut_6",  # getattr(instance, "pathway_id") without its default: only Application
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "type check",
          None: "not checked"}


def _patterns(selection: list[str] | None, only: list[str] | None = None) -> list[str]:
    patterns = selection or [p for group in RULES.values() for p in group]
    if only:
        patterns = [p for p in patterns if any(fnmatch.fnmatch(p, glob) for glob in only)]
    return patterns


def only(patterns: list[str], globs: list[str]) -> list[str]:
    """The RULES patterns a `--only GLOB` keeps: those the glob matches, or, for a glob narrower than
    a pattern (one function of a module), the glob itself when some pattern covers it."""
    kept: list[str] = []
    for glob in globs:
        matched = [p for p in patterns if fnmatch.fnmatch(p, glob)]
        if not matched and any(fnmatch.fnmatch(glob, p) for p in patterns):
            matched = [glob]
        if not matched:
            raise SystemExit(f"--only {glob}: matches none of the rule functions in RULES")
        kept += [p for p in matched if p not in kept]
    return kept


def _results(root: Path) -> dict[str, int | None]:
    results: dict[str, int | None] = {}
    for meta in (root / "mutants").rglob("*.meta"):
        results.update(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
    return results


def report(root: Path, patterns: list[str]) -> int:
    results = _results(root)
    chosen = {k: v for k, v in results.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    if not chosen:
        print("no mutation results yet: run `make mutation`")
        return 1
    survivors = sorted(k for k, v in chosen.items() if STATUS.get(v, "suspicious") in ("survived", "no tests"))
    unchecked = sorted(k for k, v in chosen.items() if v is None)
    for name in survivors:
        accepted = " (accepted as equivalent)" if name in ACCEPTED else ""
        print(f"--- survived: {name}{accepted}")
        shown = subprocess.run([str(MUTMUT), "show", name], cwd=root, capture_output=True, text=True, check=False)
        print(shown.stdout.rstrip())
    print()
    print(f"{'module':<70} {'mutants':>7} {'killed':>7} {'timeout':>7} {'survived':>8} {'accepted':>8} "
          f"{'score':>6}")
    totals: dict[str, int] = defaultdict(int)
    for label, group in RULES.items():
        keys = [k for k in chosen if any(fnmatch.fnmatch(k, p) for p in group)]
        if not keys:
            continue
        # A timeout counts as killed (the mutant hung the tests), but is shown apart: with
        # `timeout_constant` (pyproject.toml) it means a mutant ran for many minutes.
        timeout = sum(1 for k in keys if STATUS.get(chosen[k], "suspicious") == "timeout")
        killed = sum(1 for k in keys if STATUS.get(chosen[k], "suspicious") in ("killed", "type check"))
        survived = sum(1 for k in keys if k in survivors and k not in ACCEPTED)
        accepted = sum(1 for k in keys if k in survivors and k in ACCEPTED)
        checked = killed + timeout + survived + accepted
        score = f"{100 * (killed + timeout + accepted) / checked:.1f}%" if checked else "-"
        print(f"{label:<70} {len(keys):>7} {killed:>7} {timeout:>7} {survived:>8} {accepted:>8} {score:>6}")
        for key, value in (("mutants", len(keys)), ("killed", killed), ("timeout", timeout), ("survived", survived),
                           ("accepted", accepted)):
            totals[key] += value
    print(f"{'total':<70} {totals['mutants']:>7} {totals['killed']:>7} {totals['timeout']:>7} "
          f"{totals['survived']:>8} {totals['accepted']:>8}")
    if unchecked:
        print(f"{len(unchecked)} mutants not checked yet (the run was interrupted?)")
    return 1 if [s for s in survivors if s not in ACCEPTED] or unchecked else 0


#: What a targeted copy (`--tests`) holds: the packages, what they need, and the tests.
#: Every package of the project (pyproject.toml's packages, and mutmut's `source_paths`): one left
#: out is imported from wherever the venv's editable install points, another checkout's code.
COPIED = ["badges", "endorsement", "institutions", "config", "pathways", "learners", "webhooks", "templates", "static",
          "locale", "tests", "manage.py"]
TARGETED = REPO / ".mutation-targeted"


def targeted_tree(root: Path, patterns: list[str], tests: list[str]) -> Path:
    """A copy of the tree in `root` whose mutmut configuration mutates only the modules of `patterns`
    and selects only `tests`: mutmut's stats pass and every mutant then run only those files
    (what the fast subset does; a mutant that survives there may still be killed by the whole
    suite, one killed there is killed). Results stay in `root`/mutants until the next copy."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "*.pyc")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    modules = sorted({module_file(pattern) for pattern in patterns})
    pyproject = re.sub(r"only_mutate = \[.*?\]", "only_mutate = " + json.dumps(modules), pyproject, flags=re.S)
    pyproject = re.sub(r"pytest_add_cli_args_test_selection = \[.*?\]",
                       "pytest_add_cli_args_test_selection = " + json.dumps(tests), pyproject, flags=re.S)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return root


def module_file(pattern: str) -> str:
    """The module file a RULES pattern's mutants are in: `badges/fetch.py` for `badges.fetch.x_…`
    (a function), `badges.verification.xǁ_Verifierǁ…` (a method) and `badges.credentials.statuslist.*`
    (the whole module; splitting at ".x" made that one `badges/credentials/statuslist/*.py`, so a
    targeted run of it mutated nothing)."""
    module = re.split(r"\.(?:x_|xǁ|\*)", pattern, maxsplit=1)[0]
    return module.replace(".", "/") + ".py"


def run(root: Path, patterns: list[str], jobs: int) -> None:
    # SQLite and in-process tasks, whatever the shell has: the PostgreSQL/Redis tests skip (they are
    # not where the rules are decided) and nothing reaches a shared service.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_REDIS_URL", "CI")}
    env["SHARED_DIR"] = os.environ.get("SHARED_DIR", str(REPO.parent / "shared"))
    with mutation_test_db() as folder:
        env["MUTATION_TEST_DB"] = folder
        subprocess.run([str(MUTMUT), "run", "--max-children", str(jobs), *mutmut_names(patterns)], cwd=root, env=env,
                       check=False)


def mutmut_names(patterns: list[str]) -> list[str]:
    """What `mutmut run` is given: the patterns (mutmut runs only the mutants they match), and for
    each `<function>__*` pattern a glob that matches the function's own name but no mutant.

    mutmut picks the tests of its "clean" run (the unmutated code, once, before the mutants) by
    matching the same names against the functions its stats pass saw, `endorsement.rules.x_criteria_rule`
    say, which `…x_criteria_rule__*` does not match: with no test matched, it ran the whole
    selection. `…x_criteria_rul*[e]` matches the function (and any other whose name starts and
    ends so, which only adds its tests), never a mutant (a mutant's name ends with its number).
    """
    names = list(patterns)
    for pattern in patterns:
        function = pattern.removesuffix("__*")
        if function != pattern and function[-1:].isalpha() and function[-1] not in "[]*?":
            names.append(f"{function[:-1]}*[{function[-1]}]")
    return names


def mutation_test_db() -> tempfile.TemporaryDirectory:
    """The folder tests/conftest.py keeps the migrated test database in (`MUTATION_TEST_DB`): the
    stats pass migrates it once, every mutant's run copies it (docs/testing.md). In memory
    (/dev/shm) when the machine has it; removed afterwards."""
    shm = Path("/dev/shm")  # noqa: S108 (TemporaryDirectory makes a private 0700 folder in it)
    return tempfile.TemporaryDirectory(prefix="mutation-db-", dir=shm if shm.is_dir() else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="only the FAST subset")
    parser.add_argument("--report", action="store_true", help="print the last results without running")
    parser.add_argument("--only", action="append", metavar="GLOB", default=[],
                        help="only the RULES patterns matching GLOB (repeatable), e.g. 'endorsement.rules.*'")
    parser.add_argument("--tests", action="append", metavar="PATH", default=[],
                        help="run in a copy (.mutation-targeted/) that selects only these test files (repeatable)")
    parser.add_argument("--unchecked", action="store_true",
                        help="only the selected mutants that have no result in mutants/ yet (resumes an "
                             "interrupted run; mutmut re-runs every mutant it is given by pattern)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    args = parser.parse_args()
    patterns = FAST if args.fast else _patterns(None)
    if args.only:
        patterns = only(patterns, args.only)
    tests = args.tests or (FAST_TESTS if args.fast else [])
    root = REPO
    if tests:
        root = TARGETED
        if not args.report:
            targeted_tree(root, patterns, tests)
    if not args.report:
        names = unchecked(root, patterns) if args.unchecked else patterns
        if not names:
            print("every selected mutant has a result already")
        else:
            run(root, names, args.jobs)
    return report(root, patterns)


def unchecked(root: Path, patterns: list[str]) -> list[str]:
    """The names of the mutants `patterns` select that have no result yet in `root`/mutants (a
    stopped run leaves them `None`): given by name, mutmut runs only these."""
    return sorted(k for k, v in _results(root).items() if v is None and any(fnmatch.fnmatch(k, p) for p in patterns))


if __name__ == "__main__":
    sys.exit(main())
