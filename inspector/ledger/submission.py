"""Ledger intake: check a submission's events against the ledger, then apply all of them or none."""
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice

from pymongo.errors import DuplicateKeyError, PyMongoError

from inspector.audit import chain as audit
from inspector.audit import promises
from inspector.codes import batch_code
from inspector.verdict import rules
from inspector.ledger.events import GS1_PREFIX, LineError, gs1_key, read_event
from inspector.verdict.lineage import fetch_enterprises
from inspector.quota.allocation import effective_t
from inspector.periods import CST
from inspector.quota.usage import consume_quota, quota_category
from inspector.store.connection import atomic, find_by_ids

CHUNK = 1000
MAX_LISTED_ERRORS = 1000
CLOCK_SKEW = timedelta(minutes=5)
MASS_TOLERANCE_KG = 0.05
_NO_EXTRA = {}  # checking keeps no write-only facts of new batches
_FP = 16  # hex digits of an event's fingerprint kept in memory: 64 bits tell a resent event from a changed one
FOREIGN = "FOREIGN"
UNSETTLED = ("applying", "rolling_back")  # a submission in these states has events that are not stored yet
LEASE = timedelta(minutes=2)  # a claim (applying or undoing a submission) not renewed for this long is abandoned
# An attempt still applying is either alive (done within seconds) or dead (undone once its lease lapses): ask soon.
APPLYING_RETRY_SECONDS = 3
_REGISTRY_FIELDS = {"_id": 1, "name": 1, "roles": 1, "province": 1}
_HELD_FIELDS = {"_id": 1, "stage": 1, "product_type": 1, "reo_pct": 1, "producer_id": 1, "producer_province": 1,
                "produced_on": 1, "holder_id": 1, "remaining_kg": 1, "mass_kg": 1, "status": 1, "status_since": 1,
                "quota_category": 1, "quota_used_t": 1, "within_quota": 1, "gs1": 1}


class TooManyLines(Exception):
    """The submission is longer than the configured limit."""


class EmptySubmission(Exception):
    """Nothing to record and no month named: not even a nil report."""


class Conflict(Exception):
    """The ledger changed under the submission while it was applied; it was rolled back."""


class InProgress(Exception):
    """An earlier try holding some of these events is still applied or undone by a live attempt; args[0]: seconds."""


def _clock():
    """Wall time for leases: a request's business clock may stand still (tests), a lease must not."""
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class Held:
    """What the intake needs to know of a batch, as the submission has left it so far."""

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


def key_known(known, key):
    """True if key was seen before; remember it either way."""
    seen = key in known
    known.add(key)
    return seen


def event_key(enterprise_id, event_id):
    """The stored event's _id: one per enterprise and event id, so the database itself refuses a second copy."""
    return hashlib.sha256(f"{enterprise_id}\x00{event_id}".encode()).hexdigest()


def _held_from_doc(doc):
    extra = {k: doc[k] for k in ("quota_category", "quota_used_t", "within_quota", "producer_province", "gs1")
             if k in doc}
    return Held(doc["_id"], doc["stage"], doc["product_type"], doc["reo_pct"], doc["producer_id"], doc["produced_on"],
                doc["holder_id"], doc["remaining_kg"], doc["mass_kg"], doc["status"], doc["status_since"], extra,
                stored=True)


def _guard(held):
    return {"holder_id": held.holder_id, "remaining_kg": held.remaining_kg, "status": held.status}


class Book:
    """The ledger as a submission sees it: the database plus what earlier lines of the submission did."""

    def __init__(self, db, settings, actor, now, submission_id=None, apply=False, owner=None):
        self.db, self.settings, self.actor, self.now = db, settings, actor, now
        self.submission_id, self.apply, self.owner, self.claimed_at = submission_id, apply, owner, _clock()
        self.submissions = {}    # id of a submission that wrote events named here -> its state
        self.unsettled = set()   # those still applying or being undone: their events are not stored (yet)
        self.promises = {}       # accepted ones whose ledger.submit audit entry an interrupted try left unwritten
        self.batches = {}        # code -> Held, or None when the database has no such batch
        self.guards = {}         # code -> database state the guarded update expects
        self.before = {}         # code -> the stored state before this submission, for rollback
        self.shipments = {}      # (code, doc_no) -> movement dict (pending or stored)
        self.events_seen = {}    # (enterprise_id, event_id) -> its fingerprints, from the database or this submission
        self.stored_events = {}  # the part of events_seen read from the database
        self.events_known = False
        self.registry = {}       # enterprise id -> its name, roles and province, read for the enterprises events name
        self.producers = {}
        self.gs1_codes = {}      # GS1 stand-in -> native code, from the database or this submission
        self.flags, self.issued, self.periods, self.issued_by_event = [], {}, {}, []
        self.pending_events, self.pending_movements, self.receipts, self.undo = [], [], [], []
        self.quota_applied, self.accounts, self.undo_saved, self.booked = {}, {}, set(), []
        self.quota_rows = set()
        self.quota_queue, self.pending_accounts = [], []
        self.accepted = self.duplicates = 0

    # -- reading ahead, one query per collection and chunk ------------------------------------------------------------
    def prefetch(self, events):
        """Load every enterprise, batch, shipment and earlier event the chunk names that is not known yet."""
        named = {n for ev in events for n in (ev.enterprise_id, ev.to_id, ev.from_id) if n} - self.registry.keys()
        if named:
            self.registry.update((e["_id"], e) for e in find_by_ids(self.db.enterprises, sorted(named), _REGISTRY_FIELDS))
        self._resolve_gs1(events)
        codes = {self.gs1_codes.get(c, c) for ev in events for c in ev.codes()} - self.batches.keys()
        codes = {c for c in codes if not c.startswith(GS1_PREFIX)}
        if codes:
            found = {d["_id"]: d for d in find_by_ids(self.db.batches, sorted(codes), _HELD_FIELDS)}
            for c in codes:
                self.batches[c] = _held_from_doc(found[c]) if c in found else None
                if c in found:
                    self.guards[c] = _guard(self.batches[c])
                    self.before[c] = {**self.guards[c], "status_since": self.batches[c].status_since}
        receipts = sorted({self.gs1_codes.get(ev.code, ev.code) for ev in events if ev.type == "receipt"})
        if receipts:
            for m in self.db.movements.find({"batch_code": {"$in": receipts}, "kind": "transfer"},
                                            {"batch_code": 1, "doc_no": 1, "to_id": 1, "received_at": 1, "date": 1}):
                self.shipments.setdefault((m["batch_code"], m["doc_no"]), {**m, "stored": True})
        keys = [(ev.enterprise_id, ev.event_id) for ev in events]
        unseen = [] if self.events_known else [k for k in keys if k not in self.events_seen]
        if unseen:
            query = {"enterprise_id": {"$in": sorted({k[0] for k in unseen})},
                     "event_id": {"$in": sorted({k[1] for k in unseen})}}
            found = list(self.db.ledger_events.find(query, {"enterprise_id": 1, "event_id": 1, "fingerprints": 1,
                                                            "submission_id": 1}))
            self._learn_submissions({e.get("submission_id") for e in found})
            for e in found:
                if self.submissions.get(e.get("submission_id")) in UNSETTLED:
                    self.unsettled.add(e["submission_id"])
                    continue  # only an accepted submission's events are stored; submit() settles this one first
                known = tuple(fp[:_FP] for fp in e["fingerprints"])
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

    def renew(self):
        """Renew this attempt's claim on its submission now and then; a lost claim means another process undid it."""
        if _clock() - self.claimed_at < LEASE / 4:
            return
        self.claimed_at = _clock()
        done = self.db.ledger_submissions.update_one(
            {"_id": self.submission_id, "state": "applying", "owner": self.owner},
            {"$set": {"claimed_at": self.claimed_at}})
        if done.matched_count != 1:
            raise Conflict("The submission took too long to apply and was given up.")

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

    # -- one event ---------------------------------------------------------------------------------------------------
    def take(self, ev):
        """Check one event and, when applying, record its effects; return "accepted" or "duplicate"."""
        self._enterprise(ev.enterprise_id, "enterprise_id")
        if self.actor.get("role") != "admin" and ev.enterprise_id != self.actor.get("enterprise_id"):
            raise LineError("not_your_enterprise", f"You report for {self.actor.get('enterprise_id')}, not for "
                                                   f"{ev.enterprise_id}.", "enterprise_id")
        fingerprint = ev.fingerprint()
        seen = self.events_seen.get((ev.enterprise_id, ev.event_id))
        if seen is not None:
            if fingerprint[:_FP] in seen:
                self.duplicates += 1
                return "duplicate"
            raise LineError("event_id_reused", f"Event id {ev.event_id!r} was already used for a different event.",
                            "event_id")
        if ev.occurred_at > self.now + CLOCK_SKEW:
            raise LineError("future_date", "occurred_at is in the future.", "occurred_at")
        self._event_flags = []
        self._event_issued = []
        self._accounting = {}
        getattr(self, "_" + ev.type)(ev)
        # Resent as exported, the event names the codes the service issued for it and the native codes of the batches
        # it named by GS1: that is the same event too.
        fingerprints = tuple(dict.fromkeys(
            (fingerprint, ev.fingerprint(self._event_issued, lambda c: self.gs1_codes.get(c, c)))))
        self.events_seen[(ev.enterprise_id, ev.event_id)] = tuple(fp[:_FP] for fp in fingerprints)
        self.accepted += 1
        self.periods.setdefault(ev.enterprise_id, set()).add(ev.period)
        if self._event_issued:
            self.issued[ev.event_id] = list(self._event_issued)
            self.issued_by_event.append({"enterprise_id": ev.enterprise_id, "event_id": ev.event_id,
                                         "codes": list(self._event_issued)})
        for f in self._event_flags:
            self.flags.append({"event_id": ev.event_id, "line": ev.line, **f})
        if self.apply:
            self.pending_events.append({
                "_id": event_key(ev.enterprise_id, ev.event_id), "enterprise_id": ev.enterprise_id, "event_id": ev.event_id,
                "submission_id": self.submission_id, "type": ev.type, "occurred_at": ev.occurred_at,
                "period": ev.period, "recorded_at": self.now, "codes": [self.gs1_codes.get(c, c) for c in ev.codes()] + self._event_issued,
                "payload": ev.payload(self._event_issued, lambda c: self.gs1_codes.get(c, c)), "flags": self._event_flags, "fingerprints": list(fingerprints),
                "accounting": self._accounting})
        return "accepted"

    # -- lookups -------------------------------------------------------------------------------------------------------
    def _enterprise(self, eid, name):
        if eid not in self.registry:
            raise LineError("unknown_enterprise", f"{name} {eid!r} is not a registered enterprise.", name)
        return self.registry[eid]

    def _producer(self, eid):
        if eid not in self.producers:
            self.producers[eid] = fetch_enterprises(self.db, {eid}).get(eid) or {}
        return self.producers[eid]

    def _batch(self, code, name="code"):
        held = self.batches.get(self.gs1_codes.get(code, code))
        if held is None:
            shown = code.split("|", 1)[1].replace("|", " ") if code.startswith(GS1_PREFIX) else code
            raise LineError("unknown_batch", f"Batch {shown} is not registered in the ledger.", name)
        return held

    def _movable(self, ev, code, name="code"):
        """A batch this enterprise holds and may move or use."""
        held = self._batch(code, name)
        if held.status != "active":
            raise LineError("batch_retired", f"Batch {code} is {held.status}; it can no longer be moved or used.", name)
        if held.holder_id != ev.enterprise_id:
            raise LineError("not_your_enterprise", f"Batch {code} is held by {held.holder_id}, not by "
                                                   f"{ev.enterprise_id}.", name)
        if ev.occurred_at < held.produced_on:
            raise LineError("bad_field", f"occurred_at is before batch {code} was produced "
                                         f"({held.produced_on.date().isoformat()}).", "occurred_at")
        return held

    def _draw(self, held, kg, name, status="transformed", when=None):
        if kg > held.remaining_kg + MASS_TOLERANCE_KG:
            raise LineError("over_holding", f"{kg:g} kg is more than the {held.remaining_kg:g} kg of batch {held.code} "
                                            "left.", name)
        held.remaining_kg = round(max(held.remaining_kg - kg, 0.0), 3)
        if held.remaining_kg < 1.0:
            held.remaining_kg, held.status, held.status_since = 0.0, status, when
        held.dirty = True

    def _new_code(self, item, name):
        if item.gs1:
            key = gs1_key(item.gs1)
            if key in self.gs1_codes:
                raise LineError("code_taken", f"GS1 {key.split('|', 1)[1].replace('|', ' ')} is already registered "
                                              f"as batch {self.gs1_codes[key]}.", name)
        if item.code:
            if self.batches.get(item.code) is not None or self._stored_code(item.code):
                raise LineError("code_taken", f"Batch code {item.code} is already registered.", name)
            code = item.code
        else:
            # Codes are issued while checking too, so that later lines may name a GS1-labelled output.
            while True:
                code = batch_code.issue(_RNG)
                if code not in self.batches and not self._stored_code(code):
                    self._event_issued.append(code)
                    break
        if item.gs1:
            self.gs1_codes[gs1_key(item.gs1)] = code
        return code

    def _stored_code(self, code):
        if code in self.batches:
            return self.batches[code] is not None
        return bool(find_by_ids(self.db.batches, [code], {"_id": 1}))

    def _create(self, code, ev, stage, product_type, reo_pct, mass_kg, producer_id, produced_on, parents, extra):
        extra["parents"] = parents  # the same dict: the chunk's quota settlement writes into it later
        held = Held(code, stage, product_type, reo_pct, producer_id, produced_on, ev.enterprise_id, mass_kg, mass_kg,
                    "active", ev.occurred_at, extra if self.apply else _NO_EXTRA, stored=False, dirty=True)
        if code:
            self.batches[code] = held
        return held

    # -- the event kinds -------------------------------------------------------------------------------------------
    def _production(self, ev):
        producer = self._producer(ev.enterprise_id)
        inputs = [(self._movable(ev, i.code, "inputs"), i) for i in ev.inputs]
        if not inputs and any(o.stage != "ore" for o in ev.outputs):
            raise LineError("bad_field", "Only ore is produced without inputs; record foreign material as an import.",
                            "inputs")
        for code in (o.code for o in ev.outputs if o.code):
            self._new_code_check(code)
        for held, item in inputs:
            self._draw(held, item.mass_kg, "inputs", when=ev.occurred_at)
        in_reo = sum(item.mass_kg * held.reo_pct / 100 for held, item in inputs)
        out_reo = sum(o.mass_kg * o.reo_pct / 100 for o in ev.outputs)
        top_stage = max((o.stage for o in ev.outputs), key=("ore", "compound", "metal", "magnet").index)
        if inputs:
            ceiling = self.settings.recovery_ceiling_for(top_stage)
            if out_reo > in_reo * ceiling:
                self._event_flags.append({
                    "code": "mass_balance", "output_reo_kg": round(out_reo, 1), "input_reo_kg": round(in_reo, 1),
                    "ceiling_pct": round(ceiling * 100, 1),
                    "message": f"Output {out_reo:,.1f} kg REO exceeds input {in_reo:,.1f} kg REO × {ceiling:.0%}."})
        needs = {o.stage for o in ev.outputs if rules.approval_on(producer, o.stage, ev.occurred_at) is False}
        china_day = ev.occurred_at.astimezone(CST).date().isoformat()
        for stage in sorted(needs):
            self._event_flags.append({
                "code": "producer_not_approved", "stage": stage, "day": china_day,
                "message": f"{ev.enterprise_id} is not whitelisted for {rules.STAGE_APPROVAL[stage]} on {china_day}."})
        parents = [{"code": held.code, "mass_kg": item.mass_kg} for held, item in inputs]
        extras, quota = [], {}
        for o in ev.outputs:
            extra = {"producer_province": self.registry[ev.enterprise_id].get("province")}
            if o.gs1:
                extra["gs1"] = dict(o.gs1)
            category = None if o.stage in needs else quota_category(producer, o, self.registry[ev.enterprise_id])
            if category:
                extra["quota_category"] = category
                quota.setdefault(category, []).append(extra)
                quota.setdefault(("t", category), 0.0)
                quota[("t", category)] += o.mass_kg * o.reo_pct / 100 / 1000
            extras.append(extra)
        self._accounting = {"producer_id": ev.enterprise_id, "period": ev.period, "output_reo_kg": round(out_reo, 3),
                            "input_reo_kg": round(in_reo, 3), "lots": len(ev.outputs), "quota": {}}
        for o, extra in zip(ev.outputs, extras):
            self._create(self._new_code(o, "outputs"), ev, o.stage, o.product_type, o.reo_pct, o.mass_kg,
                         ev.enterprise_id, ev.occurred_at, parents, extra)
        if self.apply:
            year = ev.occurred_at.astimezone(CST).year
            for category in [k for k in quota if isinstance(k, str)]:
                self.quota_queue.append({
                    "key": (ev.enterprise_id, year, category), "tonnes": quota[("t", category)],
                    "allocated": effective_t(producer, category, year)[3], "extras": quota[category],
                    "flags": self._event_flags, "accounting": self._accounting, "event_id": ev.event_id,
                    "line": ev.line})
            self.pending_accounts.append(self._accounting)

    def settle_quota(self):
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
            position = after - total
            eid, year, category = key
            for e in entries:
                position += e["tonnes"]
                within = position <= allocated * (1 + 1e-12)
                e["accounting"]["quota"][category] = round(e["tonnes"], 6)
                e["accounting"].setdefault("quota_used_t", {})[category] = round(position, 6)
                for extra in e["extras"]:
                    extra.update(quota_used_t=round(position, 3), within_quota=within)
                if not within:
                    flag = {"code": "over_quota", "year": year, "category": category, "allocated_t": allocated,
                            "used_t": round(position, 3),
                            "message": f"Production brings {eid}'s {year} {category} quota use to {position:,.1f} t "
                                       f"REO of {allocated:,.1f} t allocated."}
                    e["flags"].append(flag)
                    self.flags.append({"event_id": e["event_id"], "line": e["line"], **flag})
        for acc in self.pending_accounts:
            self._account(acc)
        self.quota_queue, self.pending_accounts = [], []

    def _new_code_check(self, code):
        if self.batches.get(code) is not None or self._stored_code(code):
            raise LineError("code_taken", f"Batch code {code} is already registered.", "outputs")

    def _import(self, ev):
        for o in ev.outputs:
            held = self._create(self._new_code(o, "outputs"), ev, o.stage, o.product_type, o.reo_pct, o.mass_kg,
                                ev.enterprise_id, ev.occurred_at, [],
                                {"imported": True, "origin_country": ev.country,
                                 "producer_province": self.registry[ev.enterprise_id].get("province"),
                                 **({"gs1": dict(o.gs1)} if o.gs1 else {})})
            self._move(ev, held.code, FOREIGN, ev.enterprise_id, o.mass_kg, "import",
                       port=ev.port, origin_country=ev.country)

    def _shipment(self, ev):
        held = self._movable(ev, ev.code)
        receiver = self._enterprise(ev.to_id, "to_id")["_id"]
        if receiver == ev.enterprise_id:
            raise LineError("bad_field", "A shipment goes to another enterprise.", "to_id")
        if ev.mass_kg > held.remaining_kg + MASS_TOLERANCE_KG:
            raise LineError("over_holding", f"{ev.mass_kg:g} kg is more than the {held.remaining_kg:g} kg of batch "
                                            f"{held.code} that {ev.enterprise_id} holds.", "mass_kg")
        if ev.mass_kg < held.remaining_kg - MASS_TOLERANCE_KG:
            raise LineError("partial_shipment", f"Batch {held.code} holds {held.remaining_kg:g} kg; to ship "
                                                f"{ev.mass_kg:g} kg, record a split first.", "mass_kg")
        if (held.code, ev.doc_no) in self.shipments:
            raise LineError("bad_field", f"Document {ev.doc_no} already records a shipment of {held.code}.", "doc_no")
        held.holder_id, held.dirty = receiver, True
        self._move(ev, held.code, ev.enterprise_id, receiver, held.remaining_kg, "transfer", shipment=True)

    def _receipt(self, ev):
        held = self._batch(ev.code)
        self._enterprise(ev.from_id, "from_id")
        if held.status not in ("active",):
            raise LineError("batch_retired", f"Batch {held.code} is {held.status}; it cannot be received.", "code")
        if ev.occurred_at < held.produced_on:
            raise LineError("bad_field", f"occurred_at is before batch {held.code} was produced "
                                         f"({held.produced_on.date().isoformat()}).", "occurred_at")
        shipment = self.shipments.get((held.code, ev.doc_no))
        if shipment and shipment["to_id"] == ev.enterprise_id:
            if shipment.get("date") and ev.occurred_at < shipment["date"]:
                raise LineError("bad_field", f"The receipt is dated before shipment {ev.doc_no} left "
                                             f"({shipment['date'].date().isoformat()}).", "occurred_at")
            if shipment.get("received_at"):
                raise LineError("bad_field", f"Shipment {ev.doc_no} of {held.code} was already received.", "doc_no")
            shipment["received_at"] = ev.occurred_at
            if shipment.get("stored"):
                self.receipts.append(shipment)
            return
        self._event_flags.append({
            "code": "receipt_without_shipment", "from_id": ev.from_id, "doc_no": ev.doc_no,
            "message": f"{ev.enterprise_id} received {held.code} under {ev.doc_no}, but no shipment to it is recorded."})
        if held.holder_id != ev.enterprise_id:
            sender = held.holder_id
            held.holder_id, held.dirty = ev.enterprise_id, True
            self._move(ev, held.code, sender, ev.enterprise_id, held.remaining_kg, "transfer", received_at=ev.occurred_at,
                       unconfirmed_by_sender=True)

    def _export(self, ev):
        held = self._movable(ev, ev.code)
        if ev.mass_kg is not None and abs(ev.mass_kg - held.remaining_kg) > MASS_TOLERANCE_KG:
            code = "over_holding" if ev.mass_kg > held.remaining_kg else "partial_shipment"
            raise LineError(code, f"Batch {held.code} holds {held.remaining_kg:g} kg; an export takes the whole batch "
                                  "(split first to export part of it).", "mass_kg")
        self._move(ev, held.code, ev.enterprise_id, FOREIGN, held.remaining_kg, "export", port=ev.port,
                   destination_country=ev.country)
        held.status, held.status_since, held.dirty = "exported", ev.occurred_at, True

    def _consumption(self, ev):
        held = self._movable(ev, ev.code)
        self._draw(held, ev.mass_kg or held.remaining_kg, "mass_kg", status=ev.status, when=ev.occurred_at)

    def _split(self, ev):
        held = self._movable(ev, ev.code)
        for code in (o.code for o in ev.outputs if o.code):
            self._new_code_check(code)
        self._draw(held, sum(o.mass_kg for o in ev.outputs), "outputs", when=ev.occurred_at)
        for o in ev.outputs:
            # The quota facts are the parent's, read when the batches are written: its chunk may not be settled yet.
            self._create(self._new_code(o, "outputs"), ev, held.stage, held.product_type, held.reo_pct, o.mass_kg,
                         held.producer_id, held.produced_on, [{"code": held.code, "mass_kg": o.mass_kg}],
                         {"split_by": ev.enterprise_id, "inherits_from": held.code})

    def _merge(self, ev):
        inputs = [(self._movable(ev, i.code, "inputs"), i) for i in ev.inputs]
        kinds = {(h.stage, h.product_type) for h, _ in inputs}
        if len(kinds) > 1:
            raise LineError("bad_field", "A merge joins batches of one stage and product type; these differ: "
                            + ", ".join(f"{h.code} {h.product_type}" for h, _ in inputs) + ".", "inputs")
        out = ev.outputs[0]
        total = sum(i.mass_kg for _, i in inputs)
        if out.mass_kg > total + MASS_TOLERANCE_KG:
            raise LineError("bad_mass", f"A merge cannot make {out.mass_kg:g} kg out of {total:g} kg.", "outputs")
        if out.code:
            self._new_code_check(out.code)
        for held, item in inputs:
            self._draw(held, item.mass_kg, "inputs", when=ev.occurred_at)
        reo = sum(h.reo_pct * i.mass_kg for h, i in inputs) / total
        first = inputs[0][0]
        self._create(self._new_code(out, "outputs"), ev, first.stage, first.product_type, round(reo, 3), out.mass_kg,
                     ev.enterprise_id, ev.occurred_at, [{"code": h.code, "mass_kg": i.mass_kg} for h, i in inputs],
                     {"repackaged": True, "producer_province": self.registry[ev.enterprise_id].get("province")})

    # -- effects ---------------------------------------------------------------------------------------------------
    def _move(self, ev, code, from_id, to_id, kg, kind, shipment=False, **extra):
        doc = {"_id": f"MV-{uuid.uuid4().hex[:16]}", "batch_code": code, "from_id": from_id, "to_id": to_id,
               "mass_kg": round(kg, 3), "date": ev.occurred_at, "period": ev.period, "doc_no": ev.doc_no, "kind": kind,
               "event_id": ev.event_id, "submission_id": self.submission_id, **extra}
        if shipment:
            self.shipments[(code, ev.doc_no)] = doc if self.apply else _compact(doc)
        if self.apply:
            self.pending_movements.append(doc)

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
            done = db.batches.update_one({"_id": h.code, **guard}, {"$set": state})
            if done.matched_count != 1:
                raise Conflict(f"Batch {h.code} changed while this submission was being applied.")
            self.guards[h.code].update({k: state[k] for k in ("holder_id", "remaining_kg", "status")})
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
                                       "before": {"received_at": None}, "written": {"received_at": m["received_at"]}})
            db.movements.update_one({"_id": m["_id"]}, {"$set": {"received_at": m["received_at"]}})
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
        facts = {k: v for k, v in parent.extra.items() if k in ("quota_category", "quota_used_t", "within_quota",
                                                                "producer_province")}
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


_RNG = secrets.SystemRandom()


def _compact(movement):
    """What a receipt needs of a shipment."""
    return {"_id": movement["_id"], "to_id": movement["to_id"], "received_at": movement.get("received_at"),
            "date": movement["date"]}


def _batch_doc(h, sid, inherited):
    extra = {**inherited, **h.extra}
    parents = extra.pop("parents", [])
    extra.pop("inherits_from", None)
    doc = {"_id": h.code, "code": h.code, "stage": h.stage, "product_type": h.product_type, "mass_kg": h.mass_kg,
           "remaining_kg": h.remaining_kg, "reo_pct": h.reo_pct, "producer_id": h.producer_id,
           "produced_on": h.produced_on, "parents": parents, "parent_codes": [p["code"] for p in parents],
           "holder_id": h.holder_id, "status": h.status, "status_since": h.status_since, "submission_id": sid, **extra}
    return doc


# -- the whole submission ------------------------------------------------------------------------------------------
def _chunks(pairs, size):
    it = iter(pairs)
    while chunk := list(islice(it, size)):
        yield chunk


def _pass(book, lines, default_enterprise, max_lines, errors, counts, apply):
    total = 0
    for chunk in _chunks(lines(), CHUNK):
        events = []
        for line, raw in chunk:
            total += 1
            if total > max_lines:
                raise TooManyLines(max_lines)
            if isinstance(raw, LineError):
                raw.line = raw.line or line
                errors.append(raw)
                continue
            try:
                events.append(read_event(raw, line, default_enterprise))
            except LineError as exc:
                errors.append(exc)
        book.prefetch(events)
        for ev in events:
            try:
                book.take(ev)
            except LineError as exc:
                exc.event_id, exc.line = exc.event_id or ev.event_id, exc.line or ev.line
                if apply:
                    raise
                errors.append(exc)
        if apply:
            book.renew()
            book.settle_quota()
            book.flush()
    counts["lines"] = total


def dry_run(db, settings, actor, lines, now, default_enterprise=None, sid=None):
    """Check every line without writing anything; return (book, errors, counts)."""
    source = lines if callable(lines) else (lambda: iter(lines))
    errors, counts = [], {}
    book = Book(db, settings, actor, now, sid, apply=False)
    _pass(book, source, default_enterprise or actor.get("enterprise_id"), settings.intake_max_lines, errors, counts,
          apply=False)
    return book, errors, counts


def submit(db, settings, actor, lines, channel, now, period=None, enterprise_id=None):
    """Check every line, then apply the submission atomically; return the receipt."""
    source = lines if callable(lines) else (lambda: iter(lines))
    default_enterprise = enterprise_id or actor.get("enterprise_id")
    sid, owner = uuid.uuid4().hex, uuid.uuid4().hex
    # Undo abandoned tries first: checking against their leftovers would count them as stored.
    resume_rollbacks(db)
    check, errors, counts = dry_run(db, settings, actor, source, now, default_enterprise, sid)
    if check.unsettled:
        _settle_earlier(db, check.unsettled)
        check, errors, counts = dry_run(db, settings, actor, source, now, default_enterprise, sid)
        if check.unsettled:
            raise InProgress(_wait_for(db, check.unsettled))
    for earlier, promise in check.promises.items():  # a retry writes what its interrupted try promised
        promises.settle(db, "ledger_submissions", earlier, promise)
    if counts["lines"] == 0 and not period:
        raise EmptySubmission()
    receipt = {"submission_id": sid, "channel": channel, "received_at": now, "enterprise_id": default_enterprise,
               "events": counts["lines"], "duplicates": check.duplicates, "flags": [], "issued_codes": {}}
    head = {"_id": sid, "enterprise_id": default_enterprise, "submitted_by": actor.get("username"),
            "channel": channel, "received_at": now, "period": period}
    if errors:
        receipt.update(status="rejected", accepted=0, rejected=len(errors), periods=[],
                       errors=[e.as_dict() for e in errors[:MAX_LISTED_ERRORS]])
        db.ledger_submissions.insert_one({**head, "state": "rejected", "receipt": receipt})
        return receipt
    book = Book(db, settings, actor, now, sid, apply=True, owner=owner)
    db.ledger_submissions.insert_one({**head, "state": "applying", "owner": owner, "claimed_at": book.claimed_at})
    # The checking pass already read which events are stored; a race since then meets the unique _id and rolls back.
    book.events_seen, book.events_known = dict(check.stored_events), True
    del check
    try:
        with atomic(db):
            _pass(book, source, default_enterprise, settings.intake_max_lines, [], {}, apply=True)
            book.finish()
            db.ledger_submissions.update_one({"_id": sid}, {"$set": {"booked": True}})
            declared = (default_enterprise, period) if period and default_enterprise else None
            periods = book.register(declared)
            receipt.update(status="accepted", accepted=book.accepted, rejected=0, duplicates=book.duplicates,
                           errors=[], flags=sorted(book.flags, key=lambda f: f["line"]), issued_codes=book.issued,
                           issued=book.issued_by_event, periods=periods)
            promise = promises.pending(actor, "ledger.submit", {"submission_id": sid},
                                    {"channel": channel, "accepted": receipt["accepted"],
                                     "duplicates": receipt["duplicates"], "flags": len(receipt["flags"]),
                                     "periods": periods}, now)
            # The commit point: until this lands the submission is "applying", and rolled back if anything failed.
            # Only while this attempt still holds it: one whose claim lapsed may have been undone by another process.
            done = db.ledger_submissions.update_one(
                {"_id": sid, "state": "applying", "owner": owner},
                {"$set": {"state": "accepted", "receipt": receipt, "audit_pending": promise}})
            if done.matched_count != 1:
                raise Conflict("The submission took too long to apply and was given up.")
    except LineError as exc:
        _roll_back_or_remember(db, sid, book)
        raise Conflict(f"Line {exc.line}: {exc.message}") from None
    except DuplicateKeyError:
        _roll_back_or_remember(db, sid, book)
        raise Conflict("Another submission registered the same batch code or event at the same time.") from None
    except Exception:
        _roll_back_or_remember(db, sid, book)
        raise
    # Accepted: a failure from here on leaves the promise on the submission, for a retry or the start-up sweep.
    promises.settle(db, "ledger_submissions", sid, promise)
    return receipt


_unfinished = {}  # (database name, submission id) -> (owner, Book): a hint of this process's own abandoned tries
_unfinished_lock = threading.Lock()


def _roll_back_or_remember(db, sid, book):
    """Roll a failed submission back; when the database is gone too, remember that this try is dead."""
    try:
        _undo(db, sid, book, previous_owner=book.owner)
    except PyMongoError:
        with _unfinished_lock:  # unless the rollback's own claim got through and is remembered already
            _unfinished.setdefault((db.name, sid), (book.owner, book))


def _settle_earlier(db, sids):
    """Finish undoing the earlier tries whose events a submission names, when no live attempt holds them."""
    for sid in sorted(sids):
        with _unfinished_lock:
            owner, book = _unfinished.get((db.name, sid), (None, None))
        _undo(db, sid, book, previous_owner=owner)
        with _unfinished_lock:
            _unfinished.pop((db.name, sid), None)


def _wait_for(db, sids):
    """Seconds worth waiting before a retry: a live apply ends in moments; an undoing holder may be gone (lease)."""
    found = find_by_ids(db.ledger_submissions, sorted(sids), {"claimed_at": 1, "state": 1})
    if all(s.get("state") == "applying" for s in found):
        return APPLYING_RETRY_SECONDS
    now = _clock()
    left = [(_aware(s["claimed_at"]) + LEASE - now).total_seconds() for s in found if s.get("claimed_at")]
    return max(1, min(int(LEASE.total_seconds()), int(max(left, default=1)) + 1))


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def resume_rollbacks(db):
    """Finish the rollbacks abandoned by this process's failed tries or by any process whose claim lapsed."""
    with _unfinished_lock:
        hinted = {key[1]: value for key, value in _unfinished.items() if key[0] == db.name}
    lapsed = [s["_id"] for s in db.ledger_submissions.find(
        {"state": {"$in": list(UNSETTLED)}, "claimed_at": {"$lt": _clock() - LEASE}}, {"_id": 1})]
    done = []
    for sid in dict.fromkeys([*hinted, *lapsed]):
        owner, book = hinted.get(sid, (None, None))
        if _undo(db, sid, book, previous_owner=owner):
            done.append(sid)
        with _unfinished_lock:  # undone, or claimed by another process: no longer this process's to finish
            _unfinished.pop((db.name, sid), None)
    return done


def rollback(db, sid, book=None):
    """Undo a stored submission, or an unfinished one no live attempt holds; False if another attempt holds it."""
    return _undo(db, sid, book, accepted=True)


def _claim(db, sid, previous_owner=None, stalled_before=None, accepted=False):
    """Take the undoing of a submission in the database: one claimant at a time, whichever process it runs in.

    An unfinished submission is taken from a try known to be dead (previous_owner), from a claim that lapsed, or,
    at start-up, from one received long ago; a claim on its undoing that lapsed is taken over the same way.
    """
    now = _clock()
    ways = [{"claimed_at": {"$lt": now - LEASE}}, {"claimed_at": None}]
    if previous_owner:
        ways.append({"owner": previous_owner})
    if stalled_before:
        ways.append({"received_at": {"$lt": stalled_before}})
    query = {"_id": sid, "state": {"$in": list(UNSETTLED)}, "$or": ways}
    if accepted:
        query = {"_id": sid, "$or": [{"state": "accepted"}, {"state": {"$in": list(UNSETTLED)}, "$or": ways}]}
    me = uuid.uuid4().hex
    taken = db.ledger_submissions.find_one_and_update(
        query, {"$set": {"state": "rolling_back", "owner": me, "claimed_at": now}})
    return me if taken else None


def _undo(db, sid, book=None, previous_owner=None, stalled_before=None, accepted=False):
    """Claim the submission's undoing, then undo each step exactly once, even when a crashed claimant did part of it.

    Quota and producer months are given back by one update of their own document that also marks the submission
    as given back there, so a second claimant skips what the first did; the other steps restore guarded pre-images
    or delete, and repeating them changes nothing.
    """
    me = _claim(db, sid, previous_owner, stalled_before, accepted)
    if me is None:
        return False
    try:
        _undo_steps(db, sid, book, me)
    except _Lost:
        return False
    except PyMongoError:
        with _unfinished_lock:  # this process may finish it as soon as the database is back, no need to wait
            _unfinished[(db.name, sid)] = (me, book)
        raise
    return True


def _undo_steps(db, sid, book, me):
    applied = dict(book.quota_applied) if book else {}
    if book is None:
        for e in db.ledger_events.find({"submission_id": sid}, {"accounting": 1, "occurred_at": 1,
                                                                "enterprise_id": 1}):
            for category, t in (e.get("accounting") or {}).get("quota", {}).items():
                key = (e["enterprise_id"], e["occurred_at"].astimezone(CST).year, category)
                applied[key] = applied.get(key, 0.0) + t
    for (eid, year, category), tonnes in applied.items():
        _hold(db, sid, me)
        key = {"enterprise_id": eid, "year": year, "category": category}
        db.quota_usage.update_one({**key, "given_back": {"$ne": sid}},
                                  {"$inc": {"used_t": -tonnes}, "$addToSet": {"given_back": sid}})
    for eid, period, row in list(_booked(db, sid, book)):
        _hold(db, sid, me)
        key = {"enterprise_id": eid, "period": period}
        db.production_periods.update_one({**key, "given_back": {"$ne": sid}},
                                         {"$inc": {"output_reo_kg": -row["output_reo_kg"],
                                                   "input_reo_kg": -row["input_reo_kg"], "lots": -row["lots"]},
                                          "$addToSet": {"given_back": sid}})
    for u in db.ledger_undo.find({"submission_id": sid}):
        before = u["before"]
        sets = {k: v for k, v in before.items() if v is not None}
        unsets = {k: "" for k, v in before.items() if v is None}
        update = {**({"$set": sets} if sets else {}), **({"$unset": unsets} if unsets else {})}
        if u["collection"] == "production_periods":
            if u.get("created"):
                db.production_periods.delete_one({"_id": u["doc_id"], "lots": {"$lte": 0}})
            else:
                db.production_periods.update_one({"_id": u["doc_id"]}, update)
        elif "written" in u:  # a guarded write that never happened has nothing to undo
            db[u["collection"]].update_one({"_id": u["doc_id"], **u["written"]}, update)
    for name in ("batches", "movements", "ledger_events", "ledger_undo"):
        db[name].delete_many({"submission_id": sid})
    db.monthly_reports.delete_many({"first_submission_id": sid})
    db.ledger_submissions.update_one({"_id": sid, "state": "rolling_back", "owner": me},
                                     {"$set": {"state": "rolled_back"}})
    # No claim on a rolled-back submission is possible any more: the markers may go, leaving the documents as before.
    # Found by the marker, not by this claimant's list: an earlier claimant may have given back and died since.
    for collection in (db.quota_usage, db.production_periods):
        ids = [d["_id"] for d in collection.find({"given_back": sid}, {"_id": 1})]
        if ids:
            collection.update_many({"_id": {"$in": ids}}, {"$pull": {"given_back": sid}})
            collection.update_many({"_id": {"$in": ids}, "given_back": {"$size": 0}}, {"$unset": {"given_back": ""}})


class _Lost(Exception):
    """The claim on a submission's undoing lapsed and another claimant took it over."""


def _hold(db, sid, me):
    """Renew the claim before a step that must not be done twice; stop if another claimant took it over."""
    held = db.ledger_submissions.update_one({"_id": sid, "state": "rolling_back", "owner": me},
                                            {"$set": {"claimed_at": _clock()}})
    if held.matched_count != 1:
        raise _Lost(sid)


def _booked(db, sid, book):
    """The producer months a submission booked: known in-process, else read back from its events once booking ended."""
    if book is not None:
        return book.booked
    head = db.ledger_submissions.find_one({"_id": sid}, {"booked": 1}) or {}
    if not head.get("booked"):
        return []
    rows = {}
    for e in db.ledger_events.find({"submission_id": sid, "accounting.producer_id": {"$exists": True}},
                                   {"accounting": 1}):
        acc = e["accounting"]
        row = rows.setdefault((acc["producer_id"], acc["period"]), {"output_reo_kg": 0.0, "input_reo_kg": 0.0, "lots": 0})
        for k in row:
            row[k] += acc[k]
    return [(eid, period, row) for (eid, period), row in rows.items()]


def recover_stalled(db, now, older_than=timedelta(minutes=30)):
    """Roll back submissions a stopped process left unfinished (received long ago, or their claim lapsed)."""
    stalled = [s["_id"] for s in db.ledger_submissions.find({"state": {"$in": list(UNSETTLED)}}, {"_id": 1})]
    return [sid for sid in stalled if _undo(db, sid, stalled_before=now - older_than)]


def history(db, code):
    """Every recorded event that names the batch, oldest first."""
    return list(db.ledger_events.find({"codes": code}, {"accounting": 0}).sort([("occurred_at", 1), ("recorded_at", 1)]))


def submission(db, sid):
    """A stored submission with its receipt, or None."""
    return db.ledger_submissions.find_one({"_id": sid})
