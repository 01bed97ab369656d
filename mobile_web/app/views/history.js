// The inspector's own scans and findings, with where each stands: waiting on the phone, sent, or turned down.
import { display } from "../batchcode.js";
import { h, icon, mount, toast } from "../dom.js";
import { ago, dateTime, reasonTitle, t, term, tn } from "../i18n.js";
import { afterQueue, rejectionText, render, syncNow } from "../main.js";
import { REFI, refreshCounts, state } from "../state.js";

function syncChip(item) {
  const s = item.state;
  return h("span.chip-status." + s, icon(s === "sent" ? "pass" : s === "rejected" ? "fail" : "pending"), t("sync." + s));
}

function verdictChip(status) {
  return status ? h("span.badge." + status, icon(status), t("verdict." + status)) : null;
}

async function retry(store, item) {
  await REFI.idb.update(store, item.client_id, (cur) => cur && Object.assign(cur, { state: "pending", error: null }));
  await afterQueue();
  render();
}

async function discard(store, item) {
  if (!confirm(t("outbox.discard_confirm"))) return;
  await REFI.idb.del(store, item.client_id);
  await refreshCounts();
  render();
}

function rejectedBlock(store, item) {
  if (item.state !== "rejected") return null;
  return h("div.rejection", { role: "note" },
    h("p", h("strong", t("outbox.rejected_because")), " ", rejectionText(item.error)),
    h("div.row", store === "findings" ? h("a.button.primary.small", { href: "#/finding?edit=" + encodeURIComponent(item.client_id) }, t("phone.fix")) : null,
      h("button.secondary.small", { type: "button", onclick: () => retry(store, item) }, t("outbox.retry")),
      h("button.danger.small", { type: "button", onclick: () => discard(store, item) }, t("outbox.discard"))));
}

function scanItem(item) {
  const result = item.result;
  const code = (result && result.batch && result.batch.code) || item.code;
  return h("li.item",
    h("a.item-main", { href: "#/result/" + encodeURIComponent(item.client_id) },
      h("div.item-line", verdictChip(result && result.verdict.status), h("code", code ? display(code) : t("result.photo_only"))),
      h("div.item-line.muted", h("span", term("site", item.site && item.site.type) + (item.site && item.site.name ? " · " + item.site.name : "")),
        h("time", { datetime: item.scanned_at, title: dateTime(item.scanned_at) }, ago(item.scanned_at))),
      result && result.verdict.reasons.length ? h("div.item-line.small", result.verdict.reasons.map((r) => reasonTitle(r.code)).join(", ")) : null),
    h("div.item-side", syncChip(item)),
    rejectedBlock("scans", item));
}

function findingItem(item, server) {
  const p = item.payload || {};
  const record = server || item.record || {};
  const target = item.server_id || record.id;
  const main = [
    h("div.item-line", h("strong", record.enterprise_name || p.enterprise_id || record.enterprise_id),
      record.status ? h("span.chip-status.workflow", t("status." + record.status)) : null),
    h("div.item-line.small", (p.discrepancies || record.discrepancies || []).map((d) => (REASON_SET.has(d) ? reasonTitle(d) : t("discrepancy." + d))).join(", ")),
    h("div.item-line.muted", (p.batch_codes || record.batch_codes || []).map((c) => h("code", c))),
    h("div.item-line.muted", h("time", { datetime: p.observed_at || record.observed_at }, ago(p.observed_at || record.observed_at)),
      item.photos && item.photos.length ? h("span", "· " + tn("history.photos", item.photos.length)) : null),
  ];
  return h("li.item",
    target ? h("a.item-main", { href: "#/case/" + encodeURIComponent(target) }, main) : h("div.item-main", main),
    h("div.item-side", item.state ? syncChip(item) : syncChip({ state: "sent" })),
    rejectedBlock("findings", item),
    (item.state === "pending" || item.state === "editing") && !item.server_id
      ? h("div.row.edit-queued", h("a.button.secondary.small", { href: "#/finding?edit=" + encodeURIComponent(item.client_id) }, icon("edit"), t("phone.edit"))) : null);
}

const REASON_SET = new Set(["unknown_code", "malformed_code", "producer_not_approved", "over_quota", "tainted_lineage",
  "unrecorded_transfer", "quantity_mismatch", "retired_code", "cloned_code", "late_reporting", "mass_balance", "no_export_record"]);

async function serverLists() {
  if (!state.online) return { scans: [], findings: [] };
  try {
    const [scans, findings] = await Promise.all([
      REFI.api("/api/scans?page_size=50").then((r) => r.body).catch(() => []),
      state.session.role === "supervisor" ? [] : REFI.api("/api/inspections?page_size=50&sort=-received_at").then((r) => r.body).catch(() => []),
    ]);
    return { scans, findings };
  } catch (err) {
    return { scans: [], findings: [] };
  }
}

export default async function historyView(ctx) {
  const user = state.session.username;
  const tab = ctx.route.params.get("tab") === "findings" ? "findings" : "scans";
  // An answer that lands while this screen loads is not lost: the screen paints again once it is up.
  let missed = false;
  const early = () => { missed = true; };
  self.addEventListener("refi:finding-sent", early);
  self.addEventListener("refi:rejected", early);
  const [localScans, localFindings, server] = await Promise.all([REFI.idb.all("scans"), REFI.idb.all("findings"), serverLists()]);
  const byNewest = (key) => (a, b) => ((a[key] || "") < (b[key] || "") ? 1 : -1);
  const scans = localScans.filter((s) => s.username === user).sort(byNewest("created_at"));
  const findings = localFindings.filter((f) => f.username === user).sort(byNewest("created_at"));

  // Records on the server that this phone does not hold (another device, or cleared storage).
  const knownScanIds = new Set(scans.map((s) => s.client_id));
  const remoteScans = (server.scans || []).filter((s) => !knownScanIds.has(s.client_id));
  for (const s of remoteScans) {
    await REFI.idb.put("scans", { client_id: s.client_id, username: user, code: s.code, scanned_at: s.scanned_at, site: s.site,
      location: s.location, state: "sent", result: s, server_id: s.id, created_at: s.received_at, remote: true });
  }
  const allScans = scans.concat(remoteScans.map((s) => ({ client_id: s.client_id, code: s.code, scanned_at: s.scanned_at, site: s.site, state: "sent", result: s })))
    .sort(byNewest("scanned_at"));
  const serverFindings = new Map((server.findings || []).map((f) => [f.client_id, f]));
  const remoteFindings = (server.findings || []).filter((f) => !findings.some((l) => l.client_id === f.client_id));

  const last = state.lastSync;
  const header = h("section.card.sync-card", { "aria-labelledby": "sync-h" },
    h("h2#sync-h.small", t("outbox.title")),
    h("p.sync-summary", h("strong", t("outbox.pending_count", { n: state.pending })),
      state.rejected ? h("span.rejected-count", " · " + t("outbox.rejected_count", { n: state.rejected })) : null),
    h("p.muted", last ? t("outbox.last_sync", { when: ago(last.at) }) : t("outbox.never_synced"),
      state.online ? "" : " · " + t("net.offline")),
    h("button.secondary.big", {
      type: "button", disabled: !state.online,
      onclick: async () => {
        const r = await syncNow();
        toast(r && r.stopped ? t("outbox.sync_stopped") : tn("phone.sync_done", (r && r.sent) || 0), r && r.stopped ? "warn" : "ok");
        render();
      },
    }, icon("sync"), t("outbox.sync_now")));

  const tabs = h("div.segmented.tabs-local", { role: "tablist" },
    ["scans", "findings"].map((name) => h("a", { role: "tab", href: "#/history?tab=" + name, "aria-selected": String(name === tab), class: name === tab ? "active" : null },
      t("history." + name), " ", h("span.count", String(name === "scans" ? allScans.length : findings.length + remoteFindings.length)))));

  const list = tab === "scans"
    ? (allScans.length ? h("ul.items", allScans.map(scanItem)) : h("p.empty", t("history.no_scans")))
    : (findings.length + remoteFindings.length
      ? h("ul.items", findings.map((f) => findingItem(f, serverFindings.get(f.client_id))), remoteFindings.map((f) => findingItem({}, f)))
      : h("p.empty", t("history.no_findings")));

  const node = h("div.screen.history", h("h1", t("history.title")), header, tabs, list);
  const onChange = () => { if (ctx.token()) render(); };
  self.removeEventListener("refi:finding-sent", early);
  self.removeEventListener("refi:rejected", early);
  if (missed) setTimeout(onChange, 0);
  self.addEventListener("refi:finding-sent", onChange);
  self.addEventListener("refi:rejected", onChange);
  ctx.onCleanup(() => { self.removeEventListener("refi:finding-sent", onChange); self.removeEventListener("refi:rejected", onChange); });
  return node;
}
