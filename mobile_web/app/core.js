/* The part of the app the service worker shares with the page: IndexedDB, the session, the API client
 * and the outbox. Written as a plain script (no import/export) so the worker can importScripts() it and the
 * page can import it as a module; both find it on self.REFI. */
(function (g) {
  "use strict";

  const DB_NAME = "refi";
  const DB_VERSION = 1;
  const STORES = ["kv", "scans", "findings", "results"];
  const RESULT_CACHE_LIMIT = 300;
  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("refi") : null;

  // ---- IndexedDB ---------------------------------------------------------------------------------

  let dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
          for (const name of ["scans", "findings"]) {
            if (!db.objectStoreNames.contains(name)) {
              const store = db.createObjectStore(name, { keyPath: "client_id" });
              store.createIndex("state", "state");
              store.createIndex("created_at", "created_at");
            }
          }
          if (!db.objectStoreNames.contains("results")) {
            const store = db.createObjectStore("results", { keyPath: "key" });
            store.createIndex("as_of", "as_of");
          }
        };
        req.onsuccess = () => {
          const db = req.result;
          db.onversionchange = () => { db.close(); dbPromise = null; };
          resolve(db);
        };
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }

  function done(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function tx(store, mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      let result;
      Promise.resolve(fn(t.objectStore(store))).then((r) => { result = r; }, reject);
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error("transaction aborted"));
    });
  }

  const idb = {
    get: (store, key) => tx(store, "readonly", (s) => done(s.get(key))),
    put: (store, value, key) => tx(store, "readwrite", (s) => done(key === undefined ? s.put(value) : s.put(value, key))),
    del: (store, key) => tx(store, "readwrite", (s) => done(s.delete(key))),
    all: (store) => tx(store, "readonly", (s) => done(s.getAll())),
    byState: (store, state) => tx(store, "readonly", (s) => done(s.index("state").getAll(state))),
    clear: (store) => tx(store, "readwrite", (s) => done(s.clear())),
    /** Read-modify-write one record atomically; fn gets the record (or undefined) and returns the new one. */
    update: (store, key, fn) => tx(store, "readwrite", async (s) => {
      const current = await done(s.get(key));
      const next = fn(current);
      if (next) await done(s.put(next));
      return next;
    }),
  };

  // ---- helpers -----------------------------------------------------------------------------------

  function uuid() {
    if (g.crypto && g.crypto.randomUUID) return g.crypto.randomUUID();
    const b = g.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function notify(type, detail) {
    const msg = Object.assign({ type }, detail || {});
    if (channel) channel.postMessage(msg);
    if (g.dispatchEvent && typeof CustomEvent !== "undefined") g.dispatchEvent(new CustomEvent("refi:" + type, { detail: msg }));
  }

  /** Run fn under a cross-context lock (page and worker), or directly where Web Locks are missing. */
  function withLock(name, fn, options) {
    if (g.navigator && g.navigator.locks && g.navigator.locks.request) {
      return g.navigator.locks.request(name, options || {}, (lock) => (lock === null ? null : fn()));
    }
    return fn();
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.errorCode = (this.body.errors && this.body.errors.error_code) || null;
    }
  }

  class OfflineError extends Error {
    constructor(cause) {
      super("offline");
      this.cause = cause;
    }
  }

  class SignedOutError extends Error {
    constructor() { super("signed out"); }
  }

  // ---- session -----------------------------------------------------------------------------------

  async function deviceId() {
    let id = await idb.get("kv", "device_id");
    if (!id) {
      id = uuid();
      await idb.put("kv", id, "device_id");
    }
    return id;
  }

  function deviceName() {
    const ua = (g.navigator && g.navigator.userAgent) || "";
    const platform = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows"
      : /Mac OS/.test(ua) ? "Mac" : /Linux/.test(ua) ? "Linux" : "device";
    const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom/.test(ua) ? "Chrome"
      : /Safari\//.test(ua) ? "Safari" : "browser";
    return `${browser} on ${platform}`;
  }

  function sessionFrom(tokens) {
    return {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      // Refresh a little early so a request never leaves with a token about to lapse.
      expires_at: Date.now() + Math.max(30, (tokens.expires_in || 900) - 30) * 1000,
      role: tokens.role,
      username: tokens.username,
      enterprise_id: tokens.enterprise_id || null,
      provinces: tokens.provinces || null,
      device_id: tokens.device_id,
      session_id: tokens.session_id,
      must_change_password: Boolean(tokens.must_change_password),
    };
  }

  const getSession = () => idb.get("kv", "session");

  async function login(username, password) {
    const res = await rawFetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password, device_id: await deviceId(), device_name: deviceName() }),
    });
    const body = await readBody(res);
    if (!res.ok) throw new ApiError(res.status, body);
    const session = sessionFrom(body);
    await idb.put("kv", session, "session");
    notify("session", { signedIn: true });
    return session;
  }

  /** Trade the refresh token for new tokens, once across page and worker; returns the live session or null. */
  async function refresh(staleAccessToken) {
    return withLock("refi-refresh", async () => {
      const current = await getSession();
      if (!current) return null;
      // Someone else refreshed while we waited for the lock.
      if (current.access_token !== staleAccessToken && current.expires_at > Date.now()) return current;
      const res = await rawFetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      if (res.status === 401 || res.status === 403) {
        await idb.del("kv", "session");
        notify("session", { signedIn: false, expired: true });
        return null;
      }
      const body = await readBody(res);
      if (!res.ok) throw new ApiError(res.status, body);
      const next = sessionFrom(body);
      await idb.put("kv", next, "session");
      return next;
    });
  }

  /** Sign out this device: revoke on the server; offline, remember to revoke as soon as the network is back. */
  async function logout() {
    const session = await getSession();
    await idb.del("kv", "session");
    notify("session", { signedIn: false });
    if (!session) return true;
    try {
      await revokeSession(session);
      return true;
    } catch (err) {
      await idb.put("kv", session, "pending_logout");
      return false;
    }
  }

  async function revokeSession(session) {
    let token = session.access_token;
    if (session.expires_at <= Date.now()) {
      const res = await rawFetch("/api/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (res.status === 401) return; // already dead
      if (!res.ok) throw new ApiError(res.status, await readBody(res));
      token = (await readBody(res)).access_token;
    }
    const res = await rawFetch("/api/auth/logout", { method: "POST", headers: { Authorization: "Bearer " + token } });
    if (res.status >= 500) throw new ApiError(res.status, await readBody(res));
  }

  async function finishPendingLogout() {
    const pending = await idb.get("kv", "pending_logout");
    if (!pending) return;
    try {
      await revokeSession(pending);
      await idb.del("kv", "pending_logout");
    } catch (err) { /* still offline: try again later */ }
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  async function rawFetch(url, init) {
    try {
      return await fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store" }, init));
    } catch (err) {
      throw new OfflineError(err);
    }
  }

  async function readBody(res) {
    const type = res.headers.get("Content-Type") || "";
    if (res.status === 204) return null;
    if (type.includes("json")) {
      try { return await res.json(); } catch (err) { return null; }
    }
    return null;
  }

  /** Fetch an API URL with the session's bearer token, refreshing once on 401. Returns the Response. */
  async function authFetch(url, init) {
    init = Object.assign({}, init);
    let session = await getSession();
    if (!session) throw new SignedOutError();
    if (session.expires_at <= Date.now()) {
      session = await refresh(session.access_token);
      if (!session) throw new SignedOutError();
    }
    const send = (s) => rawFetch(url, Object.assign({}, init, {
      headers: Object.assign({}, init.headers || {}, { Authorization: "Bearer " + s.access_token }),
    }));
    let res = await send(session);
    if (res.status === 401) {
      session = await refresh(session.access_token);
      if (!session) throw new SignedOutError();
      res = await send(session);
      if (res.status === 401) {
        await idb.del("kv", "session");
        notify("session", { signedIn: false, expired: true });
        throw new SignedOutError();
      }
    }
    return res;
  }

  /** authFetch + JSON: returns {body, res}; throws ApiError on any non-2xx. */
  async function api(url, init) {
    init = Object.assign({}, init);
    if (init.json !== undefined) {
      init.body = JSON.stringify(init.json);
      init.headers = Object.assign({ "Content-Type": "application/json" }, init.headers || {});
      delete init.json;
    }
    const res = await authFetch(url, init);
    const body = await readBody(res);
    if (!res.ok) throw new ApiError(res.status, body);
    return { body, res };
  }

  // ---- result cache ------------------------------------------------------------------------------

  const CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRTUVWXYZ";

  /** The cache key for a scanned or typed code: a native code in canonical form, anything else as is. */
  function codeKey(text) {
    const raw = String(text || "").trim();
    const squeezed = raw.toUpperCase().replace(/[\s\-_.]/g, "");
    if (/^RE[A-Z0-9]{9}$/.test(squeezed) && [...squeezed].every((c) => CODE_ALPHABET.includes(c))) return squeezed;
    return raw;
  }

  async function cacheResult(code, result) {
    const keys = new Set([codeKey(code)]);
    if (result && result.batch && result.batch.code) keys.add(result.batch.code);
    const asOf = result.received_at || new Date().toISOString();
    for (const key of keys) await idb.put("results", { key, result, as_of: asOf });
    const all = await idb.all("results");
    if (all.length > RESULT_CACHE_LIMIT) {
      all.sort((a, b) => (a.as_of < b.as_of ? -1 : 1));
      for (const old of all.slice(0, all.length - RESULT_CACHE_LIMIT)) await idb.del("results", old.key);
    }
  }

  const cachedResult = (code) => idb.get("results", codeKey(code));

  // ---- outbox ------------------------------------------------------------------------------------
  // A scan or a finding is saved locally first (state "pending"), then sent. Its client_id goes with
  // every attempt, so the server returns the stored record on a retry instead of making a second one.
  // A 4xx answer marks it "rejected" with the server's reason; it stays until the user discards it.

  const TRANSIENT = new Set([408, 423, 425, 429]);
  // How long a scan waited, by this page's or worker's monotonic clock (wall clocks can be set back). A realm that
  // ends takes its performance.now() with it, so an item keeps the wait measured so far and the realm measuring it;
  // an item from another realm had a stretch nobody measured, and says so (queue_interrupted).
  const REALM = uuid();

  function measureWait(item) {
    const now = performance.now();
    const same = item.wait_realm === REALM;
    return {
      queued_ms: Math.max(0, Math.round((item.queued_ms || 0) + (same ? now - item.wait_mark : 0))),
      queue_interrupted: Boolean(item.queue_interrupted) || !same, wait_realm: REALM, wait_mark: now,
    };
  }

  async function pendingCount(username) {
    const [scans, findings, editing] = await Promise.all([idb.byState("scans", "pending"), idb.byState("findings", "pending"),
      idb.byState("findings", "editing")]);
    return scans.concat(findings, editing).filter((x) => !username || x.username === username).length;
  }

  /** Hold a queued finding for editing: the outbox skips it until it is saved again or let go. False if already sent. */
  async function holdForEdit(clientId) {
    return withLock("refi-outbox", async () => {
      const cur = await idb.get("findings", clientId);
      if (!cur || cur.server_id || (cur.state !== "pending" && cur.state !== "editing")) return false;
      await idb.put("findings", Object.assign(cur, { state: "editing" }));
      return true;
    }, { ifAvailable: false });
  }

  /** Let a held finding go back to the outbox unchanged (the edit was left, or the app was closed mid-edit). */
  async function releaseEdits(clientId) {
    for (const item of await idb.byState("findings", "editing")) {
      if (!clientId || item.client_id === clientId) await idb.put("findings", Object.assign(item, { state: "pending" }));
    }
  }

  async function queueScan(record) {
    const wait = { queued_ms: 0, queue_interrupted: false, wait_realm: REALM, wait_mark: performance.now() };
    await idb.put("scans", Object.assign({ state: "pending", attempts: 0, created_at: new Date().toISOString() }, wait, record));
    notify("outbox");
  }

  async function queueFinding(record) {
    await idb.put("findings", Object.assign({ state: "pending", attempts: 0, created_at: new Date().toISOString() }, record));
    notify("outbox");
  }

  function rejection(err) {
    return {
      status: err.status,
      error_code: err.errorCode,
      message: err.body && err.body.message ? err.body.message : err.message,
      errors: err.body && err.body.errors ? err.body.errors : null,
      at: new Date().toISOString(),
    };
  }

  function isPermanent(err) {
    return err instanceof ApiError && err.status >= 400 && err.status < 500 && !TRANSIENT.has(err.status) && err.status !== 401;
  }

  async function sendScan(item) {
    let init;
    const wait = measureWait(item);
    await idb.update("scans", item.client_id, (cur) => cur && Object.assign(cur, wait));
    const fields = {
      queued_ms: wait.queued_ms,
      queue_interrupted: wait.queue_interrupted,
      client_id: item.client_id,
      scanned_at: item.scanned_at,
      site: item.site,
      location: item.location || null,
      observed_mass_kg: item.observed_mass_kg == null ? null : item.observed_mass_kg,
      holder_enterprise_id: item.holder_enterprise_id || null,
    };
    if (item.code) fields.code = item.code;
    if (item.shown_status) fields.shown_status = item.shown_status; // what the phone showed while it waited
    if (item.photo) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) {
        if (v === null || v === undefined) continue;
        form.append(k, typeof v === "object" ? JSON.stringify(v) : String(v));
      }
      form.append("image", item.photo, "label.jpg");
      init = { method: "POST", body: form };
    } else {
      init = { method: "POST", json: fields };
    }
    const { body } = await api("/api/scans", init);
    return body;
  }

  async function syncScan(item) {
    try {
      const result = await sendScan(item);
      await cacheResult(item.code || (result.codes && result.codes[0] && result.codes[0].text) || "", result);
      await idb.update("scans", item.client_id, (cur) => cur && Object.assign(cur, {
        state: "sent", result, server_id: result.id, error: null, sent_at: new Date().toISOString(),
        photo: null, // the server has it; free the phone's storage
      }));
      notify("scan-judged", { client_id: item.client_id });
    } catch (err) {
      if (isPermanent(err)) {
        await idb.update("scans", item.client_id, (cur) => cur && Object.assign(cur, { state: "rejected", error: rejection(err) }));
        notify("rejected", { kind: "scan", client_id: item.client_id });
        return;
      }
      await idb.update("scans", item.client_id, (cur) => cur && Object.assign(cur, { attempts: (cur.attempts || 0) + 1, last_error: String(err.message || err) }));
      throw err;
    }
  }

  async function findingPayload(item) {
    const payload = Object.assign({}, item.payload);
    // Scans made offline are known here by their client_id; by now they have a server id, or never will.
    const ids = [];
    for (const ref of item.scan_refs || []) {
      if (ref.server_id) { ids.push(ref.server_id); continue; }
      const scan = await idb.get("scans", ref.client_id);
      if (scan && scan.state === "pending") return null; // send the scan first
      if (scan && scan.server_id) ids.push(scan.server_id);
    }
    payload.scan_ids = ids;
    return payload;
  }

  async function syncFinding(item) {
    try {
      let serverId = item.server_id;
      if (!serverId) {
        const payload = await findingPayload(item);
        if (!payload) return;
        const { body } = await api("/api/inspections", { method: "POST", json: payload });
        serverId = body.id;
        await idb.update("findings", item.client_id, (cur) => cur && Object.assign(cur, { server_id: serverId, record: body }));
      }
      const photos = item.photos || [];
      const uploaded = new Set(item.uploaded || []);
      for (let i = 0; i < photos.length; i++) {
        if (uploaded.has(i)) continue;
        const form = new FormData();
        form.append("file", photos[i].blob, photos[i].name || `photo-${i + 1}.jpg`);
        // The server keys attachments by their SHA-256, so a repeated upload is a no-op.
        await api(`/api/inspections/${encodeURIComponent(serverId)}/attachments`, { method: "POST", body: form });
        uploaded.add(i);
        await idb.update("findings", item.client_id, (cur) => cur && Object.assign(cur, { uploaded: [...uploaded] }));
      }
      await idb.update("findings", item.client_id, (cur) => cur && Object.assign(cur, {
        state: "sent", error: null, sent_at: new Date().toISOString(),
        photos: (cur.photos || []).map((p) => ({ name: p.name, size: p.size, type: p.type })), // keep names, drop bytes
      }));
      notify("finding-sent", { client_id: item.client_id });
    } catch (err) {
      if (isPermanent(err)) {
        await idb.update("findings", item.client_id, (cur) => cur && Object.assign(cur, { state: "rejected", error: rejection(err) }));
        notify("rejected", { kind: "finding", client_id: item.client_id });
        return;
      }
      await idb.update("findings", item.client_id, (cur) => cur && Object.assign(cur, { attempts: (cur.attempts || 0) + 1, last_error: String(err.message || err) }));
      throw err;
    }
  }

  /** Send every pending item of the signed-in user, oldest first: scans before findings. */
  async function syncOutbox() {
    const result = await withLock("refi-outbox", async () => {
      await finishPendingLogout();
      const session = await getSession();
      if (!session) return { sent: 0, pending: await pendingCount(), signedOut: true };
      const mine = (xs) => xs.filter((x) => x.username === session.username)
        .sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
      let sent = 0;
      let stopped = null;
      try {
        for (const item of mine(await idb.byState("scans", "pending"))) {
          await syncScan(item);
          sent++;
        }
        for (const item of mine(await idb.byState("findings", "pending"))) {
          await syncFinding(item);
          sent++;
        }
      } catch (err) {
        // Offline, signed out or a server error: everything left stays pending for the next try.
        stopped = err instanceof OfflineError ? "offline" : err instanceof SignedOutError ? "signed_out" : "error";
      }
      const pending = await pendingCount(session.username);
      await idb.put("kv", { at: new Date().toISOString(), sent, pending, stopped }, "last_sync");
      return { sent, pending, stopped };
    }, { ifAvailable: false });
    notify("outbox", result || {});
    return result;
  }

  g.REFI = {
    idb, uuid, notify, withLock, ApiError, OfflineError, SignedOutError,
    deviceId, getSession, login, logout, refresh, finishPendingLogout,
    authFetch, api, readBody, codeKey, cacheResult, cachedResult,
    pendingCount, holdForEdit, releaseEdits, queueScan, queueFinding, syncOutbox, syncScan, syncFinding, isPermanent, rejection,
  };
})(typeof self !== "undefined" ? self : globalThis);
