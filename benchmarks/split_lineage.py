#!/usr/bin/env python3
"""Lineage when a run's inputs and outputs come from different tables (issue 9), beside the
one-table layout, on the same generated company, timed in one process.

``python benchmarks/split_lineage.py --batches 1000 [--repeat 9] [--workdir DIR]``

Two stores are built from one ``generate.py`` output: *one table* ingests the batch records as
generated (each row names the run's output and its inputs: the mapper states every
``prov:wasDerivedFrom`` pair); *split* maps every batch-record file twice, the inputs first
(entity ``run_input``, ``used`` only) and then the outputs (entity ``run``, no ``used``), so
every pair is derived by ingest (``cmckg.derivation``). Then the saved lineage queries and
``kg.lineage`` run on both stores, interleaved root by root, so load on the machine hits both
alike. It prints ingest time, quads, the lineage medians of each store and whether both stores
give the same answer for every root.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import SEED, generate  # noqa: E402
from phases import ingest_calls, lineage_roots, lot_iri  # noqa: E402

from cmckg import queries  # noqa: E402
from cmckg.kg import KnowledgeGraph  # noqa: E402


def split_mappings(mapping: Path, folder: Path) -> tuple[Path, Path]:
    """The inputs-only and outputs-only mappings of a batch-records mapping."""
    config = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    run = config["entities"]["run"]
    inputs = copy.deepcopy(config)
    inputs["entities"] = {
        "run_input": {"type": "ProcessRun", "id": run["id"], "required": True, "used": run["used"]}
    }
    outputs = copy.deepcopy(config)
    outputs["entities"]["run"] = {k: v for k, v in run.items() if k != "used"}
    paths = (folder / f"{mapping.stem}_inputs.yaml", folder / f"{mapping.stem}_outputs.yaml")
    for path, content in zip(paths, (inputs, outputs), strict=True):
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return paths


def build(src: Path, location: str, split: bool, folder: Path) -> tuple[float, int]:
    """Ingest every generated file; seconds and the store's quads."""
    with KnowledgeGraph.open(location) as kg:
        started = time.perf_counter()
        for _, paths, mapping in ingest_calls(src):
            if split and mapping.stem.startswith("batch_records"):
                for half in split_mappings(mapping, folder):
                    kg.ingest(paths, mapping=half)
            else:
                kg.ingest(paths, mapping=mapping)
        return time.perf_counter() - started, kg.store.count_quads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cmckg-split-lineage"))
    args = parser.parse_args(argv)
    size_dir = args.workdir / f"n{args.batches}"
    src = size_dir / "src"
    if not (src / "ingest.yaml").is_file():
        generate(src, args.batches, SEED)
    built = {}
    for name, split in (("one table", False), ("split", True)):
        store = size_dir / name.replace(" ", "-")
        if not store.exists():
            built[name] = build(src, f"oxigraph:{store}", split, size_dir)
    stores = {
        name: KnowledgeGraph.open(f"oxigraph:{size_dir / name.replace(' ', '-')}", read_only=True)
        for name in ("one table", "split")
    }
    roots = lineage_roots(size_dir)
    table = Table(title=f"lineage, N = {args.batches:,}: one table vs split tables (ms, median)")
    for column in ("question", "one table", "split", "same answer"):
        table.add_column(column)
    for direction, identifiers in roots.items():
        times: dict[tuple[str, str], list[float]] = {}
        same = True
        for identifier in identifiers:
            answers = {}
            for _ in range(args.repeat):
                for name, kg in stores.items():
                    iri = lot_iri(kg, size_dir, identifier)
                    started = time.perf_counter()
                    rows = queries.run(kg.store, f"lineage-{direction}", {"root": iri}).rows
                    times.setdefault(("query", name), []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    started = time.perf_counter()
                    nodes = kg.lineage(identifier, direction).nodes
                    times.setdefault(("kg.lineage", name), []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    answers[name] = (len(rows), sorted(nodes["iri"]))
            same &= answers["one table"][1] == answers["split"][1]
        for how in ("query", "kg.lineage"):
            table.add_row(
                f"{direction} {how} ({len(identifiers)} roots)",
                *(f"{statistics.median(times[(how, n)]):.1f}" for n in stores),
                "yes" if same else "NO",
            )
    for name, (seconds, quads) in built.items():
        table.caption = (table.caption or "") + f"{name}: ingest {seconds:.0f} s, {quads:,} quads. "
    for kg in stores.values():
        kg.close()
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
