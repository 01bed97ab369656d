"""The findings exports opened as a supervisor's office opens them: LibreOffice Calc (headless) and GDAL's ogrinfo."""
import csv
import io
import shutil
import subprocess
from datetime import datetime

import pytest
from openpyxl import load_workbook

from finding_helpers import crew, log_finding  # noqa: F401

NOTE = '=HYPERLINK("http://evil.example","click")'
CODES = "+SUM(1,2); -2+3"


def _tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: scripts/setup.sh --with-browser installs it (the export tests open files with it)")
    return path


def _soffice(tmp_path, *args):
    """Run LibreOffice headless with its own profile (so parallel runs do not share a lock) in tmp_path."""
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run([_tool("soffice"), f"-env:UserInstallation={profile}", "--headless", *args,
                           "--outdir", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr


def _export(client, headers, fmt, tmp_path, query=""):
    response = client.get(f"/api/inspections/export?format={fmt}{query}", headers=headers)
    assert response.status_code == 200
    path = tmp_path / f"findings.{fmt}"
    path.write_bytes(response.data)
    return path


@pytest.fixture
def hostile(client, crew):
    return log_finding(client, crew["inspector"], notes=NOTE, batch_codes=["+SUM(1,2)", "-2+3"],
                       site={"type": "market", "name": "@cmd"})


def test_xlsx_opened_in_calc_shows_dates_and_text_exactly_as_stored(client, crew, hostile, tmp_path):
    source = _export(client, crew["supervisor"], "xlsx", tmp_path)
    stored = dict(zip(*[[c.value for c in row] for row in load_workbook(source).active.iter_rows(max_row=2)]))
    _soffice(tmp_path, "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", str(source))
    # Calc writes each cell as it displays it.
    [shown] = list(csv.DictReader(io.StringIO((tmp_path / "findings.csv").read_text("utf-8"))))
    assert shown["notes"] == NOTE, "the note is shown as typed, not run as a link formula"
    assert shown["batch_codes"] == CODES and shown["site_name"] == "@cmd"
    assert shown["observed_at_utc"] == f"{stored['observed_at_utc']:%Y-%m-%d %H:%M:%S}"
    assert shown["observed_at_china"] == f"{stored['observed_at_china']:%Y-%m-%d %H:%M:%S}"


def test_csv_opened_in_a_chinese_calc_has_date_cells_and_no_formulas(client, crew, hostile, tmp_path):
    source = _export(client, crew["supervisor"], "csv", tmp_path, "&lang=zh-CN")
    # As the import dialog of a Chinese-locale Calc reads it: UTF-8, comma, "detect special numbers" on.
    _soffice(tmp_path, "--infilter=CSV:44,34,76,1,,2052,false,true", "--convert-to", "xlsx", str(source))
    sheet = load_workbook(tmp_path / "findings.xlsx").active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2]))
    assert header[0] == "检查记录编号", "the BOM is read, the Chinese headings arrive intact"
    observed = row["发现时间（北京时间）"]
    assert observed.is_date and isinstance(observed.value, datetime), "a date cell, not text"
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line), "nothing runs as a formula"
    assert row["备注"].value == "'" + NOTE


def test_geojson_is_read_by_gdal(client, crew, hostile, tmp_path):
    log_finding(client, crew["inspector"], location=None)
    source = _export(client, crew["supervisor"], "geojson", tmp_path)
    done = subprocess.run([_tool("ogrinfo"), "-ro", "-al", "-so", str(source)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Feature Count: 2" in done.stdout and "Geometry: Point" in done.stdout
    for field in ("status: String", "observed_at_china: DateTime", "lat: Real", "overdue: Integer(Boolean)"):
        assert field in done.stdout, (field, done.stdout)
