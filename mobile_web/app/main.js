// Boot, layout and routing. Screens live in views/*.js and are loaded when first opened.
import { display as displayCode } from "./batchcode.js";
import { h, icon, mount, toast } from "./dom.js";
import { announce } from "./signal.js";
import { currentLanguage, preferredLanguage, setLanguage, t, tn } from "./i18n.js";
import { countUnread, flushRead, unread } from "./inbox.js";
import { differs, refreshPack } from "./offline.js";
import { REFI, canLogFindings, changed, isReviewer, loadMeta, loadSetting, refreshCounts, roleCanScan, saveSetting, state, subscribe } from "./state.js";

const SYNC_EVERY_MS = 30000;

const ROUTES = {
  login: () => import("./views/login.js"),
  scan: () => import("./views/scan.js"),
  result: () => import("./views/result.js"),
  finding: () => import("./views/finding.js"),
  history: () => import("./views/history.js"),
  settings: () => import("./views/settings.js"),
  log: () => import("./views/log.js"),
  dashboard: () => import("./views/dashboard.js"),
  case: () => import("./views/case.js"),
  cases: () => import("./views/log.js"),
  password: () => import("./views/password.js"),
  ledger: () => import("./views/ledger.js"),
  reporting: () => import("./views/reporting.js"),
  risk: () => import("./views/risk.js"),
  trace: () => import("./views/trace.js"),
  recall: () => import("./views/recall.js"),
  tasks: () => import("./views/tasks.js"),
  inbox: () => import("./views/inbox.js"),
};
const PUBLIC = new Set(["login"]);
const ALLOWED = {
  scan: roleCanScan, result: roleCanScan, finding: canLogFindings, history: roleCanScan,
  log: isReviewer, dashboard: isReviewer, cases: (r) => r === "enterprise", case: () => true, settings: () => true, password: () => true,
  ledger: (r) => r === "enterprise", reporting: isReviewer, risk: isReviewer, inbox: () => true,
  trace: isReviewer, recall: isReviewer, tasks: (r) => isReviewer(r) || r === "inspector",
};
// Screens reached through another screen's tab: the monthly reports and the risk ranking share one.
const TAB_OF = { risk: "reporting", result: "scan", finding: "scan" };
// Supervisors reach the trace, recall and task screens through the oversight tab; inspectors have a tab for tasks.
const REVIEW_TAB_OF = { trace: "reporting", recall: "reporting", tasks: "reporting" };
// A case is reached from the role's own list.
const CASE_TAB = { enterprise: "cases", inspector: "history" };
// Icons the tabs need beyond dom.js's set.
const EXTRA_ICONS = {
  upload: "M9 16h6v-6h4l-7-7-7 7h4v6zm-4 2h14v2H5v-2z",
  file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z",
  calendar: "M19 4h-1V2h-2v2H8V2H6v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 16H5V9h14v11zM7 11h5v5H7v-5z",
  bell: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1l-2-2z",
};

/** An icon from dom.js, or one of the few extra ones above. */
export function appIcon(name, label) {
  const svg = icon(EXTRA_ICONS[name] ? "dot" : name, label);
  if (EXTRA_ICONS[name]) svg.querySelector("path").setAttribute("d", EXTRA_ICONS[name]);
  return svg;
}

export function homeFor(role) {
  if (role === "enterprise") return "#/cases";
  if (isReviewer(role)) return "#/log";
  return "#/scan";
}

function tabsFor(role) {
  const inbox = ["inbox", "bell", "nav.inbox"];
  if (role === "enterprise") return [["cases", "list", "nav.cases"], ["ledger", "upload", "nav.ledger"], inbox, ["settings", "settings", "nav.settings"]];
  if (isReviewer(role)) {
    // Five tabs already fill 320 px: a reviewer's inbox is the bell in the header bar.
    return [["log", "list", "nav.log"], ["dashboard", "chart", "nav.dashboard"], ["reporting", "calendar", "nav.reporting"],
      ["scan", "scan", "nav.scan"], ["settings", "settings", "nav.settings"]];
  }
  return [["scan", "scan", "nav.scan"], ["tasks", "list", "nav.tasks"], ["history", "history", "nav.history"], inbox, ["settings", "settings", "nav.settings"]];
}

/** The current route: {name, parts, params} from "#/name/part?x=1". */
export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  const [name, ...parts] = path.split("/").filter(Boolean);
  return { name: name || "", parts: parts.map(decodeURIComponent), params: new URLSearchParams(query || "") };
}

export function go(hash) {
  if (location.hash === hash) render({ fresh: true });
  else location.hash = hash;
}

// ---- layout -----------------------------------------------------------------------------------

const els = {};

function layout() {
  els.demo = h("div.demo-banner", { role: "note", hidden: true });
  els.update = h("div.update-banner", { role: "status", hidden: true });
  els.alert = h("div.alert-banner", { role: "alert", hidden: true });
  els.net = h("span.net", { role: "status" });
  els.pending = h("a.pending", { href: "#/history" });
  els.title = h("a.brand", { href: "#/" }, h("img", { src: "/icons/icon-192.png", alt: "", width: 32, height: 32 }), h("span.brand-name"), h("span.brand-short"));
  els.bell = h("a.inbox-bell", { href: "#/inbox", hidden: true });
  els.header = h("header.bar", els.title, h("div.bar-status", els.net, els.pending, els.bell));
  els.main = h("main#view", { tabindex: "-1" });
  els.nav = h("nav.tabs", { "aria-label": "" });
  els.toast = h("div#toast.toast", { role: "status", "aria-live": "polite" });
  mount(document.body, h("a.skip", { href: "#view" }, ""), els.demo, els.update, els.alert, els.header, els.nav, els.main, els.toast);
  els.skip = document.body.firstChild;
  els.skip.addEventListener("click", (e) => { e.preventDefault(); els.main.focus(); });
}

function paintChrome() {
  const role = state.session && state.session.role;
  paintAlert();
  els.title.querySelector(".brand-name").textContent = t("app.name");
  els.title.querySelector(".brand-short").textContent = t("app.short_name");
  // The link keeps its name when a narrow screen hides both texts (offline, with items waiting).
  els.title.setAttribute("aria-label", t("app.name"));
  els.skip.textContent = t("a11y.skip");
  document.title = t("app.name");
  const demo = state.meta && state.meta.demo;
  els.demo.hidden = !demo;
  if (demo) {
    mount(els.demo, h("strong", t("demo.banner")), " ",
      role && roleCanScan(role) && currentRoute().name !== "scan" ? h("a", { href: "#/scan?demo=1" }, t("demo.codes_link")) : null);
  }
  els.net.className = "net " + (state.online ? "online" : "offline");
  mount(els.net, icon(state.online ? "dot" : "offline"), h("span", t(state.online ? "net.online" : "net.offline")));
  const showPending = role && roleCanScan(role) && (state.pending || state.rejected);
  els.pending.hidden = !showPending;
  if (showPending) {
    mount(els.pending, icon("sync"), h("span", t("outbox.pending_count", { n: state.pending })),
      state.rejected ? h("span.rejected-count", t("outbox.rejected_count", { n: state.rejected })) : null);
    // The chip's name says what its text says, with "1 item" in the singular.
    els.pending.setAttribute("aria-label", [tn("phone.pending_items", state.pending), state.rejected ? tn("phone.rejected_items", state.rejected) : null]
      .filter(Boolean).join(", ") + ". " + t("phone.open_history"));
  }
  const route = currentRoute().name;
  els.bell.hidden = !(role && isReviewer(role));
  if (!els.bell.hidden) {
    mount(els.bell, appIcon("bell"), unread.count ? h("span.bell-badge", { "aria-hidden": "true" }, String(Math.min(unread.count, 99))) : null);
    els.bell.setAttribute("aria-label", unread.count ? t("inbox.title") + ": " + tn("inbox.badge", unread.count) : t("inbox.title"));
    if (route === "inbox") els.bell.setAttribute("aria-current", "page");
    else els.bell.removeAttribute("aria-current");
  }
  const tab = route === "case" ? CASE_TAB[role] || "log" : (isReviewer(role) && REVIEW_TAB_OF[route]) || TAB_OF[route] || route;
  els.nav.hidden = !role;
  els.nav.setAttribute("aria-label", t("nav.label"));
  if (role) {
    const unseen = name => (name === "history" && alerts.length ? h("span.tab-badge", { "aria-label": tn("phone.history_badge", alerts.length) }, String(alerts.length))
      : name === "inbox" && unread.count ? h("span.tab-badge", { "aria-label": tn("inbox.badge", unread.count) }, String(Math.min(unread.count, 99))) : null);
    mount(els.nav, tabsFor(role).map(([name, ic, key]) => h("a", {
      href: "#/" + name, class: tab === name ? "active" : null, "aria-current": tab === name ? "page" : null,
    }, appIcon(ic), h("span", t(key)), unseen(name))));
  }
}

// ---- alerts: a queued scan judged after sync came back FAIL or WARNING ----------------------------

let alerts = [];

function paintAlert() {
  const last = alerts[alerts.length - 1];
  els.alert.hidden = !last || !state.session;
  if (els.alert.hidden) return;
  els.alert.className = "alert-banner " + last.status;
  mount(els.alert, icon(last.status === "fail" ? "fail" : "warning"),
    h("span.alert-text", last.offline ? t("offline.alert_differs", { code: last.code, status: t("verdict." + last.status), offline: t("verdict." + last.offline) })
      : t(last.status === "fail" ? "phone.alert_fail" : "phone.alert_warning", { code: last.code })),
    h("a.button.small", { href: "#/result/" + encodeURIComponent(last.client_id) }, t("phone.alert_open")),
    h("button.small.alert-dismiss", { type: "button", onclick: () => forgetAlerts(() => false) }, t("phone.alert_dismiss")));
}

async function forgetAlerts(keep) {
  const before = alerts.length;
  alerts = alerts.filter(keep);
  if (alerts.length !== before) {
    await saveSetting("alerts:" + ((state.session && state.session.username) || ""), alerts);
    paintChrome();
  }
}

async function onScanJudged(detail) {
  const id = detail && detail.client_id;
  if (!id || !state.session) return;
  const route = currentRoute();
  if (route.name === "result" && route.parts[0] === id) return; // judged while its own screen is open: seen there
  const record = await REFI.idb.get("scans", id);
  const status = record && record.result && record.result.verdict && record.result.verdict.status;
  const changedOffline = Boolean(record) && differs(record.offline_verdict, record.result);
  if (!record || record.username !== state.session.username || (!["fail", "warning"].includes(status) && !changedOffline)) return;
  if (alerts.some((a) => a.client_id === id)) return;
  const code = (record.result.batch && record.result.batch.code) || record.code || "";
  alerts = alerts.concat([{ client_id: id, status, code: code ? displayCode(code) : "", offline: changedOffline ? record.offline_verdict.status : null }]);
  await saveSetting("alerts:" + state.session.username, alerts);
  paintChrome();
  // A distinct pattern per verdict, where the device allows it and the inspector has not turned it off.
  await announce(status);
}

async function loadAlerts() {
  alerts = state.session ? await loadSetting("alerts:" + state.session.username, []) : [];
}

// ---- routing ------------------------------------------------------------------------------------

let renderToken = 0;
let cleanup = null;
let shownHash = null;

/** Paint the current route. A new route (or an explicit go()) starts at the top with its heading focused; a
 *  screen painting itself again (language, sync) keeps the reader's place. */
export async function render(options = {}) {
  const token = ++renderToken;
  const route = currentRoute();
  const fresh = options.fresh || location.hash !== shownHash;
  const role = state.session && state.session.role;
  if (!role && !PUBLIC.has(route.name)) {
    location.replace("#/login");
    return;
  }
  if (role && state.session.must_change_password && route.name !== "password") {
    location.replace("#/password");
    return;
  }
  if (role && (route.name === "" || route.name === "login" || !ROUTES[route.name] || !ALLOWED[route.name](role))) {
    location.replace(homeFor(role));
    return;
  }
  if (cleanup) {
    try { cleanup(); } catch (err) { /* a screen's own teardown */ }
    cleanup = null;
  }
  if (route.name === "history") await forgetAlerts(() => false);
  else if (route.name === "result") await forgetAlerts((a) => a.client_id !== route.parts[0]);
  paintChrome();
  let view;
  try {
    view = await ROUTES[route.name]();
  } catch (err) {
    mount(els.main, h("p.error", t("error.load_screen")));
    return;
  }
  if (token !== renderToken) return;
  const ctx = { route, state, go, render, token: () => token === renderToken, onCleanup: (fn) => { cleanup = fn; } };
  try {
    const node = await view.default(ctx);
    if (token !== renderToken) return;
    mount(els.main, node);
    document.body.dataset.route = route.name;
    document.body.dataset.lang = currentLanguage(); // the language this screen was painted in
    if (fresh) {
      shownHash = location.hash;
      window.scrollTo(0, 0);
      // The heading a sighted reader sees, else the verdict banner (the verdict screen's heading is for screen
      // readers only), else the screen itself: never a hidden heading.
      const target = [...els.main.querySelectorAll("h1")].find((el) => !el.closest(".visually-hidden") && !el.classList.contains("visually-hidden"))
        || els.main.querySelector("section.verdict") || els.main;
      if (target !== els.main) target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  } catch (err) {
    console.error(err);
    if (err instanceof REFI.SignedOutError) {
      await signedOut(true);
      return;
    }
    mount(els.main, h("div.card.error", h("h1", t("error.title")), h("p", errorText(err))));
  }
}

/** A sentence for an error, in the user's language where we know the case. */
export function errorText(err) {
  if (err instanceof REFI.OfflineError) return t("error.offline");
  if (err instanceof REFI.ApiError) {
    const key = "error." + err.errorCode;
    const translated = t(key);
    return translated !== key ? translated : err.message;
  }
  return String(err && err.message ? err.message : err);
}

/** Why the server turned an outbox item down, in the user's language where we know the error code. */
export function rejectionText(rejection) {
  const r = rejection || {};
  const key = "error." + r.error_code;
  const translated = r.error_code ? t(key) : key;
  return translated !== key ? translated : r.message || t("error.title");
}

async function signedOut(expired) {
  state.session = null;
  changed();
  if (expired) toast(t("login.expired"), "warn");
  location.replace("#/login");
  render();
}

// ---- sync ---------------------------------------------------------------------------------------

let syncing = null;

/** Send the outbox now; every caller during a run shares it. */
export function syncNow() {
  if (!syncing) {
    syncing = REFI.syncOutbox().catch((err) => ({ stopped: "error", error: err })).finally(() => {
      syncing = null;
      refreshCounts();
      refreshPack();
    });
  }
  return syncing;
}

/** After queueing: try at once, and ask the browser to retry in the background if we cannot. */
export async function afterQueue() {
  await refreshCounts();
  const reg = state.registration;
  if (reg && "sync" in reg) {
    try { await reg.sync.register("refi-outbox"); } catch (err) { /* Background Sync refused: the timer covers it */ }
  }
  if (state.online) syncNow();
}

function watchConnectivity() {
  const update = () => {
    state.online = navigator.onLine;
    changed();
    if (state.online && state.session) {
      syncNow();
      flushRead().then(countUnread);
    } else if (state.online) REFI.finishPendingLogout();
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  setInterval(() => {
    if (state.session && state.pending && navigator.onLine) syncNow();
    if (state.session && navigator.onLine) flushRead().then(countUnread);
  }, SYNC_EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.session && state.pending && navigator.onLine) syncNow();
  });
}

// ---- service worker -----------------------------------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    state.registration = reg;
    const offerUpdate = (worker) => {
      if (!worker || !navigator.serviceWorker.controller) return;
      mount(els.update, h("span", t("update.ready")), " ",
        h("button.link", { type: "button", onclick: () => worker.postMessage({ type: "skip-waiting" }) }, t("update.reload")));
      els.update.hidden = false;
    };
    if (reg.waiting) offerUpdate(reg.waiting);
    reg.addEventListener("updatefound", () => {
      const worker = reg.installing;
      worker && worker.addEventListener("statechange", () => { if (worker.state === "installed") offerUpdate(worker); });
    });
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!els.update.hidden && !reloading) {
        reloading = true;
        location.reload();
      }
    });
  } catch (err) {
    console.warn("service worker not registered", err);
  }
}

async function askPersistentStorage() {
  if (navigator.storage && navigator.storage.persist) {
    try {
      const already = await navigator.storage.persisted();
      if (!already) await navigator.storage.persist();
    } catch (err) { /* not granted: the outbox still works, the browser may just evict it under pressure */ }
  }
}

// ---- boot ---------------------------------------------------------------------------------------

async function boot() {
  await setLanguage(preferredLanguage(await loadSetting("language", null)));
  layout();
  await REFI.releaseEdits(); // an edit left open when the app closed goes back to the outbox as it was
  state.session = (await REFI.getSession()) || null;
  await loadAlerts();
  subscribe(paintChrome);
  paintChrome();
  // The login screen's demo hint and the banner depend on it; a slow network must not hold the app back long.
  const meta = loadMeta().then(() => paintChrome());
  await Promise.race([meta, new Promise((resolve) => setTimeout(resolve, 1500))]);
  watchConnectivity();
  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("refi") : null;
  const onMessage = async (msg) => {
    if (msg.type === "session" && msg.signedIn === false && state.session) {
      state.session = (await REFI.getSession()) || null;
      if (!state.session) signedOut(Boolean(msg.expired));
    }
    if (["outbox", "scan-judged", "finding-sent", "rejected"].includes(msg.type)) refreshCounts();
    if (msg.type === "scan-judged") onScanJudged(msg);
  };
  // Messages from the service worker (or another tab) become the same window events as local ones.
  if (channel) channel.onmessage = (e) => self.dispatchEvent(new CustomEvent("refi:" + e.data.type, { detail: e.data }));
  for (const type of ["session", "outbox", "scan-judged", "finding-sent", "rejected"]) {
    self.addEventListener("refi:" + type, (e) => onMessage(e.detail));
  }
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  window.addEventListener("hashchange", () => render({ fresh: true }));
  await refreshCounts();
  await render();
  registerWorker();
  if (state.session) {
    askPersistentStorage();
    if (state.online) syncNow();
    flushRead().then(countUnread);
  }
  document.body.dataset.ready = "1";
}

export async function onSignedIn(session) {
  state.session = session;
  await loadAlerts();
  changed();
  askPersistentStorage();
  refreshCounts();
  refreshPack();
  countUnread();
  go(homeFor(session.role));
}

boot();
