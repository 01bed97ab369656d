"""Printable label sheets: each label carries a QR code, a GS1 DataMatrix and the code in plain characters.

A registered batch's label is signed (inspector/offline/signing.py): the QR holds '<code>;<signature>' and the Data
Matrix (01)+(10)+(21)+(8030), the GS1 DIGSIG beside the serial, as GS1's syntax dictionary requires."""
import io

import numpy as np
import segno
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from inspector.codes import batch_code
from inspector.codes.labels import SIGNATURE_SEPARATOR
from inspector.offline.signing import demo_keyring

COLUMNS, ROWS = 2, 4
MARGIN = 12 * mm


def _qr(text):
    out = io.BytesIO()
    # Never Micro QR, which segno picks for short data: zbar and many phone camera apps cannot read it.
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return ImageReader(out)


def gs1_datamatrix(gtin, lot):
    """A GS1 DataMatrix (FNC1 first, so scanners report ]d2) for a GTIN and batch."""
    return gs1_element_datamatrix(f"(01){gtin}(10){lot}")


def gs1_element_datamatrix(hri):
    """A GS1 DataMatrix for a bracketed GS1 element string."""
    symbol = zxingcpp.create_barcode(hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    return Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=8, add_quiet_zones=True)))


def label_rows(db, clean_extra=6, keyring=None):
    """The labels to print: every planted case with a registered batch, plus some clean batches, signed."""
    ring = keyring or demo_keyring()
    rows = []
    for case in db.demo_cases.find().sort("order", 1):
        code = case["code"]
        batch = db.batches.find_one({"_id": code}) if code.startswith("RE") and len(code) == batch_code.LENGTH else None
        rows.append({"code": code, "batch": batch, "title": ", ".join(case["expected_reasons"]) or "clean (pass)",
                     "description": case["description"]})
    for batch in db.batches.find({"status": "active", "stage": "magnet"}).sort("_id", 1).limit(clean_extra):
        rows.append({"code": batch["_id"], "batch": batch, "title": "clean stock", "description": batch["product_type"]})
    for row in rows:
        row["signature"] = ring.sign_label(row["code"]) if row["batch"] else None
    return rows


def qr_text(row):
    """What a label's QR code carries: a registered batch's code and its signature, or the planted text as it is."""
    return f"{row['code']}{SIGNATURE_SEPARATOR}{row['signature']}" if row.get("signature") else row["code"]


def gs1_text(row):
    """The GS1 element string a label's Data Matrix carries: its batch's GTIN and lot, or a GS1 code itself."""
    if row["batch"]:
        gs1 = row["batch"]["gs1"]
        text = f"(01){gs1['gtin']}(10){row['batch']['_id']}"
        if row.get("signature"):
            text += f"(21){gs1.get('serial') or row['batch']['_id']}(8030){row['signature']}"
        return text
    return row["code"] if row["code"].startswith("(01)") else None


def _fitting(text, font, size, width, smallest):
    """The largest font size from size down to smallest at which text fits width (smallest if none does)."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _wrap(text, font, size, width, pdf, shrink_to=None):
    """Set the font (shrunk down to shrink_to first, if given) and break text into lines that fit width."""
    if shrink_to:
        size = _fitting(text, font, size, width, shrink_to)
    pdf.setFont(font, size)
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if pdfmetrics.stringWidth(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        # A word longer than the line (a Digital Link URL, say) is cut at the width, character by character.
        line = ""
        for char in word:
            if pdfmetrics.stringWidth(line + char, font, size) > width:
                lines.append(line)
                line = ""
            line += char
    return lines + [line] if line else lines


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
        pdf.drawImage(_qr(qr_text(row)), x + 6 * mm, y + cell_h - symbol - 8 * mm, symbol, symbol)
        batch = row["batch"]
        if gs1_text(row):
            pdf.drawImage(ImageReader(gs1_element_datamatrix(gs1_text(row))), x + 10 * mm + symbol,
                          y + cell_h - symbol - 8 * mm, symbol, symbol)
        native = row["code"].startswith("RE") and len(row["code"]) == batch_code.LENGTH
        text = batch_code.display(row["code"]) if native else row["code"]
        left, room = x + 6 * mm, cell_w - 12 * mm
        top = y + cell_h - symbol - 13 * mm
        for i, line in enumerate(_wrap(text, "Courier-Bold", 14, room, pdf, shrink_to=7)[:3]):
            pdf.drawString(left, top - i * 9, line)
        top -= 5 * mm + 9 * i
        pdf.setFont("Helvetica-Bold", _fitting(row["title"], "Helvetica-Bold", 9, room, 6))
        pdf.drawString(left, top, row["title"])
        pdf.setFont("Helvetica", 7)
        for i, line in enumerate(_wrap(row["description"], "Helvetica", 7, room, pdf)[:3]):
            pdf.drawString(left, top - 4 * mm - i * 8, line)
        if batch:
            footer = f"{batch['product_type']} · {batch['mass_kg']:,.0f} kg · GTIN {batch['gs1']['gtin']}"
            pdf.setFont("Helvetica", _fitting(footer, "Helvetica", 7, room, 4))
            pdf.drawString(left, y + 4 * mm, footer)
    pdf.save()
    return len(rows)
