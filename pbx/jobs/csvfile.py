"""Extension files in and out: CSV (ours, or FreePBX Bulk Handler's) and JSON rows.

Reading: the bytes are decoded first (a UTF-8 or UTF-16 BOM, else strict UTF-8, else
Windows-1254, which Excel in Turkish locales writes; a `charset=` in the Content-Type
wins), then the `csv` module splits them with the separator the header uses (`,`, `;`
or tab). Rows become JSON-like dicts of the API's fields; their checking is the API's
own (pbx/jobs/extension_import.py). Writing: a cell that a spreadsheet would run as a
formula (starting with `=`, `+`, `-`, `@`, tab or CR) is written with a leading `'`;
reading strips that `'` again, so an export imports unchanged."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from pbx.domain.errors import Invalid, TooLarge

FIELDS = ("number", "name", "email", "voicemail", "record_calls")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 1000  # any real cell is far shorter; the API's own limits apply after
_TRUE, _FALSE = {"true", "1", "yes", "evet"}, {"false", "0", "no", "hayir", "hayır"}
_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "windows-1254": "cp1254", "cp1254": "cp1254",
             "iso-8859-9": "iso-8859-9", "latin5": "iso-8859-9", "utf-16": "utf-16"}


def decode(data: bytes, charset: str | None = None) -> str:
    if charset:
        codec = _CHARSETS.get(charset.lower())
        if codec is None:
            raise Invalid(f"charset {charset!r} is not supported: send UTF-8 or Windows-1254")
        return _decode(data, codec)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(data, "utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: Excel's "CSV" in a Turkish locale is Windows-1254. Its few unused byte
        # values make any other binary fail here, with a message that says what to do.
        return _decode(data, "cp1254")


def _decode(data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file is neither UTF-8 nor Windows-1254 text (byte {exc.start}): "
                      "save it as 'CSV UTF-8'") from exc
    return text.removeprefix("\ufeff")


def parse_csv(text: str, max_rows: int) -> list[dict]:
    """Rows as dicts of the API's fields; FreePBX Bulk Handler's columns are mapped."""
    if "\x00" in text:
        raise Invalid("the file contains NUL characters: it is not a text CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        mapping = _column_mapping(header)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing CRLF, spreadsheet padding)
            if len(rows) >= max_rows:
                raise TooLarge(f"at most {max_rows} rows per import")
            rows.append(mapping(cells))
    except csv.Error as exc:
        raise Invalid(f"not a valid CSV file (line {reader.line_num}): {exc}") from exc
    return rows


def _separator(text: str) -> str:
    """Whichever of , ; tab the header line holds most: Excel in Turkish locales writes ';'."""
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _column_mapping(header: list[str]):
    if "number" in header:
        columns = {name: header.index(name) for name in FIELDS if name in header}
        return lambda cells: _ours(cells, columns)
    if "extension" in header:
        return _freepbx_mapping(header)
    raise Invalid("the header row has no 'number' column (nor FreePBX's 'extension')")


def _ours(cells: list[str], columns: dict[str, int]) -> dict:
    row = {}
    for name, index in columns.items():
        value = _cell(cells, index)
        if value != "":
            row[name] = _boolean(value) if name in ("voicemail", "record_calls") else value
    return row


def _freepbx_mapping(header: list[str]):
    """FreePBX Bulk Handler's extensions export: `extension` is the number, `name` and
    `email` (or `voicemail_email`) are kept, and voicemail is on where `voicemail_enable`
    is yes or `voicemail` names a context other than `novm`. Every other column (its
    secret, devices, recording policy, destinations) is FreePBX's and is ignored: SIP
    passwords are issued anew, because SIP usernames change with the move anyway."""
    at = {name: i for i, name in reversed(list(enumerate(header)))}

    def row(cells: list[str]) -> dict:
        def get(name: str) -> str:
            return _cell(cells, at[name]) if name in at else ""

        out = {"number": get("extension"), "name": get("name") or get("description")}
        if email := get("email") or get("voicemail_email"):
            out["email"] = email
        enabled, context = get("voicemail_enable").lower(), get("voicemail").lower()
        out["voicemail"] = enabled in _TRUE if enabled else context not in ("", "novm")
        return {k: v for k, v in out.items() if v != ""}

    return row


def _cell(cells: list[str], index: int) -> str:
    value = cells[index].strip() if index < len(cells) else ""
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS + 1]  # still too long for any field: the row is refused, not stored whole
    if value[:1] == "'" and value[1:2] in FORMULA_START:
        value = value[1:]  # our own neutralising quote (see safe_cell)
    return value


def _boolean(value: str) -> bool | str:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # left as text: the row is refused as invalid, with the field named


def parse_json_object(data: bytes) -> dict:
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
        raise Invalid("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


def parse_json(data: bytes, max_rows: int) -> list:
    body = parse_json_object(data)
    if not isinstance(body.get("rows"), list):
        raise Invalid('send {"rows": [{"number": ..., "name": ...}, ...]}')
    if len(body["rows"]) > max_rows:
        raise TooLarge(f"at most {max_rows} rows per import")
    return body["rows"]


def safe_cell(value) -> str:
    """A cell no spreadsheet will run as a formula."""
    text = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()
