"""How fast is ``Resolver.evaluate_many`` over a million in-memory runs?

The batch is a realistic mix over the reference catalog: about 80% succeeded, 15% failed or
blocked and the rest queued or running, spread over many workspaces, environments and subjects so
that most problem runs ask for a later success (and a state) of their own. The same rows are also
walked by a bare Python loop that does the least a classifier must do (read the status and
outcome of each run and append one value per run), and the report gives the resolver's cost per
run and its ratio to that loop, both measured side by side in each repetition; the figures are
medians of ``--runs`` repetitions.

Two calls are timed: a warm one (the resolver's ``MemoryRunHistory`` has already answered this
batch, so its index is built) and the first call on a fresh ``MemoryRunHistory`` of the same
runs (which builds the index for the types the batch asks about). Each is also timed with the
cyclic garbage collector paused, and in a host that froze what it loaded (``gc.freeze()``), to
show the collector's share. ``--gc`` then counts, for one warm and one first call, what the
collector does (collections by generation, the CPU time inside them) and what the results keep
for it: the tracked objects each result holds that the call made (``docs/performance.md``).

    .venv/bin/python bench/core_bench.py            # 1,000,000 runs, 5 repetitions
    .venv/bin/python bench/core_bench.py --runs 1 --size 100000   # a quick look
    .venv/bin/python bench/core_bench.py --runs 1 --size 200000 --gc
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from runactionability import OperationCatalog, OperationRun, Registry, Resolver, StateFact
from runactionability.adapters.memory import MemoryRunHistory, MemoryStateSource
from runactionability.model import RunOutcome, RunStatus

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STATE_KINDS = {
    "provider_connection": "healthy",
    "baseline_snapshot": "complete",
    "evidence_snapshot": "complete",
    "environment_review": "complete",
    "review_pack": "published",
    "backup_set": "complete",
}


def make_runs(size: int, seed: int) -> list[OperationRun]:
    """``size`` runs: ~80% succeeded, ~15% failed or blocked, the rest active."""
    rng = random.Random(seed)
    catalog = OperationCatalog.reference()
    types = catalog.inventory()
    names = [(t, (t.name, *t.aliases)) for t in types]
    start = AS_OF - timedelta(days=30)
    runs = []
    for index in range(size):
        op_type, stored = names[rng.randrange(len(names))]
        draw = rng.random()
        created = start + timedelta(seconds=rng.randrange(30 * 86400 - 3600))
        if draw < 0.80:
            status, outcome = RunStatus.COMPLETED, RunOutcome.SUCCEEDED
        elif draw < 0.95:
            status = RunStatus.COMPLETED
            outcome = RunOutcome.FAILED if rng.random() < 0.7 else RunOutcome.BLOCKED
        else:
            status, outcome = rng.choice((RunStatus.QUEUED, RunStatus.RUNNING)), None
        completed = created + timedelta(seconds=rng.randrange(1, 600)) if outcome else None
        context = {}
        if op_type.subject_key is not None:
            context[op_type.subject_key] = rng.randrange(200)
        runs.append(
            OperationRun(
                id=index,
                type=stored[rng.randrange(len(stored))],
                workspace_id=f"ws-{rng.randrange(50)}",
                environment_id=None if op_type.workspace_owned else f"env-{rng.randrange(4)}",
                status=status,
                outcome=outcome,
                created_at=created,
                started_at=created if rng.random() < 0.5 else None,
                completed_at=completed,
                context=context,
            )
        )
    return runs


def make_states(runs: list[OperationRun], seed: int) -> dict[str, MemoryStateSource]:
    """One current state for about half of the subjects the problem runs name."""
    rng = random.Random(seed)
    catalog = OperationCatalog.reference()
    sources = {kind: MemoryStateSource(kind) for kind in STATE_KINDS}
    kind_of_family = {
        "provider_connection": ["provider_connection"],
        "baseline": ["baseline_snapshot"],
        "backup": ["backup_set"],
        "artifact": ["evidence_snapshot", "environment_review", "review_pack"],
    }
    for run in runs:
        if run.outcome in (None, RunOutcome.SUCCEEDED) or rng.random() < 0.5:
            continue
        op_type = catalog.resolve(run.type)
        assert op_type is not None
        for kind in kind_of_family.get(op_type.family, ()):
            subject = None
            if op_type.subject_key is not None:
                subject = str(run.context[op_type.subject_key])
            sources[kind].add(
                StateFact(
                    kind=kind,
                    workspace_id=str(run.workspace_id),
                    environment_id=None if op_type.workspace_owned else str(run.environment_id),
                    subject=subject,
                    status=STATE_KINDS[kind] if rng.random() < 0.6 else "degraded",
                    proven_at=AS_OF - timedelta(hours=rng.randrange(1, 24 * 30)),
                )
            )
    return sources


def bare_loop(runs: list[OperationRun]) -> list[object]:
    """The floor: read each run's status and outcome, append one value per run."""
    completed, succeeded = RunStatus.COMPLETED, RunOutcome.SUCCEEDED
    out: list[object] = []
    append = out.append
    for run in runs:
        append((run.id, run.status is completed and run.outcome is succeeded))
    return out


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call (a busy machine inflates the CPU time less)."""
    gc.collect()
    begin, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - begin, time.process_time() - cpu


def paused(call: Callable[[], object]) -> Callable[[], object]:
    """The call with the cyclic garbage collector paused, to show how much of it is GC."""

    def run() -> object:
        gc.disable()
        try:
            return call()
        finally:
            gc.enable()

    return run


def frozen(call: Callable[[], object]) -> Callable[[], object]:
    """The call in a host that moved everything it loaded out of the collector's reach.

    ``gc.freeze()`` after loading is what ``docs/performance.md`` suggests to a host holding
    millions of rows: the collector then never walks them again. Undone after the call.
    """

    def run() -> object:
        gc.freeze()
        try:
            return call()
        finally:
            gc.unfreeze()

    return run


Call = Callable[[], Sequence[object]]


def collector_load(make: Callable[[], Call]) -> tuple[list[int], float, float, Counter[str]]:
    """One call's collections by generation, its CPU seconds and those spent in them, the tracked
    objects its results keep that the call made, by type (shared values made before count not).

    A full collection walks every tracked object the host holds, so what a result keeps tracked
    (and how many collections the call triggers) is the collector's share of the call. ``make``
    gives the call, built (a first call's fresh history loaded) before the count starts.
    """
    call = make()
    gc.collect()
    before = {id(item) for item in gc.get_objects()}
    collections = [0, 0, 0]
    inside = [0.0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections[info["generation"]] += 1
            inside[0] -= time.process_time()
        else:
            inside[0] += time.process_time()

    gc.callbacks.append(count)
    try:
        cpu = time.process_time()
        results = call()
        cpu = time.process_time() - cpu
    finally:
        gc.callbacks.remove(count)
    # A collection untracks the new tuples that hold only atoms, as the next full one would.
    gc.collect()
    kept: Counter[str] = Counter()
    seen: set[int] = set()
    stack = list(results)
    while stack:
        item = stack.pop()
        if id(item) in seen or id(item) in before or not gc.is_tracked(item):
            continue
        seen.add(id(item))
        kept[type(item).__name__] += 1
        stack.extend(gc.get_referents(item))
    return collections, cpu, inside[0], kept


def print_collector_load(calls: dict[str, Callable[[], Call]], size: int) -> None:
    print("collector per call (gc.callbacks): collections of generations 0 / 1 / 2, CPU us per")
    print("run of the call and inside the collections, tracked objects the call made that the")
    print("results keep, per result")
    for label, make in calls.items():
        collections, cpu, inside, kept = collector_load(make)
        total = sum(kept.values())
        generations = " / ".join(str(n) for n in collections)
        cpu_us, inside_us = cpu / size * 1e6, inside / size * 1e6
        print(
            f"collector, {label:<6} {generations:>14} {cpu_us:>8.3f} {inside_us:>8.3f}"
            f" {total / size:>7.3f}"
        )
        print("   kept: " + ", ".join(f"{name} {n / size:.3f}" for name, n in kept.most_common(8)))


# (label, what is timed, target in us per run or None): the rows, in the order printed.
ROWS = (
    ("evaluate_many, warm", "warm", 3.0),
    ("evaluate_many, first call on a fresh MemoryRunHistory", "first", 6.0),
    ("  warm, collector paused", "warm paused", None),
    ("  first call, collector paused", "first paused", None),
    ("  warm, host froze its loaded objects (gc.freeze)", "warm frozen", None),
    ("  first call, host froze its loaded objects", "first frozen", None),
    ("bare loop over the same runs", "loop", None),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", "--rows", type=int, default=1_000_000, help="runs per batch")
    parser.add_argument(
        "--runs", "--repeat", type=int, default=5, help="repetitions (median reported)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--gc", action="store_true", help="then count what the collector does in one call of each"
    )
    args = parser.parse_args()

    runs = make_runs(args.size, args.seed)
    states = make_states(runs, args.seed)
    resolver = Resolver(registry=Registry.default(), history=MemoryRunHistory(runs), states=states)
    results = resolver.evaluate_many(runs, as_of=AS_OF)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    del results

    def warm() -> Sequence[object]:
        return resolver.evaluate_many(runs, as_of=AS_OF)

    def first() -> Callable[[], Sequence[object]]:
        # A fresh history (built untimed, as a host loads it) under the same resolver.
        fresh = resolver.with_ports(history=MemoryRunHistory(runs), states=states)
        return lambda: fresh.evaluate_many(runs, as_of=AS_OF)

    times: dict[str, list[tuple[float, float]]] = {key: [] for _, key, _ in ROWS}
    for _ in range(args.runs):
        # Each repetition times every row once, side by side, so a busy moment of the machine
        # lands on all of them rather than on one.
        times["loop"].append(timed(lambda: bare_loop(runs)))
        times["warm"].append(timed(warm))
        times["first"].append(timed(first()))
        times["warm paused"].append(timed(paused(warm)))
        times["first paused"].append(timed(paused(first())))
        times["warm frozen"].append(timed(frozen(warm)))
        times["first frozen"].append(timed(frozen(first())))

    print(f"runs per batch     {args.size:,}  (repetitions: {args.runs}, seed {args.seed})")
    print("result mix         " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    print(
        f"{'measure':<56} {'us/run':>8} {'cpu us':>8} {'x loop':>7}  "
        f"target (medians of {args.runs}; the target reads the wall figure)"
    )
    for label, key, target in ROWS:
        wall = statistics.median(t[0] for t in times[key]) / args.size * 1e6
        cpu = statistics.median(t[1] for t in times[key]) / args.size * 1e6
        loops = (t[0] for t in times["loop"])
        ratio = statistics.median(t[0] / b for t, b in zip(times[key], loops, strict=True))
        verdict = ""
        if target is not None:
            verdict = f"<= {target:g} us: {'met' if wall <= target else 'NOT met'}"
        print(f"{label:<56} {wall:>8.3f} {cpu:>8.3f} {ratio:>6.1f}x  {verdict}".rstrip())
    if args.gc:
        print_collector_load({"warm": lambda: warm, "first": first}, args.size)


if __name__ == "__main__":
    main()
