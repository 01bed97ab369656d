"""Consecutive file rows of one event_id grouped into the canonical events the ledger books."""
from inspector.ledger.events import FileItem, LineError, Unreadable

EVENT_FIELDS = ("event_type", "occurred_at", "enterprise_id", "counterparty_id", "doc_no", "port", "country", "status")
MULTI_LINE = ("production", "import", "split", "merge")

def events_from_rows(rows):
    """Group consecutive rows of one event_id into canonical event dicts; yield (line, event | LineError)."""
    group, first_line, finished = [], None, {}
    for line, row in rows:
        if isinstance(row, LineError):
            if group:
                yield first_line, _finish(group, finished)
                group = []
            yield line, row
            continue
        if group and row.get("event_id") != group[0][1].get("event_id"):
            yield first_line, _finish(group, finished)
            group = []
        if not group:
            first_line = line
            earlier = finished.get(row.get("event_id"))
            if earlier:
                yield line, LineError("bad_field", f"The lines of event {row.get('event_id')!r} are not together: it "
                                                   f"began on line {earlier}. Keep all the lines of one event "
                                                   "consecutive.", "event_id", row.get("event_id"), line)
                continue
        group.append((line, row))
    if group:
        yield first_line, _finish(group, finished)


def _finish(group, finished):
    """The group's event; multi-line events are remembered so that a stray later line of one is caught."""
    if (group[0][1].get("event_type") or "").strip().lower() in MULTI_LINE:
        finished[group[0][1].get("event_id")] = group[0][0]
    return _event(group)


def _opt(value):
    """The cell's value, None when empty; a refused cell stays itself so that its own error is listed."""
    return value if isinstance(value, Unreadable) else (value or None)


def _event(group):
    first_line, first = group[0]
    kind = (first.get("event_type") or "").strip().lower()
    for line, row in group[1:]:
        for name in EVENT_FIELDS:
            if row.get(name) not in (None, "") and row.get(name) != first.get(name):
                return LineError("bad_field", f"{name} differs from the event's first line ({first_line}); every "
                                              "line of one event carries the same event fields.", name,
                                 first.get("event_id"), line)
    if kind not in MULTI_LINE and len(group) > 1:
        return LineError("bad_field", f"A {kind or 'line'} event takes one line; event_id {first.get('event_id')!r} "
                                      f"repeats on line {group[1][0]}.", "event_id", first.get("event_id"), group[1][0])
    event = {"event_id": first.get("event_id"), "type": _opt(first.get("event_type")) if kind == "" else kind, "enterprise_id": _opt(first.get("enterprise_id")),
             "occurred_at": first.get("occurred_at")}
    if kind in MULTI_LINE:
        inputs, outputs = [], []
        for line, row in group:
            role = (row.get("line_role") or "").strip().lower()
            if role not in ("input", "output"):
                return LineError("bad_field", "line_role must be input or output for a " + kind + ".", "line_role",
                                 first.get("event_id"), line)
            item = FileItem({"code": _opt(row.get("batch_code")), "mass_kg": row.get("mass_kg")}, line)
            if role == "output" and kind in ("production", "import"):
                item.update(stage=row.get("stage"), product_type=row.get("product_type"), reo_pct=row.get("reo_pct"),
                            quota_category=_opt(row.get("quota_category")))
            (inputs if role == "input" else outputs).append(item)
        event["outputs"] = outputs
        if kind == "split":
            if len(inputs) != 1:
                return LineError("bad_field", "A split has exactly one input line.", "line_role", first.get("event_id"),
                                 first_line)
            event["code"] = inputs[0]["code"]
        elif kind in ("production", "merge"):
            event["inputs"] = inputs
        if kind == "import":
            event.update(declaration_no=first.get("doc_no"), port=first.get("port"),
                         origin_country=first.get("country"))
        return event
    event["code"] = first.get("batch_code")
    mass = _opt(first.get("mass_kg"))
    if kind == "shipment":
        event.update(mass_kg=mass, to_id=first.get("counterparty_id"), doc_no=first.get("doc_no"))
    elif kind == "receipt":
        event.update(mass_kg=mass, from_id=first.get("counterparty_id"), doc_no=first.get("doc_no"))
    elif kind == "export":
        event.update(mass_kg=mass, licence_no=first.get("doc_no"), port=first.get("port"),
                     destination_country=_opt(first.get("country")))
    else:
        event.update(mass_kg=mass, status=_opt(first.get("status")))
    return event
