"""Printable labels: every symbol on the sheet decodes to the code printed beside it."""
import numpy as np
import zxingcpp

from seed.labels import gs1_datamatrix, label_rows, write_labels


def test_label_sheet_has_every_planted_case_and_clean_stock(seeded, db, tmp_path):
    rows = label_rows(db)
    assert {r["code"] for r in rows} >= {c["code"] for c in seeded}
    assert any(r["title"] == "clean stock" for r in rows)
    out = tmp_path / "labels.pdf"
    assert write_labels(rows, out) == len(rows)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= len(rows) // 8


def test_label_datamatrix_is_a_real_gs1_symbol(seeded, db):
    batch = db.batches.find_one({"stage": "magnet"})
    found = zxingcpp.read_barcodes(np.asarray(gs1_datamatrix(batch["gs1"]["gtin"], batch["_id"])))
    assert [(f.text, f.symbology_identifier) for f in found] == [
        (f"(01){batch['gs1']['gtin']}(10){batch['_id']}", "]d2")]
