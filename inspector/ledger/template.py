"""The ledger template to fill in: example lines with the clerk's own enterprise, text cells, lists and instructions."""
import csv
import hashlib
import io
import re

from inspector.codes.batch_code import ALPHABET, BODY_LENGTH, PREFIX, check_character
from inspector.ledger.files import ALIASES, COLUMNS, TEXT_COLUMNS

_ORE = "RE2345678A" + check_character("RE2345678A")
_OXIDE = "RE3456789B" + check_character("RE3456789B")
TEMPLATE_ROWS = [
    ("EV-2026-10-0001", "production", "2026-10-03", "ENT-NSM", "output", _ORE, "25000", "ore",
     "bastnaesite_concentrate", "55.5", "mining_light", "", "", "", "", ""),
    ("EV-2026-10-0002", "shipment", "2026-10-04", "ENT-NSM", "", _ORE, "25000", "", "", "", "", "ENT-BPS",
     "WB-202610-0001", "", "", ""),
    ("EV-2026-10-0003", "receipt", "2026-10-06", "ENT-BPS", "", _ORE, "25000", "", "", "", "", "ENT-NSM",
     "WB-202610-0001", "", "", ""),
    ("EV-2026-10-0004", "production", "2026-10-20", "ENT-BPS", "input", _ORE, "25000", "", "", "", "", "", "",
     "", "", ""),
    ("EV-2026-10-0004", "production", "2026-10-20", "ENT-BPS", "output", _OXIDE, "13200", "compound", "prnd_oxide",
     "99.1", "", "", "", "", "", ""),
    ("EV-2026-10-0005", "shipment", "2026-10-24", "ENT-BPS", "", _OXIDE, "13200", "", "", "", "", "ENT-TPE",
     "WB-202610-0002", "", "", ""),
    ("EV-2026-10-0006", "receipt", "2026-10-26", "ENT-TPE", "", _OXIDE, "13200", "", "", "", "", "ENT-BPS",
     "WB-202610-0002", "", "", ""),
    ("EV-2026-10-0007", "export", "2026-10-28", "ENT-TPE", "", _OXIDE, "", "", "", "", "", "", "EL-2026-000123",
     "Tianjin", "DE", ""),
]


CHOICES = {"event_type": ("production", "shipment", "receipt", "export", "import", "consumption", "split", "merge"),
           "line_role": ("input", "output"), "stage": ("ore", "compound", "metal", "magnet"),
           "quota_category": ("mining_light", "mining_medium_heavy", "separation"), "status": ("consumed", "retired")}
INSTRUCTIONS = [
    ("填写说明 / How to fill in the ledger", ""),
    ("每行一个事件项；生产、进口、拆分、合并每个投入和产出各占一行，用同一个事件编号并连续排列。",
     "One line per event item; a production, import, split or merge takes one line per input and output, under one "
     "event_id and consecutive."),
    ("日期可写 2026-11-03、2026/11/3、2026.11.3 或 2026年11月3日（中国时间）；不接受 3/11/2026 这类先写日的日期。",
     "Dates as 2026-11-03, 2026/11/3, 2026.11.3 or 2026年11月3日 (China time); day-first dates like 3/11/2026 are "
     "refused as ambiguous."),
    ("质量以千克填写，可用千位分隔符（2,821.9）；小数点用句点。", "Mass in kilograms; thousands separators (2,821.9) are "
     "read; the decimal mark is a point."),
    ("单据号、批次码、企业编号请设为文本格式，否则表格软件会把长数字改成 1.23457E+17，这样的行会被拒收。",
     "Format document numbers, batch codes and enterprise ids as text: a spreadsheet turns long numbers into "
     "1.23457E+17 and such lines are refused."),
    ("表头可用中文名称：" + "；".join(f"{c} = {'/'.join(n[:3])}" for c, n in ALIASES.items()),
     "Chinese header names are accepted (listed on the left)."),
    ("表头上方可有一行标题；可以有第二行中文表头和“备注”等额外列（不读取，回执中提示）。",
     "A title row above the header, a second (Chinese) header row and extra columns such as 备注 are tolerated "
     "(not read; the receipt warns)."),
    ("任何一行有问题，整个文件都不保存；回执列出每一行的每个问题。上传前请删除示例行。",
     "If any line is refused nothing of the file is stored; the receipt lists every problem of every line. Delete "
     "the example lines before you upload your own."),
    ("可选值 / allowed values", ""),
] + [(column, ", ".join(values)) for column, values in CHOICES.items()]


def _example_code(enterprise_id, n):
    body = hashlib.sha256(f"template|{enterprise_id}|{n}".encode()).digest()
    payload = PREFIX + "".join(ALPHABET[b % len(ALPHABET)] for b in body[:BODY_LENGTH])
    return payload + check_character(payload)


def template_rows(enterprise_id=None, counterparty_id=None):
    """Example lines: the signed-in clerk's own enterprise's (the demo chain when no enterprise is named)."""
    if not enterprise_id:
        return TEMPLATE_ROWS
    me, other = enterprise_id, counterparty_id or "ENT-XXX"
    k = [_example_code(me, n) for n in range(6)]
    tag = re.sub(r"[^A-Z0-9]", "", me.upper())[-8:] or "ENT"
    ev = [f"EX-{tag}-2026-10-{n:04d}" for n in range(1, 8)]
    blank = [""] * 4
    return [
        (ev[0], "production", "2026-10-03", me, "output", k[0], "25000", "ore", "bastnaesite_concentrate", "55.5",
         "mining_light", "", "", "", "", ""),
        (ev[1], "split", "2026-10-04", me, "input", k[0], "25000", "", "", "", "", "", "", "", "", ""),
        (ev[1], "split", "2026-10-04", me, "output", k[1], "20000", "", "", "", "", "", "", "", "", ""),
        (ev[1], "split", "2026-10-04", me, "output", k[2], "5000", "", "", "", "", "", "", "", "", ""),
        (ev[2], "shipment", "2026-10-05", me, "", k[1], "20000", "", "", "", "", other, f"WB-{tag}-0001", *blank[:3]),
        (ev[3], "production", "2026-10-20", me, "input", k[2], "5000", "", "", "", "", "", "", "", "", ""),
        (ev[3], "production", "2026-10-20", me, "output", k[3], "2600", "compound", "prnd_oxide", "99.1", "", "", "",
         "", "", ""),
        (ev[4], "split", "2026-10-22", me, "input", k[3], "2600", "", "", "", "", "", "", "", "", ""),
        (ev[4], "split", "2026-10-22", me, "output", k[4], "2000", "", "", "", "", "", "", "", "", ""),
        (ev[4], "split", "2026-10-22", me, "output", k[5], "600", "", "", "", "", "", "", "", "", ""),
        (ev[5], "export", "2026-10-28", me, "", k[4], "2000", "", "", "", "", "", f"EL-{tag}-000123", "Tianjin", "DE",
         ""),
        (ev[6], "consumption", "2026-10-30", me, "", k[5], "600", "", "", "", "", "", "", "", "", "consumed"),
    ]


CSV_TITLE = [
    "填写说明：日期写 2026-11-03 或 2026年11月3日（中国时间）；质量以千克；单据号、批次码、企业编号设为文本格式；"
    "删除示例行后再上传。这两行标题会被跳过。",
    "How to fill in: dates as 2026-11-03 or 2026年11月3日 (China time); mass in kg; format document numbers, batch "
    "codes and enterprise ids as text; delete the example lines before uploading. These two title lines are skipped.",
]


def template_csv(enterprise_id=None, counterparty_id=None):
    """The CSV template: two title lines of instructions (Chinese, English), the header, and one example of each
    common event, as the clerk's own enterprise."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in CSV_TITLE:
        writer.writerow([line])
    writer.writerow(COLUMNS)
    writer.writerows(template_rows(enterprise_id, counterparty_id))
    return "\ufeff" + out.getvalue()  # the BOM makes spreadsheet programs read it as UTF-8


def template_xlsx(enterprise_id=None, counterparty_id=None):
    """The XLSX template: the ledger sheet (codes and numbers of documents as text cells, lists for the fixed words)
    and an instructions sheet in Chinese and English."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "ledger"
    sheet.append(COLUMNS)
    for i, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        names = ALIASES.get(column)
        if names:
            sheet.cell(row=1, column=i).comment = Comment("中文表头 / Chinese header: " + " / ".join(names[:4]),
                                                          "template")
        sheet.column_dimensions[letter].width = max(12, len(column) + 4)
        if column in CHOICES:
            rule = DataValidation(type="list", formula1='"' + ",".join(CHOICES[column]) + '"', allow_blank=True,
                                  showErrorMessage=True, errorTitle=column,
                                  error="可选值 / allowed: " + ", ".join(CHOICES[column]))
            sheet.add_data_validation(rule)
            rule.add(f"{letter}2:{letter}5000")
    for row in template_rows(enterprise_id, counterparty_id):
        sheet.append(list(row))
    for i, column in enumerate(COLUMNS, start=1):
        if column in TEXT_COLUMNS or column == "occurred_at":
            for (cell,) in sheet.iter_rows(min_row=2, max_row=sheet.max_row, min_col=i, max_col=i):
                cell.number_format = "@"
            for r in range(sheet.max_row + 1, 501):
                sheet.cell(row=r, column=i).number_format = "@"
    help_sheet = book.create_sheet("说明 instructions")
    for zh, en in INSTRUCTIONS:
        help_sheet.append([zh, en])
    help_sheet.column_dimensions["A"].width = 80
    help_sheet.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_parties(db, enterprise_id):
    """The clerk's own enterprise for the example lines, and a registered other one to ship to (none for staff)."""
    if not enterprise_id:
        return None, None
    other = db.enterprises.find_one({"_id": {"$ne": enterprise_id}}, {"_id": 1}, sort=[("_id", 1)])
    return enterprise_id, other["_id"] if other else None
