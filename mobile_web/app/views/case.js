// One finding: its facts, photos and documents, its timeline, and the actions the reader may take now.
// Every action sends the ETag it read in If-Match; a 412 means someone else acted first, so we reload.
import { h, icon, mount, toast } from "../dom.js";
import { date, dateTime, num, t, term } from "../i18n.js";
import { errorText, render } from "../main.js";
import { deadlineText, discrepancyName, severityChip, statusChip } from "../findings-ui.js";
import { REFI, isReviewer, state } from "../state.js";
import { provenanceCard, reasonList } from "./result.js";

const DISMISS_REASONS = ["insufficient_evidence", "duplicate", "not_a_violation", "data_error", "other"];
const OUTCOMES = ["accepted", "penalty_recommended", "referred"];
const ACTION_ORDER = ["confirm", "send_to_enterprise", "respond", "resolve", "request_more", "dismiss"];
const RESPONSE_DAYS = 14;

async function blobUrl(url) {
  const res = await REFI.authFetch(url);
  if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
  return URL.createObjectURL(await res.blob());
}

function attachmentsBlock(finding) {
  const list = finding.attachments || [];
  if (!list.length) return h("p.muted", t("case.no_attachments"));
  const base = `/api/inspections/${encodeURIComponent(finding.id)}/attachments/`;
  const viewer = h("dialog.viewer", { "aria-label": t("case.photo") });
  viewer.addEventListener("click", () => viewer.close());
  return h("div", h("ul.gallery", list.map((a) => {
    const label = `${a.filename || a.kind} · ${term("role", a.uploaded_role)}`;
    if (a.kind === "photo" || (a.content_type || "").startsWith("image/")) {
      const img = h("img", { alt: t("case.photo_alt", { name: a.filename || "" }), width: 160, height: 120, loading: "lazy" });
      blobUrl(base + encodeURIComponent(a.id) + (a.has_thumbnail ? "/thumbnail" : "")).then((u) => { img.src = u; }).catch(() => { img.alt = t("case.photo_failed"); });
      return h("li", h("button.thumb", {
        type: "button", "aria-label": t("case.open_photo", { name: a.filename || "" }),
        onclick: async () => {
          try {
            const u = await blobUrl(base + encodeURIComponent(a.id));
            mount(viewer, h("img", { src: u, alt: t("case.photo_alt", { name: a.filename || "" }) }),
              a.photo && a.photo.taken_at ? h("p", t("case.photo_taken", { when: a.photo.taken_at })) : null);
            viewer.showModal();
          } catch (err) { toast(errorText(err), "error"); }
        },
      }, img), h("p.small.muted", label));
    }
    return h("li.doc", h("button.secondary.small", {
      type: "button",
      onclick: async () => {
        try {
          const u = await blobUrl(base + encodeURIComponent(a.id));
          const link = h("a", { href: u, download: a.filename || "document", hidden: true });
          document.body.appendChild(link);
          link.click();
          link.remove();
        } catch (err) { toast(errorText(err), "error"); }
      },
    }, icon("download"), a.filename || t("case.document")), h("p.small.muted", `${term("role", a.uploaded_role)} · ${num((a.size || 0) / 1024, 1)} KB`));
  })), viewer);
}

function timeline(finding) {
  const entries = finding.timeline || [];
  return h("ol.timeline.case-timeline", entries.map((e) => h("li.step",
    h("div.step-dot", icon(e.action === "dismiss" ? "fail" : e.action === "resolve" ? "pass" : "dot")),
    h("div.step-body",
      h("p.step-title", h("strong", t("action_done." + e.action)), e.to && e.action !== "attach" ? h("span.muted", " → " + t("status." + e.to)) : null),
      h("p.muted", [dateTime(e.at), e.actor || term("role", e.role)].filter(Boolean).join(" · ")),
      e.comment ? h("blockquote", e.comment) : null,
      e.deadline ? h("p.small", t("case.deadline_set", { date: date(e.deadline) })) : null,
      e.reason ? h("p.small", t("case.dismiss_reason", { reason: t("dismiss." + e.reason) })) : null,
      e.outcome ? h("p.small", t("case.outcome", { outcome: t("outcome." + e.outcome) })) : null,
      e.response_type ? h("p.small", t("response_type." + e.response_type) + (e.late ? " · " + t("case.late") : "")) : null))));
}

function defaultDeadline() {
  const d = new Date(Date.now() + RESPONSE_DAYS * 86400000);
  return d.toISOString().slice(0, 10);
}

/** The form for one action; returns the extra fields it collects plus the comment. */
function actionForm(action, finding, etag) {
  const comment = h("textarea", { name: "comment", rows: 3, maxlength: 4000, id: `c-${action}`, required: action === "respond" || action === "request_more" });
  const extras = [];
  let collect = () => ({});
  if (action === "dismiss") {
    const reason = h("select", { id: "dismiss-reason", name: "reason" }, DISMISS_REASONS.map((r) => h("option", { value: r }, t("dismiss." + r))));
    extras.push(h("div.field", h("label", { for: reason.id }, t("case.dismiss_reason_label")), reason));
    collect = () => ({ reason: reason.value });
  } else if (action === "send_to_enterprise" || action === "request_more") {
    const deadline = h("input", { type: "date", id: `deadline-${action}`, name: "deadline", value: defaultDeadline(), min: new Date(Date.now() + 86400000).toISOString().slice(0, 10) });
    extras.push(h("div.field", h("label", { for: deadline.id }, t("case.deadline_label")), deadline));
    // The end of the chosen day, in the supervisor's own time zone.
    collect = () => (deadline.value ? { deadline: new Date(deadline.value + "T23:59:00").toISOString() } : {});
  } else if (action === "resolve") {
    const outcome = h("select", { id: "outcome", name: "outcome" }, OUTCOMES.map((o) => h("option", { value: o }, t("outcome." + o))));
    extras.push(h("div.field", h("label", { for: outcome.id }, t("case.outcome_label")), outcome));
    collect = () => ({ outcome: outcome.value });
  } else if (action === "respond") {
    const type = h("fieldset.segmented", h("legend", t("case.response_type")),
      ["explanation", "dispute"].map((v) => h("label", h("input", { type: "radio", name: "response_type", value: v, checked: v === "explanation" }), h("span", t("response_type." + v)))));
    const files = h("input", { type: "file", id: "respond-files", name: "files", multiple: true, accept: "image/jpeg,image/png,image/webp,application/pdf" });
    extras.push(type, h("div.field", h("label", { for: files.id }, t("case.documents")), files, h("p.hint", t("case.documents_hint"))));
    collect = async () => {
      const ids = [];
      for (const file of files.files) {
        const form = new FormData();
        form.append("file", file, file.name);
        const { body } = await REFI.api(`/api/inspections/${encodeURIComponent(finding.id)}/attachments`, { method: "POST", body: form });
        ids.push(body.id);
      }
      return { response_type: type.querySelector("input:checked").value, attachment_ids: ids };
    };
  }
  const message = h("p.form-error", { role: "alert" });
  const submit = h("button.big." + (action === "dismiss" ? "danger" : "primary"), { type: "submit" }, t("action." + action));
  const form = h("form.card.action-form", {
    dataset: { action },
    onsubmit: async (e) => {
      e.preventDefault();
      message.textContent = "";
      if (comment.required && !comment.value.trim()) {
        message.textContent = t("case.comment_required");
        comment.focus();
        return;
      }
      submit.disabled = true;
      try {
        const body = Object.assign({ action, comment: comment.value.trim() || null }, await collect());
        await REFI.api(`/api/inspections/${encodeURIComponent(finding.id)}/transitions`, {
          method: "POST", json: body, headers: { "If-Match": etag },
        });
        toast(t("case.done." + action), "ok");
        render();
      } catch (err) {
        submit.disabled = false;
        if (err instanceof REFI.ApiError && err.status === 412) {
          toast(t("case.stale"), "warn");
          render();
          return;
        }
        message.textContent = errorText(err);
      }
    },
  },
  h("h3", t("action." + action)),
  h("p.muted", t("action_help." + action)),
  extras,
  h("div.field", h("label", { for: comment.id }, t(comment.required ? "case.comment_required_label" : "case.comment")), comment),
  message, submit);
  return form;
}

const LATER_CODES = 3;
const LATER_SCANS = 10;

function scanEntry(scan, later) {
  const v = scan.verdict || { status: "pass", reasons: [] };
  return h("li.case-scan", { dataset: { scan: scan.id, status: v.status } },
    h("div.item-line", h("span.badge." + v.status, icon(v.status), t("verdict." + v.status)),
      scan.batch_code ? h("code", scan.batch_code) : null, later ? h("span.tag.scan-later", t("case.scan_later")) : null),
    h("p.muted.small", [dateTime(scan.scanned_at), scan.inspector, scan.site && term("site", scan.site.type), scan.site && scan.site.name].filter(Boolean).join(" · ")),
    reasonList(v.reasons || []),
    scan.provenance ? h("details.case-provenance", h("summary", t("case.scan_provenance")),
      provenanceCard(scan.provenance, scan.batch, v.reasons || [], scan.quota)) : null,
    h("a.button.secondary.small", { href: "#/trace/scan/" + encodeURIComponent(scan.id) }, t("case.scan_trace")));
}

/** The scans behind the finding (as judged then, with their provenance), and the batch's scans received since. */
async function scansBlock(f, box) {
  const cited = await Promise.all((f.scan_ids || []).map((id) =>
    REFI.api("/api/scans/" + encodeURIComponent(id)).then((r) => r.body).catch(() => null)));
  const seen = new Set(f.scan_ids || []);
  const since = f.received_at || f.observed_at;
  const later = [];
  for (const code of (f.batch_codes || []).slice(0, LATER_CODES)) {
    const { body } = await REFI.api(`/api/scans?batch_code=${encodeURIComponent(code)}&page_size=${LATER_SCANS}`).catch(() => ({ body: [] }));
    for (const scan of body) if (!seen.has(scan.id) && scan.received_at > since) { seen.add(scan.id); later.push(scan); }
  }
  const shown = cited.filter(Boolean);
  mount(box, h("h2", t("case.scans")),
    shown.length || later.length
      ? h("ul.case-scans", shown.map((s) => scanEntry(s, false)), later.map((s) => scanEntry(s, true)))
      : h("p.muted", t((f.scan_ids || []).length ? "case.scans_hidden" : "case.no_scans")));
}

export default async function caseView(ctx) {
  const id = ctx.route.parts[0];
  const { body: f, res } = await REFI.api("/api/inspections/" + encodeURIComponent(id));
  const etag = res.headers.get("ETag") || `"${f.etag}"`;
  const actions = ACTION_ORDER.filter((a) => (f.allowed_actions || []).includes(a));
  const scanSection = h("section.card.case-scans-card", { "aria-live": "polite" }, h("h2", t("case.scans")), h("p.muted", t("common.loading")));
  if (isReviewer(state.session.role)) scansBlock(f, scanSection).catch(() => mount(scanSection, h("h2", t("case.scans")), h("p.muted", t("case.scans_hidden"))));
  const back = state.session.role === "enterprise" ? "#/cases" : state.session.role === "inspector" ? "#/history?tab=findings" : "#/log";

  return h("div.screen.wide.case",
    h("a.back", { href: back }, icon("back"), t("common.back")),
    h("div.case-head",
      h("h1", t("case.title", { enterprise: f.enterprise_name || f.enterprise_id })),
      h("div.row.wrap", statusChip(f.status), severityChip(f.severity), deadlineText(f)),
      isReviewer(state.session.role) ? h("div.row.wrap.case-links",
        (f.batch_codes || []).length ? h("a.button.secondary.small", { href: "#/trace/finding/" + encodeURIComponent(f.id) }, t("trace.of_this_finding")) : null,
        h("a.button.secondary.small", { href: "#/tasks?" + new URLSearchParams({ origin: "finding", ref: f.id, pool: f.province || "" }) }, t("tasks.send_open"))) : null),
    actions.length ? h("button.primary.big.jump", {
      type: "button",
      onclick: () => { const form = document.querySelector(".case-actions form"); form.scrollIntoView({ behavior: "smooth" }); form.querySelector("textarea, select, input").focus({ preventScroll: true }); },
    }, t("action." + actions[0])) : null,
    h("div.case-grid",
      h("div.case-main",
        h("section.card", h("h2", t("case.facts")),
          h("dl.facts",
            h("div.fact", h("dt", t("case.discrepancies")), h("dd", (f.discrepancies || []).map(discrepancyName).join(", "))),
            h("div.fact", h("dt", t("case.enterprise")), h("dd", `${f.enterprise_name || ""} (${f.enterprise_id})`, f.province ? " · " + term("province", f.province) : "")),
            h("div.fact", h("dt", t("case.site")), h("dd", [term("site", f.site && f.site.type), f.site && f.site.name].filter(Boolean).join(" · "))),
            h("div.fact", h("dt", t("case.observed")), h("dd", dateTime(f.observed_at))),
            f.location ? h("div.fact", h("dt", t("case.location")), h("dd", t("finding.location_value", { lat: num(f.location.lat, 5), lon: num(f.location.lon, 5), acc: num(f.location.accuracy_m) }))) : null,
            (f.batch_codes || []).length ? h("div.fact", h("dt", t("case.batches")), h("dd", f.batch_codes.map((c) => h("code", c + " ")))) : null,
            f.observed_mass_kg != null ? h("div.fact", h("dt", t("case.mass")), h("dd", `${num(f.observed_mass_kg, 1)} kg`)) : null,
            f.inspector ? h("div.fact", h("dt", t("case.inspector")), h("dd", f.inspector)) : null,
            f.outcome ? h("div.fact", h("dt", t("case.outcome_label")), h("dd", t("outcome." + f.outcome))) : null),
          f.notes ? h("div", h("h3.small", t("case.notes")), h("p.notes", f.notes)) : null),
        isReviewer(state.session.role) ? scanSection : null,
        h("section.card", h("h2", t("case.evidence")), attachmentsBlock(f)),
        h("section.card", h("h2", t("case.timeline")), timeline(f))),
      h("aside.case-actions", { "aria-label": t("case.actions") },
        actions.length ? actions.map((a) => actionForm(a, f, etag)) : h("p.card.muted", t("case.no_actions")))));
}
