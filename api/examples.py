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
    "enterprise_id": "ENT-NSM", "enterprise_name": "Northern Steppe Rare Earth Mining Co.", "year": 2024,
    "categories": [{"category": "mining_light", "allocated_t": 189160.0, "used_t": 167349.1, "remaining_t": 21810.9,
                    "used_pct": 88.5, "issue_batches": [
                        {"issue_batch": 1, "tonnes_reo": 94580.0, "issued_on": "2024-02-20"},
                        {"issue_batch": 2, "tonnes_reo": 94580.0, "issued_on": "2024-08-15"}]}],
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
ENTERPRISE = {"id": "ENT-SSP", "name": "Sunset Separation Plant", "roles": ["separator"], "province": "Fujian",
              "city": "Sanming", "location": {"lat": 26.26, "lon": 117.64},
              "approvals": [{"stage": "separation", "effective_from": "2020-01-01T00:00:00+00:00",
                             "effective_to": "2024-06-30T00:00:00+00:00"}], "quota_categories": ["separation"]}
