"""SHACL validation of the knowledge graph, traced back to the source records.

pyshacl is the engine. It validates a copy of the data in an in-memory Oxigraph store, read
through oxrdflib (``_OxigraphGraph``: with pyshacl's truth-value tests made cheap and ``$this``
sent as VALUES, it runs several times faster than on an rdflib in-memory graph, and SPARQL
targets and constraints are evaluated by Oxigraph). The copy holds, in a full run, every record
graph; in an incremental run (the default), only the record graphs added or changed since the
last validation plus the nodes they reference. Into it go the term schemes and, for every unit it
mentions, its QUDT facts (``a qudt:Unit``, quantity kinds with every broader kind, conversion
multiplier and offset) from :mod:`cmckg.units`, so the SHACL-SPARQL rules can compare units; the
ontology is passed as pyshacl's ``ont_graph`` so class hierarchies count.

Shapes are the static ones in ``shapes/`` plus one generated per specification record (see
:func:`specification_shapes`); the generated ones are kept in the store's shapes graph
``{base}graph/shapes``. Each result names its severity, shape, focus node, path, value and
message, and where it came from: the record graph, its source file and the focus node's
``cmc:sourceLocation`` (CSV row, JSON pointer or XPath).

One module per concern: :mod:`.results` (the result model, all the report writers import),
:mod:`.shapes` (static shapes, ontology, terms), :mod:`.specifications` (specification → SHACL),
:mod:`.unit_facts` (QUDT facts of units), :mod:`.data` (the pyshacl data graph and what an
incremental run loads), :mod:`.runner` (the runs), :mod:`.tracing` (results → source records)
and :mod:`.state` (the validation state in the metadata graph).
"""

from __future__ import annotations

from .results import RecordInfo, Severity, Source, ValidationReport, ValidationResult
from .runner import ValidationRun, run_validation, store_shapes, validate_sources, validate_store
from .shapes import shapes_graph_iri, static_shapes
from .specifications import (
    Specification,
    latest_specifications,
    read_specifications,
    specification_shapes,
)

__all__ = [
    "RecordInfo",
    "Severity",
    "Source",
    "Specification",
    "ValidationReport",
    "ValidationResult",
    "ValidationRun",
    "latest_specifications",
    "read_specifications",
    "run_validation",
    "shapes_graph_iri",
    "specification_shapes",
    "static_shapes",
    "store_shapes",
    "validate_sources",
    "validate_store",
]
