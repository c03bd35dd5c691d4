"""cmckg: a knowledge graph for biopharmaceutical CMC data."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Library code logs to the "cmckg" logger and prints nothing; a program using cmckg decides where
# the records go (the command line sends them to stderr, see cli.configure_logging).
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .kg import KnowledgeGraph


def __getattr__(name: str) -> Any:
    """``cmckg.KnowledgeGraph`` imported on first use, so the command line starts fast."""
    if name == "KnowledgeGraph":
        from .kg import KnowledgeGraph

        return KnowledgeGraph
    raise AttributeError(f"module 'cmckg' has no attribute {name!r}")


__all__ = ["KnowledgeGraph", "__version__"]
