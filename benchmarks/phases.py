"""Benchmark phases, each run by ``run.py`` in its own process so peak memory is its own.

``python benchmarks/phases.py PHASE --size-dir DIR [--location LOC] [--repeat R]`` appends one
JSON object per measurement to ``DIR/results.jsonl`` (flushed at once, so a phase cut off by the
driver's timeout keeps what it measured). Every object carries the phase, a key, the backend and
the phase's peak resident memory so far (``rss_mib``, from ``getrusage``).

Phases: ``ingest`` (every generated file through the mappers, then an N-Quads dump),
``bulkload`` (the dump into a fresh Oxigraph store), ``lineage`` (the saved lineage queries
alone, or ``kg.lineage`` by IRI or by identifier), ``rdflib`` (the same saved queries on rdflib's
in-memory Dataset), ``compare`` and ``drivers``, ``validate`` (full, then one new batch
ingested and validated incrementally) and ``pyshacl`` (plain ``pyshacl.validate``).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml
from rdflib import Graph, URIRef

from cmckg import KnowledgeGraph, queries
from cmckg.resources import ontology_path
from cmckg.stores.memory import MemoryStore
from cmckg.validate import store_shapes

ROWS_PER_CALL = 40_000  # source rows per ingest call: bounds the mapped records held in memory
LINEAGE_ROOTS = 5
COMPARE = {
    "attributes": ["HMW", "afucosylation", "main charge isoform"],
    "reference": "product=mAb-1,site=Site-A",
    "test": "product=mAb-1,site=Site-B",
}
DRIVERS = {"pqa": "afucosylation", "material": "cell culture medium"}
SUMMARY = {
    "attributes": [
        "titer",
        "HMW",
        "monomer",
        "main charge isoform",
        "acidic variants",
        "afucosylation",
        "host cell protein",
        "relative potency",
        "protein concentration",
        "pH",
    ],
    "by": "site",
}
CHART = {"attribute": "HMW", "product": "mAb-1", "kind": "drug_substance"}
#: The analyses read the analytics layer; "-records" figures ask the records the old way
#: (``source="records"``) on the same store, the baseline of issue 12. Each phase first makes one
#: untimed call, so neither path is charged for loading the term schemes and caches.
SOURCES = (("layer", ""), ("records", "-records"))


def warmed(call: Callable[[str], Any]) -> Callable[[str], Any]:
    call("layer")
    return call


NEW_BATCH = 900_001  # sequence number of the batch added before incremental validation
SLOW_CALL_MS = 5_000  # a call this slow is not repeated


def rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Recorder:
    """Appends measurements to ``results.jsonl``."""

    def __init__(self, size_dir: Path, phase: str, backend: str) -> None:
        self.path = size_dir / "results.jsonl"
        self.phase = phase
        self.backend = backend

    def __call__(self, key: str, **values: Any) -> None:
        entry = {
            "phase": self.phase,
            "backend": self.backend,
            "key": key,
            **values,
            "rss_mib": rss_mib(),
        }
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def timed_ms(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall-clock milliseconds of ``repeat`` calls (only one if it takes SLOW_CALL_MS or more),
    and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(round((time.perf_counter() - started) * 1000, 3))
        if times[-1] >= SLOW_CALL_MS:
            break
    return times, result


def ingest_calls(src: Path) -> Iterator[tuple[str, list[Path], Path]]:
    """(group name, files, mapping) per ingest call, in the generator's order; a group's
    files are split so one call maps at most about ROWS_PER_CALL source rows."""
    plan = yaml.safe_load((src / "ingest.yaml").read_text(encoding="utf-8"))
    for group in plan["groups"]:
        chunk: list[Path] = []
        rows = 0
        for name in group["files"]:
            path = src / name
            chunk.append(path)
            rows += _rows(path)
            if rows >= ROWS_PER_CALL:
                yield group["name"], chunk, src / group["mapping"]
                chunk, rows = [], 0
        if chunk:
            yield group["name"], chunk, src / group["mapping"]


def _rows(path: Path) -> int:
    if path.suffix == ".json":
        return path.stat().st_size // 2000  # an ASM cell count is about 2 kB of JSON
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def phase_ingest(args: argparse.Namespace, record: Recorder) -> None:
    src = args.size_dir / "src"
    calls = list(ingest_calls(src))
    kg = KnowledgeGraph.open(args.location)
    records = triples = files = 0
    started = time.perf_counter()
    cpu = time.process_time()
    for _, paths, mapping in calls:
        report = kg.ingest(paths, mapping=mapping)
        records += report.records
        triples += report.triples
        files += len(paths)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    quads = kg.store.count_quads()
    record(
        "ingest",
        seconds=round(seconds, 2),
        cpu_seconds=round(cpu, 2),
        files=files,
        calls=len(calls),
        records=records,
        triples=triples,
        quads=quads,
    )
    if args.backend == "embedded" and not args.no_dump:
        dump = args.size_dir / "dump.nq"
        started = time.perf_counter()
        kg.store.dump_nquads(dump)  # the record graphs, not the union copy
        record("dump", seconds=round(time.perf_counter() - started, 2), bytes=dump.stat().st_size)
    kg.close()


def phase_bulkload(args: argparse.Namespace, record: Recorder) -> None:
    target = args.size_dir / "bulkload-store"
    store = ox.Store(str(target))
    started = time.perf_counter()
    store.bulk_load(path=str(args.size_dir / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - started
    record("bulkload", seconds=round(seconds, 2), quads=len(store))


def lineage_roots(size_dir: Path) -> dict[str, list[str]]:
    """Drug-product lots (backward) and cell-culture medium lots (forward), spread over the
    sites: the identifiers as the batch records write them."""
    with open(size_dir / "src" / "batches.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // LINEAGE_ROOTS)
    picked = rows[step // 2 :: step][:LINEAGE_ROOTS]
    media = list(dict.fromkeys(r["MED"] for r in rows))
    return {
        "backward": [r["dp_lot"] for r in picked],
        "forward": media[len(media) // 2 - LINEAGE_ROOTS // 2 :][:LINEAGE_ROOTS],
    }


def lot_iri(kg: KnowledgeGraph, size_dir: Path, identifier: str) -> URIRef:
    manifest = json.loads((size_dir / "src" / "manifest.json").read_text(encoding="utf-8"))
    return kg.minter.mint("lot", manifest["issuer"], identifier)


def phase_lineage(args: argparse.Namespace, record: Recorder) -> None:
    """One way of asking (``--variant``): the saved query alone with the root's IRI,
    ``kg.lineage`` with the IRI, or ``kg.lineage`` with the identifier as a user types it."""
    kg = KnowledgeGraph.open(args.location, read_only=True)
    for direction, roots in lineage_roots(args.size_dir).items():
        for root in roots:
            iri = lot_iri(kg, args.size_dir, root)
            if args.variant == "query":

                def call(iri=iri, d=direction):
                    return len(queries.run(kg.store, f"lineage-{d}", {"root": iri}).rows)
            else:

                def call(iri=iri, r=root, d=direction):
                    return len(kg.lineage(str(iri) if args.variant == "iri" else r, d).nodes)

            times, found = timed_ms(call, args.repeat)
            record(f"lineage-{direction}-{args.variant}", root=root, ms=times, found=found)
            if times[0] >= SLOW_CALL_MS:
                break  # one slow root stands for the others: the phase would not finish


def phase_rdflib(args: argparse.Namespace, record: Recorder) -> None:
    store = MemoryStore()
    started = time.perf_counter()
    store.dataset.parse(str(args.size_dir / "dump.nq"), format="nquads")
    record("rdflib-load", seconds=round(time.perf_counter() - started, 2))
    minter = KnowledgeGraph(store).minter
    manifest = json.loads((args.size_dir / "src" / "manifest.json").read_text(encoding="utf-8"))
    for direction, roots in lineage_roots(args.size_dir).items():
        for root in roots:
            iri = minter.mint("lot", manifest["issuer"], root)
            times, rows = timed_ms(
                lambda iri=iri, d=direction: queries.run(store, f"lineage-{d}", {"root": iri}),
                args.repeat,
            )
            record(f"lineage-{direction}-query", root=root, ms=times, rows=len(rows.rows))


def phase_compare(args: argparse.Namespace, record: Recorder) -> None:
    kg = KnowledgeGraph.open(args.location, read_only=True)
    call = warmed(
        lambda source: kg.compare(
            COMPARE["attributes"], COMPARE["reference"], COMPARE["test"], source=source
        )
    )
    for source, suffix in SOURCES:
        times, result = timed_ms(lambda source=source: call(source), args.repeat)
        record(
            f"compare{suffix}",
            ms=times,
            rows=len(result.table),
            n_ref=[int(n) for n in result.table["n_ref"]],
        )


def phase_drivers(args: argparse.Namespace, record: Recorder) -> None:
    kg = KnowledgeGraph.open(args.location, read_only=True)
    call = warmed(
        lambda source: kg.drivers(DRIVERS["pqa"], material=DRIVERS["material"], source=source)
    )
    for source, suffix in SOURCES:
        times, result = timed_ms(lambda source=source: call(source), args.repeat)
        top = result.table.iloc[0].to_dict() if len(result.table) else {}
        record(
            f"drivers{suffix}",
            ms=times,
            rows=len(result.table),
            top=f"{top.get('material')} {top.get('attribute')} n={top.get('n')}",
        )


def phase_summary(args: argparse.Namespace, record: Recorder) -> None:
    kg = KnowledgeGraph.open(args.location, read_only=True)
    call = warmed(lambda source: kg.summary(SUMMARY["attributes"], by=SUMMARY["by"], source=source))
    for source, suffix in SOURCES:
        times, result = timed_ms(lambda source=source: call(source), args.repeat)
        record(f"summary{suffix}", ms=times, rows=len(result), n=int(result["n"].sum()))


def phase_cpv(args: argparse.Namespace, record: Recorder) -> None:
    kg = KnowledgeGraph.open(args.location, read_only=True)
    call = warmed(
        lambda source: kg.control_chart(
            CHART["attribute"], CHART["product"], kind=CHART["kind"], source=source
        )
    )
    for source, suffix in SOURCES:
        times, chart = timed_ms(lambda source=source: call(source), args.repeat)
        record(f"cpv{suffix}", ms=times, points=len(chart.points), signals=len(chart.signals))


def phase_validate(args: argparse.Namespace, record: Recorder) -> None:
    kg = KnowledgeGraph.open(args.location)
    report = kg.validate(full=True)
    record(
        "validate-full",
        seconds=round(report.seconds, 2),
        triples=report.triples,
        focus=report.focus_nodes,
        results=len(report.results),
    )
    shapes = store_shapes(kg.store)
    shapes.serialize(args.size_dir / "shapes.ttl", format="turtle")
    new_dir = args.size_dir / "new-batch"
    new_files = write_new_batch(args.size_dir / "src", new_dir)
    started = time.perf_counter()
    for files, mapping in new_files:
        kg.ingest(files, mapping=mapping)
    record("ingest-one-batch", seconds=round(time.perf_counter() - started, 3))
    report = kg.validate()
    record(
        "validate-incremental",
        seconds=round(report.seconds, 3),
        triples=report.triples,
        focus=report.focus_nodes,
        results=len(report.results),
        mode=report.mode,
    )
    kg.close()


def write_new_batch(src: Path, out: Path) -> list[tuple[list[Path], Path]]:
    """One more Site-A batch: the rows of Site-A's last batch (batch records and LIMS results)
    with its number replaced, as the files a plant would send the next day."""
    with open(src / "batches.csv", encoding="utf-8") as handle:
        last = [r for r in csv.DictReader(handle) if r["site"] == "Site-A"][-1]
    old, new = f"-{int(last['seq']):06d}", f"-{NEW_BATCH:06d}"
    plan = yaml.safe_load((src / "ingest.yaml").read_text(encoding="utf-8"))
    written = []
    for group in plan["groups"]:
        if group["name"] not in ("Site-A batch records", "Site-A LIMS results"):
            continue
        key = "run" if "batch records" in group["name"] else "lot"
        rows, header = [], None
        for name in group["files"]:
            with open(src / name, encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames
                rows += [r for r in reader if r[key].endswith(old)]
        target = out / f"{key}s.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: v.replace(old, new) if v.endswith(old) else v for k, v in row.items()}
                )
        written.append(([target], src / group["mapping"]))
    return written


def phase_pyshacl(args: argparse.Namespace, record: Recorder) -> None:
    from pyshacl import validate

    merged = ox.Store()
    merged.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
        for q in ox.parse(path=str(args.size_dir / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    )
    started = time.perf_counter()
    data = Graph()
    data.parse(
        data=merged.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()), format="nt"
    )
    record("pyshacl-load", seconds=round(time.perf_counter() - started, 2), triples=len(data))
    del merged
    shapes = Graph().parse(args.size_dir / "shapes.ttl", format="turtle")
    ontology = Graph().parse(ontology_path(), format="turtle")
    started = time.perf_counter()
    conforms, report, _ = validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=False,
    )
    seconds = time.perf_counter() - started
    results = len(
        list(
            report.subjects(
                predicate=URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                object=URIRef("http://www.w3.org/ns/shacl#ValidationResult"),
            )
        )
    )
    record("pyshacl", seconds=round(seconds, 2), triples=len(data), results=results)


PHASES = {
    "ingest": phase_ingest,
    "bulkload": phase_bulkload,
    "lineage": phase_lineage,
    "rdflib": phase_rdflib,
    "compare": phase_compare,
    "drivers": phase_drivers,
    "summary": phase_summary,
    "cpv": phase_cpv,
    "validate": phase_validate,
    "pyshacl": phase_pyshacl,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one benchmark phase (run by run.py)")
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--size-dir", type=Path, required=True)
    parser.add_argument("--location", default=None, help="store location (default: DIR/store)")
    parser.add_argument("--backend", default="embedded", choices=["embedded", "remote", "virtuoso"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--variant", default="query", choices=["query", "iri", "api"], help="lineage: how to ask"
    )
    parser.add_argument(
        "--no-dump", action="store_true", help="ingest: no N-Quads dump (no bulk-load baseline)"
    )
    args = parser.parse_args(argv)
    args.location = args.location or f"oxigraph:{args.size_dir / 'store'}"
    PHASES[args.phase](args, Recorder(args.size_dir, args.phase, args.backend))


if __name__ == "__main__":
    sys.exit(main())
