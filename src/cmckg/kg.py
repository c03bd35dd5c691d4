"""The Python API: ``KnowledgeGraph.open(location)`` and what you do with it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from rdflib import Dataset

from . import queries
from .audit import Change, HistoryEntry, VerifyReport, history, verify
from .build import Record
from .errors import ConfigError, StoreError
from .ingest import IngestReport, ProgressCallback, ingest, ingest_records
from .mappers import MAPPERS, RecordGraph, unknown_format
from .schemas import load_yaml_with_lines, validate_document
from .stores import Store, open_store
from .uservocab import Vocabulary, vocabularies_in_force
from .vocab import CMC, IriMinter, bind_prefixes

if TYPE_CHECKING:
    from .comparability import ComparisonResult
    from .cpv import ControlChart
    from .dossier import Dossier
    from .drivers import DriversResult
    from .lineage import Direction, Lineage
    from .validate import ValidationReport

_STATS_CLASSES = {
    CMC.RecordGraph: "record graphs",
    CMC.SupersededRevision: "superseded revisions",
    CMC.Product: "products",
    CMC.Site: "sites",
    CMC.Supplier: "suppliers",
    CMC.Material: "materials",
    CMC.RawMaterialLot: "raw-material lots",
    CMC.IntermediateLot: "intermediate lots",
    CMC.DrugSubstanceBatch: "drug-substance batches",
    CMC.DrugProductBatch: "drug-product batches",
    CMC.ProcessRun: "process runs",
    CMC.Sample: "samples",
    CMC.Measurement: "measurements",
    CMC.Specification: "specifications",
}


def load_mapping(mapping: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A mapping config from a YAML file path, or as given if already a mapping."""
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    path = Path(mapping)
    try:
        loaded, lines = load_yaml_with_lines(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the mapping: {exc.strerror}", str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", str(path)) from exc
    if not isinstance(loaded, dict):
        raise ConfigError("a mapping file must hold a YAML mapping at the top level", str(path))
    name = loaded.get("mapper")
    if name is not None and name not in MAPPERS:  # before the schema, which would ask for tables
        line = lines.get(("mapper",))
        raise ConfigError(unknown_format(str(name)), str(path), f"line {line}", "mapper")
    validate_document(loaded, "mapping", str(path), lines)
    loaded.setdefault("__file__", str(path))
    return loaded


class KnowledgeGraph:
    """One CMC knowledge graph over a store (embedded Oxigraph by default)."""

    def __init__(
        self, store: Store, minter: IriMinter | None = None, vocab: Iterable[str | Path] = ()
    ) -> None:
        self.store = store
        self.minter = minter or IriMinter()
        self.vocab = [Path(v) for v in vocab]

    @classmethod
    def open(
        cls,
        location: str | Path | None = None,
        *,
        read_only: bool = False,
        base_iri: str | None = None,
        vocab: Iterable[str | Path] = (),
    ) -> KnowledgeGraph:
        """Open ``memory:``, an Oxigraph directory (default ``./cmckg-store`` or
        ``$CMCKG_STORE``), or a SPARQL endpoint URL. ``vocab`` names project vocabulary files
        questions resolve terms and units through, besides those the store holds."""
        minter = IriMinter(base_iri) if base_iri else IriMinter()
        return cls(open_store(location, read_only=read_only), minter, vocab)

    @contextmanager
    def vocabulary(self) -> Iterator[list[Vocabulary]]:
        """Within the block, terms and units resolve through the project vocabularies the
        store holds and those given to ``open``."""
        with vocabularies_in_force(self.store, self.vocab, self.minter.base) as given:
            yield given

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ingest(
        self,
        sources: str | Path | Iterable[str | Path],
        mapping: str | Path | Mapping[str, Any] | None = None,
        *,
        format: str | None = None,
        progress: ProgressCallback | None = None,
        vocab: Iterable[str | Path] = (),
        each: bool = False,
        by: str | None = None,
        reason: str | None = None,
    ) -> IngestReport:
        """Map and load sources; all-or-nothing (``each``: file by file, a refused file named
        in ``report.refused``), and unchanged records are left alone. Terms and units resolve
        through the stored project vocabularies and ``vocab`` files (stored with the records).
        The change is recorded in the audit trail for ``by`` (default ``$CMCKG_USER`` or the
        operating-system user) with ``reason``."""
        change = Change.begin(by, reason)
        if isinstance(sources, str | Path):
            sources = [sources]
        return ingest(
            self.store,
            sources,
            self.minter,
            load_mapping(mapping),
            format,
            progress,
            [*self.vocab, *vocab],
            change,
            each=each,
        )

    def ingest_records(
        self,
        records: Iterable[RecordGraph | Record],
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> IngestReport:
        """Load records made in code (``cmckg.build.Record``, or mapper ``RecordGraph``s) the
        way ``ingest`` loads files: all-or-nothing, unchanged records left alone, the change
        recorded for ``by`` with ``reason``."""
        change = Change.begin(by, reason)
        graphs = []
        for r in records:
            if isinstance(r, Record):
                if r.minter.base != self.minter.base:
                    raise ConfigError(
                        f"record '{r.record_id}' mints IRIs under {r.minter.base}, this graph "
                        f"under {self.minter.base}: build it with Record(..., minter=kg.minter)"
                    )
                r = r.to_record_graph()
            graphs.append(r)
        return ingest_records(self.store, graphs, self.minter, change=change)

    def reindex(self, progress: ProgressCallback | None = None) -> tuple[int, int]:
        """Rebuild the derived analytics layer from the records (``cmckg.analytics``) in one
        change set: for a store written before the layer existed, or loaded around ingest.
        Returns (graphs written, stale graphs dropped)."""
        from .analytics import rebuild

        return rebuild(self.store, self.minter, progress)

    def verify(self) -> VerifyReport:
        """Check every record graph, superseded revision and change set against the audit
        trail's hashes (``report.findings`` lists what was altered outside cmckg)."""
        return verify(self.store, self.minter)

    def history(self, target: str) -> list[HistoryEntry]:
        """Every revision of the record graphs ``target`` names (record graph IRI, record id,
        or lot, run or sample), with who, why, when and the triples added and removed."""
        return history(self.store, self.minter, target)

    def query(self, sparql_or_name: str, **params: object) -> pd.DataFrame:
        """Run a saved query (by name, parameters as keywords) or SPARQL text."""
        return queries.to_dataframe(queries.run(self.store, sparql_or_name, params))

    def lineage(
        self,
        id_or_iri: str,
        direction: Direction = "backward",
        depth: int | None = None,
        kind: str | None = None,
        material: str | None = None,
        supplier: str | None = None,
    ) -> Lineage:
        """Every run and lot upstream (backward) or downstream (forward) of a lot, run or sample;
        an ambiguous identifier is narrowed by ``kind``, ``material`` or ``supplier``."""
        self.require_trusted_answers()
        from .lineage import lineage

        with self.vocabulary():
            return lineage(self.store, id_or_iri, direction, depth, kind, material, supplier)

    def dossier(
        self,
        lot: str,
        *,
        validation: ValidationReport | None = None,
        kind: str | None = None,
        material: str | None = None,
        supplier: str | None = None,
    ) -> Dossier:
        """Everything known about one lot and what went into it, each fact traced to its
        source file, row and record revision; ``validation`` (a report, e.g. from
        ``kg.validate(full=True, record=False)``) supplies the open validation results.
        ``.to_html()`` writes the self-contained page, ``.to_jsonld()`` the JSON-LD."""
        from .dossier import dossier

        return dossier(
            self.store,
            lot,
            minter=self.minter,
            validation=validation,
            kind=kind,
            material=material,
            supplier=supplier,
        )

    def compare(
        self,
        attributes: Sequence[str] | str | None,
        reference: str | Mapping[str, str],
        test: str | Mapping[str, str],
        *,
        method: str = "quality-range",
        k: float = 3.0,
        margin: float = 1.5,
        all_cqas: bool = False,
        coverage: float = 0.90,
        confidence: float = 0.99,
        censored: str = "exclude",
        source: str = "layer",
    ) -> ComparisonResult:
        """Compare test batches with reference batches (filters such as ``site=Site-A``) by
        quality range, TOST equivalence or tolerance interval, per attribute. ``source``: the
        analytics layer (default) or ``records`` (the saved queries over the records)."""
        self.require_trusted_answers()
        from .comparability import compare

        with self.vocabulary():
            return compare(
                self.store,
                attributes,
                reference,
                test,
                method=method,
                k=k,
                margin=margin,
                all_cqas=all_cqas,
                coverage=coverage,
                confidence=confidence,
                censored=censored,
                source=source,
            )

    def drivers(
        self,
        pqa: str,
        material: str | None = None,
        method: str = "spearman",
        stage: str | None = None,
        source: str = "layer",
    ) -> DriversResult:
        """Rank raw-material lot attributes (joined through lineage) against a batch PQA."""
        self.require_trusted_answers()
        from .drivers import drivers

        with self.vocabulary():
            return drivers(
                self.store, pqa, material=material, method=method, stage=stage, source=source
            )

    def summary(
        self,
        attributes: Sequence[str] | str,
        by: str | Sequence[str] | None = None,
        material: str | None = None,
        censored: str = "exclude",
        source: str = "layer",
    ) -> pd.DataFrame:
        """n, mean, SD, min, max, unit (and Ppk/Cpk against specifications) per group;
        censored results are counted and left out unless ``censored`` substitutes them."""
        self.require_trusted_answers()
        from .summary import summary

        with self.vocabulary():
            return summary(
                self.store, attributes, by=by, material=material, censored=censored, source=source
            )

    def control_chart(
        self,
        attribute: str,
        product: str,
        *,
        stage: str | None = None,
        kind: str | None = None,
        baseline: str | tuple[str, str] | None = None,
        baseline_n: int | None = None,
        rules: str = "nelson",
        by: str | None = None,
        source: str = "layer",
    ) -> ControlChart:
        """I-MR control chart of an attribute over a product's batches in date order, limits
        from a baseline (``FIRST:LAST`` identifiers or dates, or the first ``baseline_n``,
        default 30), Nelson or Western Electric run rules (``rules``: nelson, weco, ``1,2,5``),
        Ppk per window and per site and process version; ``by``: one chart per site or
        process version."""
        self.require_trusted_answers()
        from .cpv import control_chart

        return control_chart(
            self.store,
            attribute,
            product,
            stage=stage,
            kind=kind,
            baseline=baseline,
            baseline_n=baseline_n,
            rules=rules,
            by=by,
            source=source,
        )

    def validate(
        self,
        *,
        full: bool = False,
        record: bool = True,
        shapes: Sequence[str | Path] = (),
    ) -> ValidationReport:
        """SHACL-validate the records changed since the last validation (all with ``full``);
        ``record`` keeps the validation state in the store for the next incremental run."""
        self.require_trusted_answers()
        from .validate import validate_store

        with self.vocabulary():
            return validate_store(self.store, self.minter, full=full, record=record, shapes=shapes)

    def require_trusted_answers(self) -> None:
        """Stop with the store's reason if its answers to these questions cannot be trusted."""
        reason = self.store.limitation()
        if reason:
            raise StoreError(reason, getattr(self.store, "location", None))

    @property
    def graph(self) -> Dataset:
        """An rdflib view of the store (live for Oxigraph and memory stores), for reading:
        writes through it bypass ingest and ``Store.revision``, so names cmckg keeps per
        revision (``attributes.reference_nodes``) would not see them."""
        native = getattr(self.store, "dataset", None)
        if native is not None:
            return native
        ox_store = getattr(self.store, "native", None)
        if ox_store is None:
            raise ConfigError("an rdflib view is only available for embedded stores")
        from oxrdflib import OxigraphStore as RdflibOxigraph

        return Dataset(store=RdflibOxigraph(store=ox_store), default_union=True)

    def stats(self) -> pd.DataFrame:
        """Counts a scientist recognises: record graphs, lots by kind, runs, measurements."""
        found = self.query(
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
            "SELECT ?class (COUNT(DISTINCT ?x) AS ?count) WHERE { "
            f"VALUES ?class {{ {' '.join(f'<{c}>' for c in _STATS_CLASSES)} }} ?x a ?class }} "
            "GROUP BY ?class"
        )
        counts = dict(zip(found["class"], found["count"], strict=True))
        rows = [
            {"what": what, "count": int(counts.get(str(c), 0))}
            for c, what in _STATS_CLASSES.items()
        ]
        rows.append({"what": "quads", "count": self.store.count_quads()})
        return pd.DataFrame(rows)

    def export(self, fmt: str = "trig") -> bytes:
        """Serialise the whole store (every named graph) as TriG, N-Quads, Turtle or JSON-LD
        (compacted with the published context, ``ontology/context.jsonld``)."""
        self.require_trusted_answers()
        formats = {"trig": "trig", "nquads": "nquads", "turtle": "turtle", "jsonld": "json-ld"}
        if fmt not in formats:
            raise ConfigError(f"unknown export format '{fmt}'; choose from {', '.join(formats)}")
        dataset = Dataset()
        bind_prefixes(dataset)
        for s, p, o, g in self.store.quads():
            if fmt == "turtle":
                dataset.default_graph.add((s, p, o))
            else:
                dataset.add((s, p, o, g or dataset.default_graph.identifier))
        if fmt == "jsonld":
            from .present.jsonld import serialize

            return serialize(dataset)
        target = dataset.default_graph if fmt == "turtle" else dataset
        return target.serialize(format=formats[fmt], encoding="utf-8")
