"""The book: the ledger as one submission sees it, the database plus what its earlier lines did, and its writes.

It reads ahead (one query per collection and chunk), looks batches and enterprises up, keeps each batch as the
submission has left it so far (Held), and writes a chunk's effects (flush), the new batches and producer months at
the end (finish) and the months reported (register). What each kind of event checks and does is in effects.py.
"""
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from inspector.clock import china_date
from inspector.codes import batch_code
from inspector.ledger import flags, transfers
from inspector.ledger.errors import Conflict
from inspector.ledger.events import GS1_PREFIX, LineError, gs1_key, new_batch_mass
from inspector.ledger.rollback import IN_FLIGHT
from inspector.quota.usage import consume_quota, count_imported
from inspector.registry import customs
from inspector.store.connection import find_by_ids
from inspector.verdict.lineage import fetch_enterprises

MASS_TOLERANCE_KG = 0.05
FOREIGN = "FOREIGN"
_NO_EXTRA = {}  # checking keeps no write-only facts of new batches
FP_DIGITS = 16  # hex digits of an event's fingerprint kept in memory: 64 bits tell a resent event from a changed one
_RNG = secrets.SystemRandom()
_ENTERPRISE_FIELDS = {"_id": 1, "name": 1, "roles": 1, "province": 1}
_HELD_FIELDS = {"_id": 1, "stage": 1, "product_type": 1, "reo_pct": 1, "producer_id": 1, "producer_province": 1,
                "produced_on": 1, "holder_id": 1, "remaining_kg": 1, "mass_kg": 1, "status": 1, "status_since": 1,
                "quota_category": 1, "quota_used_t": 1, "within_quota": 1, "gs1": 1, "in_transit": 1, "imported": 1,
                "origin_country": 1, "quota_counted_on_import": 1}
# What a split child carries of the batch it was split from (see _inherited).
_INHERITED = ("quota_category", "quota_used_t", "within_quota", "producer_province", "imported", "origin_country",
              "quota_counted_on_import")


@dataclass(slots=True)
class Held:
    """What the submission needs to know of a batch, as the submission has left it so far."""

    code: str
    stage: str
    product_type: str
    reo_pct: float
    producer_id: str
    produced_on: object
    holder_id: str
    remaining_kg: float
    mass_kg: float
    status: str
    status_since: object
    extra: dict
    stored: bool  # already in the database before this submission
    dirty: bool = False
    in_transit: dict | None = None  # the shipment waiting for the receiver's receipt (transfers.py)


def key_known(known, key):
    """True if key was seen before; remember it either way."""
    seen = key in known
    known.add(key)
    return seen


def event_key(enterprise_id, event_id):
    """The stored event's _id: one per enterprise and event id, so the database itself refuses a second copy."""
    return hashlib.sha256(f"{enterprise_id}\x00{event_id}".encode()).hexdigest()


def _held_from_doc(doc):
    extra = {k: doc[k] for k in (*_INHERITED, "gs1") if k in doc}
    return Held(doc["_id"], doc["stage"], doc["product_type"], doc["reo_pct"], doc["producer_id"], doc["produced_on"],
                doc["holder_id"], doc["remaining_kg"], doc["mass_kg"], doc["status"], doc["status_since"], extra,
                stored=True, in_transit=doc.get("in_transit"))


def _guard(held):
    return {"holder_id": held.holder_id, "remaining_kg": held.remaining_kg, "status": held.status,
            "in_transit.movement_id": (held.in_transit or {}).get("movement_id")}


class Book:
    """The ledger as a submission sees it: the database plus what earlier lines of the submission did."""

    def __init__(self, db, settings, actor, now, submission_id=None, apply=False, owner=None):
        self.db, self.settings, self.actor, self.now = db, settings, actor, now
        self.submission_id, self.apply, self.owner, self.claimed_at = submission_id, apply, owner, None
        self.submissions = {}    # id of a submission that wrote events named here -> its state
        self.in_flight = set()   # those still applying or being undone: their events are not stored (yet)
        self.promises = {}       # accepted ones whose ledger.submit audit entry an interrupted try left unwritten
        self.batches = {}        # code -> Held, or None when the database has no such batch
        self.guards = {}         # code -> database state the guarded update expects
        self.before = {}         # code -> the stored state before this submission, for rollback
        self.shipments = {}      # (code, doc_no) -> movement dict (pending or stored)
        self.claims = {}         # (code, doc_no, claimant) -> open claim (pending or stored), transfers.py
        self.pending_claims, self.matched_claims, self.claims_known = [], [], set()
        self.declarations = {}   # customs declaration number -> the register's entry, or None (registry/customs.py)
        self.declared_used = {}  # declaration number -> kg booked under it so far, stored and in this submission
        self.imported_applied = {}  # (importer, year, category) -> t REO of imported feed counted on its quota
        self.events_seen = {}    # (enterprise_id, event_id) -> its fingerprints, from the database or this submission
        self.stored_events = {}  # the part of events_seen read from the database
        self.events_known = False
        self.enterprises = {}       # enterprise id -> its name, roles and province, read for the enterprises events name
        self.producers = {}
        self.gs1_codes = {}      # GS1 stand-in -> native code, from the database or this submission
        self.flags, self.issued, self.periods, self.issued_by_event = [], {}, {}, []
        self.pending_events, self.pending_movements, self.receipts, self.undo = [], [], [], []
        self.quota_applied, self.accounts, self.undo_saved, self.booked = {}, {}, set(), []
        self.quota_rows = set()
        self.quota_queue, self.pending_accounts = [], []
        self.accepted = self.duplicates = 0
        # The event being taken (effects.take): its flags, the codes issued for it, what it books for rollback.
        self.event_flags, self.event_issued, self.accounting = [], [], {}

    # -- reading ahead, one query per collection and chunk ------------------------------------------------------------
    def prefetch(self, events):
        """Load every enterprise, batch, shipment and earlier event the chunk names that is not known yet."""
        named = {n for ev in events for n in (ev.enterprise_id, ev.to_id, ev.from_id) if n} - self.enterprises.keys()
        if named:
            self.enterprises.update((e["_id"], e) for e in find_by_ids(self.db.enterprises, sorted(named), _ENTERPRISE_FIELDS))
        self._resolve_gs1(events)
        codes = {self.gs1_codes.get(c, c) for ev in events for c in ev.codes()} - self.batches.keys()
        codes = {c for c in codes if not c.startswith(GS1_PREFIX)}
        if codes:
            found = {d["_id"]: d for d in find_by_ids(self.db.batches, sorted(codes), _HELD_FIELDS)}
            for c in codes:
                self.batches[c] = _held_from_doc(found[c]) if c in found else None
                if c in found:
                    self.guards[c] = _guard(self.batches[c])
                    held = self.batches[c]
                    self.before[c] = {"holder_id": held.holder_id, "remaining_kg": held.remaining_kg,
                                      "status": held.status, "status_since": held.status_since,
                                      "in_transit": held.in_transit}
        declared = {customs.number(ev.doc_no) for ev in events if ev.type == "import"} - self.declarations.keys()
        if declared:
            found = customs.find(self.db, declared)
            self.declarations.update((no, found.get(no)) for no in declared)
            # Only a declaration the register holds has a mass to use up: one query for the chunk's.
            self.declared_used.update(customs.used_kgs(self.db, found))
            self.declared_used.update((no, 0.0) for no in declared if no not in found)
        receipts = sorted({self.gs1_codes.get(ev.code, ev.code) for ev in events if ev.type == "receipt"})
        if receipts:
            for m in self.db.movements.find({"batch_code": {"$in": receipts}, "kind": "transfer"},
                                            {"batch_code": 1, "doc_no": 1, "to_id": 1, "from_id": 1, "mass_kg": 1,
                                             "received_at": 1, "date": 1}):
                self.shipments.setdefault((m["batch_code"], m["doc_no"]), {**m, "stored": True})
        moving = sorted({self.gs1_codes.get(ev.code, ev.code) for ev in events if ev.type in ("receipt", "shipment")}
                        - self.claims_known)
        if moving:
            self.claims_known.update(moving)
            for c in transfers.open_claims_on(self.db, moving):
                self.claims.setdefault((c["batch_code"], c["doc_no"], c["claimant_id"]), {**c, "stored": True})
        keys = [(ev.enterprise_id, ev.event_id) for ev in events]
        unseen = [] if self.events_known else [k for k in keys if k not in self.events_seen]
        if unseen:
            query = {"enterprise_id": {"$in": sorted({k[0] for k in unseen})},
                     "event_id": {"$in": sorted({k[1] for k in unseen})}}
            found = list(self.db.ledger_events.find(query, {"enterprise_id": 1, "event_id": 1, "fingerprints": 1,
                                                            "submission_id": 1}))
            self._learn_submissions({e.get("submission_id") for e in found})
            for e in found:
                if self.submissions.get(e.get("submission_id")) in IN_FLIGHT:
                    self.in_flight.add(e["submission_id"])
                    continue  # only an accepted submission's events are stored; submit() finishes this one first
                known = tuple(fp[:FP_DIGITS] for fp in e["fingerprints"])
                self.events_seen[(e["enterprise_id"], e["event_id"])] = known
                self.stored_events[(e["enterprise_id"], e["event_id"])] = known

    def _learn_submissions(self, ids):
        """The state of each submission that wrote events this chunk names (seeded events have none)."""
        ids = sorted(i for i in ids if i and i not in self.submissions)
        if not ids:
            return
        for s in find_by_ids(self.db.ledger_submissions, ids, {"_id": 1, "state": 1, "audit_pending": 1}):
            self.submissions[s["_id"]] = s["state"]
            if s["state"] == "accepted" and s.get("audit_pending"):
                self.promises[s["_id"]] = s["audit_pending"]

    def _resolve_gs1(self, events):
        """Find the batches that GS1 references (and new GS1-labelled outputs) name, in one query."""
        wanted = {c for ev in events for c in ev.codes() if c.startswith(GS1_PREFIX)}
        wanted |= {gs1_key(o.gs1) for ev in events for o in ev.outputs if o.gs1}
        wanted -= self.gs1_codes.keys()
        if not wanted:
            return
        clauses = []
        for key in sorted(wanted):
            _, gtin, kind, value = key.split("|", 3)
            clauses.append({"gs1.gtin": gtin, f"gs1.{kind}": value})
        for doc in self.db.batches.find({"$or": clauses}, {"_id": 1, "gs1": 1}):
            gs1 = doc.get("gs1") or {}
            for kind in ("lot", "serial"):
                if gs1.get(kind):
                    self.gs1_codes[gs1_key({"gtin": gs1["gtin"], kind: gs1[kind]})] = doc["_id"]

    # -- look-ups ------------------------------------------------------------------------------------------------------
    def native(self, code):
        """The native code a code or GS1 stand-in names."""
        return self.gs1_codes.get(code, code)

    def enterprise(self, eid, name):
        """The registered enterprise an event names in the field name."""
        if eid not in self.enterprises:
            raise LineError("unknown_enterprise", f"{name} {eid!r} is not a registered enterprise.", name)
        return self.enterprises[eid]

    def producer(self, eid):
        """The producing enterprise with its approvals and quotas, read once per submission."""
        if eid not in self.producers:
            self.producers[eid] = fetch_enterprises(self.db, {eid}).get(eid) or {}
        return self.producers[eid]

    def declaration(self, no):
        """The register's entry for a declaration number (None when it has none) and the kg booked under it so far."""
        if no not in self.declarations:
            self.declarations[no] = customs.find(self.db, [no]).get(no)
        if no not in self.declared_used:
            self.declared_used[no] = customs.used_kgs(self.db, [no]).get(no, 0.0) if self.declarations[no] else 0.0
        return self.declarations[no], self.declared_used[no]

    def batch(self, code, name="code"):
        """The batch a code (or GS1 stand-in) names, as this submission has left it."""
        held = self.batches.get(self.native(code))
        if held is None:
            shown = code.split("|", 1)[1].replace("|", " ") if code.startswith(GS1_PREFIX) else code
            raise LineError("unknown_batch", f"Batch {shown} is not registered in the ledger.", name)
        return held

    def movable(self, ev, code, name="code"):
        """A batch this enterprise holds and may move or use."""
        held = self.batch(code, name)
        if held.status != "active":
            raise LineError("batch_retired", f"Batch {code} is {held.status}; it can no longer be moved or used.", name)
        if held.holder_id != ev.enterprise_id:
            raise LineError("not_your_enterprise", f"Batch {code} is held by {held.holder_id}, not by "
                                                   f"{ev.enterprise_id}.", name)
        if held.in_transit:
            t = held.in_transit
            raise LineError("in_transit", f"Batch {code} is in transit from {t['from_id']} to {t['to_id']} under "
                                          f"{t['doc_no']}; it can be used once {t['to_id']} records its receipt.", name)
        if ev.occurred_at < held.produced_on:
            raise LineError("bad_field", f"occurred_at is before batch {code} was produced "
                                         f"({china_date(held.produced_on).isoformat()}).", "occurred_at")
        return held

    def _stored_code(self, code):
        if code in self.batches:
            return self.batches[code] is not None
        return bool(find_by_ids(self.db.batches, [code], {"_id": 1}))

    def check_code_free(self, code, name="outputs"):
        """Refuse a code given for a new batch that is registered already."""
        if self.batches.get(code) is not None or self._stored_code(code):
            raise LineError("code_taken", f"Batch code {code} is already registered.", name)

    # -- what events do to the book ------------------------------------------------------------------------------------
    def draw(self, held, kg, name, status="transformed", when=None):
        """Take kg from a held batch; a batch left with less than 1 kg is used up (status)."""
        if kg > held.remaining_kg + MASS_TOLERANCE_KG:
            raise LineError("over_holding", f"{kg:g} kg is more than the {held.remaining_kg:g} kg of batch {held.code} "
                                            "left.", name)
        held.remaining_kg = round(max(held.remaining_kg - kg, 0.0), 3)
        if held.remaining_kg < 1.0:
            held.remaining_kg, held.status, held.status_since = 0.0, status, when
        held.dirty = True

    def new_code(self, item, name):
        """The code of a new batch: the one given (unused), or one issued now and listed as issued for the event."""
        if item.gs1:
            key = gs1_key(item.gs1)
            if key in self.gs1_codes:
                raise LineError("code_taken", f"GS1 {key.split('|', 1)[1].replace('|', ' ')} is already registered "
                                              f"as batch {self.gs1_codes[key]}.", name)
        if item.code:
            self.check_code_free(item.code, name)
            code = item.code
        else:
            # Codes are issued while checking too, so that later lines may name a GS1-labelled output.
            while True:
                code = batch_code.issue(_RNG)
                if code not in self.batches and not self._stored_code(code):
                    self.event_issued.append(code)
                    break
        if item.gs1:
            self.gs1_codes[gs1_key(item.gs1)] = code
        return code

    def create(self, code, ev, stage, product_type, reo_pct, mass_kg, producer_id, produced_on, parents, extra):
        """A new batch the event's enterprise holds; extra keeps its write-only facts (only when applying)."""
        new_batch_mass(ev, mass_kg, stage, self.settings.min_batch_mass_for(stage))
        extra["parents"] = parents  # the same dict: the chunk's quota taking writes into it later
        held = Held(code, stage, product_type, reo_pct, producer_id, produced_on, ev.enterprise_id, mass_kg, mass_kg,
                    "active", ev.occurred_at, extra if self.apply else _NO_EXTRA, stored=False, dirty=True)
        if code:
            self.batches[code] = held
        return held

    def move(self, ev, code, from_id, to_id, kg, kind, shipment=False, **extra):
        """A movement of a batch (transfer, import, export); a shipment is remembered for the receipts that follow."""
        doc = {"_id": f"MV-{uuid.uuid4().hex[:16]}", "batch_code": code, "from_id": from_id, "to_id": to_id,
               "mass_kg": round(kg, 3), "date": ev.occurred_at, "period": ev.period, "doc_no": ev.doc_no, "kind": kind,
               "event_id": ev.event_id, "submission_id": self.submission_id, **extra}
        if shipment:
            self.shipments[(code, ev.doc_no)] = doc if self.apply else _compact(doc)
        if self.apply:
            self.pending_movements.append(doc)
        return doc

    # -- writing ---------------------------------------------------------------------------------------------------------
    def take_quota(self):
        """Take each quota's tonnes for the chunk in one atomic update, then place every production within or over.

        The update returns the usage after it, so the chunk's productions hold a contiguous range of the year's
        quota in their order: each one's running total says whether it still fitted.
        """
        groups = {}
        for entry in self.quota_queue:
            groups.setdefault(entry["key"], []).append(entry)
        for key, entries in groups.items():
            total = sum(e["tonnes"] for e in entries)
            allocated = entries[0]["allocated"]
            after = consume_quota(self.db, *key, total, allocated, known=key_known(self.quota_rows, key))
            self.quota_applied[key] = self.quota_applied.get(key, 0.0) + total
            imported = sum(e["tonnes"] for e in entries if e.get("imported"))
            if imported:
                count_imported(self.db, *key, imported)
                self.imported_applied[key] = self.imported_applied.get(key, 0.0) + imported
            position = after - total
            eid, year, category = key
            for e in entries:
                position += e["tonnes"]
                within = position <= allocated * (1 + 1e-12)
                e["accounting"]["quota"][category] = round(e["tonnes"], 6)
                e["accounting"].setdefault("quota_used_t", {})[category] = round(position, 6)
                if e.get("imported"):
                    e["accounting"].setdefault("imported_t", {})[category] = round(e["tonnes"], 6)
                for extra in e["extras"]:
                    extra.update(quota_used_t=round(position, 3), within_quota=within)
                if not within:
                    flag = flags.production_over_quota(eid, year, category, allocated, position)
                    e["flags"].append(flag)
                    self.flags.append({"event_id": e["event_id"], "line": e["line"], **flag})
        for acc in self.pending_accounts:
            self._account(acc)
        self.quota_queue, self.pending_accounts = [], []

    def _account(self, acc):
        key = (acc["producer_id"], acc["period"])
        row = self.accounts.setdefault(key, {"output_reo_kg": 0.0, "input_reo_kg": 0.0, "lots": 0, "quota_used_t": {}})
        row["output_reo_kg"] += acc["output_reo_kg"]
        row["input_reo_kg"] += acc["input_reo_kg"]
        row["lots"] += acc["lots"]
        for category, used in acc.get("quota_used_t", {}).items():
            row["quota_used_t"][category] = max(row["quota_used_t"].get(category, 0.0), used)

    def flush(self):
        """Write what the chunk did: pre-images first, then guarded updates, movements and events."""
        db, sid = self.db, self.submission_id
        touched = [h for h in self.batches.values() if h is not None and h.stored and h.dirty]
        fresh = [h for h in touched if h.code not in self.undo_saved]
        if fresh:
            db.ledger_undo.insert_many([{"submission_id": sid, "collection": "batches", "doc_id": h.code,
                                         "before": self.before[h.code]} for h in fresh])
            self.undo_saved.update(h.code for h in fresh)
        for h in touched:
            guard = self.guards[h.code]
            state = {"holder_id": h.holder_id, "remaining_kg": h.remaining_kg, "status": h.status,
                     "status_since": h.status_since}
            update = {"$set": {**state, "in_transit": h.in_transit}} if h.in_transit else \
                {"$set": state, "$unset": {"in_transit": ""}}
            done = db.batches.update_one({"_id": h.code, **guard}, update)
            if done.matched_count != 1:
                raise Conflict(f"Batch {h.code} changed while this submission was being applied.")
            self.guards[h.code] = _guard(h)
            # Rollback restores the pre-image only while the batch still holds what this submission wrote.
            db.ledger_undo.update_one({"submission_id": sid, "collection": "batches", "doc_id": h.code},
                                      {"$set": {"written": dict(self.guards[h.code])}})
            h.dirty = False
        if self.pending_movements:
            db.movements.insert_many(self.pending_movements)
            for doc in self.pending_movements:
                key = (doc["batch_code"], doc["doc_no"])
                if self.shipments.get(key) is doc:  # a later receipt must now update the stored movement
                    self.shipments[key] = {**_compact(doc), "stored": True}
            self.pending_movements = []
        if self.pending_claims:
            db.transfer_claims.insert_many(self.pending_claims)
            for doc in self.pending_claims:
                key = (doc["batch_code"], doc["doc_no"], doc["claimant_id"])
                if self.claims.get(key) is doc:
                    self.claims[key] = {**doc, "stored": True}
            self.pending_claims = []
        for c in self.matched_claims:
            written = {"state": transfers.MATCHED, "matched_by": c["matched_by"]}
            db.ledger_undo.insert_one({"submission_id": sid, "collection": "transfer_claims", "doc_id": c["_id"],
                                       "before": {"state": transfers.OPEN, "matched_by": None}, "written": written})
            db.transfer_claims.update_one({"_id": c["_id"], "state": transfers.OPEN}, {"$set": written})
        self.matched_claims = []
        if self.pending_events:
            db.ledger_events.insert_many(self.pending_events)
            self.pending_events = []

    def finish(self):
        """Insert the new batches, confirm stored shipments, and book the producers' months."""
        db, sid = self.db, self.submission_id
        docs = [_batch_doc(h, sid, self._inherited(h)) for h in self.batches.values() if h is not None and not h.stored]
        for i in range(0, len(docs), 5000):
            db.batches.insert_many(docs[i:i + 5000])
        for m in self.receipts:
            db.ledger_undo.insert_one({"submission_id": sid, "collection": "movements", "doc_id": m["_id"],
                                       "before": {"received_at": None, "awaiting_receipt": m.get("awaiting_receipt")},
                                       "written": {"received_at": m["received_at"]}})
            db.movements.update_one({"_id": m["_id"]}, {"$set": {"received_at": m["received_at"]},
                                                        "$unset": {"awaiting_receipt": ""}})
        for (eid, period), row in self.accounts.items():
            old = db.production_periods.find_one({"enterprise_id": eid, "period": period}, {"quota_used_t": 1})
            db.ledger_undo.insert_one({"submission_id": sid, "collection": "production_periods",
                                       "doc_id": f"PP-{eid}-{period}" if old is None else old["_id"],
                                       "before": {"quota_used_t": (old or {}).get("quota_used_t")},
                                       "created": old is None})
            update = {"$inc": {"output_reo_kg": round(row["output_reo_kg"], 3),
                               "input_reo_kg": round(row["input_reo_kg"], 3), "lots": row["lots"]},
                      "$setOnInsert": {"_id": f"PP-{eid}-{period}"}}
            if row["quota_used_t"]:
                update["$max"] = {f"quota_used_t.{c}": u for c, u in row["quota_used_t"].items()}
            db.production_periods.update_one({"enterprise_id": eid, "period": period}, update, upsert=True)
            self.booked.append((eid, period, row))

    def _inherited(self, held):
        """The producer's quota facts a split child carries from the batch it was split from."""
        source = held.extra.get("inherits_from")
        if not source:
            return {}
        parent = self.batches[source]
        facts = {k: v for k, v in parent.extra.items() if k in _INHERITED}
        return {**self._inherited(parent), **facts}

    def register(self, declared=None):
        """Mark each enterprise's reported months as submitted (the first submission's time counts)."""
        months = {eid: set(ps) for eid, ps in self.periods.items()}
        if declared:
            eid, period = declared
            months.setdefault(eid, set()).add(period)
        for eid, ps in months.items():
            for period in sorted(ps):
                self.db.monthly_reports.update_one(
                    {"enterprise_id": eid, "period": period},
                    {"$setOnInsert": {"_id": f"MR-{eid}-{period}", "submitted_at": self.now,
                                      "first_submission_id": self.submission_id},
                     "$set": {"last_submitted_at": self.now}, "$inc": {"submissions": 1}}, upsert=True)
        return sorted({p for ps in months.values() for p in ps})


def _compact(movement):
    """What a receipt needs of a shipment."""
    return {"_id": movement["_id"], "to_id": movement["to_id"], "from_id": movement["from_id"],
            "mass_kg": movement["mass_kg"], "received_at": movement.get("received_at"), "date": movement["date"],
            "awaiting_receipt": movement.get("awaiting_receipt")}


def _batch_doc(h, sid, inherited):
    extra = {**inherited, **h.extra}
    parents = extra.pop("parents", [])
    extra.pop("inherits_from", None)
    doc = {"_id": h.code, "code": h.code, "stage": h.stage, "product_type": h.product_type, "mass_kg": h.mass_kg,
           "remaining_kg": h.remaining_kg, "reo_pct": h.reo_pct, "producer_id": h.producer_id,
           "produced_on": h.produced_on, "parents": parents, "parent_codes": [p["code"] for p in parents],
           "holder_id": h.holder_id, "status": h.status, "status_since": h.status_since, "submission_id": sid, **extra}
    if h.in_transit:
        doc["in_transit"] = h.in_transit
    return doc
