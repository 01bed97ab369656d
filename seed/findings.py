"""Demo findings in every workflow state, made through the real workflow so timelines, ETags and the audit log hold."""
import io
import random
import uuid
from datetime import datetime, timedelta, timezone

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from inspector.findings import attachments
from inspector.findings import records
from inspector.findings import workflow

from .enterprises import enterprise_docs

NAMESPACE = uuid.UUID("6f1d3c52-1b8e-4e0a-9a57-3c1f0e2b7d44")
GANZHOU_MARKET = {"type": "market", "name": "Ganzhou rare-earth market"}
BAOTOU_MARKET = {"type": "market", "name": "Baotou metals market"}
SITES = {
    "ENT-GMT": (GANZHOU_MARKET, {"lat": 25.8412, "lon": 114.9396, "accuracy_m": 8.0}),
    "ENT-LLT": (GANZHOU_MARKET, {"lat": 25.8598, "lon": 114.9201, "accuracy_m": 15.0}),
    "ENT-BMM": (BAOTOU_MARKET, {"lat": 40.6507, "lon": 109.8493, "accuracy_m": 10.0}),
    "ENT-SMT": ({"type": "warehouse", "name": "Shanghai Waigaoqiao warehouse 7"}, {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 20.0}),
    "ENT-TPE": ({"type": "port", "name": "Tianjin Xingang container terminal"}, {"lat": 38.9874, "lon": 117.7208, "accuracy_m": 25.0}),
    "ENT-NBX": ({"type": "port", "name": "Ningbo-Zhoushan port, Beilun"}, {"lat": 29.9412, "lon": 121.8519, "accuracy_m": 30.0}),
}

# (inspector, enterprise, days ago, discrepancies, severity, notes, photo?, [(action, days after logging, fields)]).
# Only ENT-GMT and ENT-BMM have demo enterprise users, so only their findings get responses.
SCRIPT = [
    ("inspector", "ENT-GMT", 1, ["unrecorded_transfer", "label_missing_or_damaged"], "high",
     "Six drums of NdPr oxide, labels scratched off; the stall keeper says a cousin brought them.", True, []),
    ("inspector2", "ENT-BMM", 2, ["quantity_mismatch"], "medium",
     "Pallet weighs about 300 kg more than the ledger allows.", True, []),
    ("inspector", "ENT-SMT", 3, ["documents_missing"], "low", "No delivery note for two crates of Dy metal.", False, []),
    ("inspector2", "ENT-GMT", 4, ["retired_code"], "high", "Label of a batch recorded as consumed.", True,
     [("confirm", 1, {"comment": "Photo matches a consumed batch."})]),
    ("inspector", "ENT-LLT", 6, ["late_reporting"], "medium", "Ledger for last month not entered.", False,
     [("confirm", 1, {})]),
    ("inspector2", "ENT-BMM", 8, ["other"], "low", "Bags stacked in the aisle, no labels visible.", False,
     [("dismiss", 1, {"reason": "duplicate", "comment": "Same bags as last week's finding."})]),
    ("inspector", "ENT-TPE", 9, ["no_export_record"], "high", "Container manifest lists magnets, none declared.", False,
     [("dismiss", 2, {"reason": "insufficient_evidence", "comment": "Manifest line was for a different container."})]),
    ("inspector", "ENT-GMT", 5, ["unrecorded_transfer"], "high", "Terbium oxide bags from an unknown separator.", True,
     [("confirm", 1, {}), ("send_to_enterprise", 2, {"comment": "Show the transfer record for these bags."})]),
    ("inspector2", "ENT-GMT", 24, ["cloned_code", "label_missing_or_damaged"], "high",
     "Same code as a drum scanned in Baotou an hour earlier.", True,
     [("confirm", 1, {}), ("send_to_enterprise", 2, {"comment": "Explain where these drums came from."})]),
    ("inspector", "ENT-BMM", 30, ["packaging_noncompliant"], "medium", "Open sacks, no supplier named on them.", False,
     [("confirm", 1, {}), ("send_to_enterprise", 3, {"comment": "Name the supplier of the open sacks."})]),
    ("inspector2", "ENT-NBX", 6, ["no_export_record", "documents_missing"], "high", "Crates at the quay without export records.",
     False, [("confirm", 1, {}), ("send_to_enterprise", 1, {"comment": "Send the export declaration."})]),
    ("inspector", "ENT-GMT", 12, ["quantity_mismatch"], "medium", "About 120 kg more Pr metal than recorded.", True,
     [("confirm", 1, {}), ("send_to_enterprise", 2, {}),
      ("respond", 5, {"comment": "The extra came in a transfer entered late; weighing slip attached.", "pdf": True})]),
    ("inspector2", "ENT-BMM", 15, ["unlicensed_trading"], "high", "Selling mixed oxide without a trading licence.", False,
     [("confirm", 1, {}), ("send_to_enterprise", 1, {}),
      ("respond", 4, {"comment": "We hold a licence; the inspector saw an old copy.", "response_type": "dispute"})]),
    ("inspector", "ENT-GMT", 40, ["documents_missing"], "low", "Invoice missing for one crate.", False,
     [("confirm", 1, {}), ("send_to_enterprise", 2, {}),
      ("respond", 6, {"comment": "Invoice found and attached.", "pdf": True}),
      ("resolve", 8, {"outcome": "accepted", "comment": "Invoice matches the ledger."})]),
    ("inspector2", "ENT-GMT", 60, ["tainted_lineage", "unrecorded_transfer"], "high",
     "Magnet scrap traced to an unapproved mine.", True,
     [("confirm", 1, {}), ("send_to_enterprise", 2, {}),
      ("respond", 10, {"comment": "We bought it in good faith."}),
      ("request_more", 12, {"comment": "Send the purchase contract and the seller's licence."}),
      ("respond", 20, {"comment": "Contract attached.", "pdf": True}),
      ("resolve", 25, {"outcome": "penalty_recommended", "comment": "The seller was not licensed; the buyer should "
                                                                     "have checked."})]),
    ("inspector", "ENT-BMM", 50, ["over_quota", "mass_balance"], "high", "Oxide from a producer past its quota.", False,
     [("confirm", 1, {}), ("send_to_enterprise", 1, {}),
      ("respond", 7, {"comment": "Our supplier's papers are attached.", "pdf": True}),
      ("resolve", 9, {"outcome": "referred", "comment": "Referred to the provincial MIIT office."})]),
    ("inspector2", "ENT-BMM", 35, ["packaging_noncompliant"], "low", "Drums without hazard labels.", False,
     [("confirm", 1, {}), ("send_to_enterprise", 1, {}), ("respond", 3, {"comment": "Labels fixed."}),
      ("resolve", 4, {"outcome": "accepted"})]),
]
ROLE_OF_ACTION = {name: action.role for name, action in workflow.ACTIONS.items()}


def demo_photo(caption, gps=None, taken_at=None, size=(640, 480)):
    """A JPEG with a caption, and EXIF GPS and capture time when given."""
    image = Image.new("RGB", size, (196, 170, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 60, size[0] - 40, size[1] - 60], outline=(60, 60, 60), width=6)
    draw.text((60, 80), caption[:60], fill=(20, 20, 20))
    exif = Image.Exif()
    if taken_at:
        exif[0x8769] = {36867: taken_at.strftime("%Y:%m:%d %H:%M:%S"), 36881: "+00:00"}
    if gps:
        exif[0x8825] = {1: "N" if gps["lat"] >= 0 else "S", 2: _dms(gps["lat"]),
                        3: "E" if gps["lon"] >= 0 else "W", 4: _dms(gps["lon"])}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _dms(value):
    value = abs(value)
    degrees, minutes = int(value), int(value * 60) % 60
    return (float(degrees), float(minutes), round((value * 3600) % 60, 2))


def demo_pdf(title, lines):
    """A one-page PDF document, such as a weighing slip."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=True)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 770, title)
    page.setFont("Helvetica", 11)
    for i, line in enumerate(lines):
        page.drawString(72, 740 - 16 * i, line)
    page.showPage()
    page.save()
    return out.getvalue()


def _actors(db):
    users = {u["username"]: u for u in db.users.find({"username": {"$in": ["inspector", "inspector2", "supervisor",
                                                                           "enterprise", "enterprise2"]}})}
    return {name: {"user_id": u["_id"], "username": name, "role": u["role"], "enterprise_id": u.get("enterprise_id"),
                   "provinces": u.get("provinces"), "device_id": "demo-seed"} for name, u in users.items()}


def load_demo_findings(db, now=None):
    """Log the demo findings and walk each through its workflow; a re-run changes nothing. Returns how many were new."""
    now = now or datetime.now(timezone.utc)
    actors = _actors(db)
    if len(actors) < 5:
        return 0
    enterprise_user = {u["enterprise_id"]: u for u in actors.values() if u["role"] == "enterprise"}
    codes = _codes_by_reason(db)
    created_count = 0
    for number, (inspector, enterprise_id, days_ago, discrepancies, severity, notes, photo, steps) in enumerate(SCRIPT):
        client_id = str(uuid.uuid5(NAMESPACE, f"demo-finding-{number}"))
        if db.findings.count_documents({"inspector_id": actors[inspector]["user_id"], "client_id": client_id}, limit=1):
            continue  # loaded before (its times, relative to that load, would differ now)
        site, location = SITES[enterprise_id]
        logged_at = now - timedelta(days=days_ago, hours=number % 5)
        body = {"client_id": client_id, "enterprise_id": enterprise_id,
                "site": site, "location": location, "observed_at": logged_at - timedelta(minutes=20),
                "batch_codes": [codes[d] for d in discrepancies if d in codes][:2], "discrepancies": discrepancies,
                "severity": severity, "notes": notes}
        finding, _ = records.create(db, actors[inspector], body, now=logged_at)
        created_count += 1
        if photo:
            data = demo_photo(f"{enterprise_id}: {notes}", gps=location, taken_at=body["observed_at"])
            attachments.attach(db, finding, actors[inspector], data, "site-photo.jpg", 60_000_000,
                                  now=logged_at + timedelta(minutes=5))
        for action, after_days, fields in steps:
            at = logged_at + timedelta(days=after_days)
            actor = actors["supervisor"] if ROLE_OF_ACTION[action] == "supervisor" else enterprise_user[enterprise_id]
            finding = db.findings.find_one({"_id": finding["_id"]})
            request = {"action": action, **{k: v for k, v in fields.items() if k != "pdf"}}
            if fields.get("pdf"):
                pdf = demo_pdf(f"{finding['enterprise_name']}: response", [notes, f"Finding {finding['_id']}",
                                                                           fields.get("comment", "")])
                attachment, _ = attachments.attach(db, finding, actor, pdf, "response.pdf", 60_000_000,
                                                      now=at - timedelta(hours=1))
                request["attachment_ids"] = [attachment["_id"]]
                finding = db.findings.find_one({"_id": finding["_id"]})
            finding = workflow.apply(db, finding, actor, request, finding["_etag"], now=at)
    return created_count


def _codes_by_reason(db):
    """A planted batch code for each verdict reason, so demo findings cite codes that exist."""
    codes = {}
    for case in db.demo_cases.find({}, {"code": 1, "expected_reasons": 1}).sort("order", 1):
        for reason in case.get("expected_reasons", []):
            codes.setdefault(reason, case["code"])
    return codes


BULK_NOTES = ("Labels worn.", "No invoice on site.", "Seller absent; stock counted.", "Drums resealed.", None)


def bulk_findings(count, inspectors, now=None, seed=7):
    """Yield synthetic findings across the demo enterprises, in every state, for benchmarks and load tests."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    enterprises = enterprise_docs()
    for number in range(count):
        enterprise = rng.choice(enterprises)
        observed = now - timedelta(minutes=rng.randint(30, 365 * 24 * 60))
        place = enterprise["location"]
        fields = {
            "site": {"type": rng.choice(records.SITE_TYPES), "name": f"{enterprise['city']} site {number % 50}"},
            "location": {"lat": round(place["lat"] + rng.uniform(-0.05, 0.05), 5),
                         "lon": round(place["lon"] + rng.uniform(-0.05, 0.05), 5), "accuracy_m": rng.choice([5.0, 12.0, 30.0])},
            "observed_at": observed, "discrepancies": rng.sample(records.DISCREPANCIES, rng.randint(1, 3)),
            "batch_codes": [f"BULK{number:07d}"], "observed_mass_kg": round(rng.uniform(5, 2000), 1),
            "notes": rng.choice(BULK_NOTES),
        }
        doc = records.finding_document(rng.choice(inspectors), enterprise, fields,
                                        str(uuid.UUID(int=rng.getrandbits(128), version=4)), "bulk",
                                        observed + timedelta(minutes=10))
        doc["status"] = rng.choice(workflow.STATES)
        if doc["status"] in workflow.SENT_STATES:
            doc["deadline"] = observed + timedelta(days=14)
        if doc["status"] == workflow.RESOLVED:
            doc["outcome"] = rng.choice(workflow.OUTCOMES)
        yield doc
