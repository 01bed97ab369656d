"""A clerk's ledger files as offices write them (issue 15), through the HTTP API.

The fixtures in tests/fixtures/clerk/ were written by LibreOffice headless in a Chinese locale (PROVENANCE.md says how):
XLSX, ODS and CSV in GBK and UTF-8 with and without BOM, with Chinese dates, thousands separators, full-width digits,
a title row, a second (Chinese) header row, a 备注 column, and an 18-digit document number typed as a number.
"""
import csv
import io
import pickle
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from api.context import db as current_db
from inspector.ledger.files import COLUMNS
from seed import users as demo_users
from seed.loader import load
from tests.conftest import AuthActions, Clerks, make_app

UPLOAD = "/api/ledger/uploads"
FIXTURES = Path(__file__).parent / "fixtures" / "clerk"
FIRST, SECOND, THIRD = "RE7K2M9XA4K", "RE7K2M9XB57", "RE7K2M9XC6T"
LANGUAGES = ("en", "zh-CN", "id", "fr")


def _documents(collection):
    """The embedded store's own table of a collection's documents (None on a real MongoDB)."""
    return getattr(getattr(collection, "_store", None), "_documents", None)


@pytest.fixture(scope="module")
def office():
    """One seeded app for the module, its clerks signed in once, and a snapshot of every collection to go back to."""
    app = make_app()
    with app.app_context():
        database = current_db()
        load(database, "small")
        demo_users.ensure_demo_users(database)
        client = app.test_client()
        signed_in = Clerks(database, AuthActions(client))
        for who in ("ENT-NSM", "ENT-BPS", "inspector"):
            signed_in[who]
        snapshot = {name: pickle.dumps(list(database[name].find({}))) for name in database.list_collection_names()}
        yield {"app": app, "db": database, "client": client, "clerks": signed_in, "snapshot": snapshot}
        database.client.drop_database(database.name)


@pytest.fixture
def db(office):
    """The module's database as the seed and the sign-ins left it: what an earlier test uploaded is gone."""
    database, snapshot = office["db"], office["snapshot"]
    for name in database.list_collection_names():
        docs = pickle.loads(snapshot[name]) if name in snapshot else []  # a fresh copy, faster than deepcopy
        table = _documents(database[name])
        if table is not None:  # the embedded store: put the documents back in its table (its indexes stay declared)
            table.clear()
            table.update((doc["_id"], doc) for doc in docs)
            continue
        database[name].delete_many({})
        if docs:
            database[name].insert_many(docs)
    return database


@pytest.fixture
def client(office, db):
    return office["client"]


@pytest.fixture
def clerks(office, db):
    return office["clerks"]


def upload(client, headers, data, name):
    return client.post(UPLOAD, headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def fixture(name):
    return (FIXTURES / name).read_bytes()


def problems(response):
    assert response.status_code == 422, response.json
    return response.json["errors"]["receipt"]["errors"]


def ledger_csv(rows, header=COLUMNS, encoding="utf-8", above=()):
    out = io.StringIO()
    writer = csv.writer(out)
    for row in above:
        writer.writerow(row)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def ore(event_id="D1", day="2026-11-02", mass="1000", code=""):
    return {"event_id": event_id, "event_type": "production", "occurred_at": day, "enterprise_id": "ENT-NSM",
            "line_role": "output", "batch_code": code, "mass_kg": mass, "stage": "ore",
            "product_type": "bastnaesite_concentrate", "reo_pct": "55"}


def stored(db):
    return db.ledger_events.count_documents({}), db.batches.count_documents({})


# -- what LibreOffice writes is read --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["office.xlsx", "office.ods", "office-gbk.csv", "office-utf8.csv",
                                  "office-utf8-bom.csv"])
def test_an_office_ledger_written_by_libreoffice_is_accepted_with_warnings(client, clerks, db, name):
    response = upload(client, clerks["ENT-NSM"], fixture(name), name)
    assert response.status_code == 201, response.json
    receipt = response.json
    assert receipt["accepted"] == 4 and receipt["errors"] == []
    warned = {w["code"]: w for w in receipt["warnings"]}
    assert warned["title_row_skipped"]["params"]["line"] == 1
    assert "北方稀土矿业" in warned["title_row_skipped"]["params"]["text"]
    assert warned["column_ignored"]["params"]["column"] == "备注"
    assert warned["second_header_skipped"]["params"]["line"] == 3
    first = db.batches.find_one({"_id": FIRST})
    assert first["mass_kg"] == 2821.9 and first["in_transit"]["to_id"] == "ENT-BPS"
    assert db.batches.find_one({"_id": SECOND})["status"] == "consumed"
    # The batch view shows the ledger's date, China time: not the UTC date of China midnight (the day before).
    view = client.get(f"/api/batches/{FIRST}", headers=clerks["inspector"]).json
    assert view["batch"]["produced_on"] == "2026-11-03"
    mine = client.get("/api/batches", headers=clerks["ENT-NSM"]).json
    assert {b["code"]: b["produced_on"] for b in mine["batches"]}.get(SECOND) == "2026-11-06"


def test_text_typed_thousands_separators_and_full_width_digits_in_gbk_are_read(client, clerks, db):
    response = upload(client, clerks["ENT-NSM"], fixture("typed-gbk.csv"), "typed-gbk.csv")
    assert response.status_code == 201, response.json
    assert db.batches.find_one({"_id": FIRST})["mass_kg"] == 2821.9
    second = db.batches.find_one({"_id": SECOND})
    assert (second["mass_kg"], second["reo_pct"]) == (2821.9, 55.0)
    assert "second_header_skipped" not in {w["code"] for w in response.json["warnings"]}


@pytest.mark.parametrize("name", ["docno.xlsx", "docno-utf8.csv"])
def test_a_document_number_typed_as_a_number_is_refused_with_every_problem_of_every_line(client, clerks, db, name):
    before = stored(db)
    found = problems(upload(client, clerks["ENT-NSM"], fixture(name), name))
    assert stored(db) == before  # all or nothing: the good first line is not stored either
    by_line = {}
    for e in found:
        by_line.setdefault(e["line"], []).append(e)
        assert e["params"]["line"] == e["line"] and e["code"]
    [lost] = by_line[3]
    assert lost["code"] == "precision_lost" and lost["field"] == "doc_no"
    assert "format the column as text" in lost["message"].lower() and lost["params"]["value"].startswith("1.23456")
    # Line 4 has two problems, both listed, each named by the template's column (never the internal to_id).
    assert {(e["code"], e["field"]) for e in by_line[4]} == {("bad_mass", "mass_kg"), ("bad_field", "counterparty_id")}
    assert all("to_id" not in e["message"] for e in found)
    assert 2 not in by_line


def test_excel_date_cells_serials_and_chinese_date_forms_are_read_as_china_dates(client, clerks, db):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    from datetime import date, datetime
    days = [date(2026, 11, 3), datetime(2026, 11, 4, 0, 30), 46331, "2026年11月6日", "2026.11.7", "2026/11/8",
            "2026-11-9", "26年11月10日", "２０２６－１１－１１"]
    for i, day in enumerate(days):
        row = ore(f"T{i}", code="")
        row["occurred_at"] = None
        values = [row.get(c, "") for c in COLUMNS]
        values[COLUMNS.index("occurred_at")] = day
        values[COLUMNS.index("mass_kg")] = 1000 + i
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    response = upload(client, clerks["ENT-NSM"], out.getvalue(), "dates.xlsx")
    assert response.status_code == 201, response.json
    assert response.json["accepted"] == len(days)
    views = [client.get(f"/api/batches/{codes[0]}", headers=clerks["inspector"]).json["batch"]["produced_on"]
             for codes in response.json["issued_codes"].values()]
    assert views == ["2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08",
                     "2026-11-09", "2026-11-10", "2026-11-11"]


# -- the template ---------------------------------------------------------------------------------------------------
def test_the_clerks_template_names_their_own_enterprise_and_uploads_as_downloaded(client, clerks, db):
    r = client.get("/api/ledger/template.xlsx", headers=clerks["ENT-BPS"])
    book = load_workbook(io.BytesIO(r.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    enterprise = COLUMNS.index("enterprise_id")
    examples = [row for row in rows if row[0]]
    assert examples and {row[enterprise] for row in examples} == {"ENT-BPS"}
    for column in ("batch_code", "doc_no", "enterprise_id", "counterparty_id", "event_id"):
        cell = sheet.cell(row=2, column=COLUMNS.index(column) + 1)
        assert cell.number_format == "@", column
    listed = {str(v.sqref).split(":")[0][0]: v.formula1 for v in sheet.data_validations.dataValidation}
    letter = {c: chr(ord("A") + i) for i, c in enumerate(COLUMNS)}
    assert "shipment" in listed[letter["event_type"]] and "compound" in listed[letter["stage"]]
    assert "事件编号" in sheet.cell(row=1, column=1).comment.text
    instructions = " ".join(str(v) for row in book.worksheets[1].iter_rows(values_only=True) for v in row if v)
    assert "填写说明" in instructions and "How to fill in" in instructions and "format" in instructions.lower()
    done = upload(client, clerks["ENT-BPS"], r.data, "template.xlsx")
    assert done.status_code == 201, done.json
    assert done.json["accepted"] == 7
    csv_template = client.get("/api/ledger/template.csv", headers=clerks["ENT-BPS"])
    instructions = csv_template.data.decode("utf-8-sig").splitlines()[:2]
    assert "填写说明" in instructions[0] and "How to fill in" in instructions[1] and "as text" in instructions[1]
    again = upload(client, clerks["ENT-BPS"], csv_template.data, "template.csv")
    assert again.status_code == 201 and again.json["duplicates"] == 7, again.json
    assert [w["params"]["line"] for w in again.json["warnings"] if w["code"] == "title_row_skipped"] == [1, 2]
    # Another clerk's template has other codes: it does not collide with the first clerk's examples.
    other = upload(client, clerks["ENT-NSM"], client.get("/api/ledger/template.csv", headers=clerks["ENT-NSM"]).data,
                   "template.csv")
    assert other.status_code == 201 and other.json["accepted"] == 7, other.json


# -- the dishonest clerk --------------------------------------------------------------------------------------------
def test_looser_reading_cannot_be_abused(client, clerks, db):
    nsm = clerks["ENT-NSM"]
    before = stored(db)
    # An ambiguous date is refused, not guessed: 3/11/2026 could be 3 November or 11 March (another month's ledger).
    found = problems(upload(client, nsm, ledger_csv([ore("A1", "3/11/2026"), ore("A2", "11/3/26"),
                                                     ore("A3", "26/11/3"), ore("A4", "2026-02-30")]), "a.csv"))
    assert [(e["line"], e["code"]) for e in found] == [(2, "ambiguous_date"), (3, "ambiguous_date"),
                                                      (4, "ambiguous_date"), (5, "bad_date")]
    assert all(e["field"] == "occurred_at" and e["params"]["value"] for e in found)
    # Two headers naming one field (an alias and the template's name): which one counts would be a guess.
    header = list(COLUMNS) + ["重量"]
    doubled = upload(client, nsm, ledger_csv([list(ore().values())], header=header), "b.csv")
    assert doubled.status_code == 422 and doubled.json["errors"]["error_code"] == "wrong_headers"
    assert "重量" in doubled.json["message"] and "mass_kg" in doubled.json["message"]
    # A "title" above the header that is really a ledger line is not skipped quietly: the file is refused.
    hidden = [ore("H0")[c] if c in ore("H0") else "" for c in COLUMNS]
    hid = upload(client, nsm, ledger_csv([ore("H1")], above=[hidden]), "c.csv")
    assert hid.status_code == 422 and hid.json["errors"]["error_code"] == "wrong_headers"
    # A second header row that moves columns (swapping who the counterparty is and the document) is refused.
    swapped = ["事件编号", "事件类型", "发生日期", "企业编号", "行角色", "批次码", "重量", "阶段", "产品类型", "REO含量(%)",
               "配额类别", "单据号", "对方企业", "口岸", "国家", "状态"]
    moved = upload(client, nsm, ledger_csv([swapped, ore("S1")]), "d.csv")
    assert moved.status_code == 422 and moved.json["errors"]["error_code"] == "wrong_headers"
    # A decimal comma is not read as thousands (1,5 kg is not 15 kg), and every bad line is named.
    found = problems(upload(client, nsm, ledger_csv([ore("C1", mass="1,5"), ore("C2", mass="2,8219"),
                                                     ore("C3", mass="1.234,5")]), "e.csv"))
    assert [(e["line"], e["code"], e["field"]) for e in found] == [(2, "bad_number", "mass_kg")] * 1 + [
        (3, "bad_number", "mass_kg"), (4, "bad_number", "mass_kg")]
    # An event_id spreadsheet-rounded into 1.23457E+17 would merge distinct events: refused.
    found = problems(upload(client, nsm, ledger_csv([{**ore(), "event_id": "1.23457E+17"}]), "f.csv"))
    assert [(e["code"], e["field"]) for e in found] == [("precision_lost", "event_id")]
    assert stored(db) == before


def test_odd_cells_never_answer_500(client, clerks, db):
    book = Workbook()
    sheet = book.active
    sheet.append(["台账"])
    sheet.append(list(COLUMNS) + ["备注"])
    sheet.append([1e300, True, -1, 1.5, None, 123456789012345678, "1e999", float("-0.0"), 0, "=1+1", 10 ** 30,
                  "２,８２１", "", "", "", "", "x" * 2000])
    sheet.append([None] * 5 + ["RE7K2M9XA4K"])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, clerks["ENT-NSM"], out.getvalue(), "odd.xlsx")
    assert response.status_code == 422, response.json
    for data, name in [(b"\xef\xbb\xbf", "bom.csv"), ("标题\n\n\n".encode("gbk"), "t.csv"),
                       (b"PK\x03\x04broken", "x.ods"), (fixture("office.ods")[:2000], "cut.ods")]:
        assert upload(client, clerks["ENT-NSM"], data, name).status_code == 422


def test_every_problem_code_a_file_can_get_is_in_every_catalog():
    codes = {"precision_lost", "ambiguous_date", "bad_date", "bad_number", "bad_field", "bad_mass", "formula_cell",
             "unknown_batch", "unknown_enterprise", "not_your_enterprise", "over_holding", "future_date", "code_taken",
             "malformed_code", "batch_retired", "event_id_reused", "partial_shipment", "in_transit",
             "below_minimum_mass", "import_not_approved"}
    warnings = {"title_row_skipped", "second_header_skipped", "column_ignored"}
    root = Path(__file__).parent.parent / "mobile_web" / "app" / "i18n"
    for language in LANGUAGES:
        text = (root / f"{language}.js").read_text(encoding="utf-8")
        for code in codes:
            assert f'"ledger.problem.{code}"' in text, (language, code)
        for code in warnings:
            assert f'"ledger.warning.{code}"' in text, (language, code)


def test_every_problem_of_every_item_line_of_one_event_is_listed(client, clerks, db):
    first = {**ore("M1"), "mass_kg": "-3", "stage": "rock", "reo_pct": "500"}
    second = {**ore("M1"), "mass_kg": "2,821.9", "product_type": "Bad Name", "occurred_at": ""}  # "" = the first's
    found = problems(upload(client, clerks["ENT-NSM"], ledger_csv([first, second]), "items.csv"))
    assert sorted((e["line"], e["code"], e["field"]) for e in found) == [
        (2, "bad_field", "reo_pct"), (2, "bad_field", "stage"),
        (2, "bad_mass", "mass_kg"), (3, "bad_field", "product_type")]
    assert all(e["params"]["field"] == e["field"] and e["event_id"] == "M1" for e in found)
