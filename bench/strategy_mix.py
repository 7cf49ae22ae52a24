"""How often do the hypothesis strategies produce each status? A property test over results that
never sees ``superseded_by_later_success`` or ``resolved_by_current_state`` proves nothing about
them, so this prints the share of each status among the results of drawn scenarios.

    .venv/bin/python bench/strategy_mix.py                 # 2,000 scenarios of each strategy
    .venv/bin/python bench/strategy_mix.py --scenarios 500
    .venv/bin/python bench/strategy_mix.py --families      # also what the family contract draws
"""

from __future__ import annotations

import argparse
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runactionability import Actionability, OperationCatalog, Registry, Resolver
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.testing import strategies as ras

STATE_KINDS = (
    "backup_set",
    "baseline_snapshot",
    "environment_review",
    "evidence_snapshot",
    "provider_connection",
    "review_pack",
)


def mix(
    strategy: st.SearchStrategy[ras.Scenario], scenarios: int, family: str | None = None
) -> tuple[Counter[Actionability], Counter[Actionability]]:
    """The statuses of every result, and of the results of problem runs alone (of ``family``'s
    types alone, when one is named: the noise runs of other families are left out)."""
    registry = Registry.default(entry_points=False)
    catalog = OperationCatalog.reference()
    seen: Counter[Actionability] = Counter()
    problems: Counter[Actionability] = Counter()

    @settings(
        max_examples=scenarios,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def sample(scenario: ras.Scenario) -> None:
        resolver = Resolver(
            registry=registry,
            catalog=catalog,
            history=MemoryRunHistory(scenario.runs),
            states={
                kind: MemoryStateSource(kind, scenario.states.get(kind, ())) for kind in STATE_KINDS
            },
        )
        results = resolver.evaluate_many(scenario.runs, as_of=scenario.as_of)
        for run, result in zip(scenario.runs, results, strict=True):
            seen[result.status] += 1
            if family is not None and result.family != family:
                continue
            if run.outcome not in (None, "succeeded") and run.completed_at <= scenario.as_of:
                problems[result.status] += 1

    sample()
    return seen, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=2_000)
    parser.add_argument(
        "--families",
        action="store_true",
        help="also each built-in family's types alone, as assert_family_contract draws them",
    )
    args = parser.parse_args()
    registry = Registry.default(entry_points=False)
    catalog = OperationCatalog.reference()
    strategies = {
        "scenarios": ras.scenarios(state_kinds=STATE_KINDS),
        "evidence_scenarios": ras.evidence_scenarios(state_kinds=STATE_KINDS),
        "evidence_scenarios(registry=...)": ras.evidence_scenarios(
            state_kinds=STATE_KINDS, registry=registry
        ),
    }
    for name, family in sorted(registry.families().items()) if args.families else ():
        strategies[f"family {name}"] = ras.evidence_scenarios(
            catalog=catalog,
            types=[op_type.name for op_type in catalog if op_type.family == name],
            state_kinds=sorted(family.state_kinds),
            registry=registry,
        )
    for name, strategy in strategies.items():
        only = name.removeprefix("family ") if name.startswith("family ") else None
        seen, problems = mix(strategy, args.scenarios, only)
        total, problem_total = sum(seen.values()), sum(problems.values())
        print(
            f"{name}: {total} results ({problem_total} of problem runs) "
            f"from {args.scenarios} scenarios; share of all results, of problem runs' results"
        )
        for status in Actionability:
            share, problem_share = seen[status] / total, problems[status] / problem_total
            print(f"  {status.value:<30} {share:7.2%} {problem_share:7.2%}")


if __name__ == "__main__":
    main()
