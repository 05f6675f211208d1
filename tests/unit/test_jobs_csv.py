"""Reading and writing extension files: encodings, separators, FreePBX, hostile cells."""
from __future__ import annotations

import csv
import io

import pytest

from pbx.domain.errors import Invalid, TooLarge
from pbx.jobs import csvfile
from pbx.jobs.extension_import import parse_rows
from pbx.jobs.sealing import Sealer

TURKISH = "Çağrı Şahin Işıl Öğüt İğde"


def parse(data: bytes, charset: str | None = None, max_rows: int = 100) -> list[dict]:
    return csvfile.parse_csv(csvfile.decode(data, charset), max_rows)


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"),
    lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),  # Excel's "CSV UTF-8" BOM
    lambda t: t.encode("utf-16"),  # BOM'd UTF-16 ("Unicode text")
    lambda t: t.encode("cp1254"),  # Excel's "CSV" in a Turkish locale
])
@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_turkish_names_survive_every_encoding_separator_and_line_ending(encode, separator, newline):
    text = newline.join([separator.join(["number", "name", "voicemail"]),
                         separator.join(["101", TURKISH, "evet"]),
                         separator.join(["102", "Ümit", "0"]), ""])
    assert parse(encode(text)) == [{"number": "101", "name": TURKISH, "voicemail": True},
                                   {"number": "102", "name": "Ümit", "voicemail": False}]


def test_a_declared_charset_wins_and_an_unknown_one_is_refused():
    data = "number,name\n101,Işık\n".encode("cp1254")
    assert parse(data, "windows-1254")[0]["name"] == "Işık"
    with pytest.raises(Invalid, match="charset"):
        parse(data, "koi8-r")
    with pytest.raises(Invalid, match="UTF-8"):
        parse(data, "utf-8")


def test_binary_files_are_refused_with_a_clear_message():
    with pytest.raises(Invalid, match="neither UTF-8 nor Windows-1254"):
        parse(b"PK\x03\x04\x81\x8d\x90\x9d binary xlsx")
    with pytest.raises(Invalid, match="NUL"):
        parse(b"number,name\n101,a\x00b\n")


def test_the_header_needs_number_or_freepbx_extension():
    with pytest.raises(Invalid, match="number"):
        parse(b"name,email\nA,a@b.c\n")
    with pytest.raises(Invalid):
        parse(b"")


def test_quoted_cells_keep_separators_and_newlines_and_bad_quoting_is_refused():
    rows = parse('number;name\r\n101;"Ali; Veli\r\nİkinci satır"\r\n'.encode())
    assert rows == [{"number": "101", "name": "Ali; Veli\r\nİkinci satır"}]
    good, bad = parse_rows([_row(1, rows[0])])
    assert not good and bad[0].error.code == "invalid"  # a name with a line break is not a name
    with pytest.raises(Invalid, match="CSV"):
        parse(b'number,name\n101,"unterminated\n')


def test_huge_cells_and_too_many_rows_are_refused():
    with pytest.raises(Invalid, match="CSV"):  # past the csv module's field limit
        parse(b"number,name\n101," + b'"' + b"x" * 200_000 + b'"\n')
    long = parse(b"number,name\n101," + b"x" * 50_000 + b"\n")
    assert len(long[0]["name"]) == csvfile.MAX_CELL_CHARS + 1  # kept only long enough to be refused
    assert parse_rows([_row(1, long[0])])[1][0].error.code == "invalid"
    with pytest.raises(TooLarge):
        parse(b"number,name\n" + b"".join(b"%d,n\n" % (100 + i) for i in range(101)))
    with pytest.raises(TooLarge):
        csvfile.parse_json(b'{"rows": [' + b",".join([b"{}"] * 101) + b"]}", 100)


def test_freepbx_bulk_handler_columns_are_mapped():
    text = ("extension,password,name,voicemail,ringtimer,secret,voicemail_enable,email,tech\n"
            "7001,,Ayşe,default,0,s3cret,yes,ayse@firma.com.tr,pjsip\n"
            "7002,,Can,novm,0,x,,,pjsip\n"
            "7003,,Deniz,default,0,x,no,,pjsip\n")
    assert parse(text.encode()) == [
        {"number": "7001", "name": "Ayşe", "email": "ayse@firma.com.tr", "voicemail": True},
        {"number": "7002", "name": "Can", "voicemail": False},
        {"number": "7003", "name": "Deniz", "voicemail": False}]


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised_on_output_and_round_trip(cell):
    written = csvfile.write_csv(("number", "name"), [("101", cell)])
    cells = list(csv.reader(io.StringIO(written, newline="")))[1]
    assert cells[1] == "'" + cell and cells[1][0] not in "=+-@\t\r"
    assert csvfile._cell(cells, 1) == cell  # read back as it was


def test_rows_are_checked_by_the_api_model_and_repeats_are_conflicts():
    good, bad = parse_rows([_row(1, {"number": "101", "name": "A"}), _row(2, {"number": "0101", "name": "B"}),
                            _row(3, {"number": "101", "name": "C"}), _row(4, ["not", "an", "object"]),
                            _row(5, {"number": "102", "name": "D", "voicemail": "maybe"}),
                            _row(6, {"number": "103", "name": "E", "admin": True})])
    assert [n for n, _ in good] == [1]
    assert [(o.row, o.error.code) for o in bad] == [(2, "invalid"), (3, "conflict"), (4, "invalid"),
                                                   (5, "invalid"), (6, "invalid")]
    assert "row 1" in bad[1].error.message and "voicemail" in bad[3].error.message


def test_sealed_secrets_open_only_for_their_own_row():
    sealer = Sealer(b"k" * 32)
    sealed = sealer.seal("pa55word", "7:1")
    assert "pa55word" not in sealed and sealer.open(sealed, "7:1") == "pa55word"
    with pytest.raises(Exception):
        sealer.open(sealed, "7:2")
    with pytest.raises(Exception):
        Sealer(b"j" * 32).open(sealed, "7:1")


class _row:
    def __init__(self, row: int, value):
        self.row, self.input = row, value
