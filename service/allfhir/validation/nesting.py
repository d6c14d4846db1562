"""How deep a document nests: the checks recurse along the JSON, so a client's document nested
hundreds of levels deep would exhaust the stack. Light (no validator imports), for the API to
refuse such input before validating."""

from __future__ import annotations

from typing import Any

from .issues import Issue

MAX_DEPTH = 100  # levels of nested JSON objects and arrays validated (see nesting_issue)


def nesting_issue(resource: Any, loc: str) -> Issue | None:
    """An error naming where `resource` nests objects and arrays more than MAX_DEPTH levels deep,
    or None. The checks recurse along the JSON, and no FHIR resource needs a fraction of that
    (Bundle.entry[0].resource.contained[0].extension[0].extension[0].valueCoding is 10 levels)."""
    stack: list[tuple[Any, int, str]] = [(resource, 0, loc)]
    while stack:
        node, depth, where = stack.pop()
        if depth == MAX_DEPTH:
            return Issue(f"objects and arrays nested more than {MAX_DEPTH} levels deep: not validated",
                         where, code="structure", check="structure")
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) \
            else ()
        for key, value in items:
            if isinstance(value, dict | list):
                below = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"
                stack.append((value, depth + 1, below))
    return None
