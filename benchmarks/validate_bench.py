#!/usr/bin/env python3
"""Validation benchmark: full and incremental ``cmckg validate`` beside plain ``pyshacl.validate``.

``python benchmarks/validate_bench.py [--batches 4300] [--seed 7] [--baseline-timeout 1800]``

Generates MODEL.md-shaped records in code (one record graph per batch: the batch's unit-operation
runs with consumed lots, quantities, site, equipment, process version and times; its lots;
process parameters on the runs; samples and release results with units, stages and times; plus
shared raw-material lot records with CoA results and a specification record), about 245 triples
per batch, so the default 4,300 batches make a store of just over one million triples. Then it
times, on an embedded Oxigraph store on disk:

1. ``validate_store(full=True)``: every record graph;
2. one new batch ingested, then ``validate_store()``: the incremental run the CI does;
3. plain ``pyshacl.validate`` of the same data (the records plus the term schemes and unit
   facts cmckg adds, in an rdflib in-memory graph; the same shapes, the ontology as
   ``ont_graph``, SHACL-AF on), in a child process stopped after ``--baseline-timeout`` seconds
   (then its rate is an upper bound).

and prints one table: seconds, triples, triples/s, focus nodes and results per run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH, XSD

from cmckg.ingest import ingest_records
from cmckg.mappers.base import RecordGraph, RecordTriples
from cmckg.resources import ontology_path
from cmckg.stores import open_store
from cmckg.validate import store_shapes, validate_store
from cmckg.validate.data import DataGraph  # the data it builds
from cmckg.validate.shapes import terms
from cmckg.vocab import CMC, CMCT, QUDT, UNIT, IriMinter

ISSUER = "bench"
SITES = ["Site-A", "Site-B", "Site-C"]
STEPS = [  # (unit operation, output lot class, parameters: (concept, unit, mean, sd))
    (
        CMCT.SeedTrain,
        CMC.IntermediateLot,
        [(CMCT.Temperature, UNIT.DEG_C, 36.8, 0.2), (CMCT.PH, UNIT.PH, 7.05, 0.03)],
    ),
    (
        CMCT.ProductionBioreactor,
        CMC.IntermediateLot,
        [
            (CMCT.Temperature, UNIT.DEG_C, 36.5, 0.2),
            (CMCT.PH, UNIT.PH, 6.95, 0.03),
            (CMCT.DissolvedOxygen, UNIT.PERCENT, 40.0, 3.0),
        ],
    ),
    (CMCT.ProteinACapture, CMC.IntermediateLot, [(CMCT.Temperature, UNIT.DEG_C, 20.0, 0.5)]),
    (CMCT.Polishing, CMC.DrugSubstanceBatch, [(CMCT.Temperature, UNIT.DEG_C, 20.0, 0.5)]),
    (CMCT.FillFinish, CMC.DrugProductBatch, [(CMCT.Temperature, UNIT.DEG_C, 20.0, 0.5)]),
]
RELEASE = [  # (concept, unit, mean, sd) on the drug substance
    (CMCT.HighMolecularWeightSpecies, UNIT.PERCENT, 1.5, 0.3),
    (CMCT.Monomer, UNIT.PERCENT, 98.0, 0.3),
    (CMCT.LowMolecularWeightSpecies, UNIT.PERCENT, 0.5, 0.1),
    (CMCT.Afucosylation, UNIT.PERCENT, 8.0, 0.8),
    (CMCT.HostCellProtein, UNIT["NanoGM-PER-MilliGM"], 10.0, 3.0),
    (CMCT.ProteinConcentration, UNIT["MilliGM-PER-MilliL"], 50.0, 1.5),
]
RAW_MATERIALS = [("medium", 40), ("feed", 40), ("resin", 10)]  # (material, lots in the pool)


class Generator:
    """MODEL.md records for ``batches`` batches, deterministic for a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.minter = IriMinter()
        self.mint = self.minter.mint

    def graph(self, record_id: str) -> RecordGraph:
        return RecordGraph(
            self.mint("graph", ISSUER, record_id),
            record_id,
            f"generated/{record_id}.csv",
            RecordTriples(),
        )

    def master(self) -> list[RecordGraph]:
        """Sites, equipment, process version, product, materials, suppliers, raw-material lots
        with CoA results, and the release specification of HMW."""
        record = self.graph("master-data")
        add = record.triples.add
        for site in SITES:
            iri = self.mint("site", ISSUER, site)
            add((iri, RDF.type, CMC.Site))
            add((iri, CMC.identifier, Literal(site)))
            for step in range(len(STEPS)):
                equipment = self.mint("equipment", ISSUER, site, step)
                add((equipment, RDF.type, CMC.Equipment))
                add((equipment, CMC.identifier, Literal(f"{site}-EQ-{step}")))
        version = self.mint("process-version", ISSUER, "v1")
        add((version, RDF.type, CMC.ProcessVersion))
        add((version, CMC.identifier, Literal("v1")))
        product = self.mint("product", ISSUER, "mAb-1")
        add((product, RDF.type, CMC.Product))
        add((product, CMC.identifier, Literal("mAb-1")))
        supplier = self.mint("supplier", ISSUER, "Supplier-1")
        add((supplier, RDF.type, CMC.Supplier))
        add((supplier, CMC.identifier, Literal("Supplier-1")))
        for index, subject in enumerate(sorted({t[0] for t in record.triples}, key=str), 2):
            record.locate(subject, f"row={index}")
        records = [record, self.specification(product)]
        for material, count in RAW_MATERIALS:
            records += [self.raw_lot(material, n, supplier) for n in range(count)]
        return records

    def specification(self, product: URIRef) -> RecordGraph:
        record = self.graph("specifications")
        spec = self.mint("specification", ISSUER, "SPEC-HMW")
        for p, o in [
            (RDF.type, CMC.Specification),
            (CMC.identifier, Literal("SPEC-HMW")),
            (CMC.version, Literal("1")),
            (CMC.ofProduct, product),
            (CMC.forProperty, CMCT.HighMolecularWeightSpecies),
            (CMC.stage, CMCT.Release),
            (CMC.lotClass, CMC.DrugSubstanceBatch),
            (CMC.lowerLimit, Literal(0.0)),
            (CMC.upperLimit, Literal(3.0)),
            (QUDT.unit, UNIT.PERCENT),
        ]:
            record.triples.add((spec, p, o))
        record.locate(spec, "row=2")
        return record

    def raw_lot(self, material: str, number: int, supplier: URIRef) -> RecordGraph:
        record = self.graph(f"raw-lot/{material}/{number}")
        add = record.triples.add
        material_iri = self.mint("material", ISSUER, material)
        add((material_iri, RDF.type, CMC.Material))
        add((material_iri, CMC.identifier, Literal(material)))
        add((material_iri, RDFS.label, Literal(material)))
        lot = self.raw_lot_iri(material, number)
        made = 2020 + number % 4
        for p, o in [
            (RDF.type, CMC.RawMaterialLot),
            (CMC.identifier, Literal(f"{material}-{number}")),
            (CMC.ofMaterial, material_iri),
            (CMC.suppliedBy, supplier),
            (CMC.atSite, self.mint("site", ISSUER, SITES[number % len(SITES)])),
            (CMC.manufactureDate, Literal(f"{made}-01-15", datatype=XSD.date)),
            (CMC.expiryDate, Literal(f"{made + 3}-01-15", datatype=XSD.date)),
        ]:
            add((lot, p, o))
        record.locate(lot, "row=2")
        for index, (concept, unit, mean) in enumerate(
            [(CMCT.Osmolality, UNIT["MilliOSM-PER-KiloGM"], 300.0), (CMCT.PH, UNIT.PH, 7.1)]
        ):
            self.measurement(
                record,
                lot,
                concept,
                unit,
                mean,
                mean * 0.02,
                CMCT.CoA,
                f"{made}-01-20T09:00:00",
                index,
            )
        return record

    def raw_lot_iri(self, material: str, number: int) -> URIRef:
        return self.mint("lot", ISSUER, material, number)

    def measurement(
        self,
        record: RecordGraph,
        entity: URIRef,
        concept: URIRef,
        unit: URIRef,
        mean: float,
        sd: float,
        stage: URIRef | None,
        when: str | None,
        index: int,
        value: float | None = None,
    ) -> None:
        m = self.mint("measurement", ISSUER, record.record_id, index)
        add = record.triples.add
        add((m, RDF.type, CMC.Measurement))
        add((m, CMC.onEntity, entity))
        add((m, CMC.measuredProperty, concept))
        number = self.rng.gauss(mean, sd) if value is None else value
        add((m, QUDT.numericValue, Literal(round(number, 4), datatype=XSD.double)))
        add((m, QUDT.unit, unit))
        if stage is not None:
            add((m, CMC.stage, stage))
        if when is not None:
            add((m, CMC.resultTime, Literal(when, datatype=XSD.dateTime)))
        record.locate(m, f"row={index + 2}")

    def batch(self, number: int, hmw: float | None = None) -> RecordGraph:
        """One batch record: five runs from seed to fill, their lots, parameters and results."""
        record = self.graph(f"batch/{number}")
        add = record.triples.add
        site = SITES[number % len(SITES)]
        start = 1_700_000_000 + number * 86_400
        previous: URIRef | None = None
        index = 0
        for step, (operation, lot_class, parameters) in enumerate(STEPS):
            run = self.mint("run", ISSUER, number, step)
            lot = self.mint("lot", ISSUER, number, step)
            begins, ends = _iso(start + step * 2 * 86_400), _iso(start + (step * 2 + 1) * 86_400)
            inputs = [previous] if previous is not None else []
            if step < 2:
                inputs.append(
                    self.raw_lot_iri(
                        "medium" if step == 0 else "feed",
                        self.rng.randrange(RAW_MATERIALS[step][1]),
                    )
                )
            if step == 2:
                inputs.append(self.raw_lot_iri("resin", number // 200 % RAW_MATERIALS[2][1]))
            for p, o in [
                (RDF.type, CMC.ProcessRun),
                (CMC.identifier, Literal(f"R-{number}-{step}")),
                (CMC.unitOperation, operation),
                (CMC.atSite, self.mint("site", ISSUER, site)),
                (CMC.usedEquipment, self.mint("equipment", ISSUER, site, step)),
                (CMC.processVersion, self.mint("process-version", ISSUER, "v1")),
                (PROV.startedAtTime, Literal(begins, datatype=XSD.dateTime)),
                (PROV.endedAtTime, Literal(ends, datatype=XSD.dateTime)),
            ]:
                add((run, p, o))
            for position, used in enumerate(inputs, 1):
                usage = self.mint("run", ISSUER, number, step, "usage", position)
                add((run, PROV.used, used))
                add((lot, PROV.wasDerivedFrom, used))
                for p, o in [
                    (RDF.type, CMC.Usage),
                    (CMC.ofRun, run),
                    (CMC.usedLot, used),
                    (QUDT.numericValue, Literal(round(self.rng.uniform(1, 500), 2))),
                    (QUDT.unit, UNIT.KiloGM),
                ]:
                    add((usage, p, o))
                record.locate(usage, f"row={step + 2}")
            for p, o in [
                (RDF.type, lot_class),
                (CMC.identifier, Literal(f"L-{number}-{step}")),
                (CMC.atSite, self.mint("site", ISSUER, site)),
                (PROV.wasGeneratedBy, run),
            ]:
                add((lot, p, o))
            if lot_class in (CMC.DrugSubstanceBatch, CMC.DrugProductBatch):
                add((lot, CMC.ofProduct, self.mint("product", ISSUER, "mAb-1")))
                add((lot, CMC.manufactureDate, Literal(ends[:10], datatype=XSD.date)))
            record.locate(run, f"row={step + 2}")
            record.locate(lot, f"row={step + 2}")
            for concept, unit, mean, sd in parameters:
                self.measurement(record, run, concept, unit, mean, sd, CMCT.InProcess, ends, index)
                index += 1
            if lot_class == CMC.DrugSubstanceBatch:
                sample = self.mint("sample", ISSUER, number, "release")
                for p, o in [
                    (RDF.type, CMC.Sample),
                    (CMC.identifier, Literal(f"S-{number}")),
                    (CMC.sampleOf, lot),
                ]:
                    add((sample, p, o))
                record.locate(sample, f"row={step + 2}")
                for concept, unit, mean, sd in RELEASE:
                    value = hmw if concept == CMCT.HighMolecularWeightSpecies else None
                    self.measurement(
                        record,
                        sample,
                        concept,
                        unit,
                        mean,
                        sd,
                        CMCT.Release,
                        _iso(start + 12 * 86_400),
                        index,
                        value,
                    )
                    index += 1
            previous = lot
        return record


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _pyshacl_baseline(path: str, queue: multiprocessing.Queue) -> None:
    """Plain pyshacl on an rdflib graph of the same triples (run in a child process)."""
    from pyshacl import validate

    data = Graph()
    started = time.perf_counter()
    data.parse(path, format="nt")
    loaded = time.perf_counter()
    shapes = Graph().parse(Path(path).with_suffix(".shapes.ttl"), format="turtle")
    ontology = Graph().parse(ontology_path(), format="turtle")
    _, report, _ = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, inplace=True
    )
    results = len(set(report.subjects(RDF.type, SH.ValidationResult)))
    queue.put((loaded - started, time.perf_counter() - loaded, results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=4300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        default=1800.0,
        help="stop plain pyshacl after this many seconds (0: skip it)",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the store and data in DIR")
    args = parser.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cmckg-validate-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple] = []
    try:
        generator = Generator(args.seed)
        started = time.perf_counter()
        records = generator.master()
        excursions = set(generator.rng.sample(range(args.batches), max(1, args.batches // 300)))
        records += [
            generator.batch(n, 3.4 if n in excursions else None) for n in range(args.batches)
        ]
        generated = time.perf_counter() - started
        triples = sum(len(r.triples) for r in records)
        print(
            f"generated {len(records)} record graphs, {triples:,} triples in {generated:.1f} s "
            f"({len(excursions)} planted HMW excursions)",
            file=sys.stderr,
        )

        store = open_store(f"oxigraph:{work / 'store'}")
        started = time.perf_counter()
        ingest_records(store, records, generator.minter)
        print(f"ingested in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        full = validate_store(store, generator.minter, full=True)
        rows.append(
            (
                "cmckg validate --full",
                full.seconds,
                full.triples,
                full.focus_nodes,
                len(full.results),
                full.counts(),
            )
        )

        started = time.perf_counter()
        ingest_records(store, [generator.batch(args.batches, 3.6)], generator.minter)
        one = time.perf_counter() - started
        incremental = validate_store(store, generator.minter)
        rows.append(("ingest one batch", one, None, None, None, None))
        rows.append(
            (
                "cmckg validate (incremental)",
                incremental.seconds,
                incremental.triples,
                incremental.focus_nodes,
                len(incremental.results),
                incremental.counts(),
            )
        )

        if args.baseline_timeout > 0:
            # the same data cmckg validates: the records, the term schemes and the unit facts
            dump = work / "data.nt"
            data = DataGraph()
            for record in records:
                data.add_graph(record.triples.to_graph())
            data.add_graph(terms())
            data.add_unit_facts()
            data.native.dump(str(dump), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
            store_shapes(store).serialize(dump.with_suffix(".shapes.ttl"), format="turtle")
            queue: multiprocessing.Queue = multiprocessing.Queue()
            child = multiprocessing.Process(target=_pyshacl_baseline, args=(str(dump), queue))
            started = time.perf_counter()
            child.start()
            child.join(args.baseline_timeout)
            elapsed = time.perf_counter() - started
            if child.is_alive():
                child.terminate()
                child.join()
                rows.append(
                    (
                        f"plain pyshacl.validate (stopped at {args.baseline_timeout:.0f} s)",
                        elapsed,
                        triples,
                        None,
                        None,
                        None,
                    )
                )
            else:
                load, run, results = queue.get()
                rows.append(
                    (
                        "plain pyshacl.validate (rdflib, load excluded)",
                        run,
                        triples,
                        None,
                        results,
                        None,
                    )
                )
                rows.append(("  its N-Triples load into rdflib", load, triples, None, None, None))
        store.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nValidation on a generated store ({args.batches:,} batches)\n")
    print(
        f"{'run':<52} {'seconds':>9} {'triples':>11} {'triples/s':>10} {'focus':>8} {'results':>8}"
    )
    for label, seconds, count, focus, results, _ in rows:
        rate = f"{count / seconds:,.0f}" if count and seconds else ""
        if label.startswith("plain pyshacl.validate (stopped") and rate:
            rate = "< " + rate
        print(
            f"{label:<52} {seconds:>9.2f} {count or '':>11} {rate:>10} "
            f"{'' if focus is None else focus:>8} {'' if results is None else results:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
