"""The raw-follow-up guard: as a helper, as ``runactionability guard``, from ``[guard]``."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support import form_validator

from runactionability.cli import cli
from runactionability.testing import GuardRules, assert_no_raw_follow_up, scan

ROOT = Path(__file__).resolve().parents[2]

SCREENS = """\
from models import RunOutcome


def dashboard(runs, table, row, session):
    failed = [r for r in runs if r.outcome in ("failed", "blocked")]
    flagged = runs[0].terminal_follow_up
    query = table.c.outcome.in_(["failed"])
    mirrored = "blocked" == runs[0].outcome
    named = runs[0].outcome == RunOutcome.FAILED
    keyed = row["terminal_follow_up"]
    filtered = session.filter(terminal_follow_up=True)
    fine = runs[0].outcome == "succeeded"
    runs[0].terminal_follow_up = False


class OperationsHistory:
    def get(self, run):
        return run.outcome == "failed"
"""
RULES = GuardRules(
    attributes=["terminal_follow_up"],
    predicates=['outcome in ("failed", "blocked")', "outcome == RunOutcome.FAILED"],
)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "screens.py").write_text(SCREENS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def places(findings: Sequence[object]) -> list[str]:
    return [str(finding).split(": raw")[0] for finding in findings]


def test_every_raw_read_is_reported_with_its_place(host: Path) -> None:
    findings = scan(["web"], RULES)
    assert places(findings) == [
        "web/screens.py:5:34",
        "web/screens.py:6:15",
        "web/screens.py:7:13",
        "web/screens.py:8:16",
        "web/screens.py:9:13",
        "web/screens.py:10:13",
        "web/screens.py:11:31",
        "web/screens.py:18:16",
    ]
    assert str(findings[1]) == (
        "web/screens.py:6:15: raw follow-up read 'terminal_follow_up' (in dashboard): "
        "runs[0].terminal_follow_up"
    )
    assert findings[-1].function == "OperationsHistory.get"


@pytest.mark.parametrize(
    ("allowed", "left"),
    [
        (["web/screens.py"], 0),
        (["screens.py"], 0),
        (["web/*.py::OperationsHistory"], 7),
        (["::OperationsHistory.get"], 7),
        (["::dash*"], 1),
        (["other.py::dashboard"], 8),
    ],
)
def test_raw_reads_are_allowed_only_where_the_host_says(
    host: Path, allowed: list[str], left: int
) -> None:
    rules = GuardRules(attributes=RULES.attributes, predicates=RULES.predicates, allowed=allowed)
    assert len(scan(["web"], rules)) == left


def test_the_helper_fails_with_every_place_and_passes_on_clean_code(host: Path) -> None:
    with pytest.raises(AssertionError) as raised:
        assert_no_raw_follow_up("web", attributes=["terminal_follow_up"])
    assert "3 raw follow-up read(s)" in str(raised.value)
    assert "web/screens.py:10:13" in str(raised.value)
    assert_no_raw_follow_up(["web"], predicates=['status == "broken"'])


def test_defaults_bad_predicates_and_unreadable_files(host: Path) -> None:
    defaults = GuardRules()
    assert defaults.checked_attributes == {"terminal_follow_up"}
    assert [p.field for p in defaults.checked_predicates] == ["outcome"]
    with pytest.raises(ValueError, match="expected a comparison"):
        GuardRules(predicates=["outcome.startswith('f')"])
    (host / "web" / "broken.py").write_text("def (:\n")
    assert [f.rule for f in scan(["web/broken.py"])] == ["syntax"]
    with pytest.raises(FileNotFoundError):
        scan(["missing"])


def test_the_command_reports_places_and_exits_4(host: Path) -> None:
    result = CliRunner().invoke(cli, ["guard", "web", "--attribute", "terminal_follow_up"])
    assert result.exit_code == 4
    assert "web/screens.py:6:15: raw follow-up read 'terminal_follow_up'" in result.stdout
    assert "3 raw follow-up reads" in result.stderr
    clean = CliRunner().invoke(cli, ["guard", "web", "--allow", "web/*"])
    assert (clean.exit_code, clean.stdout) == (0, "No raw follow-up read found.\n")
    assert CliRunner().invoke(cli, ["guard", "missing"]).exit_code == 2
    assert CliRunner().invoke(cli, ["guard"]).exit_code == 2


def test_the_command_reads_the_guard_table_and_prints_a_valid_document(host: Path) -> None:
    (host / "runactionability.toml").write_text(
        textwrap.dedent(
            """\
            [guard]
            paths = ["web"]
            attributes = ["terminal_follow_up"]
            predicates = ['outcome in ("failed", "blocked")']
            allowed = ["::OperationsHistory"]
            """
        )
    )
    result = CliRunner().invoke(cli, ["guard", "--json"])
    assert result.exit_code == 4
    document = json.loads(result.stdout)
    form_validator("guard_document").validate(document)
    assert document["passed"] is False
    assert document["allowed"] == ["::OperationsHistory"]
    assert len(document["findings"]) == 6
    assert document["findings"][0] == {
        "path": "web/screens.py",
        "line": 5,
        "column": 34,
        "rule": 'outcome in ("failed", "blocked")',
        "code": 'r.outcome in ("failed", "blocked")',
        "function": "dashboard",
    }
    (host / "runactionability.toml").write_text("[guard]\npredicates = ['outcome ~ 1']\n")
    bad = CliRunner().invoke(cli, ["guard", "web"])
    assert bad.exit_code == 1
    assert "[guard]: predicate 'outcome ~ 1' is not a Python expression" in bad.stderr


def test_the_examples_of_this_library_pass_the_default_guard() -> None:
    assert_no_raw_follow_up([ROOT / "examples"])


def test_a_byte_order_mark_is_no_syntax_error_and_columns_count_characters(
    tmp_path: Path,
) -> None:
    screen = tmp_path / "screen.py"
    screen.write_bytes('\ufeffx = "é€"; y = run.terminal_follow_up\n'.encode())
    (finding,) = scan([screen], GuardRules())
    assert (finding.rule, finding.line, finding.column) == ("terminal_follow_up", 1, 15)


def test_a_syntax_error_is_reported_at_its_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n    pass\n")
    (finding,) = scan([broken], GuardRules())
    assert (finding.rule, finding.line, finding.column) == ("syntax", 1, 7)


def test_a_long_expression_python_compiles_is_walked_to_the_reads_after_it(
    tmp_path: Path,
) -> None:
    long_sum = " + ".join(["a"] * 2000)
    screen = tmp_path / "screen.py"
    screen.write_text(
        f"class Screen:\n    def show(self, run):\n        total = {long_sum}\n"
        "        return run.terminal_follow_up\n"
    )
    (finding,) = scan([screen], GuardRules())
    where = (finding.rule, finding.line, finding.function)
    assert where == ("terminal_follow_up", 4, "Screen.show")


@pytest.mark.parametrize(
    "code", ["x = a." + ".".join(["b"] * 3000), "x = " + "-" * 20000 + "1"], ids=["deep", "memory"]
)
def test_code_nested_too_deeply_to_parse_is_one_finding_and_the_scan_goes_on(
    tmp_path: Path, code: str
) -> None:
    (tmp_path / "a_generated.py").write_text(code + "\n")
    (tmp_path / "b_screen.py").write_text("y = run.terminal_follow_up\n")
    unreadable, read = scan([tmp_path], GuardRules())
    assert (unreadable.path.endswith("a_generated.py"), unreadable.rule) == (True, "syntax")
    assert "nested too deeply" in unreadable.code
    assert (read.path.endswith("b_screen.py"), read.rule) == (True, "terminal_follow_up")


def test_the_outcome_read_through_its_value_or_as_text_is_still_a_raw_read(tmp_path: Path) -> None:
    screen = tmp_path / "screen.py"
    screen.write_text(
        textwrap.dedent(
            """\
            def dashboard(run, row):
                a = run.outcome.value == "failed"
                b = str(run.outcome) in ("failed", "blocked")
                c = row["outcome"].lower() == "blocked"
                d = "failed" != run.outcome.casefold()
                e = run.outcome.strip().value == "failed"
                fine = run.outcome.value == "succeeded"
                other = str(run.status) == "failed"
            """
        )
    )
    findings = scan([screen], GuardRules(predicates=['outcome in ("failed", "blocked")']))
    assert [(f.line, f.code) for f in findings] == [
        (2, 'run.outcome.value == "failed"'),
        (3, 'str(run.outcome) in ("failed", "blocked")'),
        (4, 'row["outcome"].lower() == "blocked"'),
        (5, '"failed" != run.outcome.casefold()'),
        (6, 'run.outcome.strip().value == "failed"'),
    ]


ORM_SCREENS = """\
from models import Run

BAD = ("failed", "blocked")
SHOWN = ("succeeded",)
SHOWN = ("failed",)


def screens(run, row, session, table):
    a = Run.objects.filter(outcome="failed")
    b = Run.objects.exclude(outcome__in=["failed", "blocked"])
    c = session.query(Run).filter_by(outcome="blocked")
    d = Run.objects.filter(run__outcome__iexact="FAILED")
    e = row.get("outcome") == "failed"
    f = getattr(run, "outcome") in ("failed", "blocked")
    g = run.outcome in BAD
    h = run.outcome.upper() == "FAILED"
    match run.outcome:
        case "succeeded":
            pass
        case "failed" | "blocked":
            pass
    match row:
        case {"outcome": "blocked"}:
            pass
        case Run(outcome="failed"):
            pass
    fine = Run.objects.filter(outcome="succeeded"), Run(outcome="failed"), run.outcome in SHOWN
    flag = row.get("terminal_follow_up")
"""


def test_orm_filters_get_match_and_named_values_are_raw_reads(tmp_path: Path) -> None:
    screen = tmp_path / "screen.py"
    screen.write_text(ORM_SCREENS)
    findings = scan([screen], GuardRules())
    assert [(f.line, f.code) for f in findings] == [
        (9, 'outcome="failed"'),
        (10, 'outcome__in=["failed", "blocked"]'),
        (11, 'outcome="blocked"'),
        (12, 'run__outcome__iexact="FAILED"'),
        (13, 'row.get("outcome") == "failed"'),
        (14, 'getattr(run, "outcome") in ("failed", "blocked")'),
        (15, "run.outcome in BAD"),
        (16, 'run.outcome.upper() == "FAILED"'),
        (20, 'match run.outcome: case "failed" | "blocked"'),
        (23, 'match row: case {"outcome": "blocked"}'),
        (25, 'match row: case Run(outcome="failed")'),
        (28, 'row.get("terminal_follow_up")'),
    ]
    assert {f.function for f in findings} == {"screens"}
