"""The audit trail: who changed which record, why, when and with which tool; verify and history.

Every ingest that changes the store is one ``cmc:ChangeSet`` (a ``prov:Activity``) in the
metadata graph, ``prov:wasAssociatedWith`` the agent who ran it, with its reason, start and end
times and the cmckg version. Each record revision it writes ``prov:wasGeneratedBy`` it and carries
the sha256 of its content (``cmc:contentSha256``) and of the revision it replaced
(``cmc:previousContentSha256``); each revision it supersedes ``prov:wasInvalidatedBy`` it. A change
set's own hash covers its fields, the previous change set's hash and every (record, content hash)
it generated or invalidated, so the change sets form a hash chain. ``verify`` recomputes all of it
from the store: a record graph, snapshot or change set altered outside cmckg no longer matches.
A chain of plain hashes shows accidental and casual edits, not a forger who recomputes the chain.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD, NamespaceManager
from rdflib.term import Identifier, Node

from . import __version__, ntriples
from .errors import CmckgError, ConfigError
from .stores import ChangeSet, Store
from .stores.base import Quad
from .stores.terms import to_sparql, values_clause
from .vocab import CMC, IriMinter, bind_prefixes

USER_VARIABLE = "CMCKG_USER"
_HASH_VERSION = "cmckg change set 1"


def who(by: str | None = None) -> str:
    """The person or account a change is recorded for: ``by``, else ``$CMCKG_USER``, else the
    operating-system user (its numeric id when it has no name, as in some containers)."""
    for name in (by, os.environ.get(USER_VARIABLE)):
        if name is not None and name.strip():
            return name.strip()
    if by is not None:
        raise ConfigError("--by must name someone (it is empty)")
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Change:
    """Who makes a change, why, and when it started (the end is when it is written)."""

    by: str
    reason: str | None = None
    started: datetime = field(default_factory=utc_now)

    @classmethod
    def begin(cls, by: str | None = None, reason: str | None = None) -> Change:
        reason = reason.strip() if reason else None
        return cls(who(by), reason or None)


def date_literal(moment: datetime) -> Literal:
    """An ``xsd:dateTime`` in UTC, whole seconds, written the way Oxigraph keeps it."""
    return Literal(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)


# --- writing ----------------------------------------------------------------------------------


def record_change_set(
    store: Store, minter: IriMinter, changes: ChangeSet, change: Change, ended: Literal
) -> URIRef | None:
    """Add to ``changes`` the change set describing them (None when they change nothing): the
    activity, its agent, the links from each revision it generates or invalidates, and its hash
    chained to the previous change set's."""
    if changes.is_empty():
        return None
    meta = minter.metadata_graph
    previous = _latest_change_set(store, meta)
    sequence = previous[1] + 1 if previous else 1
    activity = URIRef(f"{minter.base}change/{sequence}")
    agent = minter.mint("agent", "cmckg", change.by)
    generated: list[tuple[URIRef, str, str]] = []
    invalidated: list[tuple[URIRef, str]] = []
    for subject, facts in _added_subjects(changes.add, meta).items():
        if (RDF.type, CMC.RecordGraph) in facts:
            generated.append(
                (subject, _fact(facts, CMC.contentSha256), _fact(facts, CMC.previousContentSha256))
            )
            changes.add.append((subject, PROV.wasGeneratedBy, activity, meta))
        elif (RDF.type, CMC.SupersededRevision) in facts:
            of = next(o for p, o in facts if p == CMC.revisionOf)
            invalidated.append((URIRef(str(of)), _fact(facts, CMC.contentSha256)))
            changes.add.append((subject, PROV.wasInvalidatedBy, activity, meta))
    fields = ChangeSetFields(
        sequence,
        previous[2] if previous else "",
        change.by,
        change.reason or "",
        _moment(date_literal(change.started)),
        _moment(ended),
        f"cmckg {__version__}",
    )
    digest = fields.digest(manifest(generated, invalidated))
    quads: list[tuple[Identifier, Identifier, Identifier]] = [
        (activity, RDF.type, CMC.ChangeSet),
        (activity, CMC.sequenceNumber, Literal(sequence)),
        (activity, PROV.wasAssociatedWith, agent),
        (activity, PROV.startedAtTime, date_literal(change.started)),
        (activity, PROV.endedAtTime, ended),
        (activity, CMC.toolVersion, Literal(fields.tool)),
        (activity, CMC.changeSetSha256, Literal(digest)),
        (agent, RDF.type, PROV.Agent),
        (agent, RDFS.label, Literal(change.by)),
    ]
    if change.reason:
        quads.append((activity, CMC.reason, Literal(change.reason)))
    if previous:
        quads += [
            (activity, PROV.wasInformedBy, previous[0]),
            (activity, CMC.previousChangeSetSha256, Literal(previous[2])),
        ]
    changes.add.extend((s, p, o, meta) for s, p, o in quads)
    return activity


@dataclass(frozen=True)
class ChangeSetFields:
    """What a change set's hash covers besides its manifest."""

    sequence: int
    previous_sha256: str
    by: str
    reason: str
    started: str
    ended: str
    tool: str

    def digest(self, manifest_lines: list[str]) -> str:
        text = json.dumps(
            [
                _HASH_VERSION,
                self.sequence,
                self.previous_sha256,
                self.by,
                self.reason,
                self.started,
                self.ended,
                self.tool,
                manifest_lines,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest(
    generated: Iterable[tuple[URIRef, str, str]], invalidated: Iterable[tuple[URIRef, str]]
) -> list[str]:
    """The sorted lines naming each record revision a change set generated (graph, content
    sha256, previous content sha256) or invalidated (graph, content sha256)."""
    lines = [f"generated {g} {sha} {previous or '-'}" for g, sha, previous in generated]
    lines += [f"invalidated {g} {sha}" for g, sha in invalidated]
    return sorted(lines)


def _moment(value: Identifier | None) -> str:
    """A stored ``xsd:dateTime`` as UTC text, the same whatever lexical form a store keeps."""
    if value is None:
        return ""
    python = value.toPython() if isinstance(value, Literal) else None
    if isinstance(python, datetime):
        if python.tzinfo is None:
            python = python.replace(tzinfo=UTC)
        return python.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _latest_change_set(store: Store, meta: URIRef) -> tuple[URIRef, int, str] | None:
    t = _terms(CMC.ChangeSet, CMC.sequenceNumber, CMC.changeSetSha256)
    rows = store.query(
        f"SELECT ?c ?n ?h WHERE {{ GRAPH {to_sparql(meta)} {{ ?c a {t[0]} ; {t[1]} ?n ; "
        f"{t[2]} ?h }} }} ORDER BY DESC(?n) LIMIT 1"
    ).rows
    if not rows:
        return None
    activity, number, digest = rows[0]
    return URIRef(str(activity)), int(str(number)), str(digest)


def _added_subjects(quads: list[Quad], meta: URIRef) -> dict[URIRef, list[tuple[Node, Node]]]:
    found: dict[URIRef, list[tuple[Node, Node]]] = {}
    for s, p, o, g in quads:
        if g == meta and isinstance(s, URIRef):
            found.setdefault(s, []).append((p, o))
    return found


def _fact(facts: list[tuple[Node, Node]], predicate: URIRef) -> str:
    return next((str(o) for p, o in facts if p == predicate), "")


# --- reading the trail --------------------------------------------------------------------------


@dataclass
class Revision:
    """One content of a record graph: a superseded revision (``number`` ≥ 1) or the current one
    (``number`` None)."""

    graph: URIRef
    node: URIRef
    number: int | None
    content_sha256: str
    previous_sha256: str
    source: str
    generated_by: URIRef | None
    invalidated_by: URIRef | None
    snapshot: str | None = None


@dataclass
class ChangeSetInfo:
    iri: URIRef
    sequence: int
    sha256: str
    previous_sha256: str
    previous: URIRef | None
    by: str
    reason: str
    started: str
    ended: str
    tool: str

    def fields(self) -> ChangeSetFields:
        return ChangeSetFields(
            self.sequence,
            self.previous_sha256,
            self.by,
            self.reason,
            self.started,
            self.ended,
            self.tool,
        )


def _revisions(
    store: Store, meta: URIRef, graphs: list[URIRef] | None = None, snapshots: bool = True
) -> list[Revision]:
    """Every revision (current and superseded) of ``graphs`` (None: of every record graph)."""
    values = values_clause("g", graphs) if graphs is not None else ""
    t = _terms(
        CMC.RecordGraph,
        CMC.SupersededRevision,
        CMC.revisionOf,
        CMC.contentSha256,
        CMC.previousContentSha256,
        CMC.sourcePath,
        PROV.wasGeneratedBy,
        PROV.wasInvalidatedBy,
        CMC.snapshot,
    )
    snapshot = f"OPTIONAL {{ ?x {t[8]} ?snap }}" if snapshots else ""
    rows = store.query(  # constants only: the program's own IRIs, never user text
        "SELECT ?g ?x ?content ?previous ?source ?generated ?invalidated ?snap WHERE { "
        f"GRAPH {to_sparql(meta)} {{ {values} "
        f"{{ ?g a {t[0]} . BIND(?g AS ?x) }} UNION {{ ?x a {t[1]} ; {t[2]} ?g }} "
        f"OPTIONAL {{ ?x {t[3]} ?content }} OPTIONAL {{ ?x {t[4]} ?previous }} "
        f"OPTIONAL {{ ?x {t[5]} ?source }} OPTIONAL {{ ?x {t[6]} ?generated }} "
        f"OPTIONAL {{ ?x {t[7]} ?invalidated }} {snapshot} }} }}"
    ).rows
    found = []
    for g, x, content, previous, source, generated, invalidated, snap in rows:
        assert isinstance(g, URIRef) and isinstance(x, URIRef)
        number = None if x == g else _revision_number(x)
        found.append(
            Revision(
                g,
                x,
                number,
                str(content or ""),
                str(previous or ""),
                str(source or ""),
                _iri(generated),
                _iri(invalidated),
                None if snap is None else str(snap),
            )
        )
    return sorted(found, key=lambda r: (str(r.graph), r.number is None, r.number or 0))


def _terms(*iris: URIRef) -> list[str]:
    return [to_sparql(i) for i in iris]


def _revision_number(node: URIRef) -> int:
    tail = str(node).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _iri(term: Identifier | None) -> URIRef | None:
    return URIRef(str(term)) if term is not None else None


def change_sets(store: Store, meta: URIRef) -> dict[URIRef, ChangeSetInfo]:
    t = _terms(
        CMC.ChangeSet,
        CMC.sequenceNumber,
        CMC.changeSetSha256,
        CMC.previousChangeSetSha256,
        PROV.wasInformedBy,
        PROV.wasAssociatedWith,
        RDFS.label,
        CMC.reason,
        PROV.startedAtTime,
        PROV.endedAtTime,
        CMC.toolVersion,
    )
    rows = store.query(
        "SELECT ?c ?n ?sha ?prevSha ?prev ?by ?reason ?start ?end ?tool WHERE { "
        f"GRAPH {to_sparql(meta)} {{ ?c a {t[0]} ; {t[1]} ?n . "
        f"OPTIONAL {{ ?c {t[2]} ?sha }} OPTIONAL {{ ?c {t[3]} ?prevSha }} "
        f"OPTIONAL {{ ?c {t[4]} ?prev }} "
        f"OPTIONAL {{ ?c {t[5]} ?agent . OPTIONAL {{ ?agent {t[6]} ?by }} }} "
        f"OPTIONAL {{ ?c {t[7]} ?reason }} OPTIONAL {{ ?c {t[8]} ?start }} "
        f"OPTIONAL {{ ?c {t[9]} ?end }} OPTIONAL {{ ?c {t[10]} ?tool }} }} }}"
    ).rows
    found: dict[URIRef, ChangeSetInfo] = {}
    for c, n, sha, prev_sha, prev, by, reason, start, end, tool in rows:
        iri = URIRef(str(c))
        found[iri] = ChangeSetInfo(
            iri,
            int(str(n)),
            str(sha or ""),
            str(prev_sha or ""),
            _iri(prev),
            str(by or ""),
            str(reason or ""),
            _moment(start),
            _moment(end),
            str(tool or ""),
        )
    return found


# --- verify -----------------------------------------------------------------------------------


@dataclass
class Finding:
    """One thing that does not match the audit trail."""

    subject: str
    source: str
    message: str

    def __str__(self) -> str:
        source = f" (source {self.source})" if self.source else ""
        return f"{self.subject}{source}: {self.message}"


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    records: int = 0
    revisions: int = 0
    change_sets: int = 0
    untracked: int = 0  # record revisions written before the audit trail existed

    @property
    def ok(self) -> bool:
        return not self.findings


VerifyProgress = Callable[[int, int], None]


def verify(store: Store, minter: IriMinter, progress: VerifyProgress | None = None) -> VerifyReport:
    """Recompute every record graph's and snapshot's hash and the change-set chain."""
    meta = minter.metadata_graph
    revisions = _revisions(store, meta)
    sets = change_sets(store, meta)
    report = VerifyReport(change_sets=len(sets))
    for index, revision in enumerate(revisions):
        if progress and index % 50 == 0:
            progress(index, len(revisions))
        _check_content(store, revision, report)
    if progress:
        progress(len(revisions), len(revisions))
    _check_chain(sets, revisions, report)
    known = {r.graph for r in revisions if r.number is None} | {meta}
    # cmckg's own graphs that are not records: validation state, shapes, and the lineage
    # derived from the records (rebuilt by every ingest, never edited: cmckg.derivation)
    own = (str(meta), minter.base + "graph/shapes", minter.base + "graph/derived/")
    for graph in sorted(store.graph_names() - known):
        if not str(graph).startswith(own):
            report.findings.append(
                Finding(
                    f"graph <{graph}>",
                    "",
                    "a named graph no record of cmckg's metadata describes (written outside cmckg)",
                )
            )
    return report


def _check_content(store: Store, revision: Revision, report: VerifyReport) -> None:
    if revision.number is None:
        report.records += 1
        actual = graph_sha256(store, revision.graph, revision.content_sha256)
        what = f"record graph <{revision.graph}>"
    else:
        report.revisions += 1
        actual = snapshot_sha256(revision.snapshot or "", revision.content_sha256)
        what = f"revision {revision.number} of record graph <{revision.graph}>"
    if revision.generated_by is None:
        report.untracked += 1
    if actual != revision.content_sha256:
        report.findings.append(
            Finding(
                what,
                revision.source,
                "content differs from its recorded sha256 "
                f"{revision.content_sha256[:12]}… (now {actual[:12]}…): "
                "altered outside cmckg",
            )
        )


def _check_chain(
    sets: dict[URIRef, ChangeSetInfo], revisions: list[Revision], report: VerifyReport
) -> None:
    generated: dict[URIRef, list[tuple[URIRef, str, str]]] = {}
    invalidated: dict[URIRef, list[tuple[URIRef, str]]] = {}
    for r in revisions:
        if r.generated_by is not None:
            generated.setdefault(r.generated_by, []).append(
                (r.graph, r.content_sha256, r.previous_sha256)
            )
        if r.invalidated_by is not None:
            invalidated.setdefault(r.invalidated_by, []).append((r.graph, r.content_sha256))
    for missing in sorted((set(generated) | set(invalidated)) - set(sets)):
        report.findings.append(
            Finding(
                f"change set <{missing}>", "", "named by a record revision but not in the store"
            )
        )
    ordered = sorted(sets.values(), key=lambda c: c.sequence)
    previous: ChangeSetInfo | None = None
    for info in ordered:
        expected = previous.sha256 if previous else ""
        if info.sequence != (previous.sequence + 1 if previous else 1):
            report.findings.append(
                Finding(f"change set {info.sequence}", "", "a change set is missing before it")
            )
        if info.previous_sha256 != expected or info.previous != (
            previous.iri if previous else None
        ):
            report.findings.append(
                Finding(
                    f"change set {info.sequence}", "", "does not link to the change set before it"
                )
            )
        lines = manifest(generated.get(info.iri, []), invalidated.get(info.iri, []))
        if info.fields().digest(lines) != info.sha256:
            report.findings.append(
                Finding(
                    f"change set {info.sequence}",
                    "",
                    "its recorded sha256 does not match its records, agent, reason or times: "
                    "the metadata was altered outside cmckg",
                )
            )
        previous = info


def graph_sha256(store: Store, graph: URIRef, expected: str = "") -> str:
    """The content sha256 of a stored graph, as ingest computes it for a record."""
    return _lines_sha256(store.graph_ntriples(graph), lambda: store.graph(graph), expected)


def snapshot_sha256(snapshot: str, expected: str = "") -> str:
    """The content sha256 of a superseded revision's N-Triples snapshot."""
    return _lines_sha256(snapshot, lambda: Graph().parse(data=snapshot, format="nt"), expected)


def _lines_sha256(text: str, parsed: Callable[[], Graph], expected: str) -> str:
    """The hash of the store's N-Triples lines when it is the ``expected`` one (they are cmckg's
    own lines); otherwise recomputed from the terms, since a store may write a literal in
    another lexical form (``"7"^^xsd:integer`` for ``"007"``, a double's canonical form)."""
    quick = ntriples.digest(sorted(_strip(line) for line in text.splitlines() if line.strip()))
    if quick == expected:
        return quick
    return ntriples.digest(sorted(ntriples.triple_lines(parsed())))


def _strip(line: str) -> str:
    line = line.rstrip()
    return line[:-2] if line.endswith(" .") else line


# --- history ----------------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    """One revision of one record graph, who made it, and how it differs from the one before."""

    revision: Revision
    change_set: ChangeSetInfo | None
    added: list[str]
    removed: list[str]


def history(store: Store, minter: IriMinter, target: str) -> list[HistoryEntry]:
    """Every revision of the record graphs ``target`` names (a record graph IRI, a record id, or
    a lot, run or sample identifier or IRI), oldest first per graph."""
    meta = minter.metadata_graph
    graphs = _graphs_named(store, minter, target)
    revisions = _revisions(store, meta, graphs)
    sets = change_sets(store, meta)
    entries: list[HistoryEntry] = []
    before: dict[URIRef, set[tuple[Node, Node, Node]]] = {}
    namespaces = bind_prefixes(Graph()).namespace_manager
    for revision in revisions:
        now = _triples(store, revision)
        old = before.get(revision.graph, set())
        added = sorted(_readable(t, namespaces) for t in now - old)
        removed = sorted(_readable(t, namespaces) for t in old - now)
        entries.append(
            HistoryEntry(
                revision,
                sets.get(revision.generated_by) if revision.generated_by else None,
                added,
                removed,
            )
        )
        before[revision.graph] = now
        if revision.number is not None and not _has_successor(revision, revisions):
            entries.append(
                HistoryEntry(
                    Revision(
                        revision.graph,
                        revision.graph,
                        None,
                        "",
                        revision.content_sha256,
                        revision.source,
                        revision.invalidated_by,
                        None,
                    ),
                    sets.get(revision.invalidated_by) if revision.invalidated_by else None,
                    [],
                    sorted(_readable(t, namespaces) for t in now),
                )
            )
            before[revision.graph] = set()
    return entries


def _has_successor(revision: Revision, revisions: list[Revision]) -> bool:
    """Whether a later revision (or the current graph) follows a superseded one."""
    return any(
        r.graph == revision.graph and (r.number is None or r.number > (revision.number or 0))
        for r in revisions
    )


def _triples(store: Store, revision: Revision) -> set[tuple[Node, Node, Node]]:
    if revision.number is None:
        return set(store.graph(revision.graph))
    return set(Graph().parse(data=revision.snapshot or "", format="nt"))


def _readable(triple: tuple[Node, Node, Node], namespaces: NamespaceManager) -> str:
    return " ".join(term.n3(namespaces) for term in triple)


def _graphs_named(store: Store, minter: IriMinter, target: str) -> list[URIRef]:
    text = target.strip()
    if not text:
        raise ConfigError("give a record graph IRI, a record id, or a lot identifier")
    meta = to_sparql(minter.metadata_graph)
    t = _terms(CMC.RecordGraph, CMC.revisionOf, CMC.recordId)
    bindings: dict[str, Identifier] = {"id": Literal(text)}
    by_iri = ""
    if ":" in text and not any(c in text for c in ' <>"{}|\\^`'):
        bindings["iri"] = URIRef(text)
        by_iri = (
            f"{{ ?iri a {t[0]} BIND(?iri AS ?g) }} UNION "
            f"{{ ?x {t[1]} ?iri BIND(?iri AS ?g) }} UNION "
        )
    rows = store.query(  # the user's text only as bound terms
        f"SELECT DISTINCT ?g WHERE {{ GRAPH {meta} {{ {by_iri}"
        f"{{ ?g a {t[0]} ; {t[2]} ?id }} UNION {{ ?x {t[1]} ?g ; {t[2]} ?id }} }} }}",
        bindings,
    ).rows
    graphs = sorted({URIRef(str(g)) for (g,) in rows})
    if graphs:
        return graphs
    from .lineage import resolve_node

    try:
        node = resolve_node(store, text)
    except CmckgError as exc:
        raise ConfigError(f"no record graph or record id {text!r}, and {exc}") from None
    rows = store.query(
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?node a ?class }} FILTER (?g != {meta}) }}",
        {"node": URIRef(node["node"])},
    ).rows
    return sorted({URIRef(str(g)) for (g,) in rows})


def iter_history_lines(entries: list[HistoryEntry], limit: int | None = 50) -> Iterator[str]:
    """The history as text: one heading per revision, then its added (+) and removed (-)
    triples (at most ``limit`` of each; None: all)."""
    for entry in entries:
        r, c = entry.revision, entry.change_set
        label = (
            "removed"
            if not r.content_sha256
            else "current"
            if r.number is None
            else f"revision {r.number}"
        )
        who_line = (
            f"change set {c.sequence} by {c.by} at {c.ended}"
            + (f" — {c.reason}" if c.reason else " — no reason given")
            + f" ({c.tool})"
            if c
            else "before the audit trail (no change set recorded)"
        )
        yield f"<{r.graph}> {label}: {who_line}"
        if r.source:
            yield f"  source {r.source}, content sha256 {r.content_sha256 or '-'}"
        for sign, lines in (("+", entry.added), ("-", entry.removed)):
            shown = lines if limit is None else lines[:limit]
            yield from (f"  {sign} {line}" for line in shown)
            if len(shown) < len(lines):
                yield f"  {sign} … {len(lines) - len(shown)} more (--all shows them)"
