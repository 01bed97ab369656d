"""Example payloads for the OpenAPI spec, taken from real demo scans and trimmed."""

REASON_TAINTED = {
    "code": "tainted_lineage", "severity": "fail",
    "message": "1 upstream batch, including REJJZJFW3JX from Sunset Separation Plant, failed: producer not approved.",
    "evidence": {"count": 1, "first_code": "REJJZJFW3JX", "first_producer": "Sunset Separation Plant",
                 "ancestors": [{"code": "REJJZJFW3JX", "producer_id": "ENT-SSP", "stage": "compound", "generation": 2,
                                "reasons": ["producer_not_approved"]}]},
}
BATCH = {
    "code": "REXN8MTHN68", "stage": "magnet", "product_type": "ndfeb_sintered_magnet", "mass_kg": 2034.1,
    "remaining_kg": 2034.1, "reo_pct": 35.1, "producer_id": "ENT-NHM", "producer_name": "Ningbo Harbour Magnetics",
    "produced_on": "2024-11-05", "holder_id": "ENT-SMT", "holder_name": "Shanghai Materials Trading",
    "status": "active", "status_since": "2024-11-05", "parents": [{"code": "REAL75N53DW", "mass_kg": 655.8}],
    "gs1": {"gtin": "06952102470103", "lot": "REXN8MTHN68", "serial": "10000270"},
}
PROVENANCE = {
    "depth": 3, "mines": ["Southern Hills Ion-Adsorption Mining"],
    "ancestors": [
        {"code": "REAL75N53DW", "generation": 1, "stage": "metal", "producer_name": "Northern Metals Smelting",
         "produced_on": "2024-10-10", "approved_on_production_date": None, "within_quota": None,
         "mass_share_pct": 100.0},
        {"code": "REJJZJFW3JX", "generation": 2, "stage": "compound", "producer_name": "Sunset Separation Plant",
         "produced_on": "2024-09-15", "approved_on_production_date": False, "within_quota": None,
         "mass_share_pct": 100.0},
    ],
    "holders": [
        {"date": "2024-11-05", "event": "produced", "to_id": "ENT-NHM", "to_name": "Ningbo Harbour Magnetics",
         "mass_kg": 2034.1, "doc_no": None},
        {"date": "2024-11-20", "event": "transfer", "from_name": "Ningbo Harbour Magnetics",
         "to_name": "Shanghai Materials Trading", "mass_kg": 2034.1, "doc_no": "WB-202411-0001502"},
    ],
}
QUOTA = {
    "enterprise_id": "ENT-ERR", "enterprise_name": "Eastern Ridge Rare Earth", "year": 2026,
    "categories": [{
        "category": "mining_medium_heavy", "category_name": "medium/heavy (ion-adsorption) rare-earth mining",
        "allocated_t": 595.0, "penalty_cut_t": 73.7, "cut_pending_t": 0.0,
        "penalties": [{"penalty_id": "PEN-3f9c2a7d81b0", "kind": "over_quota", "year": 2025, "decided_on": "2026-01-20",
                       "decision_no": "MIIT-PEN-2026-003", "reason": "Mined beyond the 2025 quota.", "cut_pct": None,
                       "over_t": 73.7, "cut_t": 73.7}],
        "effective_t": 521.3, "used_t": 198.4, "remaining_t": 322.9, "over_t": 0.0, "used_pct": 38.1,
        "issue_batches": [
            {"issue_batch": 1, "tonnes_reo": 298.0, "issued_on": "2026-02-20", "cut_t": 73.7, "effective_t": 224.3,
             "used_t": 198.4, "remaining_t": 25.9},
            {"issue_batch": 2, "tonnes_reo": 297.0, "issued_on": "2026-08-15", "cut_t": 0.0, "effective_t": 297.0,
             "used_t": 0.0, "remaining_t": 297.0}]}],
}
SCAN = {
    "id": "c6e451c4-d625-48c0-b7dc-fc3977728aef", "client_id": "748022dd-768f-4666-8290-bf6e091cbffe",
    "inspector": "inspector", "code": "REXN8MTHN68", "batch_code": "REXN8MTHN68",
    "scanned_at": "2026-11-22T01:59:36+00:00", "received_at": "2026-11-22T01:59:37+00:00",
    "site": {"type": "warehouse", "name": "Ningbo bonded warehouse"}, "holder_enterprise_id": "ENT-SMT",
    "verdict": {"status": "fail", "reasons": [REASON_TAINTED]}, "codes": [], "batch": BATCH,
    "provenance": PROVENANCE, "quota": {"applies": False, "year": 2024, "categories": []}, "cloned_with": [],
}
BATCH_VIEW = {"verdict": {"status": "fail", "reasons": [REASON_TAINTED]}, "batch": BATCH, "provenance": PROVENANCE,
              "quota": {"applies": False, "year": 2024, "categories": []}}
DESCENDANTS = {"code": "REJJZJFW3JX", "count": 2, "active": 1, "descendants": [
    {"code": "REAL75N53DW", "generation": 1, "stage": "metal", "product_type": "prnd_metal", "producer_id": "ENT-NMS",
     "holder_id": "ENT-NHM", "status": "transformed", "mass_kg": 1311.6, "remaining_kg": 655.8,
     "produced_on": "2024-10-10"},
    {"code": "REXN8MTHN68", "generation": 2, "stage": "magnet", "product_type": "ndfeb_sintered_magnet",
     "producer_id": "ENT-NHM", "holder_id": "ENT-SMT", "status": "active", "mass_kg": 2034.1,
     "remaining_kg": 2034.1, "produced_on": "2024-11-05"}]}
ENTERPRISE = {"id": "ENT-SSP", "name": "Sunset Separation Plant", "uscc": "91350000FAKE001526",
              "roles": ["separator"], "province": "Fujian", "city": "Sanming", "location": {"lat": 26.26, "lon": 117.64},
              "approvals": [{"id": "APR-ENT-SSP-0001", "action": "grant", "stage": "separation",
                             "effective_from": "2020-01-01", "effective_to": "2024-06-30", "reason": None,
                             "decision_no": None, "recorded_at": "2020-01-01T00:00:00+00:00", "recorded_by": "seed"}],
              "whitelist": [{"stage": "separation", "approved": False, "state": "expired"}],
              "quota_categories": ["separation"]}
