"""Hostile input files, generated: each is small to send and built to hurt a reader that trusts it.

Importable (tests/test_hostile_files.py, the chaos suite feeds them as jobs): every function returns the file's
bytes; `HOSTILE_TRACKER_FILES` names each with the file name it should be dropped or uploaded as.

- huge_dimension_xlsx: 1.9 KB workbook whose 'events' sheet declares A1:XFD1048576 and has cells in both corners
  (17 billion cells: calamine allocates its cell grid, 512 GiB, and aborts the process).
- lying_dimension_xlsx: the same cells under a declared A1:A1 (only the reader child's memory limit stops it).
- zip_bomb_xlsx: a workbook whose shared strings member inflates to `inflated` bytes (default 300 MiB) from a
  few hundred KB.
- million_event_json: a tracker JSON export with a million (tiny) events.
- deeply_nested_json: a tracker JSON export with `depth` nested arrays inside its events list.
- invalid_utf8_json / invalid_utf8_csv: bytes that are not UTF-8 where text is expected.
"""

from __future__ import annotations

import io
import json
import zipfile

HOSTILE_GAME_ID = 19999

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{ref}"/><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c></row>{far}'
    '</sheetData></worksheet>'
)
_FAR_CELL = '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>'
_SST_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
             '<si><t>')
_SST_TAIL = '</t></si></sst>'


def _workbook(sheet: str, ref: str, *, far_cell: bool = False, inflated: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(sheet=sheet))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", _SHEET.format(ref=ref, far=_FAR_CELL if far_cell else ""))
        if inflated:
            with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
                member.write(_SST_HEAD.encode())
                chunk = b"A" * (1 << 20)
                for _ in range(inflated // len(chunk)):
                    member.write(chunk)
                member.write(_SST_TAIL.encode())
        else:
            zf.writestr("xl/sharedStrings.xml", (_SST_HEAD + "event_index_" + _SST_TAIL).encode())
    return buf.getvalue()


def huge_dimension_xlsx(sheet: str = "events", ref: str = "A1:XFD1048576") -> bytes:
    """A valid workbook of two cells, A1 and XFD1048576, whose sheet declares `ref` as its used range."""
    return _workbook(sheet, ref, far_cell=True)


def lying_dimension_xlsx(sheet: str = "events") -> bytes:
    """As huge_dimension_xlsx, but the sheet declares A1:A1: only a memory limit stops the reader."""
    return _workbook(sheet, "A1:A1", far_cell=True)


def zip_bomb_xlsx(inflated: int = 300 * 1024 * 1024, sheet: str = "events") -> bytes:
    """A workbook whose shared strings member inflates to about `inflated` bytes (ratio ~1000)."""
    return _workbook(sheet, "A1", inflated=inflated)


def million_event_json(events: int = 1_000_000, game_id: int = HOSTILE_GAME_ID) -> bytes:
    """A tracker JSON export with `events` tiny events (~30 bytes each)."""
    body = ",".join(f'{{"idx":{i},"period":1,"type":"Shot"}}' for i in range(events))
    return f'{{"gameId":{game_id},"version":"25.0","events":[{body}],"shifts":[]}}'.encode()


def deeply_nested_json(depth: int = 100_000, game_id: int = HOSTILE_GAME_ID) -> bytes:
    """A tracker JSON export whose only event holds `depth` nested arrays."""
    nested = "[" * depth + "]" * depth
    return f'{{"gameId":{game_id},"events":[{{"idx":1,"period":1,"type":"Shot","detail1":{nested}}}]}}'.encode()


def invalid_utf8_json(game_id: int = HOSTILE_GAME_ID) -> bytes:
    """A tracker JSON export with bytes that are not UTF-8 inside a string."""
    return json.dumps({"gameId": game_id, "events": [{"idx": 1, "period": 1, "type": "Shot"}]}).encode().replace(
        b"Shot", b"Sh\xff\xfet")


def invalid_utf8_csv(header: list[str]) -> bytes:
    """A CSV with the given header and a row that is not UTF-8."""
    return (",".join(header) + "\n").encode() + b"\xff\xfe" + b"," * (len(header) - 1) + b"\n"


HOSTILE_TRACKER_FILES = {
    f"{HOSTILE_GAME_ID}_tracking.xlsx": huge_dimension_xlsx,
    f"{HOSTILE_GAME_ID}_lying_tracking.xlsx": lying_dimension_xlsx,
    f"{HOSTILE_GAME_ID}_bomb_tracking.xlsx": zip_bomb_xlsx,
    f"{HOSTILE_GAME_ID}_million.json": million_event_json,
    f"{HOSTILE_GAME_ID}_nested.json": deeply_nested_json,
    f"{HOSTILE_GAME_ID}_utf8.json": invalid_utf8_json,
}
