// The inbox kept on the phone: the last list read (for offline reading), the unread count for the tab badge, and
// the ids marked read while offline, sent to the server when it answers (marking read is safe to repeat).
import { currentLanguage } from "./i18n.js";
import { REFI, changed, state } from "./state.js";

// Where an item's link opens (inspector/notifications/texts.py keeps the same table for e-mails).
const ROUTES = { finding: (id) => "#/case/" + encodeURIComponent(id), enterprise: (id) => "#/reporting/" + encodeURIComponent(id), ledger: () => "#/ledger", task: () => "#/tasks", scan: (id) => "#/result/" + encodeURIComponent(id) };

export function linkOf(item) {
  const link = item.link || {};
  const route = ROUTES[link.type];
  return route ? route(link.id || "") : null;
}

const who = () => (state.session && state.session.username) || "";
const cacheKey = () => "inbox:" + who();
const queueKey = () => "inbox_read:" + who();

export const unread = { count: 0 };

/** The list last read from the server (or kept), with ids waiting to be marked read applied. */
export async function kept() {
  const [saved, queued] = await Promise.all([REFI.idb.get("kv", cacheKey()), REFI.idb.get("kv", queueKey())]);
  const waiting = new Set(queued || []);
  const items = ((saved && saved.items) || []).map((i) => (waiting.has(i.id) && !i.read_at ? Object.assign({}, i, { read_at: "queued" }) : i));
  return { items, asOf: saved && saved.as_of, queued: waiting.size };
}

/** Read the inbox from the server in the app's language and keep it; null when offline. */
export async function fetchInbox() {
  try {
    const { body } = await REFI.api("/api/notifications?page_size=100&lang=" + encodeURIComponent(currentLanguage()));
    await REFI.idb.put("kv", { items: body, as_of: new Date().toISOString() }, cacheKey());
    return kept();
  } catch (err) {
    if (err instanceof REFI.SignedOutError) throw err;
    return null;
  }
}

/** Mark items read on the phone now, and on the server as soon as it answers. */
export async function markRead(ids) {
  const queued = new Set((await REFI.idb.get("kv", queueKey())) || []);
  ids.forEach((id) => queued.add(id));
  await REFI.idb.put("kv", [...queued], queueKey());
  await countUnread();
  await flushRead();
}

/** Send the ids marked read while offline; they stay queued until the server has them. */
export async function flushRead() {
  const key = queueKey();
  const queued = (await REFI.idb.get("kv", key)) || [];
  if (!queued.length || !state.session || !navigator.onLine) return;
  try {
    await REFI.api("/api/notifications/read", { method: "POST", json: { ids: queued.slice(0, 500) } });
    const left = ((await REFI.idb.get("kv", key)) || []).filter((id) => !queued.includes(id));
    await REFI.idb.put("kv", left, key);
  } catch (err) { /* offline or refused for now: kept for the next try */ }
}

/** The badge's count: the server's unread less what waits to be marked read; the kept list's when offline. */
export async function countUnread() {
  if (!state.session) return;
  const local = await kept();
  let count = local.items.filter((i) => !i.read_at).length;
  if (navigator.onLine) {
    try {
      const { body } = await REFI.api("/api/notifications/unread");
      count = Math.max(0, body.unread - local.queued);
    } catch (err) { /* offline: the kept list's count stands */ }
  }
  if (count !== unread.count) {
    unread.count = count;
    changed();
  }
}
