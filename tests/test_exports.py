"""Exports through the HTTP API: CSV, XLSX and GeoJSON, streamed, filtered, scoped and safe to open in a spreadsheet."""
import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from conftest import gen_user
from finding_helpers import act, crew, log_finding, minimal_pdf, photo, upload  # noqa: F401
from inspector.findings.exports import HEADER, neutralise
from seed.findings import bulk_findings

DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+SUM(1,2)", "-2+3", "@cmd", "\t=1+1", "\r=1", "  =1"]


def _export(client, headers, fmt, query=""):
    response = client.get(f"/api/inspections/export?format={fmt}{query}", headers=headers)
    assert response.status_code == 200, response.get_json(silent=True)
    return response


def _csv_rows(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _hostile_finding(client, crew):
    return log_finding(client, crew["inspector"], notes=DANGEROUS[0], batch_codes=DANGEROUS[1:3],
                       site={"type": "market", "name": DANGEROUS[3]}, location={"lat": -12.5, "lon": -45.25})


def test_csv_neutralises_formulas_and_keeps_numbers(client, crew):
    finding = _hostile_finding(client, crew)
    response = _export(client, crew["supervisor"], "csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert re.fullmatch(r'attachment; filename="findings-\d{8}-\d{4}\.csv"(; .*)?', response.headers["Content-Disposition"])
    [row] = _csv_rows(response)
    assert row["id"] == finding["id"]
    assert row["notes"] == "'" + DANGEROUS[0]
    assert row["site_name"] == "'@cmd"
    assert row["batch_codes"] == "'+SUM(1,2); -2+3"
    assert row["lat"] == "-12.5" and row["lon"] == "-45.25"  # numbers are not formulas
    assert row["status"] == "submitted" and row["province"] == "Jiangxi" and row["overdue"] == "False"
    # Dates as spreadsheets recognise them in any locale, with China time beside UTC.
    observed = datetime.strptime(row["observed_at_utc"], "%Y-%m-%d %H:%M:%S")
    assert datetime.strptime(row["observed_at_china"], "%Y-%m-%d %H:%M:%S") - observed == timedelta(hours=8)
    assert list(row) == HEADER


@pytest.mark.parametrize("text", DANGEROUS)
def test_every_formula_trigger_is_neutralised(text):
    assert neutralise(text) == "'" + text
    assert neutralise("Ganzhou = market") == "Ganzhou = market" and neutralise(-3.5) == -3.5


def test_xlsx_cells_are_text_not_formulas(client, crew):
    finding = _hostile_finding(client, crew)
    response = _export(client, crew["supervisor"], "xlsx")
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == HEADER
    cells = dict(zip(HEADER, rows[1]))
    assert cells["id"].value == finding["id"]
    # Shown exactly as typed, with no visible apostrophe, in text cells the spreadsheet never evaluates.
    assert cells["notes"].value == DANGEROUS[0] and cells["site_name"].value == "@cmd"
    assert cells["batch_codes"].value == "+SUM(1,2); -2+3"
    for name in ("notes", "site_name", "batch_codes"):
        assert cells[name].data_type == "s" and cells[name].quotePrefix, name
    assert not cells["status"].quotePrefix
    assert all(c.data_type != "f" for row in rows for c in row)
    assert cells["lat"].value == -12.5
    assert cells["observed_at_utc"].is_date and cells["observed_at_utc"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells["observed_at_china"].value - cells["observed_at_utc"].value == timedelta(hours=8)


def test_xlsx_has_a_bold_frozen_filtered_header_and_columns_wide_enough(client, crew):
    log_finding(client, crew["inspector"])
    log_finding(client, crew["inspector"], enterprise_id="ENT-BMM")
    sheet = load_workbook(io.BytesIO(_export(client, crew["supervisor"], "xlsx").data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(HEADER))}3"
    assert all(cell.font.bold for cell in sheet[1])
    observed = get_column_letter(HEADER.index("observed_at_utc") + 1)
    assert sheet.column_dimensions[observed].width >= len("2026-11-03 14:05:00")
    assert sheet.column_dimensions[get_column_letter(HEADER.index("notes") + 1)].width > 30


@pytest.mark.parametrize("lang, first, china", [("zh-CN", "检查记录编号", "发现时间（北京时间）"),
                                                ("fr", "Constat", "Constaté (heure de Chine)"),
                                                ("id", "Temuan", "Diamati (waktu Tiongkok)"),
                                                ("en", "Finding", "Observed (China time)")])
def test_headings_in_the_readers_language_on_request(client, crew, lang, first, china):
    log_finding(client, crew["inspector"])
    text = _export(client, crew["supervisor"], "csv", f"&lang={lang}").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text[1:])))
    assert header[0] == first and china in header and len(header) == len(HEADER)
    sheet = load_workbook(io.BytesIO(_export(client, crew["supervisor"], "xlsx", f"&lang={lang}").data)).active
    assert [c.value for c in sheet[1]] == header
    assert client.get("/api/inspections/export?format=csv&lang=de", headers=crew["supervisor"]).status_code == 422


def test_geojson_is_a_valid_feature_collection(client, crew):
    placed = log_finding(client, crew["inspector"])
    nowhere = log_finding(client, crew["inspector"], location=None)
    response = _export(client, crew["supervisor"], "geojson")
    assert response.headers["Content-Type"] == "application/geo+json"
    collection = json.loads(response.data)
    assert collection["type"] == "FeatureCollection"
    features = {f["id"]: f for f in collection["features"]}
    assert set(features) == {placed["id"], nowhere["id"]}
    point = features[placed["id"]]
    assert point["type"] == "Feature"
    assert point["geometry"] == {"type": "Point", "coordinates": [114.9396, 25.8412]}  # RFC 7946: lon, lat
    assert point["properties"]["discrepancies"] == ["unrecorded_transfer", "label_missing_or_damaged"]
    assert point["properties"]["status"] == "submitted"
    assert features[nowhere["id"]]["geometry"] is None


def test_exports_are_streamed_in_pieces(client, db, crew):
    inspectors = [{"user_id": "bulk-inspector", "username": "bulk", "role": "inspector"}]
    db.findings.insert_many(list(bulk_findings(1_200, inspectors)))
    for fmt in ("csv", "geojson"):
        response = client.get(f"/api/inspections/export?format={fmt}", headers=crew["supervisor"])
        assert response.is_streamed
        chunks = list(response.response)
        assert len(chunks) >= 3, fmt  # rows leave in batches, not as one body built in memory
        body = b"".join(chunks)
        if fmt == "csv":
            assert len(body.decode("utf-8-sig").splitlines()) == 1_201
        else:
            assert len(json.loads(body)["features"]) == 1_200
    xlsx = client.get("/api/inspections/export?format=xlsx", headers=crew["supervisor"])
    assert xlsx.is_streamed
    assert sum(1 for _ in load_workbook(io.BytesIO(xlsx.data), read_only=True).active.iter_rows()) == 1_201


def test_exports_apply_the_filters_and_the_scope(client, db, auth, crew):
    jiangxi = log_finding(client, crew["inspector"])
    baotou = log_finding(client, crew["inspector"], enterprise_id="ENT-BMM")
    act(client, crew["supervisor"], baotou["id"], "confirm")
    rows = _csv_rows(_export(client, crew["supervisor"], "csv", "&status=confirmed"))
    assert [r["id"] for r in rows] == [baotou["id"]]
    gen_user(db, "north", "supervisor", password="pw-north", provinces=["Inner Mongolia"])
    north = auth.headers("north", password="pw-north")
    assert [r["id"] for r in _csv_rows(_export(client, north, "csv"))] == [baotou["id"]]
    assert jiangxi["id"] in {r["id"] for r in _csv_rows(_export(client, crew["admin"], "csv"))}


def test_exports_are_for_supervisors_and_admins(client, db, crew):
    log_finding(client, crew["inspector"])
    for username in ("inspector", "enterprise"):
        assert client.get("/api/inspections/export?format=csv", headers=crew[username]).status_code == 403
    assert client.get("/api/inspections/export?format=pdf", headers=crew["supervisor"]).status_code == 422
    assert client.get("/api/inspections/export").status_code == 401
    before = db.audit_log.count_documents({"action": "finding.export"})
    _export(client, crew["supervisor"], "csv", "&severity=high")
    entry = db.audit_log.find_one({"action": "finding.export"}, sort=[("_id", -1)])
    assert db.audit_log.count_documents({"action": "finding.export"}) == before + 1
    assert entry["details"] == {"format": "csv", "filters": {"severity": "high"}}


def test_rows_carry_the_workflow_fields_and_attachment_count(client, crew):
    finding = log_finding(client, crew["inspector"])
    upload(client, crew["inspector"], finding["id"], photo())
    upload(client, crew["inspector"], finding["id"], minimal_pdf())
    act(client, crew["supervisor"], finding["id"], "dismiss", reason="duplicate")
    [row] = _csv_rows(_export(client, crew["supervisor"], "csv"))
    assert row["attachments"] == "2"
    assert row["status"] == "dismissed" and row["outcome"] == "duplicate"
    assert row["enterprise_name"] == "Ganzhou Market Traders" and row["site_type"] == "market"
    assert row["discrepancies"] == "unrecorded_transfer; label_missing_or_damaged"
