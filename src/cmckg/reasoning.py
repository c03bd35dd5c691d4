"""OWL 2 reasoning over the ontology, the bundled terms and project vocabularies (HermiT).

``cmckg vocab check`` asks whether a project vocabulary keeps the ontology consistent: the
application ontology (``ontology/cmckg.ttl``), the bundled term schemes and units, and the
vocabularies are merged and handed to HermiT through owlready2. HermiT is Java: without a
``java`` on the PATH the check is skipped, and says so.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import OWL

from .resources import ontology_path, term_files
from .uservocab import Vocabulary

__all__ = ["ReasonerResult", "check_consistency", "java_available"]


@dataclass(frozen=True)
class ReasonerResult:
    """What HermiT found: ``ran`` is False when it could not run (no Java)."""

    ran: bool
    consistent: bool = True
    unsatisfiable: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def java_available() -> bool:
    return shutil.which("java") is not None


def merged_graph(vocabularies: Sequence[Vocabulary]) -> Graph:
    """The ontology, the bundled term files and ``vocabularies`` as one graph (imports
    removed: the external ontologies are aligned by IRI, not loaded)."""
    graph = Graph()
    for path in [ontology_path(), *term_files()]:
        graph.parse(path, format="turtle")
    for vocabulary in vocabularies:
        graph += vocabulary.graph
    graph.remove((None, OWL.imports, None))
    return graph


def check_consistency(vocabularies: Sequence[Vocabulary]) -> ReasonerResult:
    """Run HermiT over the merged graph: consistent, and which classes are unsatisfiable."""
    if not java_available():
        return ReasonerResult(ran=False)
    import owlready2

    with tempfile.TemporaryDirectory(prefix="cmckg-hermit-") as folder:
        path = Path(folder) / "merged.nt"
        merged_graph(vocabularies).serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasonerResult(
                ran=True, consistent=False, detail="HermiT: the ontology is inconsistent"
            )
        unsatisfiable = sorted(
            c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing
        )
        world.close()
    return ReasonerResult(ran=True, unsatisfiable=unsatisfiable)
