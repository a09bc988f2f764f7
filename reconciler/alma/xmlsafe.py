"""Parse the little XML Alma sends us (error bodies, Analytics rowsets) without entity tricks.

Design decision: any document with a DOCTYPE is refused outright. Alma's responses never carry
one, and refusing it closes entity expansion ("billion laughs") and external entities with the
standard library alone, so `defusedxml` is not needed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat


class UnsafeXmlError(ValueError):
    """The document declares a DOCTYPE (and so could declare entities); we refuse to read it."""


def _refuse_doctype(*_args: object) -> None:
    raise UnsafeXmlError("XML with a DOCTYPE declaration is refused")


def parse_xml(body: bytes | str) -> ET.Element:
    """The root element of `body`; raises `ValueError` (or `UnsafeXmlError`) if unreadable."""
    # expat is driven directly because the C ElementTree parser hides its expat handle, and
    # the DOCTYPE hook is the whole point; a TreeBuilder gives the usual Element tree.
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = lambda name, attrs: builder.start(
        _clark(name), {_clark(key): value for key, value in attrs.items()}
    )
    parser.EndElementHandler = lambda name: builder.end(_clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(body, True)
        return builder.close()
    except expat.ExpatError as error:
        raise ValueError(f"unreadable XML: {expat.errors.messages[error.code]}") from error
    except AssertionError as error:  # TreeBuilder.close() on a document with no element
        raise ValueError("unreadable XML: no root element") from error


def _clark(name: str) -> str:
    # expat gives "uri}local"; ElementTree's convention is "{uri}local".
    return "{" + name if "}" in name else name


def local_name(element: ET.Element) -> str:
    """`tag` without its `{namespace}` prefix, so code can match Alma's mixed namespacing."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first direct child whose local name is `name`, whatever its namespace."""
    return next((node for node in element if local_name(node) == name), None)


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Every direct child whose local name is `name`, whatever its namespace."""
    return [node for node in element if local_name(node) == name]


def text_of(element: ET.Element | None) -> str:
    """Stripped text of `element`, or "" when it is missing or empty."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()
