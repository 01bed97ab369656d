"""What each kind of ledger event checks and does to the book: one function per kind, dispatched from EFFECTS.

take() checks what every event shares (the reporter, a resent or reused event id, the date), runs its kind's
function and records the event (its flags, the codes issued for it, what it booked). A kind's function raises a
LineError when the event cannot be accepted, changes the batches it names in the book, and raises the ledger flags
(flags.py) that describe what happened.
"""
from datetime import timedelta

from inspector.ledger import flags, transfers
from inspector.ledger.book import FP_DIGITS, FOREIGN, MASS_TOLERANCE_KG, event_key
from inspector.ledger.events import LineError
from inspector.clock import CST, china_date
from inspector.quota.allocation import effective_t
from inspector.quota.usage import quota_category
from inspector.registry import approvals, customs
from inspector.registry.approvals import approval_on

CLOCK_SKEW = timedelta(minutes=5)
STAGE_ORDER = ("ore", "compound", "metal", "magnet")


def take(book, ev):
    """Check one event and, when applying, record its effects; return "accepted" or "duplicate"."""
    book.enterprise(ev.enterprise_id, "enterprise_id")
    if book.actor.get("role") != "admin" and ev.enterprise_id != book.actor.get("enterprise_id"):
        raise LineError("not_your_enterprise", f"You report for {book.actor.get('enterprise_id')}, not for "
                                               f"{ev.enterprise_id}.", "enterprise_id")
    fingerprint = ev.fingerprint()
    seen = book.events_seen.get((ev.enterprise_id, ev.event_id))
    if seen is not None:
        # Resent as exported, a batch may be named by its GS1 Digital Link where it was first named by its code.
        if fingerprint[:FP_DIGITS] in seen or ev.fingerprint(None, book.native)[:FP_DIGITS] in seen:
            book.duplicates += 1
            return "duplicate"
        raise LineError("event_id_reused", f"Event id {ev.event_id!r} was already used for a different event.",
                        "event_id")
    if ev.occurred_at > book.now + CLOCK_SKEW:
        raise LineError("future_date", "occurred_at is in the future.", "occurred_at")
    book.event_flags, book.event_issued, book.accounting = [], [], {}
    EFFECTS[ev.type](book, ev)
    # Resent as exported, the event names the codes the service issued for it and the native codes of the batches
    # it named by GS1: that is the same event too.
    fingerprints = tuple(dict.fromkeys((fingerprint, ev.fingerprint(book.event_issued, book.native))))
    book.events_seen[(ev.enterprise_id, ev.event_id)] = tuple(fp[:FP_DIGITS] for fp in fingerprints)
    book.accepted += 1
    book.periods.setdefault(ev.enterprise_id, set()).add(ev.period)
    if book.event_issued:
        book.issued[ev.event_id] = list(book.event_issued)
        book.issued_by_event.append({"enterprise_id": ev.enterprise_id, "event_id": ev.event_id,
                                     "codes": list(book.event_issued)})
    for f in book.event_flags:
        book.flags.append({"event_id": ev.event_id, "line": ev.line, **f})
    if book.apply:
        book.pending_events.append({
            "_id": event_key(ev.enterprise_id, ev.event_id), "enterprise_id": ev.enterprise_id,
            "event_id": ev.event_id, "submission_id": book.submission_id, "type": ev.type,
            "occurred_at": ev.occurred_at, "period": ev.period, "recorded_at": book.now,
            "codes": [book.native(c) for c in ev.codes()] + book.event_issued,
            "payload": ev.payload(book.event_issued, book.native), "flags": book.event_flags,
            "fingerprints": list(fingerprints), "accounting": book.accounting})
    return "accepted"


def production(book, ev):
    """Inputs drawn, new batches held by the producer, quota queued for the chunk; mass balance and whitelist flags."""
    producer = book.producer(ev.enterprise_id)
    inputs = [(book.movable(ev, i.code, "inputs"), i) for i in ev.inputs]
    if not inputs and any(o.stage != "ore" for o in ev.outputs):
        raise LineError("bad_field", "Only ore is produced without inputs; record foreign material as an import.",
                        "inputs")
    for code in (o.code for o in ev.outputs if o.code):
        book.check_code_free(code)
    for held, item in inputs:
        book.draw(held, item.mass_kg, "inputs", when=ev.occurred_at)
    in_reo = sum(item.mass_kg * held.reo_pct / 100 for held, item in inputs)
    out_reo = sum(o.mass_kg * o.reo_pct / 100 for o in ev.outputs)
    top_stage = max((o.stage for o in ev.outputs), key=STAGE_ORDER.index)
    if inputs:
        flag = flags.output_over_recovery_ceiling(out_reo, in_reo, book.settings.recovery_ceiling_for(top_stage))
        if flag:
            book.event_flags.append(flag)
    needs = {o.stage for o in ev.outputs if approval_on(producer, o.stage, ev.occurred_at) is False}
    china_day = china_date(ev.occurred_at).isoformat()
    for stage in sorted(needs):
        book.event_flags.append(flags.producer_not_whitelisted_that_day(ev.enterprise_id, stage, china_day))
    # Imported feed this separator's quota counted when it came in is not counted again in what it is made into.
    counted_reo = sum(item.mass_kg * held.reo_pct / 100 for held, item in inputs
                      if (held.extra.get("quota_counted_on_import") or {}).get("enterprise_id") == ev.enterprise_id)
    fresh_share = 1 - min(1.0, counted_reo / in_reo) if in_reo else 1.0
    parents = [{"code": held.code, "mass_kg": item.mass_kg} for held, item in inputs]
    extras, quota = [], {}
    for o in ev.outputs:
        extra = {"producer_province": book.enterprises[ev.enterprise_id].get("province")}
        if o.gs1:
            extra["gs1"] = dict(o.gs1)
        category = None if o.stage in needs else quota_category(producer, o, book.enterprises[ev.enterprise_id])
        if category:
            extra["quota_category"] = category
            quota.setdefault(category, []).append(extra)
            quota.setdefault(("t", category), 0.0)
            quota[("t", category)] += o.mass_kg * o.reo_pct / 100 / 1000 * (fresh_share if category == "separation"
                                                                             else 1.0)
        extras.append(extra)
    book.accounting = {"producer_id": ev.enterprise_id, "period": ev.period, "output_reo_kg": round(out_reo, 3),
                       "input_reo_kg": round(in_reo, 3), "lots": len(ev.outputs), "quota": {}}
    for o, extra in zip(ev.outputs, extras):
        book.create(book.new_code(o, "outputs"), ev, o.stage, o.product_type, o.reo_pct, o.mass_kg,
                    ev.enterprise_id, ev.occurred_at, parents, extra)
    if book.apply:
        year = ev.occurred_at.astimezone(CST).year
        for category in [k for k in quota if isinstance(k, str)]:
            book.quota_queue.append({
                "key": (ev.enterprise_id, year, category), "tonnes": quota[("t", category)],
                "allocated": effective_t(producer, category, year)[3], "extras": quota[category],
                "flags": book.event_flags, "accounting": book.accounting, "event_id": ev.event_id,
                "line": ev.line})
        book.pending_accounts.append(book.accounting)


def import_(book, ev):
    """New batches held by an approved importer, each checked against the customs register and moved in from abroad."""
    importer = book.producer(ev.enterprise_id)
    day = approvals.china_day(ev.occurred_at)
    if not approvals.approved_on(importer.get("approvals", []), "import", day):
        state, _ = approvals.state_on(approvals.ordered(importer.get("approvals", [])), "import", day)
        raise LineError("import_not_approved", f"{ev.enterprise_id} is not approved for import on {day} "
                                               f"({approvals.STATE_TEXT[state]}): only enterprises the registry "
                                               "approves for import may import.", "enterprise_id")
    no = customs.number(ev.doc_no)
    declaration, used = book.declaration(no)
    enterprise = book.enterprises[ev.enterprise_id]
    # Order No. 71: imported ore and compounds a separator will separate count on its separation quota.
    counts = "separator" in (enterprise.get("roles") or []) and "separation" in (importer.get("quota_categories") or [])
    unverified, counted = [], 0.0
    for o in ev.outputs:
        problems = customs.check(declaration, no, ev.enterprise_id, ev.occurred_at, ev.port, ev.country, o.stage,
                                 used, o.mass_kg)
        used += o.mass_kg
        extra = {"imported": True, "origin_country": ev.country, "producer_province": enterprise.get("province"),
                 "import_check": {"declaration_no": no, "verified": not problems, "problems": problems,
                                  "importer_id": ev.enterprise_id, "port": ev.port, "origin_country": ev.country},
                 **({"gs1": dict(o.gs1)} if o.gs1 else {})}
        if problems:
            unverified.append(problems)
        if counts and o.stage in ("ore", "compound"):
            tonnes = o.mass_kg * o.reo_pct / 100 / 1000
            extra["quota_counted_on_import"] = {"enterprise_id": ev.enterprise_id, "category": "separation",
                                                "t": round(tonnes, 6)}
            counted += tonnes
        held = book.create(book.new_code(o, "outputs"), ev, o.stage, o.product_type, o.reo_pct, o.mass_kg,
                           ev.enterprise_id, ev.occurred_at, [], extra)
        book.move(ev, held.code, FOREIGN, ev.enterprise_id, o.mass_kg, "import",
                  port=ev.port, origin_country=ev.country)
    book.declared_used[no] = used
    if unverified:
        book.event_flags.append(flags.unverified_import(ev.enterprise_id, no, len(unverified), unverified[0]))
    if counted and book.apply:
        book.accounting = {"quota": {}}
        book.quota_queue.append({
            "key": (ev.enterprise_id, ev.occurred_at.astimezone(CST).year, "separation"), "tonnes": counted,
            "allocated": effective_t(importer, "separation", ev.occurred_at.astimezone(CST).year)[3], "extras": [],
            "flags": book.event_flags, "accounting": book.accounting, "event_id": ev.event_id, "line": ev.line,
            "imported": True})


def shipment(book, ev):
    """The whole remaining batch leaves for the receiver: in transit, still the sender's, until the receipt agrees."""
    held = book.movable(ev, ev.code)
    receiver = book.enterprise(ev.to_id, "to_id")["_id"]
    if receiver == ev.enterprise_id:
        raise LineError("bad_field", "A shipment goes to another enterprise.", "to_id")
    if ev.mass_kg > held.remaining_kg + MASS_TOLERANCE_KG:
        raise LineError("over_holding", f"{ev.mass_kg:g} kg is more than the {held.remaining_kg:g} kg of batch "
                                        f"{held.code} that {ev.enterprise_id} holds.", "mass_kg")
    if ev.mass_kg < held.remaining_kg - MASS_TOLERANCE_KG:
        raise LineError("partial_shipment", f"Batch {held.code} holds {held.remaining_kg:g} kg; to ship "
                                            f"{ev.mass_kg:g} kg, record a split first.", "mass_kg")
    if (held.code, ev.doc_no) in book.shipments:
        raise LineError("bad_field", f"Document {ev.doc_no} already records a shipment of {held.code}.", "doc_no")
    claim = book.claims.get((held.code, ev.doc_no, receiver))
    if claim and claim["from_id"] == ev.enterprise_id and _agree(claim.get("mass_kg"), held.remaining_kg) \
            and claim["received_on"] >= ev.occurred_at:
        # The receiver's receipt came first: the two sides agree now, and the claim is settled.
        book.claims.pop((held.code, ev.doc_no, receiver))
        claim.update(state=transfers.MATCHED, matched_by=ev.event_id)
        if claim.get("stored"):
            book.matched_claims.append(claim)
        held.holder_id, held.dirty = receiver, True
        book.move(ev, held.code, ev.enterprise_id, receiver, held.remaining_kg, "transfer", shipment=True,
                  received_at=claim["received_on"])
        return
    doc = book.move(ev, held.code, ev.enterprise_id, receiver, held.remaining_kg, "transfer", shipment=True,
                    awaiting_receipt=True)
    # One side's word moves nothing: the batch stays the sender's, in transit and usable by neither, until the
    # receiver's receipt agrees.
    held.in_transit, held.dirty = transfers.transit(doc), True


def _agree(mass_a, mass_b):
    return mass_a is None or mass_b is None or abs(mass_a - mass_b) <= MASS_TOLERANCE_KG


def receipt(book, ev):
    """Completes the shipment it agrees with (the receiver now holds the batch); otherwise an open claim that moves nothing."""
    held = book.batch(ev.code)
    book.enterprise(ev.from_id, "from_id")
    if held.status not in ("active",):
        raise LineError("batch_retired", f"Batch {held.code} is {held.status}; it cannot be received.", "code")
    if ev.occurred_at < held.produced_on:
        raise LineError("bad_field", f"occurred_at is before batch {held.code} was produced "
                                     f"({china_date(held.produced_on).isoformat()}).", "occurred_at")
    shipped = book.shipments.get((held.code, ev.doc_no))
    if shipped and shipped["to_id"] == ev.enterprise_id and shipped.get("from_id", ev.from_id) == ev.from_id \
            and _agree(ev.mass_kg, shipped.get("mass_kg")):
        if shipped.get("date") and ev.occurred_at < shipped["date"]:
            raise LineError("bad_field", f"The receipt is dated before shipment {ev.doc_no} left "
                                         f"({china_date(shipped['date']).isoformat()}).", "occurred_at")
        if shipped.get("received_at"):
            raise LineError("bad_field", f"Shipment {ev.doc_no} of {held.code} was already received.", "doc_no")
        shipped["received_at"] = ev.occurred_at
        if shipped.get("stored"):
            book.receipts.append(shipped)
        else:
            shipped.pop("awaiting_receipt", None)
        if held.in_transit and held.in_transit["movement_id"] == shipped["_id"]:
            held.holder_id, held.in_transit, held.dirty = ev.enterprise_id, None, True
        return
    claim = None
    if held.holder_id != ev.enterprise_id:
        key = (held.code, ev.doc_no, ev.enterprise_id)
        claim = book.claims.get(key)
        if claim is None:
            claim = transfers.new_claim(ev, held, book.submission_id, book.now)
            book.claims[key] = claim
            if book.apply:
                book.pending_claims.append(claim)
    book.event_flags.append(flags.receipt_without_shipment(ev.enterprise_id, held.code, ev.from_id, ev.doc_no,
                                                           claim and claim["_id"]))


def export(book, ev):
    """The whole batch leaves the country: moved abroad, status exported."""
    held = book.movable(ev, ev.code)
    if ev.mass_kg is not None and abs(ev.mass_kg - held.remaining_kg) > MASS_TOLERANCE_KG:
        code = "over_holding" if ev.mass_kg > held.remaining_kg else "partial_shipment"
        raise LineError(code, f"Batch {held.code} holds {held.remaining_kg:g} kg; an export takes the whole batch "
                              "(split first to export part of it).", "mass_kg")
    book.move(ev, held.code, ev.enterprise_id, FOREIGN, held.remaining_kg, "export", port=ev.port,
              destination_country=ev.country)
    held.status, held.status_since, held.dirty = "exported", ev.occurred_at, True


def consumption(book, ev):
    """Mass drawn from the batch (all that is left when none is given); consumed or retired when used up."""
    held = book.movable(ev, ev.code)
    book.draw(held, ev.mass_kg or held.remaining_kg, "mass_kg", status=ev.status, when=ev.occurred_at)


def split(book, ev):
    """Children of the parent's stage, product and REO %, drawn from it; they inherit its quota facts when written."""
    held = book.movable(ev, ev.code)
    for code in (o.code for o in ev.outputs if o.code):
        book.check_code_free(code)
    book.draw(held, sum(o.mass_kg for o in ev.outputs), "outputs", when=ev.occurred_at)
    for o in ev.outputs:
        # The quota facts are the parent's, read when the batches are written: its chunk's quota may not be taken yet.
        book.create(book.new_code(o, "outputs"), ev, held.stage, held.product_type, held.reo_pct, o.mass_kg,
                    held.producer_id, held.produced_on, [{"code": held.code, "mass_kg": o.mass_kg}],
                    {"split_by": ev.enterprise_id, "inherits_from": held.code,
                     **({"gs1": dict(o.gs1)} if o.gs1 else {})})


def merge(book, ev):
    """Batches of one stage and product type drawn into one repackaged batch (mass-weighted REO %)."""
    inputs = [(book.movable(ev, i.code, "inputs"), i) for i in ev.inputs]
    kinds = {(h.stage, h.product_type) for h, _ in inputs}
    if len(kinds) > 1:
        raise LineError("bad_field", "A merge joins batches of one stage and product type; these differ: "
                        + ", ".join(f"{h.code} {h.product_type}" for h, _ in inputs) + ".", "inputs")
    out = ev.outputs[0]
    total = sum(i.mass_kg for _, i in inputs)
    if out.mass_kg > total + MASS_TOLERANCE_KG:
        raise LineError("bad_mass", f"A merge cannot make {out.mass_kg:g} kg out of {total:g} kg.", "outputs")
    if out.code:
        book.check_code_free(out.code)
    for held, item in inputs:
        book.draw(held, item.mass_kg, "inputs", when=ev.occurred_at)
    reo = sum(h.reo_pct * i.mass_kg for h, i in inputs) / total
    first = inputs[0][0]
    book.create(book.new_code(out, "outputs"), ev, first.stage, first.product_type, round(reo, 3), out.mass_kg,
                ev.enterprise_id, ev.occurred_at, [{"code": h.code, "mass_kg": i.mass_kg} for h, i in inputs],
                {"repackaged": True, "producer_province": book.enterprises[ev.enterprise_id].get("province"),
                 **({"gs1": dict(out.gs1)} if out.gs1 else {})})


EFFECTS = {"production": production, "import": import_, "shipment": shipment, "receipt": receipt, "export": export,
           "consumption": consumption, "split": split, "merge": merge}
