#!/usr/bin/env python3
"""Lineage and comparability latency on generated stores, beside rdflib's in-memory store.

    python benchmarks/lineage_bench.py                  # about 100k and 1M triples
    python benchmarks/lineage_bench.py --sizes 20k 100k 1M 10M

Each size gets a fresh generated genealogy in the ontology/MODEL.md shape, written straight to
N-Quads (one named graph per batch record, as the mappers write them, each record repeating the
site, product and process version it names), bulk-loaded into an embedded Oxigraph store on
disk. For each operation the median of ``--repeat`` calls (after one warm-up) is printed for
Oxigraph and, up to ``--rdflib-max`` triples, for the same saved SPARQL on rdflib's in-memory
Dataset (``memory:`` store), with the ratio rdflib / Oxigraph (the comparison only up to
``--rdflib-compare-max``). A call slower than 5 s is timed once.

Operations: backward lineage of a drug-product batch, forward lineage of a medium lot (4
batches) and of a resin lot (25 batches), each as the saved query alone and as ``kg.lineage``
(root lookup, names, depths); and one ``kg.compare`` (TOST) of HMW over one product's batches,
process v1 against v2.

The generated chain per batch: medium → seed run → N-1 lot → production run (+ medium, feed) →
harvest → capture run (+ resin) → capture eluate → polishing run → drug substance → fill run
(+ excipient) → drug product; run parameters, harvest titer, eight DS and four DP release
results, three CoA results per raw-material lot. About 217 triples per batch.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyoxigraph as ox
from rdflib import URIRef

from cmckg import KnowledgeGraph, queries
from cmckg.stores.memory import MemoryStore
from cmckg.stores.oxigraph import OxigraphStore

BASE = "https://w3id.org/cmckg/id/"
CMC = "https://w3id.org/cmckg/ontology#"
CMCT = "https://w3id.org/cmckg/terms#"
PROV = "http://www.w3.org/ns/prov#"
QUDT = "http://qudt.org/schema/qudt/"
UNIT = "http://qudt.org/vocab/unit/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
TRIPLES_PER_BATCH = 217
SLOW_MS = 5_000
SITES, PRODUCTS = ("Site-A", "Site-B", "Site-C"), ("mAb-1", "mAb-2", "mAb-3")
RAW = {  # material: (concept, batches per lot, CoA tests (concept, unit, mean, sd))
    "medium": (
        "CellCultureMedium",
        4,
        [
            ("Osmolality", "MilliOSM-PER-KiloGM", 300, 8),
            ("PH", "PH", 7.1, 0.05),
            ("Endotoxin", "EU-PER-MilliL", 0.2, 0.05),
        ],
    ),
    "feed": (
        "FeedMedium",
        8,
        [
            ("Osmolality", "MilliOSM-PER-KiloGM", 1200, 30),
            ("PH", "PH", 6.9, 0.05),
            ("Endotoxin", "EU-PER-MilliL", 0.3, 0.1),
        ],
    ),
    "resin": (
        "ProteinAResin",
        25,
        [
            ("Endotoxin", "EU-PER-MilliL", 0.1, 0.02),
            ("PH", "PH", 7.0, 0.1),
            ("Osmolality", "MilliOSM-PER-KiloGM", 290, 5),
        ],
    ),
    "excipient": (
        "Sucrose",
        10,
        [
            ("PH", "PH", 6.5, 0.1),
            ("Endotoxin", "EU-PER-MilliL", 0.05, 0.01),
            ("Osmolality", "MilliOSM-PER-KiloGM", 310, 6),
        ],
    ),
}
DS_TESTS = [
    ("HighMolecularWeightSpecies", 1.3, 0.15),
    ("Monomer", 98.2, 0.15),
    ("LowMolecularWeightSpecies", 0.5, 0.05),
    ("MainChargeVariant", 62, 1.2),
    ("AcidicVariants", 24, 1.0),
    ("Afucosylation", 8, 0.4),
    ("HostCellProtein", 10, 2.5),
    ("RelativePotency", 100, 4),
]
DP_TESTS = [
    ("HighMolecularWeightSpecies", 1.4, 0.15),
    ("ProteinConcentration", 50, 1.5),
    ("PH", 6.0, 0.05),
    ("Osmolality", 300, 5),
]


def iri(kind: str, *parts: object) -> str:
    return f"<{BASE}{kind}/bench/{'/'.join(str(p) for p in parts)}>"


def lit(value: object, datatype: str = "string") -> str:
    if datatype == "string":
        return f'"{value}"'
    return f'"{value}"^^<{XSD}{datatype}>'


def generate(batches: int, seed: int = 1) -> Iterator[str]:
    """N-Quads lines of a genealogy of ``batches`` batch chains."""
    rng = np.random.default_rng(seed)
    reference = iri("graph", "reference")
    for material, (concept, _, _) in RAW.items():
        yield f"{iri('material', material)} <{RDF_TYPE}> <{CMC}Material> {reference} .\n"
        yield f"{iri('material', material)} <{CMC}identifier> {lit(material)} {reference} .\n"
        yield f"{iri('material', material)} <{CMC}materialType> <{CMCT}{concept}> {reference} .\n"
    for material, (_, per_lot, tests) in RAW.items():
        for lot in range(batches // per_lot + 1):
            graph, node = iri("graph", "lot", material, lot), iri("lot", material, lot)
            yield f"{node} <{RDF_TYPE}> <{CMC}RawMaterialLot> {graph} .\n"
            yield f"{node} <{CMC}identifier> {lit(f'{material.upper()}-{lot}')} {graph} .\n"
            yield f"{node} <{CMC}ofMaterial> {iri('material', material)} {graph} .\n"
            for test, unit, mean, sd in tests:
                yield from measurement(
                    iri("measurement", material, lot, test),
                    node,
                    test,
                    rng.normal(mean, sd),
                    unit,
                    "CoA",
                    graph,
                )
    for b in range(batches):
        yield from batch_chain(b, rng)


def measurement(
    node: str, entity: str, prop: str, value: float, unit: str, stage: str | None, graph: str
) -> Iterator[str]:
    yield f"{node} <{RDF_TYPE}> <{CMC}Measurement> {graph} .\n"
    yield f"{node} <{CMC}onEntity> {entity} {graph} .\n"
    yield f"{node} <{CMC}measuredProperty> <{CMCT}{prop}> {graph} .\n"
    yield f"{node} <{QUDT}numericValue> {lit(round(float(value), 4), 'double')} {graph} .\n"
    yield f"{node} <{QUDT}unit> <{UNIT}{unit}> {graph} .\n"
    if stage:
        yield f"{node} <{CMC}stage> <{CMCT}{stage}> {graph} .\n"


def batch_chain(b: int, rng: np.random.Generator) -> Iterator[str]:
    graph = iri("graph", "batch", b)
    site, product = SITES[b % 3], PRODUCTS[(b // 3) % 3]
    version = "v1" if (b // 9) % 2 == 0 else "v2"
    site_node, product_node = iri("site", site), iri("product", product)
    pv_node = iri("process-version", version)
    for node, cls, ident in (
        (site_node, "Site", site),
        (product_node, "Product", product),
        (pv_node, "ProcessVersion", version),
    ):
        yield f"{node} <{RDF_TYPE}> <{CMC}{cls}> {graph} .\n"
        yield f"{node} <{CMC}identifier> {lit(ident)} {graph} .\n"
    lots = {name: iri("lot", f"{name}-{b}") for name in ("N1", "HV", "CE", "DS", "DP")}
    raw = {m: iri("lot", m, b // per_lot) for m, (_, per_lot, _) in RAW.items()}
    steps = [
        ("SEED", "SeedTrain", [raw["medium"]], "N1", "IntermediateLot"),
        (
            "PROD",
            "ProductionBioreactor",
            [lots["N1"], raw["medium"], raw["feed"]],
            "HV",
            "IntermediateLot",
        ),
        ("CAP", "ProteinACapture", [lots["HV"], raw["resin"]], "CE", "IntermediateLot"),
        ("POL", "AnionExchangeChromatography", [lots["CE"]], "DS", "DrugSubstanceBatch"),
        ("FILL", "FillFinish", [lots["DS"], raw["excipient"]], "DP", "DrugProductBatch"),
    ]
    day = 10 + b % 18
    for i, (step, operation, inputs, output, cls) in enumerate(steps):
        run = iri("run", f"{step}-{b}")
        lot = lots[output]
        yield f"{run} <{RDF_TYPE}> <{CMC}ProcessRun> {graph} .\n"
        yield f"{run} <{CMC}identifier> {lit(f'{step}-{b}')} {graph} .\n"
        yield f"{run} <{CMC}unitOperation> <{CMCT}{operation}> {graph} .\n"
        yield f"{run} <{CMC}atSite> {site_node} {graph} .\n"
        yield f"{run} <{CMC}processVersion> {pv_node} {graph} .\n"
        month = 1 + (b // 30) % 12
        yield (
            f"{run} <{PROV}startedAtTime> "
            f"{lit(f'2024-{month:02d}-{day:02d}T0{i}:00:00', 'dateTime')} {graph} .\n"
        )
        for source in inputs:
            yield f"{run} <{PROV}used> {source} {graph} .\n"
            yield f"{lot} <{PROV}wasDerivedFrom> {source} {graph} .\n"
        yield f"{lot} <{PROV}wasGeneratedBy> {run} {graph} .\n"
        yield f"{lot} <{RDF_TYPE}> <{CMC}{cls}> {graph} .\n"
        yield f"{lot} <{CMC}identifier> {lit(f'{output}-{b}')} {graph} .\n"
        yield f"{lot} <{CMC}atSite> {site_node} {graph} .\n"
        if cls != "IntermediateLot":
            yield f"{lot} <{CMC}ofProduct> {product_node} {graph} .\n"
            made = lit(f"2024-{month:02d}-{day:02d}", "date")
            yield f"{lot} <{CMC}manufactureDate> {made} {graph} .\n"
        for prop, unit, mean, sd in (
            ("Temperature", "DEG_C", 36.5, 0.2),
            ("ProcessPH", "PH", 7.0, 0.05),
        ):
            yield from measurement(
                iri("measurement", step, b, prop),
                run,
                prop,
                rng.normal(mean, sd),
                unit,
                None,
                graph,
            )
    yield from measurement(
        iri("measurement", "HV", b, "titer"),
        lots["HV"],
        "Titer",
        rng.normal(3.2, 0.3),
        "GM-PER-L",
        "InProcess",
        graph,
    )
    shift = 0.7 if version == "v2" else 0.0
    for prop, mean, sd in DS_TESTS:
        value = rng.normal(mean + (shift if prop == "HighMolecularWeightSpecies" else 0), sd)
        unit = "MilliGM-PER-MilliL" if prop == "ProteinConcentration" else "PERCENT"
        yield from measurement(
            iri("measurement", "DS", b, prop), lots["DS"], prop, value, unit, "Release", graph
        )
    for prop, mean, sd in DP_TESTS:
        unit = {
            "ProteinConcentration": "MilliGM-PER-MilliL",
            "PH": "PH",
            "Osmolality": "MilliOSM-PER-KiloGM",
        }.get(prop, "PERCENT")
        yield from measurement(
            iri("measurement", "DP", b, prop),
            lots["DP"],
            prop,
            rng.normal(mean, sd),
            unit,
            "Release",
            graph,
        )


def parse_size(text: str) -> int:
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text.rstrip("kKmM")) * factor)


def median_ms(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median of ``repeat`` timed calls after a warm-up; a call slower than SLOW_MS is timed once
    (its warm-up is the figure)."""
    start = time.perf_counter()
    result = call()  # warm-up (and the answer)
    first = (time.perf_counter() - start) * 1000
    if first > SLOW_MS:
        return first, result
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def operations(batches: int) -> dict[str, tuple[str, str]]:
    """name → (saved query or api call, root IRI)."""
    dp, medium, resin = (
        f"{BASE}lot/bench/DP-{batches // 2}",
        f"{BASE}lot/bench/medium/1",
        f"{BASE}lot/bench/resin/1",
    )
    return {
        "backward lineage (DP batch)": ("backward", dp),
        "forward lineage (medium lot, 4 batches)": ("forward", medium),
        "forward lineage (resin lot, 25 batches)": ("forward", resin),
    }


def measure(
    kg: KnowledgeGraph, batches: int, repeat: int, label: str, compare: bool = True
) -> dict[str, tuple[float, str]]:
    results: dict[str, tuple[float, str]] = {}

    def note(name: str, ms: float, answer: str) -> None:
        results[name] = (ms, answer)
        print(f"#   {label}: {name}: {ms:.2f} ms ({answer})", file=sys.stderr, flush=True)

    for name, (direction, root) in operations(batches).items():
        ms, rows = median_ms(
            lambda d=direction, r=root: queries.run(kg.store, f"lineage-{d}", {"root": URIRef(r)}),
            repeat,
        )
        note(f"{name}: saved query", ms, f"{len(rows.rows)} rows")
        ms, found = median_ms(lambda d=direction, r=root: kg.lineage(r, d), repeat)
        note(f"{name}: kg.lineage", ms, f"{len(found.nodes)} nodes")
    if not compare:
        return results
    ms, compared = median_ms(
        lambda: kg.compare(
            "HMW",
            "product=mAb-1,process_version=v1",
            "product=mAb-1,process_version=v2",
            method="tost",
        ),
        repeat,
    )
    ds = compared.table[compared.table["kind"] == "drug_substance"].iloc[0]
    note(
        "compare HMW v1 vs v2 (one product, TOST)",
        ms,
        f"DS n {ds['n_ref']}+{ds['n_test']}, {ds['verdict']}",
    )
    return results


def run_size(target: int, args: argparse.Namespace, workdir: Path) -> list[tuple]:
    batches = max(10, target // TRIPLES_PER_BATCH)
    dump = workdir / f"bench-{target}.nq.gz"
    start = time.perf_counter()
    with gzip.open(dump, "wt", encoding="utf-8", compresslevel=1) as handle:
        handle.writelines(generate(batches, args.seed))
    generated = time.perf_counter() - start
    store_dir = workdir / f"oxigraph-{target}"
    start = time.perf_counter()
    native = ox.Store(str(store_dir))
    with gzip.open(dump, "rb") as handle:
        native.bulk_load(handle, format=ox.RdfFormat.N_QUADS)
    triples = len(native)
    del native
    OxigraphStore(store_dir).close()  # adds the union copy cmckg's own writes keep
    loaded = time.perf_counter() - start
    print(
        f"# {target:,} target: {batches:,} batches, {triples:,} quads; generated in "
        f"{generated:.1f} s, Oxigraph bulk load {loaded:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    with KnowledgeGraph.open(f"oxigraph:{store_dir}", read_only=True) as kg:
        oxigraph = measure(kg, batches, args.repeat, "oxigraph")
    reference: dict[str, tuple[float, str]] = {}
    if triples <= args.rdflib_max:
        start = time.perf_counter()
        memory = MemoryStore()
        with gzip.open(dump, "rb") as handle:
            memory.dataset.parse(handle, format="nquads")
        print(f"# rdflib load {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        reference = measure(
            KnowledgeGraph(memory),
            batches,
            args.rdflib_repeat,
            "rdflib",
            compare=triples <= args.rdflib_compare_max,
        )
    shutil.rmtree(store_dir, ignore_errors=True)
    dump.unlink()
    return [
        (triples, name, ms, reference.get(name, (None, ""))[0], answer)
        for name, (ms, answer) in oxigraph.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["100k", "1M"],
        help="target store sizes in triples (100k, 1M, 10M…)",
    )
    parser.add_argument("--repeat", type=int, default=9, help="timed calls per operation")
    parser.add_argument("--rdflib-repeat", type=int, default=3)
    parser.add_argument(
        "--rdflib-max",
        type=parse_size,
        default=parse_size("1.2M"),
        help="largest store also measured on rdflib (default 1.2M)",
    )
    parser.add_argument(
        "--rdflib-compare-max",
        type=parse_size,
        default=parse_size("25k"),
        help="largest store where rdflib also runs the comparison (default "
        "25k: at 100k one rdflib comparison ran for over 15 minutes)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where stores go (default: a temp dir)")
    args = parser.parse_args(argv)
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for size in args.sizes:
            rows += run_size(parse_size(size), args, Path(tmp))
    header = (
        f"{'triples':>11}  {'operation':<62} {'oxigraph ms':>11} {'rdflib ms':>10} "
        f"{'ratio':>7}  answer"
    )
    print(header)
    print("-" * len(header))
    for triples, name, ms, reference, answer in rows:
        ref = f"{reference:10.1f}" if reference is not None else f"{'—':>10}"
        ratio = f"{reference / ms:6.0f}×" if reference is not None and ms > 0 else f"{'':>7}"
        print(f"{triples:>11,}  {name:<62} {ms:11.2f} {ref} {ratio}  {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
