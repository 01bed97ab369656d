"""Spreadsheet column headings of the findings export in the app's four languages."""

LANGUAGES = ("en", "zh-CN", "id", "fr")

# Per column: English, Chinese, Indonesian, French. Without a language the export keeps the field names.
HEADINGS = {
    "id": ("Finding", "检查记录编号", "Temuan", "Constat"),
    "status": ("Status", "状态", "Status", "Statut"),
    "observed_at_utc": ("Observed (UTC)", "发现时间（UTC）", "Diamati (UTC)", "Constaté (UTC)"),
    "observed_at_china": ("Observed (China time)", "发现时间（北京时间）", "Diamati (waktu Tiongkok)",
                          "Constaté (heure de Chine)"),
    "received_at_utc": ("Received (UTC)", "接收时间（UTC）", "Diterima (UTC)", "Reçu (UTC)"),
    "enterprise_id": ("Enterprise ID", "企业编号", "ID perusahaan", "ID de l'entreprise"),
    "enterprise_name": ("Enterprise", "企业名称", "Perusahaan", "Entreprise"),
    "province": ("Province", "省份", "Provinsi", "Province"),
    "site_type": ("Site type", "场所类型", "Jenis lokasi", "Type de site"),
    "site_name": ("Site", "场所名称", "Lokasi", "Site"),
    "lat": ("Latitude", "纬度", "Lintang", "Latitude"),
    "lon": ("Longitude", "经度", "Bujur", "Longitude"),
    "accuracy_m": ("Accuracy (m)", "定位精度（米）", "Akurasi (m)", "Précision (m)"),
    "inspector": ("Inspector", "检查员", "Inspektur", "Inspecteur"),
    "discrepancies": ("Discrepancies", "违规问题", "Ketidaksesuaian", "Écarts"),
    "batch_codes": ("Batch codes", "批次码", "Kode batch", "Codes de lot"),
    "observed_mass_kg": ("Observed mass (kg)", "现场质量（千克）", "Massa teramati (kg)", "Masse constatée (kg)"),
    "severity": ("Severity", "严重程度", "Tingkat keparahan", "Gravité"),
    "deadline_utc": ("Response due (UTC)", "答复期限（UTC）", "Batas tanggapan (UTC)", "Réponse attendue (UTC)"),
    "deadline_china": ("Response due (China time)", "答复期限（北京时间）", "Batas tanggapan (waktu Tiongkok)",
                       "Réponse attendue (heure de Chine)"),
    "outcome": ("Outcome", "处理结果", "Hasil", "Issue"),
    "attachments": ("Attachments", "附件数", "Lampiran", "Pièces jointes"),
    "notes": ("Notes", "备注", "Catatan", "Notes"),
    "overdue": ("Overdue", "已逾期", "Terlambat", "En retard"),
}


def headings(names, lang=None):
    """The column headings in lang (one of LANGUAGES), or the field names themselves when lang is None."""
    if lang is None:
        return list(names)
    index = LANGUAGES.index(lang)
    return [HEADINGS[name][index] for name in names]
