"""cmckg: a knowledge graph for biopharmaceutical CMC data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .kg import KnowledgeGraph


def __getattr__(name: str) -> Any:
    """``cmckg.KnowledgeGraph`` imported on first use, so the command line starts fast."""
    if name == "KnowledgeGraph":
        from .kg import KnowledgeGraph

        return KnowledgeGraph
    raise AttributeError(f"module 'cmckg' has no attribute {name!r}")


__all__ = ["KnowledgeGraph", "__version__"]
