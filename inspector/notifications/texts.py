"""What each notification says, in the four languages of the app: a title and a sentence per event kind."""
LANGUAGES = ("en", "zh-CN", "id", "fr")

TEXTS = {
    "en": {
        "finding_sent": ("Finding {finding_id} needs your response",
                         "A supervisor sent finding {finding_id} to {enterprise}. Respond by {deadline}."),
        "finding_deadline_soon": ("Finding {finding_id}: deadline in 3 days",
                                  "The response to finding {finding_id} is due on {deadline}."),
        "finding_overdue": ("Finding {finding_id} is overdue",
                            "The deadline of {deadline} for finding {finding_id} ({enterprise}) has passed."),
        "finding_responded": ("{enterprise} responded to finding {finding_id}",
                              "{enterprise} answered finding {finding_id}: review the response."),
        "finding_resolved": ("Finding {finding_id} resolved", "Finding {finding_id} was resolved: {outcome}."),
        "ledger_missing": ("Ledger for {period} not received",
                           "The product flow ledger of {enterprise} for {period} was due by {deadline}. Submit it now."),
        "ledger_missing_escalated": ("{enterprise} has not submitted its {period} ledger",
                                     "No ledger for {period} from {enterprise} ({province}); it was due by {deadline}."),
        "receipt_claim": ("Receipt without a shipment at {enterprise}",
                          "{enterprise} recorded a receipt under {doc_no} from {from_id} with no matching shipment."),
        "unverified_import": ("Unverified import at {enterprise}",
                              "Customs does not confirm declaration {declaration_no} of {enterprise} "
                              "({count} batches)."),
        "task_assigned": ("New inspection task", "You were given the task \"{title}\", due {deadline}."),
        "task_overdue": ("Task overdue", "The task \"{title}\" was due {deadline} and is still open."),
        "scan_verdict_differs": ("Scan of {code}: now {verdict}",
                                 "The phone showed {shown} while offline; the server judged the scan {verdict}."),
    },
    "zh-CN": {
        "finding_sent": ("检查发现 {finding_id} 需要您答复",
                         "监管人员已将检查发现 {finding_id} 发送给{enterprise}。请于 {deadline} 前答复。"),
        "finding_deadline_soon": ("检查发现 {finding_id}：3 天后截止", "检查发现 {finding_id} 的答复截止日期为 {deadline}。"),
        "finding_overdue": ("检查发现 {finding_id} 已逾期", "检查发现 {finding_id}（{enterprise}）的截止日期 {deadline} 已过。"),
        "finding_responded": ("{enterprise}已答复检查发现 {finding_id}", "{enterprise}已答复检查发现 {finding_id}，请审核答复。"),
        "finding_resolved": ("检查发现 {finding_id} 已结案", "检查发现 {finding_id} 已结案：{outcome}。"),
        "ledger_missing": ("未收到 {period} 台账", "{enterprise} {period} 的产品流向台账应于 {deadline} 前报送，请立即报送。"),
        "ledger_missing_escalated": ("{enterprise}未报送 {period} 台账",
                                     "未收到{enterprise}（{province}）{period} 的台账，截止日期为 {deadline}。"),
        "receipt_claim": ("{enterprise}存在无发货记录的收货", "{enterprise}登记了来自 {from_id} 的收货（单据 {doc_no}），但无对应发货记录。"),
        "unverified_import": ("{enterprise}的进口未经核实", "海关未确认{enterprise}的报关单 {declaration_no}（{count} 个批次）。"),
        "task_assigned": ("新的检查任务", "您被分配了任务“{title}”，截止 {deadline}。"),
        "task_overdue": ("任务已逾期", "任务“{title}”应于 {deadline} 完成，仍未完成。"),
        "scan_verdict_differs": ("{code} 的扫码结果现为{verdict}", "离线时手机显示为{shown}；服务器判定该次扫码为{verdict}。"),
    },
    "id": {
        "finding_sent": ("Temuan {finding_id} perlu tanggapan Anda",
                         "Seorang supervisor mengirim temuan {finding_id} ke {enterprise}. Tanggapi paling lambat "
                         "{deadline}."),
        "finding_deadline_soon": ("Temuan {finding_id}: tenggat 3 hari lagi",
                                  "Tanggapan atas temuan {finding_id} jatuh tempo pada {deadline}."),
        "finding_overdue": ("Temuan {finding_id} melewati tenggat",
                            "Tenggat {deadline} untuk temuan {finding_id} ({enterprise}) telah lewat."),
        "finding_responded": ("{enterprise} menanggapi temuan {finding_id}",
                              "{enterprise} menjawab temuan {finding_id}: tinjau tanggapannya."),
        "finding_resolved": ("Temuan {finding_id} diselesaikan", "Temuan {finding_id} telah diselesaikan: {outcome}."),
        "ledger_missing": ("Buku besar {period} belum diterima",
                           "Buku besar arus produk {enterprise} untuk {period} jatuh tempo {deadline}. Kirim sekarang."),
        "ledger_missing_escalated": ("{enterprise} belum mengirim buku besar {period}",
                                     "Tidak ada buku besar {period} dari {enterprise} ({province}); jatuh tempo "
                                     "{deadline}."),
        "receipt_claim": ("Penerimaan tanpa pengiriman di {enterprise}",
                          "{enterprise} mencatat penerimaan dengan dokumen {doc_no} dari {from_id} tanpa pengiriman yang cocok."),
        "unverified_import": ("Impor belum terverifikasi di {enterprise}",
                              "Bea cukai tidak mengonfirmasi deklarasi {declaration_no} milik {enterprise} "
                              "({count} batch)."),
        "task_assigned": ("Tugas inspeksi baru", "Anda diberi tugas \"{title}\", jatuh tempo {deadline}."),
        "task_overdue": ("Tugas terlambat", "Tugas \"{title}\" jatuh tempo {deadline} dan masih terbuka."),
        "scan_verdict_differs": ("Pindaian {code}: kini {verdict}",
                                 "Ponsel menampilkan {shown} saat luring; server menilai pindaian ini {verdict}."),
    },
    "fr": {
        "finding_sent": ("Le constat {finding_id} attend votre réponse",
                         "Un superviseur a envoyé le constat {finding_id} à {enterprise}. Répondez avant le "
                         "{deadline}."),
        "finding_deadline_soon": ("Constat {finding_id} : échéance dans 3 jours",
                                  "La réponse au constat {finding_id} est attendue le {deadline}."),
        "finding_overdue": ("Constat {finding_id} en retard",
                            "L'échéance du {deadline} du constat {finding_id} ({enterprise}) est dépassée."),
        "finding_responded": ("{enterprise} a répondu au constat {finding_id}",
                              "{enterprise} a répondu au constat {finding_id} : examinez la réponse."),
        "finding_resolved": ("Constat {finding_id} clos", "Le constat {finding_id} a été clos : {outcome}."),
        "ledger_missing": ("Registre de {period} non reçu",
                           "Le registre des flux de {enterprise} pour {period} était dû avant le {deadline}. "
                           "Déposez-le maintenant."),
        "ledger_missing_escalated": ("{enterprise} n'a pas déposé son registre de {period}",
                                     "Aucun registre de {period} de {enterprise} ({province}) ; il était dû avant le "
                                     "{deadline}."),
        "receipt_claim": ("Réception sans expédition chez {enterprise}",
                          "{enterprise} a enregistré une réception (document {doc_no}) venant de {from_id} sans "
                          "expédition correspondante."),
        "unverified_import": ("Importation non vérifiée chez {enterprise}",
                              "La douane ne confirme pas la déclaration {declaration_no} de {enterprise} "
                              "({count} lots)."),
        "task_assigned": ("Nouvelle mission d'inspection", "La mission « {title} » vous a été confiée, échéance le "
                                                           "{deadline}."),
        "task_overdue": ("Mission en retard", "La mission « {title} » était due le {deadline} et reste ouverte."),
        "scan_verdict_differs": ("Scan de {code} : désormais {verdict}",
                                 "Le téléphone affichait {shown} hors ligne ; le serveur a jugé ce scan {verdict}."),
    },
}

OUTCOMES = {
    "en": {"accepted": "explanation accepted", "penalty_recommended": "penalty recommended",
           "referred": "referred to another authority"},
    "zh-CN": {"accepted": "解释已接受", "penalty_recommended": "建议处罚", "referred": "已移交其他机关"},
    "id": {"accepted": "penjelasan diterima", "penalty_recommended": "sanksi direkomendasikan",
           "referred": "dirujuk ke otoritas lain"},
    "fr": {"accepted": "explication acceptée", "penalty_recommended": "sanction recommandée",
           "referred": "transmis à une autre autorité"},
}

STATUSES = {
    "en": {"pass": "PASS", "warning": "WARNING", "fail": "FAIL"},
    "zh-CN": {"pass": "合格", "warning": "警告", "fail": "不合格"},
    "id": {"pass": "LOLOS", "warning": "PERINGATAN", "fail": "GAGAL"},
    "fr": {"pass": "CONFORME", "warning": "ALERTE", "fail": "NON CONFORME"},
}

MAIL = {
    "en": {"open": "Open in the app: {link}", "digest": "{count} notifications from the field inspector",
           "footer": "You get this because of your notification settings in the app; change them there."},
    "zh-CN": {"open": "在应用中打开：{link}", "digest": "现场检查系统的 {count} 条通知",
              "footer": "您收到此邮件是因为您在应用中的通知设置；可在应用中更改。"},
    "id": {"open": "Buka di aplikasi: {link}", "digest": "{count} pemberitahuan dari aplikasi inspeksi lapangan",
           "footer": "Anda menerima ini karena pengaturan pemberitahuan Anda di aplikasi; ubah di sana."},
    "fr": {"open": "Ouvrir dans l'application : {link}", "digest": "{count} notifications de l'inspection de terrain",
           "footer": "Vous recevez ce message selon vos réglages de notification dans l'application ; "
                     "modifiez-les là."},
}


class _Blank(dict):
    def __missing__(self, key):
        return "—"


def language(lang):
    """A language the texts exist in: the one asked, its base language, or English."""
    if lang in TEXTS:
        return lang
    base = (lang or "").split("-")[0].lower()
    return next((code for code in LANGUAGES if code.split("-")[0].lower() == base), "en")


def render(kind, params, lang):
    """(title, sentence) for an event of this kind in the language; unknown fields show as a dash."""
    lang = language(lang)
    values = _Blank(params or {})
    if "outcome" in values:
        values["outcome"] = OUTCOMES[lang].get(values["outcome"], values["outcome"])
    for key in ("shown", "verdict"):
        if key in values:
            values[key] = STATUSES[lang].get(values[key], values[key])
    title, body = TEXTS[lang][kind]
    return title.format_map(values), body.format_map(values)


def mail_text(key, lang, **values):
    """A fixed sentence of the e-mails in the language."""
    return MAIL[language(lang)][key].format(**values)


# Where an item's link opens in the app (mobile_web/app/views/inbox.js keeps the same table).
ROUTES = {"finding": "#/case/{id}", "enterprise": "#/reporting/{id}", "ledger": "#/ledger", "task": "#/tasks",
          "scan": "#/result/{id}"}


def app_link(app_url, link):
    """The address in the app that an item's link opens."""
    route = ROUTES.get((link or {}).get("type"), "#/inbox").format(id=(link or {}).get("id", ""))
    return f"{app_url.rstrip('/')}/{route}"
