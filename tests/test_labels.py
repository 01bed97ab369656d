"""Printable labels: every symbol on the sheet decodes to the code printed beside it."""
import numpy as np
import zxingcpp

from inspector.offline.signing import demo_keyring
from seed.labels import gs1_datamatrix, gs1_text, label_rows, qr_text, write_labels


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


def _cells(page_count):
    """Each label's rectangle on its page, in PDF points (left, bottom, right, top), in print order."""
    from reportlab.lib.pagesizes import A4

    from seed.labels import COLUMNS, MARGIN, ROWS

    width, height = A4
    cell_w, cell_h = (width - 2 * MARGIN) / COLUMNS, (height - 2 * MARGIN) / ROWS
    for page in range(page_count):
        for slot in range(COLUMNS * ROWS):
            x = MARGIN + (slot % COLUMNS) * cell_w
            y = height - MARGIN - (slot // COLUMNS + 1) * cell_h
            yield page, (x, y, x + cell_w, y + cell_h)


def test_printed_sheet_reads_back_with_both_decoders_and_matches_its_printed_text(seeded, db, tmp_path):
    import pypdfium2
    from pyzbar import pyzbar

    from inspector.codes import batch_code
    from inspector.codes.labels import read_code

    rows = label_rows(db)
    out = tmp_path / "labels.pdf"
    write_labels(rows, out)
    document = pypdfium2.PdfDocument(str(out))
    scale = 3  # 216 dpi, about what a phone sees of a label held close
    pages = [(document[i], document[i].render(scale=scale).to_pil().convert("L")) for i in range(len(document))]
    outside = []
    for row, (page_index, (left, bottom, right, top)) in zip(rows, _cells(len(pages))):
        page, image = pages[page_index]
        text_page = page.get_textpage()
        printed = "".join(text_page.get_text_bounded(left, bottom, right, top).split())
        height = page.get_height()
        crop = image.crop((round(left * scale), round((height - top) * scale), round(right * scale), round((height - bottom) * scale)))
        zx = {(b.format, b.text) for b in zxingcpp.read_barcodes(crop, text_mode=zxingcpp.TextMode.HRI)}
        zb = {symbol.data.decode() for symbol in pyzbar.decode(crop) if symbol.type == "QRCODE"}
        code = row["code"]
        assert (zxingcpp.BarcodeFormat.QRCode, qr_text(row)) in zx, (code, zx)
        assert zb == {qr_text(row)}, (code, zb)  # only possible because the QR is never Micro QR
        shown = batch_code.display(code) if code.startswith("RE") and len(code) == batch_code.LENGTH else code
        assert "".join(shown.split()) in printed, (shown, printed)
        # pyzbar cannot read Data Matrix at all: zxing-cpp alone checks it.
        if row["batch"]:
            gtin = row["batch"]["gs1"]["gtin"]
            assert (zxingcpp.BarcodeFormat.DataMatrix, gs1_text(row)) in zx, (code, zx)
            assert gs1_text(row).startswith(f"(01){gtin}(10){code}(21)")
            # Both symbols carry a signature that verifies for the printed code.
            for text in (qr_text(row), gs1_text(row)):
                label = read_code(text)
                assert demo_keyring().verify_label(code, label.signature) == "valid", text
            assert f"GTIN{gtin}" in printed
        elif code.startswith("(01)"):
            assert (zxingcpp.BarcodeFormat.DataMatrix, code) in zx, (code, zx)
        else:
            assert {fmt for fmt, _ in zx} == {zxingcpp.BarcodeFormat.QRCode}, (code, zx)
    for page, _ in pages:
        text_page = page.get_textpage()
        cells = [cell for index, cell in _cells(1)]
        for i in range(text_page.count_chars()):
            if text_page.get_text_range(i, 1).isspace():
                continue
            l, b, r, t = text_page.get_charbox(i)
            if not any(cl + 2 <= l and r <= cr - 2 and cb + 2 <= b and t <= ct - 2 for cl, cb, cr, ct in cells):
                outside.append(text_page.get_text_range(i, 1))
    assert outside == [], "text runs off its label"
