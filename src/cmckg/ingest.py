"""Ingest: map sources to record graphs, diff against the store, apply as one change set.

Mapping happens completely before anything is written, so a bad input leaves the store as it
was. Unchanged records are skipped (re-ingest is a no-op); a changed record replaces its graph
and its previous content is kept as a superseded revision in the metadata graph. Every ingest
that changes something is recorded as one change set of the audit trail (``cmckg.audit``).

Size (about 650 lines, over the ~600 the house rules allow): one flow — map, diff against the
store, plan replacements, revisions, vocabulary graphs and derived layers, write once — whose
steps all add to the same ``ChangeSet``; the derived layers live in their own modules
(``derivation``, ``audit``, the analytics hook) and are called from here.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from . import __version__, ntriples
from .analytics import plan_analytics
from .audit import Change, date_literal, record_change_set, utc_now
from .derivation import LineageGap, plan_derivations
from .errors import ConfigError, MappingError
from .mappers import MapContext, RecordGraph, file_sha256, mapper_for
from .mappers.base import RecordTriples
from .resources import ontology_path, term_files
from .stores import ChangeSet, Store
from .stores.terms import batches, to_sparql, values_clause
from .uservocab import Vocabulary, mapping_vocabulary_files, vocabularies_in_force
from .vocab import CMC, IriMinter

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class SourceSummary:
    path: str
    mapper: str
    sha256: str = ""
    records: int = 0
    triples: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """A source ``ingest_each`` refused, and why (the one-line error)."""

    path: str
    reason: str


@dataclass
class IngestReport:
    sources: list[SourceSummary] = field(default_factory=list)
    vocabularies: list[SourceSummary] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.sources)

    @property
    def triples(self) -> int:
        return sum(s.triples for s in self.sources)

    @property
    def changed(self) -> int:
        """Records and project vocabularies added, replaced or superseded."""
        return sum(s.added + s.replaced + s.superseded for s in (*self.sources, *self.vocabularies))

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.sources for w in s.warnings]

    def warning_kinds(self) -> list[WarningKind]:
        """The warnings grouped by kind (their message with the place, quoted values and
        numbers left out), most frequent first."""
        kinds: dict[str, WarningKind] = {}
        for warning in self.warnings:
            key = warning_kind(warning)
            if key not in kinds:
                kinds[key] = WarningKind(key, 0, warning)
            kinds[key].count += 1
        return sorted(kinds.values(), key=lambda k: (-k.count, k.kind))


@dataclass
class WarningKind:
    kind: str
    count: int
    example: str


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def warning_kind(warning: str) -> str:
    """A warning's kind: its message after the place (``file row=N, field 'x': ``), with quoted
    values shown as '…' and numbers as N."""
    _, sep, message = warning.partition(": ")
    return _NUMBER.sub("N", _QUOTED.sub("'…'", message if sep else warning))


def content_sha256(triples: Iterable[tuple]) -> str:
    """Hash of a record's triples, independent of order (records hold no blank nodes): sha256
    of their sorted N-Triples lines. ValueError for a term N-Triples cannot carry."""
    if isinstance(triples, RecordTriples):
        return ntriples.digest(triples.nt_lines())
    return ntriples.digest(sorted(ntriples.triple_lines(triples)))


def _digest(record: RecordGraph, path: str) -> str:
    try:
        return content_sha256(record.triples)
    except ValueError as exc:
        raise MappingError(f"record '{record.record_id}': {exc}", path) from exc


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records are built and written.

    Mapping makes millions of small objects without reference cycles; every full collection
    walks all live ones, which took about two thirds of the mapping time of the Žagar table.
    Reference counting still frees them; the collector runs again afterwards. Free what was
    mapped before the block ends: the collector's first pass after it walks every object made
    during the block that is still alive (0.8 s of GC in the N = 1,000 benchmark ingest when
    the mapped records were still held).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@_gc_paused()
def map_sources(
    sources: Iterable[str | Path],
    minter: IriMinter,
    mapping: Mapping[str, Any] | None = None,
    format_name: str | None = None,
    progress: ProgressCallback | None = None,
) -> list[tuple[SourceSummary, list[RecordGraph], str]]:
    """Map every source (pure, no store). Raises MappingError on the first bad input."""
    paths = list(dict.fromkeys(Path(s) for s in sources))  # a file named twice maps once
    mapped = []
    for index, path in enumerate(paths):
        if progress:
            progress(str(path), index, len(paths))
        if not path.is_file():
            raise MappingError("no such file (or it is a directory)", str(path))
        try:
            mapped.append(_map_source(path, minter, mapping, format_name))
        except OSError as exc:  # unreadable (permissions), vanished, or a read error
            raise MappingError(f"cannot read the file: {exc.strerror or exc}", str(path)) from None
    if progress:
        progress("", len(paths), len(paths))
    return mapped


def _map_source(
    path: Path, minter: IriMinter, mapping: Mapping[str, Any] | None, format_name: str | None
) -> tuple[SourceSummary, list[RecordGraph], str]:
    mapper = mapper_for(path, format_name, mapping)
    sha = file_sha256(path)
    context = MapContext(minter=minter, source_path=path, source_sha256=sha)
    records = list(mapper.map(context, mapping))
    summary = SourceSummary(str(path), mapper.name, sha256=sha, records=len(records))
    for record in records:
        summary.triples += len(record.triples)
        summary.warnings.extend(record.warnings)
    return summary, records, f"{mapper.name}@{mapper.version}"


def ingest(
    store: Store,
    sources: Iterable[str | Path],
    minter: IriMinter,
    mapping: Mapping[str, Any] | None = None,
    format_name: str | None = None,
    progress: ProgressCallback | None = None,
    vocab: Iterable[str | Path] = (),
    change: Change | None = None,
    *,
    each: bool = False,
) -> IngestReport:
    """Map ``sources`` and write what changed to ``store`` in one atomic change set, recorded
    in the audit trail for ``change`` (who and why; default: ``cmckg.audit.who()``, no reason).

    Terms and units resolve through the bundled vocabulary, the project vocabularies stored
    before, and the files ``vocab`` and the mapping's ``vocab:`` name (stored with the records).
    ``each``: one file at a time, each all-or-nothing: a file that cannot be mapped is refused
    (``report.refused`` says why) and the others land; a bad vocabulary file or mapping stops
    everything before any file is written.
    """
    store.check_writable()
    files = [*vocab, *mapping_vocabulary_files(mapping)]
    if each:
        with vocabularies_in_force(store, files, minter.base):
            pass  # validate the vocabularies once, before any file
        return _file_by_file(
            sources,
            progress,
            lambda path: ingest(store, [path], minter, mapping, format_name, None, vocab, change),
        )
    with vocabularies_in_force(store, files, minter.base) as given, _gc_paused():
        mapped = map_sources(sources, minter, mapping, format_name, progress)
        report = _write(store, minter, mapped, given, change)
        del mapped  # freed while the collector still waits (see _gc_paused)
    return report


def _file_by_file(
    sources: Iterable[str | Path],
    progress: ProgressCallback | None,
    ingest_one: Callable[[Path], IngestReport],
) -> IngestReport:
    """``ingest_one`` for each source, the refused ones named in the report."""
    report = IngestReport()
    paths = list(dict.fromkeys(Path(s) for s in sources))
    for index, path in enumerate(paths):
        if progress:
            progress(str(path), index, len(paths))
        try:
            done = ingest_one(path)
        except (MappingError, ConfigError) as exc:
            report.refused.append(Refusal(str(path), str(exc)))
            continue
        report.sources += done.sources
        report.vocabularies += [v for v in done.vocabularies if v.added or v.replaced]
    if progress:
        progress("", len(paths), len(paths))
    return report


def ingest_groups(
    store: Store,
    groups: Iterable[tuple[Iterable[str | Path], Mapping[str, Any] | None]],
    minter: IriMinter,
    progress: ProgressCallback | None = None,
    vocab: Iterable[str | Path] = (),
    change: Change | None = None,
) -> IngestReport:
    """Map several groups of sources, each with its own mapping (None: detected from content),
    and write them as ONE atomic change set: a runs table and a run-inputs table in one go."""
    store.check_writable()
    groups = [(list(sources), mapping) for sources, mapping in groups]
    files = [*vocab, *(f for _, mapping in groups for f in mapping_vocabulary_files(mapping))]
    with vocabularies_in_force(store, files, minter.base) as given, _gc_paused():
        mapped = [
            entry
            for sources, mapping in groups
            for entry in map_sources(sources, minter, mapping, None, progress)
        ]
        report = _write(store, minter, mapped, given, change)
        del mapped  # freed while the collector still waits (see _gc_paused)
    return report


def ingest_records(
    store: Store,
    records: Iterable[RecordGraph],
    minter: IriMinter,
    mapper: str = "build",
    change: Change | None = None,
) -> IngestReport:
    """Write record graphs made in code (``cmckg.build``) like mapped files: same planning,
    revisions and atomic change set. Records are grouped by their ``source_path``; a source's
    sha256 is the hash of its records' content."""
    store.check_writable()
    change = change or Change.begin()
    by_source: dict[str, list[RecordGraph]] = {}
    for record in records:
        by_source.setdefault(record.source_path, []).append(record)
    mapped = []
    for path, group in by_source.items():
        for record in group:
            _digest(record, path)  # refuses a term N-Triples cannot carry, naming the record
        lines = sorted(line for record in group for line in record.triples.nt_lines())
        summary = SourceSummary(
            path,
            mapper,
            sha256=ntriples.digest(lines),
            records=len(group),
            triples=sum(len(r.triples) for r in group),
            warnings=[w for r in group for w in r.warnings],
        )
        mapped.append((summary, group, f"{mapper}@{__version__}"))
    return _write(store, minter, mapped, change=change)


@_gc_paused()
def _write(
    store: Store,
    minter: IriMinter,
    mapped: list[tuple[SourceSummary, list[RecordGraph], str]],
    vocabularies: list[Vocabulary] | None = None,
    change: Change | None = None,
) -> IngestReport:
    _check_unique_graphs(mapped)
    now = date_literal(utc_now())
    changes = ChangeSet()
    stored_records = _has_records(store, minter)
    _plan_vocabulary(store, minter, changes, now, stored_records)
    report = IngestReport()
    for vocabulary in vocabularies or []:
        report.vocabularies.append(
            _plan_project_vocabulary(store, minter, vocabulary, changes, now, stored_records)
        )
    written = {record.graph_iri for _, records, _ in mapped for record in records}
    for summary, records, mapper_id in mapped:
        _plan_source(
            store, minter, summary, records, mapper_id, changes, now, written, stored_records
        )
        report.sources.append(summary)
    _report_gaps(plan_derivations(store, minter, changes, stored_records), mapped)
    plan_analytics(store, minter, changes, stored_records)
    record_change_set(store, minter, changes, change or Change.begin(), now)
    store.apply(changes)
    return report


def _report_gaps(
    gaps: list[LineageGap],
    mapped: list[tuple[SourceSummary, list[RecordGraph], str]],
    shown: int = 5,
) -> None:
    """Say where lineage stops, as warnings of the source that wrote the stopping node (the
    first ``shown`` per source, then how many more)."""
    source_of = {record.graph_iri: summary for summary, records, _ in mapped for record in records}
    per_source: dict[int, list[LineageGap]] = {}
    for gap in gaps:
        summary = source_of.get(gap.graph) or (mapped[0][0] if mapped else None)
        if summary is not None:
            per_source.setdefault(id(summary), []).append(gap)
    for summary, _, _ in mapped:
        found = per_source.get(id(summary), [])
        for gap in found[:shown]:
            where = f" {gap.location}" if gap.location else ""
            summary.warnings.append(f"{summary.path}{where}: {gap.message}")
        if len(found) > shown:
            summary.warnings.append(
                f"{summary.path}: lineage stops at {len(found) - shown} "
                "more runs or lots like these"
            )


def _check_unique_graphs(mapped: list[tuple[SourceSummary, list[RecordGraph], str]]) -> None:
    seen: dict[URIRef, str] = {}
    for summary, records, _ in mapped:
        for record in records:
            if record.graph_iri in seen:
                raise MappingError(
                    f"record '{record.record_id}' appears twice (also in {seen[record.graph_iri]})",
                    summary.path,
                )
            seen[record.graph_iri] = summary.path


def _values_query(store: Store, graphs: list[URIRef], select: str, where: str) -> list[tuple]:
    """Rows of ``SELECT <select> WHERE { VALUES ?g {…} <where> }``, one query per batch."""
    rows: list[tuple] = []
    for batch in batches(graphs):
        rows += store.query(f"SELECT {select} WHERE {{ {values_clause('g', batch)} {where} }}").rows
    return rows


def _stored_metadata(store: Store, minter: IriMinter, graphs: list[URIRef]) -> dict:
    """Current metadata triples of ``graphs``: {graph: [(p, o), ...]}."""
    found: dict[URIRef, list] = {}
    where = f"GRAPH {to_sparql(minter.metadata_graph)} {{ ?g ?p ?o }}"
    for g, p, o in _values_query(store, graphs, "?g ?p ?o", where):
        found.setdefault(g, []).append((p, o))
    return found


def _has_records(store: Store, minter: IriMinter) -> bool:
    """Whether the metadata graph describes any record graph (if not, nothing is stored to
    compare with, and the per-record metadata queries are skipped)."""
    return bool(
        store.query(
            f"ASK {{ GRAPH {to_sparql(minter.metadata_graph)} {{ ?g a ?type }} }}",
            {"type": CMC.RecordGraph},
        ).boolean
    )


def _graphs_from_source(
    store: Store, minter: IriMinter, source_path: str, origin: str | None = None
) -> set[URIRef]:
    """The record graphs mapped from ``source_path`` — only those the mapping ``origin`` made,
    when it is named: another mapping of the same file keeps its own records. The OPTIONAL
    stands outside the first GRAPH group so Oxigraph joins the pre-bound path first (inside it,
    the group was matched unbound: 30 ms a call at 0.46 M quads, 60x slower); class and
    predicate are written in, not pre-bound (Virtuoso 7 fails to compile pre-bound ones there)."""
    meta = to_sparql(minter.metadata_graph)
    record, path, mapping = (
        to_sparql(t) for t in (CMC.RecordGraph, CMC.sourcePath, CMC.mappingFile)
    )
    result = store.query(
        f"SELECT ?g ?mapping WHERE {{ GRAPH {meta} {{ ?g a {record} ; {path} ?source }} "
        f"OPTIONAL {{ GRAPH {meta} {{ ?g {mapping} ?mapping }} }} }}",
        {"source": Literal(source_path)},
    )
    return {
        graph
        for graph, mapping in result.rows
        if origin is None or mapping is None or str(mapping) == origin
    }


def _plan_source(
    store: Store,
    minter: IriMinter,
    summary: SourceSummary,
    records: list[RecordGraph],
    mapper_id: str,
    changes: ChangeSet,
    now: Literal,
    written: set[URIRef] | None = None,
    stored_records: bool = True,
    validated: bool = True,
) -> None:
    """Plan one source's records. A graph this source wrote before and no longer yields is
    superseded, unless another source of the same ingest (``written``) now yields it.
    ``stored_records=False`` says the store holds no record graphs (skip looking). Each record
    added or replaced is marked ``cmc:validationPending`` (unless ``validated`` is False: the
    vocabulary, which validation does not check as a record), so an incremental validation
    finds it without looking at every record graph."""
    mapper_name, mapper_version = mapper_id.split("@")
    stored = (
        _stored_metadata(store, minter, [r.graph_iri for r in records]) if stored_records else {}
    )
    _check_origins(summary, records, stored)
    superseded: list[tuple[URIRef, list]] = []
    meta = minter.metadata_graph
    per_source = _source_metadata(summary, mapper_name, mapper_version, now, validated)
    origins: dict[str, Literal] = {}
    for record in records:
        digest = _digest(record, summary.path)
        old = stored.get(record.graph_iri)
        old_digest = _value(old, CMC.contentSha256)
        if old_digest == digest:
            summary.unchanged += 1
            _refresh_metadata(
                minter, record, old or [], summary, mapper_name, mapper_version, changes
            )
            continue
        if old:
            superseded.append((record.graph_iri, old))
            summary.replaced += 1
        else:
            summary.added += 1
        changes.put_graphs[record.graph_iri] = record.triples
        g = record.graph_iri
        add = changes.add.append
        add((g, CMC.recordId, Literal(record.record_id), meta))
        add((g, CMC.contentSha256, Literal(digest), meta))
        for p, o in per_source:
            add((g, p, o, meta))
        if record.origin:
            if record.origin not in origins:
                origins[record.origin] = Literal(record.origin)
            add((g, CMC.mappingFile, origins[record.origin], meta))
        if old_digest:
            add((g, CMC.previousContentSha256, Literal(old_digest), meta))
    current = {r.graph_iri for r in records} | (written or set())
    origin = next((r.origin for r in records if r.origin), None)
    vanished = (
        sorted(_graphs_from_source(store, minter, summary.path, origin) - current)
        if stored_records
        else []
    )
    if vanished:
        old_meta = _stored_metadata(store, minter, vanished)
        superseded += [(g, old_meta.get(g, [])) for g in vanished]
        changes.drop_graphs.extend(vanished)
        summary.superseded += len(vanished)
    _supersede(store, minter, superseded, changes, now)


def _source_metadata(
    summary: SourceSummary, mapper_name: str, mapper_version: str, now: Literal, validated: bool
) -> list[tuple[URIRef, Literal | URIRef]]:
    """The metadata every record added or replaced from one source shares (made once per
    source: an rdflib Literal costs microseconds, and a source has thousands of records)."""
    return [
        (RDF.type, CMC.RecordGraph),
        (CMC.sourcePath, Literal(summary.path)),
        (CMC.sourceSha256, Literal(summary.sha256)),
        (CMC.mapper, Literal(mapper_name)),
        (CMC.mapperVersion, Literal(mapper_version)),
        (PROV.generatedAtTime, now),
        *([(CMC.validationPending, Literal(True))] if validated else []),
    ]


def _check_origins(
    summary: SourceSummary, records: list[RecordGraph], stored: dict[URIRef, list]
) -> None:
    """Refuse to replace records another mapping made: two sources stating facts about one run
    or lot each keep their own record; only the same source's changed record supersedes."""
    clashes = [
        (record, other)
        for record in records
        if record.origin
        and (other := _value(stored.get(record.graph_iri), CMC.mappingFile))
        and other != record.origin
    ]
    if not clashes:
        return
    record, other = clashes[0]
    path = _value(stored[record.graph_iri], CMC.sourcePath)
    raise MappingError(
        f"mapping '{record.origin}' would replace {len(clashes)} record(s) that mapping "
        f"'{other}' made (e.g. '{record.record_id}' from {path}); give the entity in "
        f"'{record.origin}' a name of its own (e.g. 'run_input' beside 'run') so each source "
        "keeps its own records",
        summary.path,
    )


def _supersede(
    store: Store,
    minter: IriMinter,
    graphs: list[tuple[URIRef, list]],
    changes: ChangeSet,
    now: Literal,
) -> None:
    """Keep the stored content of each ``(graph, old metadata)`` as a new numbered revision and
    remove the graph's current metadata."""
    if not graphs:
        return
    meta = minter.metadata_graph
    earlier = dict.fromkeys((g for g, _ in graphs), 0)
    where = f"GRAPH {to_sparql(meta)} {{ ?revision {to_sparql(CMC.revisionOf)} ?g }}"
    for (g,) in _values_query(store, list(earlier), "?g", where):
        earlier[g] += 1
    for graph_iri, old_meta in graphs:
        revision = URIRef(f"{graph_iri}/revision/{earlier[graph_iri] + 1}")
        snapshot = store.graph_ntriples(graph_iri)
        for p, o in old_meta:
            changes.remove.append((graph_iri, p, o, meta))
        for p, o in (
            (RDF.type, CMC.SupersededRevision),
            (CMC.revisionOf, graph_iri),
            (CMC.contentSha256, Literal(_value(old_meta, CMC.contentSha256) or "")),
            (CMC.sourceSha256, Literal(_value(old_meta, CMC.sourceSha256) or "")),
            (PROV.generatedAtTime, _value(old_meta, PROV.generatedAtTime, raw=True) or now),
            (PROV.invalidatedAtTime, now),
            (CMC.snapshot, Literal(snapshot)),
            *[(p, o) for p, o in old_meta if p in _KEPT_IN_REVISION],
        ):
            changes.add.append((revision, p, o, meta))


#: What a superseded revision keeps of its record's metadata, for the audit trail.
_KEPT_IN_REVISION = {CMC.recordId, CMC.sourcePath, CMC.previousContentSha256, PROV.wasGeneratedBy}


def _refresh_metadata(
    minter: IriMinter,
    record: RecordGraph,
    old_meta: list,
    summary: SourceSummary,
    mapper_name: str,
    mapper_version: str,
    changes: ChangeSet,
) -> None:
    """For an unchanged record, bring where-it-came-from up to date (the file it now comes from
    and that file's sha256, the mapper version) without touching its content or revisions."""
    meta = minter.metadata_graph
    wanted = {
        CMC.recordId: Literal(record.record_id),
        CMC.sourcePath: Literal(summary.path),
        CMC.sourceSha256: Literal(summary.sha256),
        CMC.mapper: Literal(mapper_name),
        CMC.mapperVersion: Literal(mapper_version),
        **({CMC.mappingFile: Literal(record.origin)} if record.origin else {}),
    }
    for predicate, value in wanted.items():
        current = [o for p, o in old_meta if p == predicate]
        if current != [value]:
            changes.remove.extend((record.graph_iri, predicate, o, meta) for o in current)
            changes.add.append((record.graph_iri, predicate, value, meta))


def _value(pairs: list[tuple[Any, Any]] | None, predicate: URIRef, raw: bool = False) -> Any:
    for p, o in pairs or []:
        if p == predicate:
            return o if raw else str(o)
    return None


def _plan_vocabulary(
    store: Store, minter: IriMinter, changes: ChangeSet, now: Literal, stored_records: bool
) -> None:
    """Keep the ontology and term schemes in the store, versioned like any record."""
    files = tuple(
        (path, path.stat().st_mtime_ns, path.stat().st_size)
        for path in [ontology_path(), *term_files()]
    )
    graph_iri = minter.vocabulary_graph
    summary = SourceSummary(path="cmckg:vocabulary", mapper="vocabulary")
    record = RecordGraph(graph_iri, "vocabulary", summary.path, _vocabulary(files))
    _plan_source(
        store,
        minter,
        summary,
        [record],
        f"vocabulary@{__version__}",
        changes,
        now,
        stored_records=stored_records,
        validated=False,
    )


def _plan_project_vocabulary(
    store: Store,
    minter: IriMinter,
    vocabulary: Vocabulary,
    changes: ChangeSet,
    now: Literal,
    stored_records: bool,
) -> SourceSummary:
    """A project vocabulary file is one record in a graph of its own, named after the file's
    stem: unchanged, it is left alone; changed, the old content becomes a revision."""
    summary = SourceSummary(
        path=vocabulary.source,
        mapper="vocabulary-file",
        sha256=vocabulary.digest,
        records=1,
        triples=len(vocabulary.graph),
    )
    record = RecordGraph(
        vocabulary.graph_iri(minter),
        f"vocabulary/{vocabulary.name}",
        vocabulary.source,
        RecordTriples(vocabulary.graph),
    )
    _plan_source(
        store,
        minter,
        summary,
        [record],
        f"vocabulary-file@{__version__}",
        changes,
        now,
        stored_records=stored_records,
        validated=False,
    )
    return summary


@lru_cache(maxsize=2)
def _vocabulary(files: tuple[tuple[Path, int, int], ...]) -> RecordTriples:
    """The vocabulary files' triples, parsed once per process while the files stay the same
    (keyed on path, modification time and size). Read-only once made."""
    vocabulary = Graph()
    for path, _, _ in files:
        vocabulary.parse(path, format="turtle")
    return RecordTriples(vocabulary.triples((None, None, None)))  # type: ignore[arg-type]
