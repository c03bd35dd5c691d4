#!/usr/bin/env python3
"""What the plausibility and bill-of-materials peer checks add to a full validation of the
1,005 real Žagar batches (examples/zagar2022).

``python benchmarks/plausibility_bench.py [--repeat 3] [--store DIR]``

Ingests the Žagar table into an Oxigraph store on disk (or uses ``--store``), then times
``validate_store(full=True, record=False)`` with every check (the default) beside the same run
with the generated plausibility shapes and the peer query left out, interleaved ``--repeat``
times in one process. Prints the median wall and CPU seconds of each, the difference, and the
plausibility shapes and results counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from cmckg.kg import KnowledgeGraph, load_mapping
from cmckg.validate import runner, validate_store
from cmckg.validate.plausibility import plausibility_checks, read_ranges

ZAGAR = Path(__file__).resolve().parent.parent / "examples" / "zagar2022"


@contextmanager
def without_new_checks():
    """The run as it was before: no generated plausibility shapes, no peer query."""
    with (
        mock.patch.object(runner, "plausibility_checks", lambda ranges: []),
        mock.patch.object(runner, "peer_gaps", lambda store, focus: []),
    ):
        yield


def timed(kg: KnowledgeGraph) -> tuple[float, float, int, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    report = validate_store(kg.store, kg.minter, full=True, record=False)
    plausible = sum(r.shape_name.startswith("PlausibleValueShape/") for r in report.results)
    return time.perf_counter() - wall, time.process_time() - cpu, len(report.results), plausible


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default: 3)")
    parser.add_argument(
        "--store", help="an existing store with the Žagar data (default: build one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        location = args.store or str(Path(tmp) / "store")
        with KnowledgeGraph.open(location) as kg:
            if args.store is None:
                started = time.perf_counter()
                kg.ingest([ZAGAR / "Laboratory.csv"], mapping=load_mapping(ZAGAR / "mapping.yaml"))
                print(f"ingest: {time.perf_counter() - started:.1f} s")
            checks = plausibility_checks(read_ranges(kg.store))
            units = sum(len(c.bounds) for c in checks)
            print(f"{len(checks)} plausibility shapes ({units} unit bounds)")
            runs: dict[str, list[tuple[float, float, int, int]]] = {"before": [], "after": []}
            for _ in range(args.repeat):
                with without_new_checks():
                    runs["before"].append(timed(kg))
                runs["after"].append(timed(kg))
    print(f"{'full validation':<44} {'wall s':>8} {'cpu s':>8} {'results':>8}")
    for name, label in (
        ("before", "without plausibility shapes and peer query"),
        ("after", "with them (the default)"),
    ):
        found = runs[name]
        print(
            f"{label:<44} {statistics.median(r[0] for r in found):>8.1f} "
            f"{statistics.median(r[1] for r in found):>8.1f} {found[-1][2]:>8}"
        )
    added_wall = statistics.median(
        a[0] - b[0] for a, b in zip(runs["after"], runs["before"], strict=True)
    )
    added_cpu = statistics.median(
        a[1] - b[1] for a, b in zip(runs["after"], runs["before"], strict=True)
    )
    print(
        f"added: {added_wall:+.1f} s wall, {added_cpu:+.1f} s cpu (median of pairs); "
        f"plausibility results: {runs['after'][-1][3]}"
    )


if __name__ == "__main__":
    main()
