"""B2MML / BatchML documents as XPath-located nodes: namespaces, element text, and the position
on every step that ``cmc:sourceLocation`` states."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

_NAMESPACE = re.compile(
    r"^https?://www\.(?:wbf|mesa)\.org/xml/(B2MML|BatchML)(?:-V\w+)?/?$", re.IGNORECASE
)


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def is_b2mml_namespace(namespace: str) -> bool:
    """True for a B2MML (ISA-95) or BatchML (ISA-88) namespace of any version."""
    return bool(_NAMESPACE.match(namespace))


@dataclass(frozen=True)
class Node:
    """An element and the XPath that finds it from the document root."""

    element: ET.Element
    xpath: str

    @property
    def name(self) -> str:
        return local_name(self.element.tag)


class Document:
    """XPath steps for one document: ``b2mml:`` / ``batchml:`` prefixes, positions on each step."""

    def __init__(self, root: ET.Element) -> None:
        self.root = Node(root, "/" + self.step(root.tag))

    @staticmethod
    def step(tag: str) -> str:
        namespace, name = namespace_of(tag), local_name(tag)
        match = _NAMESPACE.match(namespace)
        if match:
            return f"{match.group(1).lower()}:{name}"
        return tag if namespace else name

    def children(self, node: Node, name: str | None = None) -> Iterator[Node]:
        seen: dict[str, int] = {}
        for child in node.element:
            if not isinstance(child.tag, str):
                continue
            seen[child.tag] = seen.get(child.tag, 0) + 1
            if name is None or local_name(child.tag) == name:
                yield Node(child, f"{node.xpath}/{self.step(child.tag)}[{seen[child.tag]}]")

    def descendants(self, node: Node, name: str) -> Iterator[Node]:
        for child in self.children(node):
            if child.name == name:
                yield child
            yield from self.descendants(child, name)

    def child(self, node: Node, name: str) -> Node | None:
        return next(self.children(node, name), None)


def text_of(node: Node | None, name: str | None = None) -> str | None:
    """Stripped text of ``node`` (or of its first child called ``name``); None when empty."""
    if node is None:
        return None
    element: ET.Element | None = node.element
    if name is not None:
        element = next((c for c in node.element if local_name(str(c.tag)) == name), None)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def key_of(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def split_camel(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
