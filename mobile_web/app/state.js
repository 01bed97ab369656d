// What every screen shares: the session, the service's metadata, connectivity and the outbox count.
import "./core.js";

export const REFI = self.REFI;

export const state = {
  session: null,
  meta: null,
  online: navigator.onLine,
  pending: 0,
  rejected: 0,
  registration: null,
  lastSync: null,
};

const listeners = new Set();

/** Call fn whenever shared state changes; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function changed() {
  for (const fn of listeners) {
    try { fn(state); } catch (err) { console.error(err); }
  }
}

export const roleCanScan = (role) => ["inspector", "supervisor", "admin"].includes(role);
export const isReviewer = (role) => ["supervisor", "admin"].includes(role);
// Supervisors scan too, but findings are logged by inspectors (and admins): a reviewer never reviews their own.
export const canLogFindings = (role) => ["inspector", "admin"].includes(role);

export async function loadSetting(key, fallback) {
  const value = await REFI.idb.get("kv", "setting:" + key);
  return value === undefined ? fallback : value;
}

export const saveSetting = (key, value) => REFI.idb.put("kv", value, "setting:" + key);

/** The service's metadata: from the network when it answers, else the last copy kept. */
export async function loadMeta() {
  try {
    const res = await fetch("/api/meta", { cache: "no-store" });
    if (res.ok) {
      state.meta = await res.json();
      await REFI.idb.put("kv", state.meta, "meta");
      return state.meta;
    }
  } catch (err) { /* offline */ }
  state.meta = (await REFI.idb.get("kv", "meta")) || state.meta;
  return state.meta;
}

let demoFetch = null;

/** The planted demo cases (demo mode only): fetched once per app start (they change only with the dataset),
 *  and kept for offline use. */
export function demoCases() {
  if (!demoFetch) {
    demoFetch = (async () => {
      try {
        const res = await fetch("/api/demo/cases", { cache: "no-store" });
        if (res.ok) {
          const cases = await res.json();
          await REFI.idb.put("kv", cases, "demo_cases");
          return cases;
        }
      } catch (err) { /* offline */ }
      demoFetch = null; // not fetched: try again next time, and show what was kept meanwhile
      return (await REFI.idb.get("kv", "demo_cases")) || [];
    })();
  }
  return demoFetch;
}

export async function refreshCounts() {
  const user = state.session && state.session.username;
  const [scans, findings] = await Promise.all([REFI.idb.all("scans"), REFI.idb.all("findings")]);
  const mine = scans.concat(findings).filter((x) => !user || x.username === user);
  state.pending = mine.filter((x) => x.state === "pending").length;
  state.rejected = mine.filter((x) => x.state === "rejected").length;
  state.lastSync = await REFI.idb.get("kv", "last_sync");
  changed();
}
