"""A Hypothesis state machine over random ledger submissions by several clerks, honest and not, through the HTTP API.

Whatever chain of productions, imports, shipments, receipts (agreeing, mismatched or made up), splits and merges it
runs: no batch changes holder without both sides, quota use never goes negative, and no batch descending from an
unapproved producer's output or an unverified import ever scans anything but FAIL for that taint.
"""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conftest import gen_enterprise, make_app, sign_in
from inspector.accounts import users as accounts
from inspector.codes import batch_code
from inspector.codes.labels import read_code
from inspector.settings import Settings
from api.context import db as current_db
from inspector.verdict.judge import ScanContext, judge

SUBMIT = "/api/ledger/submissions"
START = datetime(2026, 11, 1, 8, tzinfo=timezone(timedelta(hours=8)))
DECLARED_KG = 4000.0
PASSWORD = "machine-clerk-pw-1"
_hash = []


def _code(n):
    body = "REHM" + "".join(batch_code.ALPHABET[n // 31 ** i % 31] for i in range(6))
    return body + batch_code.check_character(body)


def _approval(eid, seq, stage):
    return {"_id": f"APR-{eid}-{seq:04d}", "enterprise_id": eid, "seq": seq, "action": "grant", "stage": stage,
            "effective_from": datetime(2020, 1, 1, tzinfo=timezone.utc), "effective_to": None, "reason": None,
            "decision_no": None, "recorded_at": datetime(2020, 1, 1, tzinfo=timezone.utc), "recorded_by": "test"}


def _quota(eid, category):
    return {"_id": f"Q-{eid}-{category}", "enterprise_id": eid, "year": 2026, "issue_batch": 1, "category": category,
            "tonnes_reo": 100_000.0, "issued_on": datetime(2026, 2, 20, tzinfo=timezone.utc)}


class Ledger(RuleBasedStateMachine):
    """Clerks of a whitelisted mine, an unlisted mine, a separator that imports and a trader that imports."""

    @initialize()
    def build(self):
        self.app = make_app()
        self.client = self.app.test_client()
        with self.app.app_context():
            db = self.db = current_db()
        self.mine, self.rogue, self.sep, self.trader = "ENT-SMOK", "ENT-SMBAD", "ENT-SMSEP", "ENT-SMTRD"
        gen_enterprise(db, self.mine, roles=["mine"], quota_categories=["mining_light"])
        gen_enterprise(db, self.rogue, roles=["mine"])
        gen_enterprise(db, self.sep, roles=["separator", "importer"], quota_categories=["separation"])
        gen_enterprise(db, self.trader, roles=["trader", "importer"])
        db.approvals.insert_many([_approval(self.mine, 1, "mining"), _approval(self.sep, 1, "separation"),
                                  _approval(self.sep, 2, "import"), _approval(self.trader, 1, "import")])
        db.quotas.insert_many([_quota(self.mine, "mining_light"), _quota(self.sep, "separation")])
        if not _hash:
            _hash.append(accounts.hash_password(PASSWORD))
        self.headers = {}
        for eid in (self.mine, self.rogue, self.sep, self.trader):
            accounts.create_user(db, f"clerk-{eid.lower()}", "unused", "enterprise", enterprise_id=eid,
                                 password_hash=_hash[0])
            token = sign_in(self.client, f"clerk-{eid.lower()}", PASSWORD)["access_token"]
            self.headers[eid] = {"Authorization": f"Bearer {token}"}
        accounts.create_user(db, "machine-admin", "unused", "admin", password_hash=_hash[0])
        admin = {"Authorization": f"Bearer {sign_in(self.client, 'machine-admin', PASSWORD)['access_token']}"}
        self.declarations = {self.trader: ("531020261000100001", "2846901910"),
                             self.sep: ("531020261000100002", "2530902000")}
        loaded = self.client.post("/api/registry/customs-declarations", headers=admin, json={"declarations": [
            {"declaration_no": no, "declared_on": "2026-11-01", "importer_id": eid, "port": "Shanghai", "hs_code": hs,
             "net_mass_kg": DECLARED_KG, "origin_country": "MY"} for eid, (no, hs) in self.declarations.items()]})
        assert loaded.status_code == 201, loaded.json
        self.declared_used = {eid: 0.0 for eid in self.declarations}
        self.batches = {}  # code -> model: holder, stage, product, remaining, tainted, in_transit (to, doc) or None
        self.serial = 0
        self.steps = 0

    def teardown(self):
        if not hasattr(self, "app"):
            return
        try:
            now = datetime.now(timezone.utc)
            for code, b in self.batches.items():
                if b["tainted"]:
                    ctx = ScanContext(scanned_at=now, site={"type": "market", "name": "Market"},
                                      holder_enterprise_id=None, observed_mass_kg=None)
                    found = judge(self.db, read_code(code), ctx, Settings(), now)
                    why = {r["code"] for r in found.reasons} & {"producer_not_approved", "unverified_import",
                                                                 "tainted_lineage"}
                    assert found.status == "fail" and why, (code, b, found.reasons)
        finally:
            self.db.client.drop_database(self.db.name)

    # -- helpers --------------------------------------------------------------------------------------------------
    def new_code(self):
        self.serial += 1
        return _code(self.serial)

    def when(self):
        self.steps += 1
        return (START + timedelta(hours=self.steps)).isoformat()

    def submit(self, eid, event):
        event = {"event_id": f"M{self.steps}-{self.serial}", "occurred_at": self.when(), **event}
        response = self.client.post(SUBMIT, headers=self.headers[eid], json={"events": [event]})
        assert response.status_code == 201, (event, response.json)
        return response.json

    def usable(self, holder=None, stage=None, product=None):
        return sorted(c for c, b in self.batches.items() if b["remaining"] >= 20 and not b["in_transit"]
                      and (holder is None or b["holder"] == holder) and (stage is None or b["stage"] == stage)
                      and (product is None or b["product"] == product))

    def add(self, code, holder, stage, product, kg, tainted):
        self.batches[code] = {"holder": holder, "stage": stage, "product": product, "remaining": float(kg),
                              "tainted": tainted, "in_transit": None}

    # -- what clerks do ---------------------------------------------------------------------------------------------
    @rule(rogue=st.booleans(), kg=st.integers(500, 5000))
    def produce_ore(self, rogue, kg):
        eid = self.rogue if rogue else self.mine
        code = self.new_code()
        self.submit(eid, {"type": "production", "outputs": [
            {"code": code, "stage": "ore", "product_type": "bastnaesite_concentrate", "mass_kg": kg, "reo_pct": 55.0}]})
        self.add(code, eid, "ore", "bastnaesite_concentrate", kg, tainted=rogue)

    @rule(by_separator=st.booleans(), declared=st.booleans(), kg=st.integers(300, 3000))
    def import_goods(self, by_separator, declared, kg):
        eid = self.sep if by_separator else self.trader
        stage, product, reo = ("ore", "bastnaesite_concentrate", 60.0) if by_separator else (
            "compound", "prnd_oxide", 99.0)
        number = self.declarations[eid][0] if declared else f"5310202619{self.serial:08d}"
        code = self.new_code()
        self.submit(eid, {"type": "import", "declaration_no": number, "port": "Shanghai", "origin_country": "MY",
                          "outputs": [{"code": code, "stage": stage, "product_type": product, "mass_kg": kg,
                                       "reo_pct": reo}]})
        over = declared and self.declared_used[eid] + kg > DECLARED_KG * 1.005
        if declared:
            self.declared_used[eid] += kg
        self.add(code, eid, stage, product, kg, tainted=not declared or over)

    @precondition(lambda self: self.usable())
    @rule(data=st.data())
    def ship(self, data):
        code = data.draw(st.sampled_from(self.usable()))
        b = self.batches[code]
        to = data.draw(st.sampled_from(sorted({self.mine, self.sep, self.trader} - {b["holder"]})))
        doc = f"WB-{code}-{self.steps}"
        self.submit(b["holder"], {"type": "shipment", "code": code, "mass_kg": b["remaining"], "to_id": to,
                                  "doc_no": doc})
        b["in_transit"] = (to, doc)

    @precondition(lambda self: any(b["in_transit"] for b in self.batches.values()))
    @rule(data=st.data(), agree=st.booleans())
    def receive(self, data, agree):
        code = data.draw(st.sampled_from(sorted(c for c, b in self.batches.items() if b["in_transit"])))
        b = self.batches[code]
        to, doc = b["in_transit"]
        self.submit(to, {"type": "receipt", "code": code, "from_id": b["holder"],
                         "doc_no": doc if agree else doc + "-X"})
        if agree:
            b["holder"], b["in_transit"] = to, None

    @precondition(lambda self: self.batches)
    @rule(data=st.data())
    def claim_without_shipment(self, data):
        code = data.draw(st.sampled_from(sorted(self.batches)))
        b = self.batches[code]
        thief = data.draw(st.sampled_from(sorted({self.mine, self.rogue, self.sep, self.trader} - {b["holder"]})))
        if b["remaining"] <= 0:
            return
        receipt = self.submit(thief, {"type": "receipt", "code": code, "from_id": b["holder"],
                                      "doc_no": f"WB-FAKE-{self.steps}"})
        assert any(f["code"] == "receipt_without_shipment" for f in receipt["flags"])

    @precondition(lambda self: self.usable())
    @rule(data=st.data(), share=st.floats(0.1, 0.45))
    def split(self, data, share):
        code = data.draw(st.sampled_from(self.usable()))
        b = self.batches[code]
        kg = round(b["remaining"] * share, 1)
        children = [self.new_code(), self.new_code()]
        self.submit(b["holder"], {"type": "split", "code": code,
                                  "outputs": [{"code": c, "mass_kg": kg} for c in children]})
        b["remaining"] = round(b["remaining"] - 2 * kg, 3)
        for c in children:
            self.add(c, b["holder"], b["stage"], b["product"], kg, b["tainted"])

    @precondition(lambda self: any(len(self.usable(h, s, p)) >= 2 for h, s, p in
                                   {(b["holder"], b["stage"], b["product"]) for b in self.batches.values()}))
    @rule(data=st.data())
    def merge(self, data):
        groups = sorted({(b["holder"], b["stage"], b["product"]) for b in self.batches.values()
                         if len(self.usable(b["holder"], b["stage"], b["product"])) >= 2})
        holder, stage, product = data.draw(st.sampled_from(groups))
        first, second = data.draw(st.lists(st.sampled_from(self.usable(holder, stage, product)), min_size=2,
                                           max_size=2, unique=True))
        total = self.batches[first]["remaining"] + self.batches[second]["remaining"]
        out = self.new_code()
        self.submit(holder, {"type": "merge", "inputs": [{"code": c, "mass_kg": self.batches[c]["remaining"]}
                                                         for c in (first, second)],
                             "outputs": [{"code": out, "mass_kg": total}]})
        tainted = self.batches[first]["tainted"] or self.batches[second]["tainted"]
        for c in (first, second):
            self.batches[c]["remaining"] = 0.0
        self.add(out, holder, stage, product, total, tainted)

    @precondition(lambda self: self.usable(holder="ENT-SMSEP", stage="ore"))
    @rule(data=st.data())
    def separate(self, data):
        code = data.draw(st.sampled_from(self.usable(holder=self.sep, stage="ore")))
        b = self.batches[code]
        out, kg = self.new_code(), round(b["remaining"] * 0.4, 1)
        self.submit(self.sep, {"type": "production", "inputs": [{"code": code, "mass_kg": b["remaining"]}],
                               "outputs": [{"code": out, "stage": "compound", "product_type": "prnd_oxide",
                                            "mass_kg": kg, "reo_pct": 92.0}]})
        b["remaining"] = 0.0
        self.add(out, self.sep, "compound", "prnd_oxide", kg, b["tainted"])

    # -- what must always hold ----------------------------------------------------------------------------------------
    @invariant()
    def no_batch_moves_without_both_sides(self):
        if not getattr(self, "batches", None):
            return
        stored = {d["_id"]: d for d in self.db.batches.find({"_id": {"$in": list(self.batches)}},
                                                            {"holder_id": 1, "in_transit": 1})}
        for code, b in self.batches.items():
            assert stored[code]["holder_id"] == b["holder"], (code, b)
            assert bool(stored[code].get("in_transit")) == bool(b["in_transit"]), (code, b)

    @invariant()
    def quota_use_never_goes_negative(self):
        if not hasattr(self, "db"):
            return
        for row in self.db.quota_usage.find():
            assert row["used_t"] >= -1e-9 and row.get("imported_t", 0.0) >= -1e-9, row


TestLedger = Ledger.TestCase
TestLedger.settings = settings(max_examples=12, stateful_step_count=18, deadline=None, derandomize=True,
                               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
