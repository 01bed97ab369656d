// Pieces the supervisor and enterprise screens share: status chips, deadlines, discrepancy names, exports.
import { h, icon, saveResponse, toast } from "./dom.js";
import { currentLanguage, date, has, reasonTitle, t } from "./i18n.js";
import { errorText } from "./main.js";
import { REFI } from "./state.js";

export const STATUSES = ["submitted", "confirmed", "dismissed", "awaiting_response", "responded", "resolved"];
export const REASONS = ["unknown_code", "malformed_code", "producer_not_approved", "over_quota", "tainted_lineage",
  "unrecorded_transfer", "quantity_mismatch", "retired_code", "cloned_code", "late_reporting", "mass_balance", "no_export_record"];
export const FIELD_TYPES = ["label_missing_or_damaged", "packaging_noncompliant", "documents_missing", "unlicensed_trading", "other"];

export const discrepancyName = (code) => (has(`reason.${code}.title`) ? reasonTitle(code) : t("discrepancy." + code));

export function statusChip(status) {
  return h("span.status-chip." + status, t("status." + status));
}

export function severityChip(severity) {
  return severity ? h("span.severity-chip." + severity, t("severity_level." + severity)) : null;
}

/** "due 5 Mar (in 3 days)" or "overdue since 5 Mar", for findings awaiting a response. */
export function deadlineText(finding) {
  if (!finding.deadline) return null;
  const days = Math.ceil((new Date(finding.deadline).getTime() - Date.now()) / 86400000);
  if (finding.overdue || (finding.status === "awaiting_response" && days < 0)) {
    return h("span.deadline.overdue", icon("warning"), t("deadline.overdue", { date: date(finding.deadline) }));
  }
  if (finding.status !== "awaiting_response") return h("span.deadline", t("deadline.was", { date: date(finding.deadline) }));
  return h("span.deadline" + (days <= 3 ? ".soon" : ""), t("deadline.due", { date: date(finding.deadline), n: days }));
}

/** Download the filtered log in a format; the token goes in a header, so the file arrives as a Blob. */
export async function exportLog(format, query) {
  const params = new URLSearchParams(query);
  params.set("format", format);
  // Spreadsheets get headings in the reader's language; GeoJSON keeps field names for GIS tools.
  if (format !== "geojson") params.set("lang", currentLanguage());
  try {
    const res = await REFI.authFetch("/api/inspections/export?" + params.toString());
    if (!res.ok) throw new REFI.ApiError(res.status, await REFI.readBody(res));
    const name = await saveResponse(res, `findings.${format}`);
    toast(t("export.done", { name }), "ok");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

export function exportButtons(query) {
  return h("div.export-row", { role: "group", "aria-label": t("export.title") },
    h("span.muted", t("export.title")),
    ["csv", "xlsx", "geojson"].map((f) => h("button.secondary.small", { type: "button", onclick: () => exportLog(f, query) }, icon("download"), f.toUpperCase())));
}
