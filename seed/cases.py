"""Planted cases: batches built to trigger each verdict reason (at least three each), and clean ones that pass."""
from datetime import timedelta
from urllib.parse import quote

from .flow import RECOVERY
from .ledger import products

MARKET = {"type": "market", "name": "Ganzhou rare-earth market"}
BAOTOU_MARKET = {"type": "market", "name": "Baotou metals market"}
PORT = {"type": "port", "name": "Tianjin Xingang container terminal"}
WAREHOUSE = {"type": "warehouse", "name": "Ningbo bonded warehouse"}
FACTORY = {"type": "factory", "name": "Plant gate inspection"}
GANZHOU = {"lat": 25.83, "lon": 114.93, "accuracy_m": 12.0}
BAOTOU = {"lat": 40.65, "lon": 109.84, "accuracy_m": 15.0}


class Planter:
    """Builds planted scenarios into a ledger and lists the cases they make."""

    def __init__(self, ledger):
        self.ledger = ledger
        self.rng = ledger.rng
        self.cases = []
        self.now = ledger.as_of

    def case(self, code, status, reasons, description, **scan):
        scan.setdefault("site", MARKET)
        self.cases.append({"order": len(self.cases), "code": code, "expected_status": status,
                           "expected_reasons": sorted(reasons), "description": description, "scan": scan})

    def ago(self, days):
        return (self.now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)

    # -- building blocks --------------------------------------------------------
    def ore(self, mine, days_ago, category="mining_medium_heavy", tally_t=None, date=None):
        product, low, high = {"mining_light": ("bastnaesite_concentrate", 50, 62),
                              "mining_medium_heavy": ("ion_adsorption_mixed_oxide", 88, 93)}[category]
        return self.ledger.make_batch("ore", mine, date or self.ago(days_ago), self.rng.uniform(6_000, 9_000),
                                      self.rng.uniform(low, high), product, category=category, tally_t=tally_t)

    def made_from(self, stage, producer, parents, days_ago=None, recovery=RECOVERY, tally_t=None, date=None,
                  draw_share=0.5):
        """Make a batch from a share of each parent, at the given REO recovery."""
        draws = [(p["_id"], p["remaining_kg"] * draw_share) for p in parents]
        input_reo = sum(kg * self.ledger.batches[c]["reo_pct"] / 100 for c, kg in draws)
        product, reo = products(stage, self.rng)
        category = "separation" if stage == "compound" else None
        return self.ledger.make_batch(stage, producer, date or self.ago(days_ago), input_reo * recovery * 100 / reo,
                                      reo, product, parents=draws, category=category, tally_t=tally_t)

    def clean_chain(self, end_stage, days_ago, holder=None, mine="ENT-SHI", separator="ENT-RRS",
                    smelter="ENT-GMW", magnet_maker="ENT-NHM"):
        """A fresh clean lineage mine -> ... -> end_stage, optionally sold on to a holder."""
        lot = self.ore(mine, days_ago + 60)
        for stage, producer, lag in (("compound", separator, 45), ("metal", smelter, 25), ("magnet", magnet_maker, 10)):
            lot = self.made_from(stage, producer, [lot], days_ago + lag)
            if stage == end_stage:
                break
        if holder:
            self.ledger.move(lot["_id"], holder, self.ago(days_ago))
        return lot

    def scan_record(self, code, site, location, minutes_ago):
        """A scan already on file (made by a demo inspector), for the cloned-code cases."""
        when = self.now - timedelta(minutes=minutes_ago)
        self.ledger.scans.append({
            "minutes_before_load": minutes_ago, "_id": f"seed-scan-{len(self.ledger.scans) + 1}", "client_id": f"seed-{code}", "inspector_id": "seed",
            "batch_code": code, "code": code, "scanned_at": when, "received_at": when, "site": site,
            "location": location, "verdict": {"status": "pass", "reasons": []}, "seeded": True,
        })

    # -- the cases ------------------------------------------------------------
    def plant(self):
        """Plant every scenario; return the case list."""
        L = self.ledger
        alloc = L.allocation_t
        last_year = self.now.year - 1

        # unknown_code: well-formed codes nobody registered.
        for i in range(3):
            self.case(L.new_code(), "fail", ["unknown_code"], f"A well-formed code that was never registered ({i + 1}).")
        L.code_rng.random()
        ghost_lot = L.new_code()
        self.case(f"(01){L.gtin('ENT-NHM', 'ndfeb_sintered_magnet')}(10){ghost_lot}", "fail", ["unknown_code"],
                  "A real magnet maker's GS1 product number with a batch it never registered.")

        # malformed_code: typos and nonsense.
        typo_base = self.clean_chain("magnet", 30, holder="ENT-GMT")["_id"]
        swapped = typo_base[:-3] + typo_base[-2] + typo_base[-3] + typo_base[-1]
        if swapped == typo_base:
            swapped = typo_base[:-1] + ("A" if typo_base[-1] != "A" else "B")
        self.case(swapped, "fail", ["malformed_code"], "Two characters of a real code swapped: the check character catches the typo.")
        self.case("RE12 34", "fail", ["malformed_code"], "Too short, and uses 1 which batch codes never contain.")
        self.case("(01)09521234543210(10)AB12", "fail", ["malformed_code"], "A GS1 code whose GTIN check digit fails.")
        self.case("HELLO-WORLD", "fail", ["malformed_code"], "Text that is neither a batch code nor a GS1 code.")

        # producer_not_approved
        rha = self.ore("ENT-RHA", 40)
        self.case(rha["_id"], "fail", ["producer_not_approved"],
                  "Ion-adsorption ore from a mine that was never on the mining whitelist.")
        ssp = self.made_from("compound", "ENT-SSP", [self.ore("ENT-SHI", 0, date=self.at(2024, 8, 20))],
                             date=self.at(2024, 9, 15))
        self.case(ssp["_id"], "fail", ["producer_not_approved"],
                  "Oxide separated in September 2024 by a plant whose whitelist approval ended on 30 June 2024.")
        lsm = self.ore("ENT-LSM", 0, date=self.at(2024, 2, 10), tally_t=120.0)
        self.case(lsm["_id"], "fail", ["producer_not_approved"],
                  "Ore mined in February 2024 by a mine approved only from 1 March 2024.")

        # over_quota
        err_alloc = alloc("ENT-ERR", "mining_medium_heavy", last_year)
        for month, day, over in ((11, 20, 1.04), (12, 5, 1.09), (12, 18, 1.13)):
            lot = self.ore("ENT-ERR", 0, date=self.at(last_year, month, day), tally_t=round(err_alloc * over, 1))
            if month == 11:
                self.case(lot["_id"], "fail", ["over_quota"],
                          f"Ore mined in November {last_year} after the mine had used up its medium/heavy quota.")
            elif day == 5:
                self.case(lot["_id"], "fail", ["over_quota"], f"Ore mined in December {last_year}, 9% over quota.")
            else:
                over_quota_ore = lot
        lks = self.made_from("compound", "ENT-LKS", [self.ore("ENT-SHI", 0, date=self.at(last_year, 11, 1))],
                             date=self.at(last_year, 12, 10), tally_t=round(alloc("ENT-LKS", "separation", last_year) * 1.08, 1))
        self.case(lks["_id"], "fail", ["over_quota"], f"Oxide separated in December {last_year} beyond the separator's quota.")

        # tainted_lineage
        rha2 = self.ore("ENT-RHA", 50)
        tainted_compound = self.made_from("compound", "ENT-RRS", [rha2, self.ore("ENT-SHI", 55)], 20)
        self.case(tainted_compound["_id"], "fail", ["tainted_lineage"],
                  "Oxide from an approved separator whose feed mixes in ore from an unapproved mine.")
        laundered = self.made_from("compound", "ENT-BPS", [over_quota_ore], date=self.at(self.now.year, 1, 8) if self.now.month > 1 else self.ago(30))
        metal = self.made_from("metal", "ENT-GMW", [laundered], date=laundered["produced_on"] + timedelta(days=20))
        self.case(metal["_id"], "fail", ["tainted_lineage"], "Metal two steps downstream of over-quota ore.")
        ssp_metal = self.made_from("metal", "ENT-NMS", [ssp], date=self.at(2024, 10, 10))
        magnet = self.made_from("magnet", "ENT-NHM", [ssp_metal], date=self.at(2024, 11, 5))
        self.ledger.move(magnet["_id"], "ENT-SMT", self.at(2024, 11, 20))
        self.case(magnet["_id"], "fail", ["tainted_lineage"],
                  "Magnets three steps downstream of oxide made by a separator after its approval ended.",
                  holder_enterprise_id="ENT-SMT", site=WAREHOUSE)

        # unrecorded_transfer
        for holder, found in (("ENT-GMT", "ENT-BMM"), ("ENT-BMM", "ENT-SMT"), ("ENT-SMT", "ENT-GMT")):
            lot = self.clean_chain("magnet", 12, holder=holder)
            self.case(lot["_id"], "warning", ["unrecorded_transfer"],
                      f"Magnets found with {L.enterprise_name(found)}; the ledger says {L.enterprise_name(holder)} holds them.",
                      holder_enterprise_id=found)

        # quantity_mismatch
        for observed_factor in (1.25, 1.6, 3.0):
            lot = self.clean_chain("magnet", 15, holder="ENT-GMT")
            observed = round(lot["remaining_kg"] * observed_factor, 1)
            self.case(lot["_id"], "fail", ["quantity_mismatch"],
                      f"{observed:,.0f} kg observed against {lot['remaining_kg']:,.0f} kg on record.",
                      holder_enterprise_id="ENT-GMT", observed_mass_kg=observed)

        # retired_code
        consumed = self.clean_chain("compound", 40)
        self.made_from("metal", "ENT-GMW", [consumed], 30, draw_share=1.0)
        self.case(consumed["_id"], "fail", ["retired_code"], "Oxide fully transformed into metal, yet its label is on the market.")
        recalled = self.clean_chain("magnet", 20, holder="ENT-BMM")
        L.retire(recalled["_id"], "recalled", self.ago(5))
        self.case(recalled["_id"], "fail", ["retired_code"], "Magnets recalled five days ago, still offered for sale.",
                  site=BAOTOU_MARKET)
        seized = self.clean_chain("metal", 25, holder="ENT-GMT")
        L.retire(seized["_id"], "seized", self.ago(8))
        self.case(seized["_id"], "fail", ["retired_code"], "Metal seized by inspectors eight days ago, back on a market stall.")
        exported = self.clean_chain("magnet", 30, holder="ENT-TPE")
        L.move(exported["_id"], "FOREIGN", self.ago(22), kind="export")
        self.case(exported["_id"], "fail", ["retired_code"], "Magnets recorded as exported, found back on a domestic market.")

        # cloned_code: one scan on file in Baotou, the case scan in Ganzhou soon after (~1,700 km).
        for minutes in (30, 45, 90):
            lot = self.clean_chain("magnet", 18, holder="ENT-GMT")
            self.scan_record(lot["_id"], BAOTOU_MARKET, BAOTOU, minutes)
            self.case(lot["_id"], "fail", ["cloned_code"],
                      f"Scanned in Baotou {minutes} minutes before this scan in Ganzhou, about 1,700 km away.",
                      holder_enterprise_id="ENT-GMT", location=GANZHOU)

        # late_reporting
        due = self.due_recent()
        ehm = self.made_from("magnet", "ENT-EHM", [self.clean_chain("metal", 40)], 20)
        L.report("ENT-EHM", due[1], 11, hour=9)
        self.case(ehm["_id"], "warning", ["late_reporting"],
                  f"The magnet maker entered its {due[1]} flows on the 11th, a day after the deadline.", site=FACTORY)
        tms = self.made_from("metal", "ENT-TMS", [self.clean_chain("compound", 50)], 25)
        for period in (due[2], due[4]):
            L.report("ENT-TMS", period, 14)
        self.case(tms["_id"], "warning", ["late_reporting"],
                  f"The smelter entered its {due[4]} and {due[2]} flows on the 14th.", site=FACTORY)
        llt = self.clean_chain("magnet", 20, holder="ENT-LLT")
        del L.reports[("ENT-LLT", due[3])]
        self.case(llt["_id"], "warning", ["late_reporting"],
                  f"The trader holding these magnets never entered its {due[3]} flows.", holder_enterprise_id="ENT-LLT")

        # in_transit: shipped by the holder, not yet receipted by the receiver.
        for sender, receiver, days in (("ENT-GMT", "ENT-BMM", 2), ("ENT-BMM", "ENT-SMT", 5), ("ENT-SMT", "ENT-GMT", 9)):
            lot = self.clean_chain("magnet", 14, holder=sender)
            L.ship(lot["_id"], receiver, self.ago(days))
            self.case(lot["_id"], "warning", ["in_transit"],
                      f"Shipped by {L.enterprise_name(sender)} {days} days ago; {L.enterprise_name(receiver)} has not "
                      "recorded receiving it yet.", holder_enterprise_id=receiver)

        # disputed_holder: another enterprise says it received the batch; its holder never shipped it.
        for holder, claimant in (("ENT-GMT", "ENT-SMT"), ("ENT-BMM", "ENT-GMT"), ("ENT-SMT", "ENT-BMM")):
            lot = self.clean_chain("magnet", 16, holder=holder)
            L.claim(lot["_id"], claimant, self.ago(4))
            self.case(lot["_id"], "warning", ["disputed_holder"],
                      f"{L.enterprise_name(claimant)} reported receiving these magnets; {L.enterprise_name(holder)}, "
                      "which holds them, never shipped them.", holder_enterprise_id=holder)

        # mass_balance: a separator whose output REO in one month beats its feed.
        gvs_month = self.ago(75)
        for day in (3, 9, 16):
            feed = self.ore("ENT-RSR", 0, date=gvs_month.replace(day=1) - timedelta(days=10))
            lot = self.made_from("compound", "ENT-GVS", [feed], date=gvs_month.replace(day=day), recovery=1.3)
            self.case(lot["_id"], "warning", ["mass_balance"],
                      f"Separated in {gvs_month:%B %Y}, when the separator put out 30% more REO than it took in.",
                      site=WAREHOUSE)

        # no_export_record
        for exporter in ("ENT-TPE", "ENT-NBX", "ENT-SBE"):
            lot = self.clean_chain("magnet", 9, holder=exporter)
            self.case(lot["_id"], "fail", ["no_export_record"],
                      f"Magnets held by {L.enterprise_name(exporter)} at the port with no export on the ledger.",
                      holder_enterprise_id=exporter, site=PORT)

        self.plant_imports()
        self.plant_clean(typo_base)
        self.plant_labels(typo_base)
        return self.cases

    def plant_labels(self, magnet):
        """Signed labels of one clean batch: genuine ones pass, a forged, a revoked-key and an unsigned one fail."""
        from inspector.offline.signing import demo_keyring, demo_signer

        b, ring = self.ledger.batches[magnet], demo_keyring()
        gs1 = f"(01){b['gs1']['gtin']}(10){magnet}(21){b['gs1']['serial']}"
        other = next(c for c in self.ledger.batches if c != magnet)
        at_market = {"holder_enterprise_id": "ENT-GMT"}
        self.case(f"{magnet};{ring.sign_label(magnet)}", "pass", [],
                  "Clean magnets, read from the QR code of their signed label.", **at_market)
        self.case(f"{gs1}(8030){demo_signer('D00').sign_label(magnet)}", "pass", [],
                  "Clean magnets, a GS1 label signed with the authority's previous (rotated) key.", **at_market)
        self.case(f"{magnet};{ring.sign_label(other)}", "fail", ["forged_label"],
                  "The QR code of clean magnets with a signature copied from another batch's label.", **at_market)
        self.case(f"{gs1}(8030){demo_signer('X00').sign_label(magnet)}", "fail", ["forged_label"],
                  "A GS1 label signed with a key the authority revoked.", **at_market)
        self.case(gs1, "fail", ["forged_label"],
                  "A serialised GS1 label with no signature (8030): printed labels always carry one.", **at_market)

    def plant_imports(self):
        """Imports checked against the customs register: laundered ones fail, a declared one passes."""
        L = self.ledger
        day = self.ago(20)
        # Laundering: ore from an unlisted mine reported as an import under a number customs never issued.
        made_up = L.import_batch("ENT-GMT", day, "531020261000999999", "Ruili", "MM", "ore",
                                 "ion_adsorption_mixed_oxide", 4_800, 90.5)
        self.case(made_up["_id"], "fail", ["unverified_import"],
                  "Ore reported as imported from Myanmar under a declaration number the customs register does not "
                  "hold.", holder_enterprise_id="ENT-GMT", site=WAREHOUSE)
        # Over-used: a real 2,000 kg declaration stretched over 3,200 kg of oxide.
        real = L.declare("ENT-SMT", day, "Shanghai", "2846901910", 2_000, "MY")
        L.import_batch("ENT-SMT", day, real, "Shanghai", "MY", "compound", "prnd_oxide", 1_600, 99.1)
        stretched = L.import_batch("ENT-SMT", day, real, "Shanghai", "MY", "compound", "prnd_oxide", 1_600, 99.0)
        self.case(stretched["_id"], "fail", ["unverified_import"],
                  f"Oxide booked under declaration {real}, whose 2,000 kg were already used by an earlier lot.",
                  holder_enterprise_id="ENT-SMT", site=WAREHOUSE)
        # Borrowed: another importer's declaration, at another port.
        borrowed = L.import_batch("ENT-TPE", day, real, "Tianjin", "MY", "compound", "prnd_oxide", 300, 99.2)
        self.case(borrowed["_id"], "fail", ["unverified_import"],
                  f"Oxide imported by {L.enterprise_name('ENT-TPE')} under a declaration customs recorded for "
                  f"{L.enterprise_name('ENT-SMT')} at Shanghai.", holder_enterprise_id="ENT-TPE", site=WAREHOUSE)
        # Laundered, then separated: the separator's compound carries the taint.
        feed = L.import_batch("ENT-LKS", self.ago(40), "531020261000888888", "Ruili", "MM", "ore",
                              "ion_adsorption_mixed_oxide", 6_000, 91.0)
        compound = self.made_from("compound", "ENT-LKS", [feed], 25)
        self.case(compound["_id"], "fail", ["tainted_lineage"],
                  "Oxide separated from ore 'imported' under a declaration customs never issued.",
                  holder_enterprise_id="ENT-LKS", site=FACTORY)
        # Declared: the register confirms importer, port, origin, HS code, date and mass.
        declared = L.declare("ENT-SMT", self.ago(12), "Shanghai", "2846901910", 1_000, "LA")
        clean = L.import_batch("ENT-SMT", self.ago(11), declared, "Shanghai", "LA", "compound", "prnd_oxide", 998,
                               99.3)
        self.case(clean["_id"], "pass", [], f"Oxide imported from Laos under declaration {declared}, as the customs "
                                            "register records it.", holder_enterprise_id="ENT-SMT",
                  site=WAREHOUSE)

    def plant_clean(self, market_magnet):
        """Clean batches that must pass, in several code forms and contexts."""
        L = self.ledger
        b = L.batches[market_magnet]
        self.case(market_magnet, "pass", [], "Clean magnets at a market, with the holder on record.",
                  holder_enterprise_id="ENT-GMT")
        self.case(f"(01){b['gs1']['gtin']}(10){market_magnet}", "pass", [],
                  "The same clean magnets, read from their GS1 DataMatrix.", holder_enterprise_id="ENT-GMT")
        metal = self.clean_chain("metal", 14, smelter="ENT-PDA")
        self.case(f"https://id.example-resolver.cn/01/{metal['gs1']['gtin']}/10/{quote(metal['_id'])}", "pass", [],
                  "Clean metal at the smelter's gate, read as a GS1 Digital Link.", site=FACTORY,
                  holder_enterprise_id="ENT-PDA")
        shipped = self.clean_chain("magnet", 12, holder="ENT-NBX")
        L.move(shipped["_id"], "FOREIGN", self.ago(3), kind="export")
        self.case(shipped["_id"], "pass", [], "Exported magnets checked at the port, export on the ledger.",
                  holder_enterprise_id="ENT-NBX", site=PORT)
        weighed = self.clean_chain("magnet", 16, holder="ENT-SMT")
        self.case(weighed["_id"], "pass", [], "Clean magnets weighed 1% heavier than recorded, within tolerance.",
                  holder_enterprise_id="ENT-SMT", observed_mass_kg=round(weighed["remaining_kg"] * 1.01, 1))
        ota = self.made_from("metal", "ENT-OTA", [self.clean_chain("compound", 45)], 20)
        for period in self.due_recent():
            L.report("ENT-OTA", period, 10, hour=23, minute=30)
        self.case(ota["_id"], "pass", [], "Metal from a smelter that always reports at 23:30 on the 10th: on time.",
                  site=FACTORY)
        self.case(self.deep_lineage()["_id"], "pass", [],
                  "Magnets whose lineage runs nine levels back through two rounds of recycling to the mine.",
                  holder_enterprise_id="ENT-GMT")

    def deep_lineage(self):
        """Mine -> oxide -> metal -> magnet, recycled twice: an ancestor graph nine levels deep."""
        lot = self.clean_chain("magnet", 200)
        steps = [("compound", "ENT-GLR"), ("metal", "ENT-PDA"), ("magnet", "ENT-JPM"),
                 ("compound", "ENT-GLR"), ("metal", "ENT-NMS"), ("magnet", "ENT-TYM")]
        for i, (stage, producer) in enumerate(steps):
            lot = self.made_from(stage, producer, [lot], 180 - i * 25)
        self.ledger.move(lot["_id"], "ENT-GMT", self.ago(10))
        return lot

    def due_recent(self):
        """The last six due periods, newest first."""
        from inspector.periods import due_periods
        return due_periods(self.now, 6)

    def at(self, year, month, day):
        return self.now.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
