"""The customs declaration register: what customs recorded of each import, and the check every import is held to.

Administrators load the register (CSV as customs exports it, or JSON). An import in the ledger names a declaration;
the import is verified only when the register holds that declaration, for that importer, port, origin, kind of
goods (HS heading) and date, and the imports booked under it stay within its net mass. Anything else flags the
import, and its batches scan with the reason `unverified_import` until a register load confirms them.
"""
import csv
import io
import re
from datetime import date, datetime, timedelta

from inspector.audit import chain as audit
from inspector.clock import CST, aware
from inspector.errors import DomainError

FIELDS = ("declaration_no", "declared_on", "importer_id", "port", "hs_code", "net_mass_kg", "origin_country")
# Column names as China Customs' declaration exports and clerks' sheets write them.
ALIASES = {
    "报关单号": "declaration_no", "报关单编号": "declaration_no", "海关编号": "declaration_no",
    "申报日期": "declared_on", "进口日期": "declared_on",
    "进口商": "importer_id", "收发货人": "importer_id", "境内收发货人": "importer_id", "境内收货人": "importer_id",
    "统一社会信用代码": "importer_id", "企业编号": "importer_id",
    "口岸": "port", "进境口岸": "port", "入境口岸": "port", "进口口岸": "port",
    "商品编码": "hs_code", "hs编码": "hs_code", "税则号列": "hs_code",
    "净重": "net_mass_kg", "净重(千克)": "net_mass_kg", "净重（千克）": "net_mass_kg", "净重kg": "net_mass_kg",
    "原产国": "origin_country", "原产国(地区)": "origin_country", "原产国（地区）": "origin_country",
}
# HS headings (first digits) of rare-earth goods per ledger stage: ores and concentrates, compounds (2846), metals
# (2805.30) and permanent magnets (8505.11). Source: the Harmonized System nomenclature, 2022 edition.
STAGE_HS = {"ore": ("2530", "2612", "2617"), "compound": ("2846",), "metal": ("280530",), "magnet": ("850511",)}
DATE_WINDOW = timedelta(days=30)  # goods reach the importer within a month of the declaration, either side
MASS_TOLERANCE = 0.005  # weighing differences between customs and the plant: half a percent
MAX_ROWS = 5000
PROBLEMS = ("declaration_unknown", "importer_mismatch", "port_mismatch", "origin_mismatch", "hs_code_mismatch",
            "date_mismatch", "over_declared")
_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,39}$")


class CustomsError(DomainError):
    """A register load refused as a whole; lines lists every problem of every line."""

    def __init__(self, message, code="invalid_register", kind="invalid", **details):
        super().__init__(message, code=code, kind=kind, **details)


def number(text):
    """A declaration number as the register and the ledger compare it: trimmed, upper case."""
    return str(text or "").strip().upper()


def _place(text):
    return re.sub(r"[\s_\-]+", "", str(text or "")).casefold()


# -- reading a register file ---------------------------------------------------------------------------------------
def read_csv(data):
    """[(line, row dict)] from CSV bytes in UTF-8 (with or without BOM) or GBK, with Chinese headers as aliases."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CustomsError("The file is neither UTF-8 nor GBK text.", "bad_encoding")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            names = [ALIASES.get(_key(c), _key(c)) for c in cells]
            if "declaration_no" not in names:
                continue  # a title row above the header
            header = names
            continue
        rows.append((reader.line_num, {n: c.strip() for n, c in zip(header, cells) if n in FIELDS}))
        if len(rows) > MAX_ROWS:
            raise CustomsError(f"A register load holds at most {MAX_ROWS:,} declarations; split the file.",
                               "too_many_lines", kind="too_large")
    if header is None:
        raise CustomsError("No header line names declaration_no (报关单号).", "no_header")
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise CustomsError(f"The header lacks {', '.join(missing)}.", "missing_columns", columns=missing)
    return rows


def _key(cell):
    return re.sub(r"\s+", "", cell.strip().lstrip("\ufeff")).lower()


# -- checking and loading -----------------------------------------------------------------------------------------
def clean(row, importers):
    """(declaration document, []) or (None, [problems]) for one register row; importers maps id and USCC to ids."""
    problems, doc = [], {}
    no = number(row.get("declaration_no"))
    if re.fullmatch(r"\d+(\.\d+)?E\+\d+", no):
        problems.append(_problem("declaration_no", "number_lost_digits", "The declaration number was stored as a "
                                 "number and lost its last digits: format the column as text and export again."))
    elif not _NUMBER.fullmatch(no):
        problems.append(_problem("declaration_no", "bad_field", "A declaration number is 4 to 40 letters, digits "
                                                                "or hyphens."))
    doc["_id"] = doc["declaration_no"] = no
    doc["declared_on"] = _day(row.get("declared_on"), problems)
    who = str(row.get("importer_id") or "").strip()
    doc["importer_id"] = importers.get(who) or importers.get(who.upper())
    if not doc["importer_id"]:
        problems.append(_problem("importer_id", "unknown_enterprise", f"Importer {who!r} is not a registered "
                                                                      "enterprise (give its id or USCC)."))
    doc["port"] = str(row.get("port") or "").strip()
    if not doc["port"]:
        problems.append(_problem("port", "missing_field", "The port of entry is missing."))
    hs = re.sub(r"[.\s]", "", str(row.get("hs_code") or ""))
    if not re.fullmatch(r"\d{6,10}", hs):
        problems.append(_problem("hs_code", "bad_field", "An HS code is 6 to 10 digits (dots allowed)."))
    doc["hs_code"] = hs
    doc["net_mass_kg"] = _mass(row.get("net_mass_kg"), problems)
    country = str(row.get("origin_country") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(_problem("origin_country", "bad_field", "The origin is an ISO 3166 two-letter country code."))
    doc["origin_country"] = country
    return (None, problems) if problems else (doc, [])


def _problem(field, code, message):
    return {"field": field, "code": code, "message": message}


def _day(value, problems):
    if isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value or "").strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    try:
        if m:
            return datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    problems.append(_problem("declared_on", "bad_date", "The declaration date is a date such as 2026-11-03."))
    return None


def _mass(value, problems):
    try:
        kg = float(str(value).replace(",", "").strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        kg = None
    if kg is None or not kg > 0 or kg != kg or kg > 1e9:
        problems.append(_problem("net_mass_kg", "bad_mass", "The net mass is a positive number of kilograms."))
        return None
    return round(kg, 3)


def importer_ids(db):
    """{id or USCC: enterprise id} of every registered enterprise."""
    out = {}
    for e in db.enterprises.find({}, {"_id": 1, "uscc": 1}):
        out[e["_id"]] = e["_id"]
        if e.get("uscc"):
            out[e["uscc"]] = e["_id"]
    return out


def load(db, rows, actor, now):
    """Store every row of a register load, or none when any line has a problem; recheck the imports they name.

    A declaration loaded again with other facts replaces the old one (an administrator's correction, audited with
    what it replaced). Returns counts and the imports whose check changed.
    """
    importers = importer_ids(db)
    docs, lines, seen = [], [], {}
    for line, row in rows:
        doc, problems = clean(row, importers)
        if doc and doc["_id"] in seen:
            problems = [_problem("declaration_no", "duplicate", f"Declaration {doc['_id']} is also on line "
                                                                f"{seen[doc['_id']]}.")]
        if problems:
            lines.append({"line": line, "problems": problems})
        else:
            seen[doc["_id"]] = line
            docs.append(doc)
    if lines:
        raise CustomsError(f"{len(lines)} line(s) have problems; nothing was loaded.", lines=lines)
    if not docs:
        raise CustomsError("The load holds no declaration.", "empty_register")
    old = {d["_id"]: d for d in db.customs_declarations.find({"_id": {"$in": [d["_id"] for d in docs]}})}
    created = updated = unchanged = 0
    replaced = []
    for doc in docs:
        before = old.get(doc["_id"])
        facts = {k: v for k, v in (before or {}).items() if k in FIELDS}
        if before is not None and facts == {k: doc[k] for k in FIELDS}:
            unchanged += 1
            continue
        stored = {**doc, "loaded_at": now, "loaded_by": (actor or {}).get("username", "system")}
        db.customs_declarations.replace_one({"_id": doc["_id"]}, stored, upsert=True)
        if before is None:
            created += 1
        else:
            updated += 1
            replaced.append({"declaration_no": doc["_id"], "before": {k: _plain(v) for k, v in facts.items()}})
    changed = recheck(db, [d["_id"] for d in docs])
    audit.record(db, actor, "customs.load", "customs_declarations",
                 {"created": created, "updated": updated, "unchanged": unchanged, "replaced": replaced[:50],
                  "imports_rechecked": len(changed)}, now=now)
    return {"created": created, "updated": updated, "unchanged": unchanged, "imports_changed": changed}


def _plain(value):
    return value.date().isoformat() if isinstance(value, datetime) else value


def find(db, numbers):
    """{declaration number: stored declaration} for the numbers given."""
    numbers = sorted({number(n) for n in numbers if n})
    return {d["_id"]: d for d in db.customs_declarations.find({"_id": {"$in": numbers}})} if numbers else {}


def used_kgs(db, numbers):
    """{declaration number: kilograms of imported batches already booked under it} (0 when none), in one query."""
    numbers = sorted(set(numbers))
    if not numbers:
        return {}
    rows = db.batches.aggregate([{"$match": {"import_check.declaration_no": {"$in": numbers}}},
                                 {"$group": {"_id": "$import_check.declaration_no", "kg": {"$sum": "$mass_kg"}}}])
    return {**{no: 0.0 for no in numbers}, **{r["_id"]: r["kg"] for r in rows}}


def check(declaration, no, importer_id, occurred_at, port, country, stage, used_before_kg, mass_kg):
    """The problems ([{code, ...}]) an imported batch has against the register; [] when the register confirms it."""
    if declaration is None:
        return [{"code": "declaration_unknown", "declaration_no": no}]
    problems = []
    if declaration["importer_id"] != importer_id:
        problems.append({"code": "importer_mismatch", "declared": declaration["importer_id"], "reported": importer_id})
    if _place(declaration["port"]) != _place(port):
        problems.append({"code": "port_mismatch", "declared": declaration["port"], "reported": port})
    if declaration["origin_country"] != str(country or "").strip().upper():
        problems.append({"code": "origin_mismatch", "declared": declaration["origin_country"], "reported": country})
    if not declaration["hs_code"].startswith(STAGE_HS.get(stage, ())):
        problems.append({"code": "hs_code_mismatch", "declared": declaration["hs_code"], "stage": stage})
    day = occurred_at.astimezone(CST).date()
    declared = declaration["declared_on"].date()
    if abs(day - declared) > DATE_WINDOW:
        problems.append({"code": "date_mismatch", "declared": declared.isoformat(), "reported": day.isoformat()})
    allowed = declaration["net_mass_kg"] * (1 + MASS_TOLERANCE)
    if used_before_kg + mass_kg > allowed:
        problems.append({"code": "over_declared", "declared_kg": declaration["net_mass_kg"],
                         "booked_kg": round(used_before_kg + mass_kg, 3)})
    return problems


PROBLEM_TEXT = {
    "declaration_unknown": "the register holds no declaration {declaration_no}",
    "importer_mismatch": "it was declared by {declared}, not {reported}",
    "port_mismatch": "it was declared at {declared}, not {reported}",
    "origin_mismatch": "its declared origin is {declared}, not {reported}",
    "hs_code_mismatch": "its HS code {declared} is not {stage} of rare earths",
    "date_mismatch": "it was declared on {declared}, far from the import date {reported}",
    "over_declared": "imports under it reach {booked_kg:,.0f} kg of the {declared_kg:,.0f} kg declared",
}


def problems_text(problems):
    """The problems as one English clause each, joined."""
    return "; ".join(PROBLEM_TEXT[p["code"]].format(**p) for p in problems)


def verdict_facts(batch_check):
    """The evidence the unverified_import reason shows."""
    return {"declaration_no": batch_check.get("declaration_no"), "problems": batch_check.get("problems", []),
            "problems_text": problems_text(batch_check.get("problems", []))}


def recheck(db, numbers):
    """Check again every imported batch booked under these declarations, in booking order; return what changed."""
    numbers = sorted(set(numbers))
    found = find(db, numbers)
    changed = []
    for no in numbers:
        used = 0.0
        batches = db.batches.find({"import_check.declaration_no": no},
                                  {"_id": 1, "mass_kg": 1, "import_check": 1, "produced_on": 1, "stage": 1,
                                   "holder_id": 1, "producer_id": 1}).sort([("produced_on", 1), ("_id", 1)])
        for b in batches:
            c = b["import_check"]
            problems = check(found.get(no), no, c.get("importer_id", b["producer_id"]), aware(b["produced_on"]),
                             c.get("port"), c.get("origin_country"), b["stage"], used, b["mass_kg"])
            used += b["mass_kg"]
            verified = not problems
            if verified != c.get("verified") or problems != c.get("problems"):
                db.batches.update_one({"_id": b["_id"]}, {"$set": {"import_check.verified": verified,
                                                                    "import_check.problems": problems}})
                changed.append({"code": b["_id"], "declaration_no": no, "verified": verified})
    return changed


def page(db, query, first, size):
    """(declarations, total) of the register, newest declared first, by importer or number."""
    filt = {}
    if query.get("importer_id"):
        filt["importer_id"] = query["importer_id"]
    if query.get("declaration_no"):
        filt["_id"] = number(query["declaration_no"])
    total = db.customs_declarations.count_documents(filt)
    docs = list(db.customs_declarations.find(filt).sort([("declared_on", -1), ("_id", 1)]).skip(first).limit(size))
    used = used_kgs(db, [d["_id"] for d in docs])
    for d in docs:
        d["used_kg"] = round(used[d["_id"]], 3)
    return docs, total
