"""Printable label sheets: each label carries a QR code, a GS1 DataMatrix and the code in plain characters."""
import io

import numpy as np
import segno
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from inspector.codes import batch_code

COLUMNS, ROWS = 2, 4
MARGIN = 12 * mm


def _qr(text):
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return ImageReader(out)


def gs1_datamatrix(gtin, lot):
    """A GS1 DataMatrix (FNC1 first, so scanners report ]d2) for a GTIN and batch."""
    symbol = zxingcpp.create_barcode(f"(01){gtin}(10){lot}", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    return Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=8, add_quiet_zones=True)))


def label_rows(db, clean_extra=6):
    """The labels to print: every planted case with a registered batch, plus some clean batches."""
    rows = []
    for case in db.demo_cases.find().sort("order", 1):
        code = case["code"]
        batch = db.batches.find_one({"_id": code}) if code.startswith("RE") and len(code) == batch_code.LENGTH else None
        rows.append({"code": code, "batch": batch, "title": ", ".join(case["expected_reasons"]) or "clean (pass)",
                     "description": case["description"]})
    for batch in db.batches.find({"status": "active", "stage": "magnet"}).sort("_id", 1).limit(clean_extra):
        rows.append({"code": batch["_id"], "batch": batch, "title": "clean stock", "description": batch["product_type"]})
    return rows


def write_labels(rows, out_path):
    """Write the label sheet PDF."""
    pdf = canvas.Canvas(str(out_path), pagesize=A4)
    width, height = A4
    cell_w = (width - 2 * MARGIN) / COLUMNS
    cell_h = (height - 2 * MARGIN) / ROWS
    for index, row in enumerate(rows):
        slot = index % (COLUMNS * ROWS)
        if index and slot == 0:
            pdf.showPage()
        x = MARGIN + (slot % COLUMNS) * cell_w
        y = height - MARGIN - (slot // COLUMNS + 1) * cell_h
        pdf.setDash(2, 2)
        pdf.rect(x + 2, y + 2, cell_w - 4, cell_h - 4)
        pdf.setDash()
        symbol = 28 * mm
        pdf.drawImage(_qr(row["code"]), x + 6 * mm, y + cell_h - symbol - 8 * mm, symbol, symbol)
        batch = row["batch"]
        if batch:
            pdf.drawImage(ImageReader(gs1_datamatrix(batch["gs1"]["gtin"], batch["_id"])), x + 10 * mm + symbol,
                          y + cell_h - symbol - 8 * mm, symbol, symbol)
        native = row["code"].startswith("RE") and len(row["code"]) == batch_code.LENGTH
        text = batch_code.display(row["code"]) if native else row["code"]
        pdf.setFont("Courier-Bold", 14 if len(text) < 22 else 8)
        pdf.drawString(x + 6 * mm, y + cell_h - symbol - 13 * mm, text[:60])
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(x + 6 * mm, y + cell_h - symbol - 18 * mm, row["title"][:60])
        pdf.setFont("Helvetica", 7)
        words, line, lines = row["description"].split(), "", []
        for word in words:
            if len(line) + len(word) > 62:
                lines.append(line)
                line = ""
            line += word + " "
        lines.append(line)
        for i, text_line in enumerate(lines[:3]):
            pdf.drawString(x + 6 * mm, y + cell_h - symbol - 22 * mm - i * 8, text_line.strip())
        if batch:
            pdf.drawString(x + 6 * mm, y + 4 * mm, f"{batch['product_type']} · {batch['mass_kg']:,.0f} kg · "
                                                   f"GTIN {batch['gs1']['gtin']}")
    pdf.save()
    return len(rows)
