#!/usr/bin/env python3
"""Ingest throughput on the bundled real data, against a raw pyoxigraph bulk load of the same quads.

``python benchmarks/ingest_profile.py [--store oxigraph|oxigraph-memory|memory] [--changed]
[--profile] [--only NAME]``

For each data set (the Žagar table with its mapping; the 14 ASM files) it ingests into a fresh
store and prints records/s and triples/s end to end (mapping + planning + write), the share spent
mapping, a second ingest of the same files (nothing changed: the re-ingest path), and the
baseline: ``pyoxigraph.Store.bulk_load`` of the ingested store's own N-Quads into a fresh
on-disk store. ``--changed`` also ingests edited copies of the files (Žagar: every batch size
+1; ASM: every numeric value +1), so most records are replaced and keep a superseded revision.
``--profile`` prints the top functions by cumulative time (cProfile) for the first ingest.

Figures are wall-clock; the CPU seconds of the process (all threads) are printed beside them,
since on a shared machine the wall clock also measures the other processes.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cmckg.ingest import ingest
from cmckg.kg import load_mapping
from cmckg.stores import Store, open_store
from cmckg.vocab import IriMinter

ROOT = Path(__file__).resolve().parents[1]
DATASETS: dict[str, tuple[Callable[[], list[Path]], Path | None]] = {
    "zagar2022": (
        lambda: [ROOT / "examples/zagar2022/Laboratory.csv"],
        ROOT / "examples/zagar2022/mapping.yaml",
    ),
    "asm (14 files)": (lambda: sorted((ROOT / "examples/asm").glob("*.json")), None),
}


def _edited_table(path: Path, target: Path) -> None:
    """The Žagar table with every batch size one larger."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    column = rows[0].index("size")
    for row in rows[1:]:
        if len(row) > column and row[column].strip():
            row[column] = str(float(row[column]) + 1)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)


def _edited_json(path: Path, target: Path) -> None:
    """An ASM file with every numeric ``value`` one larger."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("value"), int | float) and not isinstance(node["value"], bool):
                node["value"] += 1
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    document = json.loads(path.read_text(encoding="utf-8"))
    walk(document)
    target.write_text(json.dumps(document), encoding="utf-8")


def _edited(paths: list[Path], directory: Path) -> list[Path]:
    directory.mkdir()
    edited = []
    for path in paths:
        target = directory / path.name
        (_edited_json if path.suffix == ".json" else _edited_table)(path, target)
        edited.append(target)
    return edited


def _open(kind: str, directory: Path) -> Store:
    if kind == "oxigraph":
        return open_store(f"oxigraph:{directory / 'store'}")
    return open_store("oxigraph:memory" if kind == "oxigraph-memory" else "memory:")


def _nquads(store: Store) -> bytes:
    dump = getattr(store, "dump_nquads", None)
    if dump is not None:
        return dump()
    from rdflib import Dataset

    dataset = Dataset()
    for s, p, o, g in store.quads():
        dataset.add((s, p, o, g))
    return dataset.serialize(format="nquads").encode()


def _bulk_load_rate(nquads: bytes, directory: Path) -> tuple[int, float]:
    target = ox.Store(str(directory / "baseline"))
    start, cpu = time.perf_counter(), time.process_time()
    target.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
    target.flush()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(target), seconds, cpu


def run(name: str, kind: str, profile: bool, changed: bool) -> None:
    sources, mapping_path = DATASETS[name]
    mapping = load_mapping(mapping_path) if mapping_path else None
    minter = IriMinter()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        store = _open(kind, directory)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        mapped_at = 0.0

        def progress(path: str, done: int, total: int) -> None:
            nonlocal mapped_at
            if done == total:
                mapped_at = time.perf_counter()

        start, cpu = time.perf_counter(), time.process_time()
        report = ingest(store, sources(), minter, mapping, progress=progress)
        end, cpu = time.perf_counter(), time.process_time() - cpu
        if profiler:
            profiler.disable()
        total = end - start
        records, triples = report.records, report.triples
        again_start, again_cpu = time.perf_counter(), time.process_time()
        again = ingest(store, sources(), minter, mapping)
        again_seconds = time.perf_counter() - again_start
        again_cpu = time.process_time() - again_cpu
        quads, base_seconds, base_cpu = _bulk_load_rate(_nquads(store), directory)
        if changed:
            edited = _edited(sources(), directory / "edited")
            edit_start, edit_cpu = time.perf_counter(), time.process_time()
            edit = ingest(store, edited, minter, mapping)
            edit_seconds = time.perf_counter() - edit_start
            edit_cpu = time.process_time() - edit_cpu
        store.close()
    rate = triples / total
    base_rate = quads / base_seconds
    print(f"{name} on {kind}: {records:,} records, {triples:,} triples, {quads:,} quads stored")
    print(
        f"  ingest      {total:7.2f} s  {records / total:9,.0f} records/s  {rate:9,.0f} "
        f"triples/s  cpu {cpu:.2f} s  (mapping {mapped_at - start:.2f} s, "
        f"plan+write {end - mapped_at:.2f} s)"
    )
    print(
        f"  re-ingest   {again_seconds:7.2f} s  {triples / again_seconds:9,.0f} triples/s  "
        f"cpu {again_cpu:.2f} s  ({again.changed} changed)"
    )
    if changed:
        replaced = sum(s.replaced for s in edit.sources)
        rate_changed = edit.triples / edit_seconds
        print(
            f"  changed     {edit_seconds:7.2f} s  {rate_changed:9,.0f} triples/s  "
            f"cpu {edit_cpu:.2f} s  ({replaced:,} records replaced)"
        )
    print(
        f"  bulk load   {base_seconds:7.2f} s  {base_rate:9,.0f} quads/s    cpu {base_cpu:.2f} s"
        f"  ratio ingest/bulk = {rate / base_rate:.2f} (cpu {base_cpu / cpu:.2f})"
    )
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
        print(text.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", choices=["oxigraph", "oxigraph-memory", "memory"], default="oxigraph"
    )
    parser.add_argument("--only", choices=list(DATASETS), help="run one data set")
    parser.add_argument(
        "--changed", action="store_true", help="also ingest edited copies (the replace path)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first ingest")
    args = parser.parse_args(argv)
    for name in DATASETS:
        if args.only in (None, name):
            run(name, args.store, args.profile, args.changed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
