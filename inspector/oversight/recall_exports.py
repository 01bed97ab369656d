"""A recall list as one spreadsheet (CSV, XLSX) or a map (GeoJSON), written with the findings export's cells.

Dates are spreadsheet dates in UTC with a China-time column beside them, text a spreadsheet would run as a formula
stays text, and the XLSX has a bold, frozen, filtered header (inspector/findings/exports.py does the cells).
"""
import csv
import io
import json

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from inspector.ledger.epcis.export import to_epcis
from inspector.findings.exports import (DATE_WIDTH, FORMATS, _china, _json_value, _utc, csv_cell,
                                        workbook_chunks, xlsx_cell)

COLUMNS = (
    ("code", lambda r: r["code"]),
    ("generation", lambda r: r["generation"]),
    ("stage", lambda r: r["stage"]),
    ("product_type", lambda r: r["product_type"]),
    ("status", lambda r: r["status"]),
    ("taint_pct", lambda r: r["taint_pct"]),
    ("source_kg", lambda r: r["source_kg"]),
    ("source_share_pct", lambda r: r["source_share_pct"]),
    ("mass_kg", lambda r: r["mass_kg"]),
    ("remaining_kg", lambda r: r["remaining_kg"]),
    ("tainted_remaining_kg", lambda r: r["tainted_remaining_kg"]),
    ("holder_id", lambda r: r["holder_id"]),
    ("holder_name", lambda r: r["holder_name"]),
    ("province", lambda r: r["province"]),
    ("city", lambda r: r["city"]),
    ("lat", lambda r: (r["location"] or {}).get("lat")),
    ("lon", lambda r: (r["location"] or {}).get("lon")),
    ("in_transit", lambda r: r["in_transit"]),
    ("producer_id", lambda r: r["producer_id"]),
    ("produced_on_utc", lambda r: _utc(r["produced_on"])),
    ("produced_on_china", lambda r: _china(r["produced_on"])),
    ("last_scanned_at_utc", lambda r: _utc((r["last_scan"] or {}).get("received_at"))),
    ("last_scanned_at_china", lambda r: _china((r["last_scan"] or {}).get("received_at"))),
    ("last_scan_site", lambda r: ((r["last_scan"] or {}).get("site") or {}).get("name")),
    ("last_scan_province", lambda r: (r["last_scan"] or {}).get("province")),
    ("parent_codes", lambda r: "; ".join(r["parent_codes"])),
)
HEADER = [name for name, _ in COLUMNS]
WIDTHS = {"code": 14, "product_type": 24, "holder_name": 28, "last_scan_site": 24, "parent_codes": 30}


def _values(row):
    return [get(row) for _, get in COLUMNS]


def csv_chunks(source, rows):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([csv_cell(v) for v in _values(row)])
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(source, rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"recall {source['code']}"[:31])
    for index, name in enumerate(HEADER, 1):
        wide = DATE_WIDTH if name.endswith(("_utc", "_china")) else WIDTHS.get(name, 14)
        sheet.column_dimensions[get_column_letter(index)].width = wide
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    titles = []
    for title in HEADER:
        cell = WriteOnlyCell(sheet, title)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        sheet.append([xlsx_cell(sheet, v) for v in _values(row)])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{len(rows) + 1}"
    yield from workbook_chunks(workbook)


def feature(row):
    """One reached batch at its holder's registered place (RFC 7946 [lon, lat]; none known: a null geometry)."""
    location = row["location"] or {}
    geometry = None
    if location.get("lat") is not None and location.get("lon") is not None:
        geometry = {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
    properties = {name: _json_value(v) for name, v in zip(HEADER, _values(row))}
    properties["parent_codes"] = list(row["parent_codes"])
    return {"type": "Feature", "id": row["code"], "geometry": geometry, "properties": properties}


def geojson_chunks(source, rows):
    body = {"type": "FeatureCollection", "source": {k: _json_value(v) for k, v in source.items()},
            "features": [feature(r) for r in rows]}
    yield json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks, "geojson": geojson_chunks}
EPCIS = ("application/ld+json", "jsonld")


def epcis_chunks(db, source, rows, now):
    """The ledger events of the source and every listed batch as one EPCIS 2.0 document (one read, on the
    (codes, occurred_at) index), each event once, oldest first: the recall's history for a partner's system."""
    codes = sorted({source["code"], *(r["code"] for r in rows)})
    events = db.ledger_events.find({"codes": {"$in": codes}}, {"accounting": 0}).sort([("occurred_at", 1),
                                                                                      ("recorded_at", 1)])
    yield json.dumps(to_epcis(list(events), source["code"], now), ensure_ascii=False).encode("utf-8")


def export_chunks(fmt, source, rows, db=None, now=None):
    """(content type, extension, chunks) of the recall list in the format asked for."""
    if fmt == "epcis":
        return (*EPCIS, epcis_chunks(db, source, rows, now))
    mimetype, extension = FORMATS[fmt]
    return mimetype, extension, WRITERS[fmt](source, rows)
