// The finding form: prefilled from a scan, saved to the outbox first, sent when the network allows.
import { h, icon, mount, toast } from "../dom.js";
import { num, t, term } from "../i18n.js";
import { afterQueue, go, rejectionText } from "../main.js";
import { downscale, locate } from "../media.js";
import { REFI, refreshCounts, state } from "../state.js";
import { SITE_TYPES, currentSite } from "./scan.js";

const REASON_CODES = ["unknown_code", "malformed_code", "producer_not_approved", "over_quota", "tainted_lineage",
  "unrecorded_transfer", "quantity_mismatch", "retired_code", "cloned_code", "late_reporting", "mass_balance", "no_export_record"];
const FIELD_TYPES = ["label_missing_or_damaged", "packaging_noncompliant", "documents_missing", "unlicensed_trading", "other"];
const SEVERITIES = ["low", "medium", "high"];
const MAX_PHOTOS = 8;

const DIRECTORY_KEY = "directory:enterprises";
const DIRECTORY_PAGES = 10;
const DIRECTORY_FRESH_MS = 12 * 3600 * 1000;

/** Enterprises the phone knows: the directory kept for offline use (refreshed when older than half a day), then
 * holders and producers of judged scans; id -> {name, province}. */
async function knownEnterprises() {
  const seen = new Map();
  let kept = await REFI.idb.get("kv", DIRECTORY_KEY);
  if (state.online && (!kept || Date.now() - kept.at > DIRECTORY_FRESH_MS)) {
    try {
      const items = [];
      for (let page = 1; page <= DIRECTORY_PAGES; page++) {
        const { body, res } = await REFI.api(`/api/enterprises?page_size=1000&page=${page}`);
        items.push(...body);
        const pages = JSON.parse(res.headers.get("X-Pagination") || "{}").total_pages || 1;
        if (page >= pages) break;
      }
      kept = { at: Date.now(), items };
      await REFI.idb.put("kv", kept, DIRECTORY_KEY);
    } catch (err) { /* offline or refused: the kept directory serves */ }
  }
  for (const e of (kept && kept.items) || []) seen.set(e.id, { name: e.name, province: e.province });
  for (const r of await REFI.idb.all("results")) {
    const b = r.result && r.result.batch;
    if (!b) continue;
    if (b.holder_id && !seen.has(b.holder_id)) seen.set(b.holder_id, { name: b.holder_name || b.holder_id });
    if (b.producer_id && !seen.has(b.producer_id)) seen.set(b.producer_id, { name: b.producer_name || b.producer_id });
  }
  return seen;
}

/** The enterprise id for what was typed: an id as it is, else the one enterprise whose name holds the text. */
function resolveEnterprise(known, typed) {
  const text = typed.trim();
  if (!text || known.has(text.toUpperCase())) return text.toUpperCase();
  const needle = text.toLocaleLowerCase();
  const exact = [...known].filter(([, e]) => e.name.toLocaleLowerCase() === needle);
  const near = exact.length ? exact : [...known].filter(([, e]) => e.name.toLocaleLowerCase().includes(needle));
  return near.length === 1 ? near[0][0] : text.toUpperCase();
}

function chip(name, value, label, checked) {
  const input = h("input", { type: "checkbox", name, value, checked });
  return h("label.check-chip", input, h("span", label));
}

/** Where a half-filled form is kept (IndexedDB, photos as Blobs): per user, and per scan or the turned-down item. */
function draftKey(username, scanId, editId) {
  return `draft:finding:${username}:${editId ? "edit:" + editId : scanId || "none"}`;
}

export default async function findingView(ctx) {
  // A turned-down finding opened to be fixed: its fields and photos fill the form, and it is sent as a new one.
  const editId = ctx.route.params.get("edit");
  let editing = editId ? await REFI.idb.get("findings", editId) : null;
  // A queued finding not sent yet is held while it is edited, so the outbox cannot send the old version meanwhile.
  const queuedEdit = !!editing && editing.state !== "rejected";
  if (queuedEdit && !(await REFI.holdForEdit(editId))) editing = null;
  if (editId && !editing) {
    return h("div.screen", h("h1", t("phone.edit_gone_title")), h("p", t("phone.edit_gone")),
      h("a.button.secondary", { href: "#/history?tab=findings" }, t("nav.history")));
  }
  let saved = false;
  if (queuedEdit) ctx.onCleanup(() => { if (!saved) REFI.releaseEdits(editId).then(refreshCounts); });
  const editScanRef = editing && (editing.scan_refs || [])[0];
  const scanId = ctx.route.params.get("scan") || (editScanRef && editScanRef.client_id) || null;
  const scan = scanId ? await REFI.idb.get("scans", scanId) : null;
  const key = draftKey(state.session.username, scanId, editing && editId);
  const draft = await REFI.idb.get("kv", key);
  const from = draft || (editing ? Object.assign({}, editing.payload, { photos: editing.photos || [] }) : null);
  const result = scan && scan.result;
  const site = scan ? scan.site : await currentSite();
  const reasons = result ? (result.verdict.reasons || []).map((r) => r.code) : [];
  const status = result ? result.verdict.status : null;
  const batch = result && result.batch;
  const code = batch ? batch.code : scan && scan.code;

  const enterprise = h("input", {
    name: "enterprise_id", list: "enterprise-list", autocomplete: "off", autocapitalize: "words", "aria-required": "true",
    value: (scan && scan.holder_enterprise_id) || (batch && batch.holder_id) || "",
  });
  const known = await knownEnterprises();
  // Each option's label is the name (and province), so typing part of a name offers the enterprise.
  const enterpriseList = h("datalist#enterprise-list", [...known].map(([id, e]) =>
    h("option", { value: id, label: e.province ? `${e.name} · ${term("province", e.province)}` : e.name })));
  const enterpriseName = h("p.hint", { id: "f-enterprise-name", "aria-live": "polite" });
  const paintName = () => {
    const id = resolveEnterprise(known, enterprise.value);
    const e = known.get(id);
    enterpriseName.textContent = e ? (id === enterprise.value.trim().toUpperCase() ? e.name : `${e.name} (${id})`) : "";
  };
  enterprise.addEventListener("input", paintName);
  enterprise.setAttribute("aria-describedby", "f-enterprise-name");
  paintName();
  const siteType = h("select", { name: "site_type" }, SITE_TYPES.map((s) => h("option", { value: s, selected: site && s === site.type }, term("site", s))));
  const siteName = h("input", { name: "site_name", value: (site && site.name) || "", maxlength: 200, autocomplete: "off" });
  const mass = h("input", { name: "observed_mass_kg", type: "number", inputmode: "decimal", min: "0", step: "0.1", value: scan && scan.observed_mass_kg != null ? scan.observed_mass_kg : "" });
  const codes = h("input", { name: "batch_codes", value: code || "", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const notes = h("textarea", { name: "notes", rows: 4, maxlength: 4000 });
  const defaultSeverity = (from && from.severity) || (status === "fail" ? "high" : "medium");
  const severity = h("fieldset.segmented", h("legend", t("finding.severity")),
    SEVERITIES.map((s) => h("label", h("input", { type: "radio", name: "severity", value: s, checked: s === defaultSeverity }), h("span", t("severity_level." + s)))));

  const fromScan = REASON_CODES.filter((c) => reasons.includes(c));
  const otherReasons = REASON_CODES.filter((c) => !reasons.includes(c));
  const discrepancies = h("fieldset.discrepancies", h("legend", t("finding.discrepancies"), " ", h("span.required", t("phone.required"))),
    fromScan.length ? h("div.chips", fromScan.map((c) => chip("discrepancy", c, t(`reason.${c}.title`), true))) : null,
    h("p.group-label", t("finding.field_types")),
    h("div.chips", FIELD_TYPES.map((c) => chip("discrepancy", c, t("discrepancy." + c), false))),
    h("details", h("summary", t("finding.other_reasons")),
      h("div.chips", otherReasons.map((c) => chip("discrepancy", c, t(`reason.${c}.title`), false)))));

  // Photos: downscaled on the phone, kept as Blobs in the outbox until uploaded.
  const photos = from && from.photos ? from.photos.filter((p) => p && p.blob) : [];
  const thumbs = h("ul.thumbs", { "aria-live": "polite" });
  const paintThumbs = () => mount(thumbs, photos.map((p, i) => {
    const url = URL.createObjectURL(p.blob);
    return h("li", h("img", { src: url, alt: t("finding.photo_n", { n: i + 1 }), onload: () => URL.revokeObjectURL(url) }),
      h("button.icon-button", { type: "button", "aria-label": t("finding.remove_photo", { n: i + 1 }), onclick: () => { photos.splice(i, 1); paintThumbs(); saveDraft(); } }, icon("close")));
  }));
  const photoInput = h("input.visually-hidden", { type: "file", accept: "image/*", capture: "environment", multiple: true, id: "finding-photo" });
  photoInput.addEventListener("change", async () => {
    for (const file of [...photoInput.files].slice(0, MAX_PHOTOS - photos.length)) {
      const blob = await downscale(file);
      photos.push({ blob, name: (file.name || "photo").replace(/\.\w+$/, "") + ".jpg", size: blob.size, type: blob.type || "image/jpeg" });
    }
    photoInput.value = "";
    paintThumbs();
    saveDraft();
  });

  // Location, with its accuracy; the scan's own reading when there is one.
  let position = scan && scan.location ? scan.location : null;
  const locLine = h("p.location-line", { role: "status" });
  const paintLocation = (msg) => mount(locLine, icon("location"), h("span", msg || (position
    ? t("finding.location_value", { lat: num(position.lat, 5), lon: num(position.lon, 5), acc: num(position.accuracy_m) })
    : t("finding.location_none"))));
  const updateLocation = async () => {
    paintLocation(t("finding.location_finding"));
    try {
      position = await locate();
    } catch (err) {
      paintLocation(t(err && err.code === 1 ? "finding.location_denied" : "finding.location_failed"));
      return;
    }
    paintLocation();
  };
  paintLocation();
  if (!position) updateLocation();

  const message = h("p.form-error", { role: "alert", id: "finding-message" });
  const save = h("button.primary.big", { type: "submit" }, icon("flag"), t("finding.save"));

  const form = h("form.screen.finding", {
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      clearTimeout(saving);
      const chosen = [...form.querySelectorAll('input[name="discrepancy"]:checked')].map((i) => i.value);
      const enterpriseId = resolveEnterprise(known, enterprise.value);
      if (enterpriseId && enterpriseId !== enterprise.value) enterprise.value = enterpriseId;
      message.textContent = "";
      enterprise.removeAttribute("aria-invalid");
      discrepancies.removeAttribute("aria-invalid");
      if (!enterpriseId) {
        message.textContent = t("finding.need_enterprise");
        enterprise.setAttribute("aria-invalid", "true");
        enterprise.setAttribute("aria-describedby", "f-enterprise-name finding-message");
        enterprise.focus();
        return;
      }
      if (!chosen.length) {
        message.textContent = t("finding.need_discrepancy");
        discrepancies.setAttribute("aria-invalid", "true");
        discrepancies.querySelector("input").focus();
        return;
      }
      save.disabled = true;
      const clientId = REFI.uuid();
      const payload = {
        client_id: clientId,
        enterprise_id: enterpriseId,
        site: { type: siteType.value, name: siteName.value.trim() || null },
        location: position ? { lat: position.lat, lon: position.lon, accuracy_m: position.accuracy_m ?? null } : null,
        observed_at: (scan && scan.scanned_at) || new Date().toISOString(),
        batch_codes: codes.value.split(/[\s,;]+/).map((c) => c.trim()).filter(Boolean),
        discrepancies: chosen,
        observed_mass_kg: mass.value === "" ? null : Number(mass.value),
        severity: form.querySelector('input[name="severity"]:checked').value,
        notes: notes.value.trim() || null,
      };
      await REFI.queueFinding({
        client_id: clientId,
        username: state.session.username,
        payload,
        scan_refs: scan ? [{ client_id: scan.client_id, server_id: scan.server_id || null }] : (editing && editing.scan_refs) || [],
        photos,
        uploaded: [],
        summary: { code: payload.batch_codes[0] || null, enterprise_id: enterpriseId, discrepancies: chosen },
      });
      // The fixed finding replaces the turned-down one; the draft has become an outbox item.
      if (editing) await REFI.idb.del("findings", editId);
      saved = true;
      await REFI.idb.del("kv", key);
      await afterQueue();
      toast(state.online ? t("finding.saved_sending") : t("finding.saved_offline"), "ok");
      go("#/history?tab=findings");
    },
  },
  h("h1", t(queuedEdit ? "phone.edit_title" : editing ? "phone.fix_title" : "finding.title")),
  code ? h("p.muted", t("finding.for_code", { code })) : null,
  queuedEdit ? h("p.muted.edit-note", { role: "note" }, t("phone.edit_note")) : null,
  editing && !queuedEdit ? h("div.card.error.fix-note", { role: "note" }, h("p", h("strong", t("outbox.rejected_because")), " ", rejectionText(editing.error))) : null,
  draft ? h("p.draft-note", { role: "status" }, icon("pending"), h("span", t("phone.draft_restored")), " ",
    h("button.link", { type: "button", onclick: async () => { await REFI.idb.del("kv", key); ctx.render({ fresh: true }); } }, t("phone.draft_discard"))) : null,
  h("div.card",
    h("div.field", h("label", { for: "f-enterprise" }, t("finding.enterprise"), " ", h("span.required", t("phone.required"))),
      Object.assign(enterprise, { id: "f-enterprise" }), enterpriseName, enterpriseList),
    h("div.row.wrap", h("div.field", h("label", { for: "f-site-type" }, t("site.type")), Object.assign(siteType, { id: "f-site-type" })),
      h("div.field.grow", h("label", { for: "f-site-name" }, t("site.name")), Object.assign(siteName, { id: "f-site-name" })))),
  h("div.card", discrepancies, severity),
  h("div.card",
    h("div.field", h("label", { for: "f-mass" }, t("finding.mass")), Object.assign(mass, { id: "f-mass" })),
    h("div.field", h("label", { for: "f-codes" }, t("finding.codes")), Object.assign(codes, { id: "f-codes" })),
    h("div.field", h("label", { for: "f-notes" }, t("finding.notes")), Object.assign(notes, { id: "f-notes" }))),
  h("div.card",
    h("h2.small", t("finding.photos")),
    thumbs,
    h("label.button.secondary.big", { for: "finding-photo" }, icon("camera"), t("finding.add_photo")), photoInput,
    h("h2.small", t("finding.location")),
    locLine,
    h("button.secondary", { type: "button", onclick: updateLocation }, icon("location"), t("finding.update_location"))),
  message,
  h("div.sticky-actions", save));

  // Put back what the draft (or the turned-down finding) held, then keep every change in IndexedDB.
  if (from) {
    if (from.enterprise_id) enterprise.value = from.enterprise_id;
    if (from.site) { siteType.value = from.site.type || siteType.value; siteName.value = from.site.name || ""; }
    if (from.observed_mass_kg != null) mass.value = from.observed_mass_kg;
    if (from.batch_codes) codes.value = [].concat(from.batch_codes).join(" ");
    if (from.notes) notes.value = from.notes;
    if (from.discrepancies) {
      for (const box of form.querySelectorAll('input[name="discrepancy"]')) box.checked = from.discrepancies.includes(box.value);
      const other = discrepancies.querySelector("details");
      if (other && [...other.querySelectorAll("input:checked")].length) other.open = true;
    }
    if (from.location) position = from.location;
    paintName();
    paintThumbs();
    paintLocation();
  }
  let saving = null;
  function saveDraft() {
    clearTimeout(saving);
    saving = setTimeout(() => REFI.idb.put("kv", {
      enterprise_id: enterprise.value.trim(),
      site: { type: siteType.value, name: siteName.value },
      observed_mass_kg: mass.value === "" ? null : Number(mass.value),
      batch_codes: codes.value,
      notes: notes.value,
      discrepancies: [...form.querySelectorAll('input[name="discrepancy"]:checked')].map((i) => i.value),
      severity: (form.querySelector('input[name="severity"]:checked') || {}).value,
      location: position,
      photos: photos.slice(),
      saved_at: new Date().toISOString(),
    }, key).catch(() => {}), 250);
  }
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  return form;
}
