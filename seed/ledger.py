"""An in-memory ledger builder: batches, draws, movements and reports, kept consistent as they are made."""
import random
from datetime import datetime, timedelta, timezone

from biip.checksums import gs1_standard_check_digit

from inspector.codes import batch_code
from inspector import periods
from inspector.clock import CST
from inspector.periods import period_of
from inspector.registry import customs

from .histories import history_docs
from .enterprises import BY_ID, ISSUE_BATCHES, QUOTA_SHARES, approval_docs, enterprise_docs, national_total

PRODUCTS = {
    "ore": {"mining_light": ("bastnaesite_concentrate", 50.0, 62.0),
            "mining_medium_heavy": ("ion_adsorption_mixed_oxide", 88.0, 93.0)},
    "compound": [("prnd_oxide", 98.0, 99.5), ("lanthanum_oxide", 98.5, 99.9), ("dysprosium_oxide", 99.0, 99.9),
                 ("cerium_carbonate", 95.0, 97.0)],
    "metal": [("prnd_metal", 114.0, 117.0), ("dyfe_alloy", 92.0, 96.0), ("lanthanum_cerium_metal", 115.0, 117.0)],
    "magnet": [("ndfeb_sintered_magnet", 33.0, 36.0), ("ndfeb_bonded_magnet", 30.0, 33.0)],
}
ITEM_REFS = {name: i + 1 for i, name in enumerate(
    ["bastnaesite_concentrate", "ion_adsorption_mixed_oxide", "prnd_oxide", "lanthanum_oxide", "dysprosium_oxide",
     "cerium_carbonate", "prnd_metal", "dyfe_alloy", "lanthanum_cerium_metal", "ndfeb_sintered_magnet",
     "ndfeb_bonded_magnet"])}
RETIRED = ("consumed", "transformed", "exported", "seized", "recalled")


def gs1_check_digit(digits13):
    """Return the GS1 mod-10 check digit for 13 digits."""
    return str(gs1_standard_check_digit(digits13))


def gtin_for(enterprise_id, product_type):
    """Return the GTIN-14 an enterprise uses for one product type."""
    prefix = next(e["gs1_prefix"] for e in enterprise_docs() if e["_id"] == enterprise_id)
    body = "0" + prefix + f"{ITEM_REFS[product_type]:03d}"
    return body + gs1_check_digit(body)


class Ledger:
    """Everything the demo dataset holds, built in memory with deterministic random sources."""

    def __init__(self, seed, as_of):
        self.rng = random.Random(seed)
        self.code_rng = random.Random(seed * 7 + 1)
        self.as_of = as_of
        self.enterprises = {e["_id"]: e for e in enterprise_docs()}
        self._gtins = {}
        self.batches = {}
        self.movements = []
        self.reports = {}
        self.scans = []
        self.claims = []  # receipts no shipment backs (transfer_claims)
        self.declarations = {}  # the customs declaration register (customs_declarations)
        self.utilisation = {}
        self._doc_seq = 0
        self._serial_seq = 10_000_000

    # -- codes and documents ------------------------------------------------
    def new_code(self):
        """Issue a native code never used in this ledger."""
        while True:
            code = batch_code.issue(self.code_rng)
            if code not in self.batches:
                return code

    def next_doc_no(self, kind, date):
        """Return a waybill or customs document number."""
        self._doc_seq += 1
        return f"{kind}-{date:%Y%m}-{self._doc_seq:07d}"

    def gtin(self, enterprise_id, product_type):
        key = (enterprise_id, product_type)
        if key not in self._gtins:
            self._gtins[key] = gtin_for(enterprise_id, product_type)
        return self._gtins[key]

    # -- quotas ----------------------------------------------------------------
    def allocation_t(self, enterprise_id, category, year):
        """Return the enterprise's yearly allocation for a category (all issue batches)."""
        share = QUOTA_SHARES.get((enterprise_id, category))
        if share is None:
            return 0.0
        kind = "separation" if category == "separation" else "mining"
        return round(national_total(year, kind) * share, 0)

    def tally_t(self, enterprise_id, category, date, utilisation=None):
        """The producer's cumulative output this year when a lot is registered (its ledger tally)."""
        key = (enterprise_id, category, date.year)
        if utilisation is None:
            utilisation = self.utilisation.setdefault(key, self.rng.uniform(0.78, 0.93))
        start = datetime(date.year, 1, 1, tzinfo=timezone.utc)
        fraction = ((date - start).days + 1) / 366
        return round(self.allocation_t(enterprise_id, category, date.year) * utilisation * fraction, 1)

    def quota_docs(self):
        """Return the quota issue batches from 2023 to the as-of year."""
        docs = []
        for year in range(2023, self.as_of.year + 1):
            for (eid, category) in QUOTA_SHARES:
                total = self.allocation_t(eid, category, year)
                for issue_batch, month, day, share in ISSUE_BATCHES:
                    issued_on = datetime(year, month, day, tzinfo=timezone.utc)
                    if issued_on > self.as_of:
                        continue
                    first = round(total * ISSUE_BATCHES[0][3])
                    tonnes = first if issue_batch == 1 else total - first
                    docs.append({
                        "_id": f"Q-{year}-{issue_batch}-{eid}-{category}",
                        "enterprise_id": eid, "year": year, "issue_batch": issue_batch,
                        "category": category, "tonnes_reo": float(tonnes), "issued_on": issued_on,
                    })
        return docs

    # -- batches and flows -------------------------------------------------
    def make_batch(self, stage, producer_id, produced_on, mass_kg, reo_pct, product_type,
                   parents=(), category=None, tally_t=None):
        """Register a batch; parents is [(parent_code, kg_drawn)] and draws move the mass."""
        code = self.new_code()
        producer = self.enterprises[producer_id]
        doc = {
            "_id": code,
            "stage": stage,
            "product_type": product_type,
            "mass_kg": round(mass_kg, 1),
            "remaining_kg": round(mass_kg, 1),
            "reo_pct": round(reo_pct, 2),
            "producer_id": producer_id,
            "producer_province": producer["province"],
            "produced_on": produced_on,
            "parents": [],
            "parent_codes": [],
            "holder_id": producer_id,
            "status": "active",
            "status_since": produced_on,
            "gs1": {"gtin": self.gtin(producer_id, product_type), "lot": code},
        }
        if category:
            doc["quota_category"] = category
            doc["quota_used_t"] = tally_t if tally_t is not None else self.tally_t(producer_id, category, produced_on)
        if stage == "magnet":
            self._serial_seq += 1
            doc["gs1"]["serial"] = str(self._serial_seq)
        self.batches[code] = doc
        for parent_code, kg in parents:
            self.draw(parent_code, doc, kg)
        return doc

    def draw(self, parent_code, child, kg):
        """Move kg of a parent batch into a child's production, with the delivery on the ledger."""
        parent = self.batches[parent_code]
        kg = round(min(kg, parent["remaining_kg"]), 1)
        child["parents"].append({"code": parent_code, "mass_kg": kg})
        child["parent_codes"].append(parent_code)
        date = child["produced_on"] - timedelta(days=2)
        if parent["holder_id"] != child["producer_id"]:
            self.move(parent_code, child["producer_id"], date, kg, transfer_holder=False)
        parent["remaining_kg"] = round(parent["remaining_kg"] - kg, 1)
        if parent["remaining_kg"] < 1.0:
            parent["remaining_kg"] = 0.0
            parent["status"] = "transformed"
            parent["status_since"] = child["produced_on"]
            parent["holder_id"] = child["producer_id"]

    def move(self, code, to_id, date, kg=None, kind="transfer", transfer_holder=True):
        """Record a movement on the ledger; a full transfer changes the holder."""
        batch = self.batches[code]
        kg = batch["remaining_kg"] if kg is None else kg
        doc = {
            "_id": f"MV-{len(self.movements) + 1:08d}",
            "batch_code": code,
            "from_id": batch["holder_id"],
            "to_id": to_id,
            "mass_kg": round(kg, 1),
            "date": date,
            "period": period_of(date),
            "doc_no": self.next_doc_no("CUS" if kind == "export" else "WB", date),
            "kind": kind,
        }
        self.movements.append(doc)
        if kind == "export":
            batch["status"] = "exported"
            batch["status_since"] = date
        elif transfer_holder:
            batch["holder_id"] = to_id
        return doc

    def declare(self, importer_id, date, port, hs_code, net_mass_kg, origin):
        """A declaration on the customs register, numbered as China Customs numbers them (18 digits)."""
        self._doc_seq += 1
        no = f"{5301:04d}{date:%Y}{1:01d}{self._doc_seq:09d}"
        self.declarations[no] = {"_id": no, "declaration_no": no, "declared_on": datetime(date.year, date.month, date.day),
                                 "importer_id": importer_id, "port": port, "hs_code": hs_code,
                                 "net_mass_kg": float(net_mass_kg), "origin_country": origin,
                                 "loaded_at": self.as_of, "loaded_by": "seed"}
        return no

    def import_batch(self, importer_id, date, declaration_no, port, origin, stage, product_type, mass_kg, reo_pct):
        """A batch imported under a declaration, checked against the register as the ledger checks an import."""
        code = self.new_code()
        importer = self.enterprises[importer_id]
        used = sum(b["mass_kg"] for b in self.batches.values()
                   if b.get("import_check", {}).get("declaration_no") == declaration_no)
        problems = customs.check(self.declarations.get(declaration_no), declaration_no, importer_id, date, port,
                                 origin, stage, used, mass_kg)
        doc = {"_id": code, "stage": stage, "product_type": product_type, "mass_kg": round(mass_kg, 1),
               "remaining_kg": round(mass_kg, 1), "reo_pct": round(reo_pct, 2), "producer_id": importer_id,
               "producer_province": importer["province"], "produced_on": date, "parents": [], "parent_codes": [],
               "holder_id": importer_id, "status": "active", "status_since": date, "imported": True,
               "origin_country": origin, "gs1": {"gtin": self.gtin(importer_id, product_type), "lot": code},
               "import_check": {"declaration_no": declaration_no, "verified": not problems, "problems": problems,
                                "importer_id": importer_id, "port": port, "origin_country": origin}}
        self.batches[code] = doc
        self.movements.append({"_id": f"MV-{len(self.movements) + 1:08d}", "batch_code": code, "from_id": "FOREIGN",
                               "to_id": importer_id, "mass_kg": round(mass_kg, 1), "date": date,
                               "period": period_of(date), "doc_no": declaration_no, "kind": "import", "port": port,
                               "origin_country": origin})
        return doc

    def ship(self, code, to_id, date):
        """A shipment the receiver has not receipted yet: the batch stays the sender's, in transit."""
        doc = self.move(code, to_id, date, transfer_holder=False)
        doc["awaiting_receipt"] = True
        self.batches[code]["in_transit"] = {"movement_id": doc["_id"], "from_id": doc["from_id"], "to_id": to_id,
                                            "doc_no": doc["doc_no"], "mass_kg": doc["mass_kg"], "since": date}
        return doc

    def claim(self, code, claimant_id, date):
        """A receipt of a batch by an enterprise its holder never shipped it to: an open claim, nothing moves."""
        batch = self.batches[code]
        doc_no = self.next_doc_no("WB", date)
        self.claims.append({
            "_id": f"TC-SEED{len(self.claims) + 1:09d}", "batch_code": code, "claimant_id": claimant_id,
            "from_id": batch["holder_id"], "holder_id": batch["holder_id"], "doc_no": doc_no,
            "mass_kg": batch["remaining_kg"], "received_on": date, "period": period_of(date), "recorded_at": date,
            "event_id": f"SEED-CLAIM-{len(self.claims) + 1}", "submission_id": None, "state": "open",
            "parties": sorted({claimant_id, batch["holder_id"]})})


    def retire(self, code, status, date):
        """Mark a batch seized, recalled or consumed."""
        batch = self.batches[code]
        batch["status"] = status
        batch["status_since"] = date

    # -- monthly reports -------------------------------------------------------
    def ended_periods(self):
        """Periods from 2023-01 that ended before the as-of date (China time)."""
        last = periods.previous_period(period_of(self.as_of))
        out, period = [], "2023-01"
        while period <= last:
            out.append(period)
            period = periods.next_period(period)
        return out

    def report(self, enterprise_id, period, local_day, hour=10, minute=0):
        """Record a monthly ledger submission made on a local (China time) day of the following month."""
        year, month = int(period[:4]), int(period[5:])
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        submitted = datetime(ny, nm, local_day, hour, minute, tzinfo=CST).astimezone(timezone.utc)
        self.reports[(enterprise_id, period)] = {
            "_id": f"MR-{enterprise_id}-{period}", "enterprise_id": enterprise_id, "period": period,
            "submitted_at": submitted,
        }

    def report_all_on_time(self):
        """Every enterprise files each ended period between the 2nd and the 9th, if that day has come.

        Filing before the deadline (not only once it has passed) keeps a dataset loaded early on the 10th clean when
        the deadline passes later that day.
        """
        for period in self.ended_periods():
            for eid in self.enterprises:
                if (eid, period) not in self.reports:
                    self.report(eid, period, self.rng.randint(2, 9), hour=self.rng.randint(8, 18))
                    if self.reports[(eid, period)]["submitted_at"] > self.as_of:
                        del self.reports[(eid, period)]

    # -- derived collections ---------------------------------------------------
    def production_periods(self):
        """Per producer and month: output and input REO (kg) and the quota tally at month end."""
        periods = {}
        for b in self.batches.values():
            if b.get("imported"):
                continue  # made abroad: no Chinese producer's month
            key = (b["producer_id"], period_of(b["produced_on"]))
            p = periods.setdefault(key, {
                "_id": f"PP-{key[0]}-{key[1]}", "enterprise_id": key[0], "period": key[1],
                "output_reo_kg": 0.0, "input_reo_kg": 0.0, "lots": 0, "quota_used_t": {},
            })
            p["lots"] += 1
            p["output_reo_kg"] += b["mass_kg"] * b["reo_pct"] / 100
            for parent in b["parents"]:
                p["input_reo_kg"] += parent["mass_kg"] * self.batches[parent["code"]]["reo_pct"] / 100
            if "quota_category" in b:
                cat = b["quota_category"]
                p["quota_used_t"][cat] = max(p["quota_used_t"].get(cat, 0.0), b["quota_used_t"])
        for p in periods.values():
            p["output_reo_kg"] = round(p["output_reo_kg"], 1)
            p["input_reo_kg"] = round(p["input_reo_kg"], 1)
        return list(periods.values())

    def quota_usage(self, production_periods):
        """Per producer, year and category: the tonnes REO used so far (the latest ledger tally)."""
        usage = {}
        for p in production_periods:
            year = int(p["period"][:4])
            for category, used in p["quota_used_t"].items():
                key = f"{p['enterprise_id']}:{year}:{category}"
                doc = usage.setdefault(key, {"_id": key, "enterprise_id": p["enterprise_id"], "year": year,
                                             "category": category, "used_t": 0.0})
                doc["used_t"] = max(doc["used_t"], used)
        return list(usage.values())

    def approval_docs(self):
        """Return the whitelist approval histories (grants only)."""
        return approval_docs()

    def documents(self):
        """Return {collection: [documents]} for the whole ledger."""
        for b in self.batches.values():
            b["code"] = b["_id"]
        production_periods = self.production_periods()
        batches = list(self.batches.values())
        return {
            "ledger_events": history_docs(batches, self.movements, self.as_of),
            "enterprises": list(self.enterprises.values()),
            "approvals": self.approval_docs(),
            "quotas": self.quota_docs(),
            "batches": batches,
            "movements": self.movements,
            "monthly_reports": list(self.reports.values()),
            "production_periods": production_periods,
            "quota_usage": self.quota_usage(production_periods),
            "scans": self.scans,
            "transfer_claims": self.claims,
            "customs_declarations": list(self.declarations.values()),
        }

    def enterprise_name(self, eid):
        return BY_ID[eid][1]


def products(stage, rng):
    """Pick a product type and REO % for a downstream stage."""
    name, low, high = rng.choice(PRODUCTS[stage])
    return name, rng.uniform(low, high)
