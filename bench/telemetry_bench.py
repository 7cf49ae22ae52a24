"""What does OpenTelemetry cost a resolver batch: absent, installed with no provider, recording?

Three legs, measured side by side in each repetition (their order rotated), on the same runs and
the same warm in-memory ports (``core_bench.make_runs``), so only the telemetry differs:

- ``absent``: ``opentelemetry`` is not installed (the telemetry module's state after it found no
  package: the same check a host without the ``otel`` extra pays);
- ``no provider``: the API installed, no provider set (OpenTelemetry's own default, no-op);
- ``recording``: an SDK ``TracerProvider`` and ``MeterProvider`` set, spans and counters
  recorded (the spans exported nowhere, so the export's own cost is not counted).

For a batch of one run (the cost per batch) and of ``--rows`` runs (the cost per run), it prints
the median thread CPU time (``time.thread_time``) per batch and per run, and each leg's ratio to
``absent``. It also times the ``span`` call itself when nothing records.

    .venv/bin/python bench/telemetry_bench.py                  # 10,000 runs, 7 repetitions
    .venv/bin/python bench/telemetry_bench.py --rows 1000 --repeat 3

The legs switch providers in one process through the API's module globals, as OpenTelemetry's
own test utilities do: the API lets a process set its providers once.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

sys.path.insert(0, str(Path(__file__).parent))

from core_bench import AS_OF, make_runs, make_states

from runactionability import Registry, Resolver, telemetry
from runactionability.adapters.memory import MemoryRunHistory

LEGS = ("absent", "no provider", "recording")


def switch(leg: str, tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
    state = telemetry._state
    state.look()
    state.available = leg != "absent"
    recording = leg == "recording"
    trace._TRACER_PROVIDER = tracer_provider if recording else None
    metrics._internal._METER_PROVIDER = meter_provider if recording else None
    # Each leg starts with no garbage of the one before (a recording leg's spans).
    gc.collect()


def cpu(call: Callable[[], object], times: int) -> float:
    started = time.thread_time()
    for _ in range(times):
        call()
    return (time.thread_time() - started) / times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="runs in the large batch")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (medians)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    registry = Registry.default(entry_points=False)
    runs = make_runs(args.rows, args.seed)
    resolver = Resolver(
        history=MemoryRunHistory(runs),
        states=make_states(runs, args.seed),
        registry=registry,
        catalog=registry.catalog(),
    )
    one = [next(r for r in runs if r.outcome is not None and r.outcome.value == "failed")]
    tracer_provider, meter_provider = TracerProvider(), MeterProvider()
    # Warm every leg once: the first recording span installs the statement listener.
    for leg in LEGS:
        switch(leg, tracer_provider, meter_provider)
        resolver.evaluate_many(runs, as_of=AS_OF)
    # Several calls of the large batch per measurement: one ~30 ms call is at the mercy of a
    # busy machine's scheduler.
    calls = max(1, 50_000 // args.rows)
    small: dict[str, list[float]] = {leg: [] for leg in LEGS}
    large: dict[str, list[float]] = {leg: [] for leg in LEGS}
    bare: dict[str, list[float]] = {leg: [] for leg in LEGS}
    for repetition in range(args.repeat):
        order = LEGS[repetition % 3 :] + LEGS[: repetition % 3]
        for leg in order:
            switch(leg, tracer_provider, meter_provider)
            small[leg].append(cpu(lambda: resolver.evaluate_many(one, as_of=AS_OF), 2000))
            large[leg].append(cpu(lambda: resolver.evaluate_many(runs, as_of=AS_OF), calls))
            bare[leg].append(cpu(_span_alone, 20000))
    load = ", ".join(f"{value:.2f}" for value in _load())
    print(f"telemetry: {args.rows:,} runs, medians of {args.repeat}, load {load}")
    print(f"{'leg':<12} {'1-run batch':>12} {'ratio':>6} {'per run':>9} {'ratio':>6} {'span':>8}")
    base_small = statistics.median(small["absent"])
    base_large = statistics.median(large["absent"])
    for leg in LEGS:
        one_run = statistics.median(small[leg])
        per_run = statistics.median(large[leg]) / args.rows
        print(
            f"{leg:<12} {one_run * 1e6:>9.1f} us {one_run / base_small:>5.2f}x "
            f"{per_run * 1e6:>6.2f} us {per_run * args.rows / base_large:>5.2f}x "
            f"{statistics.median(bare[leg]) * 1e9:>5.0f} ns"
        )


def _span_alone() -> None:
    with telemetry.span(telemetry.EVALUATE, "bench"):
        pass


def _load() -> tuple[float, float, float]:
    try:
        import os

        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


if __name__ == "__main__":
    main()
