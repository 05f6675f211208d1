"""The part of SOSL and SOQL the local Salesforce understands, parsed as strictly as the SOQL
and SOSL Reference describes: in a FIND phrase every reserved character must be escaped
with a backslash; a SOQL string literal knows only the documented escape sequences. What a
client failed to escape is refused (MALFORMED_SEARCH / MALFORMED_QUERY), as Salesforce does,
so an injection shows up as a refused request rather than a wider search."""
from __future__ import annotations

import re
from dataclasses import dataclass

SOSL_RESERVED = frozenset('?&|!{}[]()^~*:\\"\'+-')
_SOQL_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b", "B": "\b",
                 "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}
_RETURNING = re.compile(r"(\w+)\(((?:\w+(?:\.\w+)?)(?:, \w+(?:\.\w+)?)*)(?: LIMIT (\d+))?\)")
_FIELD_LIST = r"\w+(?:\.\w+)?(?:, \w+(?:\.\w+)?)*"
_SOQL = re.compile(rf"SELECT (?P<fields>{_FIELD_LIST}) FROM (?P<sobject>\w+) "
                   r"WHERE (?P<where>\w+) = '(?P<literal>(?:[^'\\]|\\.)*)'"
                   r"(?: ORDER BY (?P<order>\w+ (?:ASC|DESC)(?:, \w+ (?:ASC|DESC))*))?(?: LIMIT (?P<limit>\d+))?",
                   re.DOTALL)


class SyntaxRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class SoslSearch:
    phrases: list[str]
    scope: str  # PHONE, NAME, ...
    returning: list[tuple[str, list[str], int]]  # (sobject, fields, limit)


@dataclass
class SoqlQuery:
    fields: list[str]
    sobject: str
    where_field: str
    where_value: str
    order_by: list[tuple[str, str]]
    limit: int


def _phrase(q: str, i: int) -> tuple[str, int]:
    """The quoted phrase starting at q[i] == '"', unescaped; and the index after it."""
    out, i = [], i + 1
    while i < len(q):
        c = q[i]
        if c == "\\":
            escaped = q[i + 1:i + 2]
            if escaped not in SOSL_RESERVED or not escaped:
                raise SyntaxRefused("MALFORMED_SEARCH", f"invalid escape sequence \\{escaped}")
            out.append(escaped)
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        elif c in SOSL_RESERVED:
            raise SyntaxRefused("MALFORMED_SEARCH", f"reserved character {c!r} not escaped")
        else:
            out.append(c)
            i += 1
    raise SyntaxRefused("MALFORMED_SEARCH", "unterminated phrase")


def _search_query(q: str) -> tuple[list[str], int]:
    """FIND {"a" OR "b" ...}: the phrases and the index after the closing brace."""
    if not q.startswith("FIND {"):
        raise SyntaxRefused("MALFORMED_SEARCH", "expected FIND {")
    phrases, i = [], len("FIND {")
    while True:
        while q[i:i + 1] == " ":
            i += 1
        if q[i:i + 1] != '"':
            raise SyntaxRefused("MALFORMED_SEARCH", f"expected a quoted phrase at {i}")
        phrase, i = _phrase(q, i)
        phrases.append(phrase)
        if q[i:i + 1] == "}":
            return phrases, i + 1
        if q[i:i + 4] != " OR ":
            raise SyntaxRefused("MALFORMED_SEARCH", f"expected OR or }} at {i}")
        i += 4


def parse_sosl(q: str) -> SoslSearch:
    phrases, i = _search_query(q)
    rest = re.fullmatch(r" IN (\w+) FIELDS RETURNING (.+)", q[i:], re.DOTALL)
    if not rest:
        raise SyntaxRefused("MALFORMED_SEARCH", "expected IN ... FIELDS RETURNING ...")
    specs = rest.group(2).split("), ")
    returning = []
    for n, spec in enumerate(specs):
        part = _RETURNING.fullmatch(spec if n == len(specs) - 1 else spec + ")")
        if not part:
            raise SyntaxRefused("MALFORMED_SEARCH", f"bad RETURNING item {spec!r}")
        returning.append((part.group(1), part.group(2).split(", "), int(part.group(3) or 2000)))
    return SoslSearch(phrases, rest.group(1), returning)


def _soql_literal(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\":
            escaped = raw[i + 1:i + 2]
            if escaped not in _SOQL_ESCAPES:
                raise SyntaxRefused("MALFORMED_QUERY", f"invalid escape sequence \\{escaped}")
            out.append(_SOQL_ESCAPES[escaped])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_soql(q: str) -> SoqlQuery:
    m = _SOQL.fullmatch(q)
    if not m:
        raise SyntaxRefused("MALFORMED_QUERY", f"unexpected query: {q[:120]!r}")
    order = [tuple(item.split(" ")) for item in m.group("order").split(", ")] if m.group("order") else []
    return SoqlQuery(m.group("fields").split(", "), m.group("sobject"), m.group("where"),
                     _soql_literal(m.group("literal")), order, int(m.group("limit") or 2000))


def _tokens(text: str) -> list[str]:
    # "The search engine splits record information separated by spaces or punctuation into
    # separate tokens"; a phrase matches where its tokens appear in that order.
    return re.findall(r"[^\W_]+", text.casefold())


def phrase_in(phrase: str, value: str | None) -> bool:
    want, have = _tokens(phrase), _tokens(value or "")
    return bool(want) and any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))
