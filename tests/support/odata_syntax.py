"""The part of OData v4's query options the local Dynamics understands: `$filter` as
`field eq 'string'` or `field eq <guid>` clauses joined by `or`, string literals in single
quotes with a quote doubled inside (OData ABNF), `$select`, a one-level `$expand` with its own
`$select`, `$orderby field asc|desc`, `$top`. Anything else is refused with Dataverse's
syntax-error code, so an unescaped quote shows up as a refused request, not a wider query."""
from __future__ import annotations

import re
from dataclasses import dataclass

SYNTAX_ERROR = "0x80060888"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_EXPAND = re.compile(r"(\w+)\(\$select=(\w+(?:,\w+)*)\)")


class ODataRefused(ValueError):
    def __init__(self, message: str, code: str = SYNTAX_ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Query:
    select: list[str]
    expand: dict[str, list[str]]
    clauses: list[tuple[str, str]]  # (field, value): the filter is their disjunction
    order_by: list[tuple[str, str]]
    top: int | None


def _literal(text: str, i: int) -> tuple[str, int]:
    """The string literal opening at text[i] == "'": its value and the index after it."""
    out, i = [], i + 1
    while i < len(text):
        if text[i] == "'":
            if text[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise ODataRefused(f"Syntax error: unterminated string literal in '{text}'.")


def parse_filter(text: str) -> list[tuple[str, str]]:
    """`a eq 'x' or b eq <guid> ...` -> [(a, 'x'), (b, guid)], else a refusal naming the position."""
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    clauses, i = [], 0
    while True:
        name = _NAME.match(text, i)
        if not name or text[name.end():name.end() + 4] != " eq ":
            raise ODataRefused(f"Syntax error at position {i} in '{text}'.")
        i = name.end() + 4
        if text[i:i + 1] == "'":
            value, i = _literal(text, i)
        elif guid := _GUID.match(text, i):
            value, i = guid.group(0).lower(), guid.end()
        else:
            raise ODataRefused(f"Syntax error at position {i} in '{text}'.")
        clauses.append((name.group(0), value))
        if i == len(text):
            return clauses
        if text[i:i + 4] != " or ":
            raise ODataRefused(f"Syntax error at position {i} in '{text}'.")
        i += 4


def parse_query(params: dict) -> Query:
    unknown = [k for k in params if k not in ("$select", "$expand", "$filter", "$orderby", "$top")]
    if unknown:
        raise ODataRefused(f"The query parameter {unknown[0]} is not supported")
    select = params.get("$select", "").split(",") if params.get("$select") else []
    expand = {}
    if params.get("$expand"):
        m = _EXPAND.fullmatch(params["$expand"])
        if not m:
            raise ODataRefused(f"Syntax error in $expand '{params['$expand']}'.")
        expand[m.group(1)] = m.group(2).split(",")
    order = []
    if params.get("$orderby"):
        m = re.fullmatch(r"(\w+) (asc|desc)", params["$orderby"])
        if not m:
            raise ODataRefused(f"Syntax error in $orderby '{params['$orderby']}'.")
        order = [(m.group(1), m.group(2))]
    top = params.get("$top")
    if top is not None and not top.isdigit():
        raise ODataRefused(f"Invalid value for $top: '{top}'.")
    clauses = parse_filter(params["$filter"]) if "$filter" in params else []
    return Query(select, expand, clauses, order, int(top) if top else None)
