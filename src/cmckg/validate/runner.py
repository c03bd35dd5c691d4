"""The runs: collect the data, run pyshacl over it with the static and specification shapes,
read and trace the results, and record the state (see :mod:`cmckg.validate`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyshacl import validate as pyshacl_validate
from pyshacl.errors import ReportableRuntimeError, ShapeLoadError, ValidationFailure
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH, XSD
from rdflib.term import Identifier

from ..errors import ConfigError
from ..resources import ontology_path, term_files
from ..stores import Store, open_store
from ..vocab import IriMinter, bind_prefixes
from .data import DataGraph, add_neighbourhood, load_derived, load_graphs, mentioned
from .peers import peer_gaps
from .plausibility import (
    PlausibilityCheck,
    checks_digest,
    plausibility_checks,
    plausibility_shapes,
    read_ranges,
)
from .results import Severity, ValidationReport, ValidationResult
from .shapes import files_digest, ontology, shape_files, static_shapes, terms
from .specifications import (
    Specification,
    latest_specifications,
    read_specifications,
    specification_shapes,
)
from .state import (
    StoredResults,
    open_results,
    record_state,
    record_states,
    some_record_unchanged,
    stored_state,
)
from .tracing import sort_key, trace


def _run_pyshacl(
    data: Graph, shapes: Graph, focus: Sequence[URIRef] | None
) -> list[ValidationResult]:
    """Validate ``data`` (modified in place: the ontology is mixed in) and read the results."""
    try:
        _, results_graph, _ = pyshacl_validate(
            data,
            shacl_graph=shapes,
            ont_graph=ontology(),
            inference="none",
            advanced=True,
            inplace=True,
            allow_infos=False,
            allow_warnings=False,
            focus_nodes=list(focus) if focus is not None else None,
        )
    except (ShapeLoadError, ReportableRuntimeError, ValidationFailure) as exc:
        raise ConfigError(f"the shapes cannot be used: {exc}") from exc
    if isinstance(results_graph, ValidationFailure):  # pyshacl returns some failures
        raise ConfigError(f"the shapes cannot be used: {results_graph}")
    return _read_results(results_graph, shapes)


def _read_results(report: Graph, shapes: Graph) -> list[ValidationResult]:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(node, SH.sourceShape)
        path = report.value(node, SH.resultPath)
        messages = sorted({str(m) for m in report.objects(node, SH.resultMessage)})
        results.append(
            ValidationResult(
                severity=Severity.from_iri(report.value(node, SH.resultSeverity)),
                focus=report.value(node, SH.focusNode),
                path=path,
                value=_plain(report.value(node, SH.value)),
                shape=shape,
                shape_label=_shape_label(shapes, shape),
                constraint=report.value(node, SH.sourceConstraintComponent),
                message="; ".join(messages) or _shape_label(shapes, shape),
                path_triples=tuple(_bnode_closure(report, path)) if isinstance(path, BNode) else (),
            )
        )
    return results


def _plain(term: Identifier | None) -> Identifier | None:
    """A literal as the store gives it back: xsd:string literals plain (RDF 1.1 equates them)."""
    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


def _shape_label(shapes: Graph, shape: Identifier | None) -> str:
    if shape is None:
        return ""
    label = shapes.value(shape, RDFS.label)
    if label is None:
        parent = shapes.value(None, SH.property, shape)
        label = shapes.value(parent, RDFS.label) if parent is not None else None
    if label is None:
        return str(shape) if isinstance(shape, URIRef) else ""
    return str(label)


def _bnode_closure(graph: Graph, node: BNode) -> Iterator[tuple]:
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for s, p, o in graph.triples((current, None, None)):
            yield s, p, o
            if isinstance(o, BNode):
                stack.append(o)


def _shapes_digest(
    extra: Sequence[str | Path],
    specs: Sequence[Specification],
    checks: Sequence[PlausibilityCheck],
) -> str:
    digest = hashlib.sha256(
        files_digest([*shape_files(extra), ontology_path(), *term_files()]).encode()
    )
    for spec in latest_specifications(specs):
        digest.update(repr(spec).encode())
    digest.update(checks_digest(checks).encode())
    return digest.hexdigest()


@dataclass
class ValidationRun:
    """A finished run whose state is not recorded yet: the CLI records it only after its
    report was written, so a run that could not deliver its report leaves no trace."""

    report: ValidationReport
    _record: Callable[[], None] | None

    def record(self) -> None:
        """Write the validation state (the checked records, the open results, the run)."""
        if self._record is None:
            raise ConfigError("this validation run cannot be recorded (read-only store)")
        self._record()
        self._record = None


def validate_store(
    store: Store,
    minter: IriMinter | None = None,
    *,
    full: bool = False,
    record: bool = True,
    shapes: Sequence[str | Path] = (),
) -> ValidationReport:
    """Validate the store: incrementally (record graphs changed since the last run, plus what
    they reference) unless ``full``; ``record`` writes the validation state and the generated
    specification shapes back to the store (skipped for a read-only store)."""
    run = run_validation(store, minter, full=full, shapes=shapes)
    if record and not store.read_only:
        run.record()
    return run.report


def run_validation(
    store: Store,
    minter: IriMinter | None = None,
    *,
    full: bool = False,
    shapes: Sequence[str | Path] = (),
) -> ValidationRun:
    """Validate the store (see :func:`validate_store`) without recording the state yet.

    An incremental run reports, besides the results of the records it checks, every result
    still open from earlier runs (kept in the validation state) that is not about a node it
    checked again: a known violation stays reported until the data that caused it changes."""
    started = time.perf_counter()
    minter = minter or IriMinter()
    specs = read_specifications(store)
    checks = plausibility_checks(read_ranges(store))
    spec_shapes = specification_shapes(specs)
    generated = spec_shapes + plausibility_shapes(checks)
    shape_graph = static_shapes(shapes) + generated
    digest = _shapes_digest(shapes, specs, checks)
    stored_digest, current = stored_state(store, minter)

    note = None
    if not full and stored_digest is None:
        full, note = True, "no earlier validation is recorded"
    if not full and stored_digest != digest:
        full, note = True, "the shapes or specifications changed since the last validation"
    if not full and not current:
        full, note = True, "the recorded validation state is from an older cmckg"
    if full:
        states = record_states(store, minter)
    else:
        states = record_states(store, minter, pending=True)
        if states and not some_record_unchanged(store, minter):
            full, note = True, "every record graph changed"
    selected = sorted(states)

    data = DataGraph()
    core = mentioned(load_graphs(store, selected, data))
    focus: list[URIRef] | None = None
    if full:
        load_derived(store, minter.base, data)
        focus_count = len(data.typed_record_nodes())
    else:
        add_neighbourhood(store, core, data)
        focus = sorted(data.typed_record_nodes(core))
        focus_count = len(focus)
    triples = len(data)
    results: list[ValidationResult] = []
    if focus_count:
        data.add_graph(terms())
        data.add_property_labels()
        data.add_unit_facts()
        results = _run_pyshacl(data.rdflib_graph(), shape_graph, focus)
        results += peer_gaps(store, focus)
    results = trace(store, minter, results, {g: s.info for g, s in states.items()})
    before = open_results(store, minter)
    carried = [] if full else _still_open(before, set(selected), set(focus or ()))
    results = sorted(results + carried, key=sort_key)
    report = ValidationReport(
        results=results,
        records=[states[g].info for g in selected],
        mode="full" if full else "incremental",
        focus_nodes=focus_count,
        triples=triples,
        shapes=len(
            set(shape_graph.subjects(RDF.type, SH.NodeShape))
            | set(shape_graph.subjects(RDF.type, SH.PropertyShape))
        ),
        specification_shapes=len(set(spec_shapes.objects(None, PROV.wasDerivedFrom))),
        seconds=time.perf_counter() - started,
        note=note,
        carried=len(carried),
    )

    def write_state() -> None:
        record_state(
            store,
            minter,
            {g: states[g] for g in selected},
            digest,
            stored_digest,
            generated,
            results,
            before,
        )

    return ValidationRun(report, None if store.read_only else write_state)


def _still_open(
    before: Mapping[URIRef, StoredResults],
    checked: set[URIRef],
    focus: set[URIRef],
) -> list[ValidationResult]:
    """The kept results this run did not decide again: not held by a record graph it checked,
    not about one of its focus nodes."""
    return [
        r
        for g, stored in before.items()
        if g not in checked
        for r in stored.results
        if r.focus not in focus
    ]


def store_shapes(store: Store, shapes: Sequence[str | Path] = ()) -> Graph:
    """Every shape a validation of ``store`` uses: the static ones and the generated ones."""
    graph = (
        static_shapes(shapes)
        + specification_shapes(read_specifications(store))
        + plausibility_shapes(plausibility_checks(read_ranges(store)))
    )
    graph.bind("sh", SH)
    graph.bind("cmcsh", "https://w3id.org/cmckg/shapes#")
    return graph


def validate_sources(
    sources: Iterable[str | Path],
    mapping: Mapping[str, Any] | None = None,
    format_name: str | None = None,
    minter: IriMinter | None = None,
    shapes: Sequence[str | Path] = (),
    export_shapes: str | Path | None = None,
    vocab: Sequence[str | Path] = (),
) -> ValidationReport:
    """Map source files in memory (no store on disk) and validate all of them, with the
    project vocabularies ``vocab`` and the mapping's ``vocab:`` names; with ``export_shapes``,
    also write every shape used (generated ones included) there as Turtle."""
    from ..ingest import ingest
    from ..uservocab import vocabularies_in_force

    minter = minter or IriMinter()
    store = open_store("oxigraph:memory")
    try:
        ingest(store, sources, minter, mapping, format_name, vocab=vocab)
        with vocabularies_in_force(store, (), minter.base):
            report = validate_store(store, minter, full=True, record=False, shapes=shapes)
        if export_shapes is not None:
            _write_turtle(store_shapes(store, shapes), Path(export_shapes))
    finally:
        store.close()
    report.mode = "files"
    report.note = None
    return report


def _write_turtle(graph: Graph, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        bind_prefixes(graph).serialize(partial, format="turtle")
        partial.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write the shapes: {exc.strerror}", str(path)) from exc
