// The offline verdict pack: fetched while online, its Ed25519 signature checked with WebCrypto before it is
// kept or used, stored in IndexedDB, and used to judge a code with no network exactly as the server does for
// every reason the pack carries (docs/offline.md). Label signatures (GS1 8030, or after ';' in our QR) are
// checked here too, with the pack's keys.
import { REFI, loadMeta, state } from "./state.js";

const MAX_DELTAS = 7;
// The server's order of reasons (inspector/verdict/judge.py), so an offline verdict reads like an online one.
const ORDER = ["producer_not_approved", "over_quota", "unverified_import", "tainted_lineage", "unrecorded_transfer",
  "quantity_mismatch", "retired_code", "late_reporting", "mass_balance", "no_export_record", "in_transit",
  "disputed_holder", "forged_label"];
const FAIL_REASONS = new Set(["unknown_code", "malformed_code", "producer_not_approved", "over_quota", "tainted_lineage",
  "quantity_mismatch", "retired_code", "cloned_code", "no_export_record", "unverified_import", "forged_label"]);
const CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRTUVWXYZ";
const SIGNATURE = /^[A-Za-z0-9]{3}[A-Za-z0-9_-]{86}$/;

let loaded = null; // { user, pack, index } once verified

const storeKey = () => "offline_pack:" + ((state.session && state.session.username) || "");

function bytes(b64url) {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64url.length + 3) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const keyCache = new Map();
async function verifyWith(publicKey, signature, data) {
  let key = keyCache.get(publicKey);
  if (!key) {
    key = await crypto.subtle.importKey("raw", bytes(publicKey), { name: "Ed25519" }, false, ["verify"]);
    keyCache.set(publicKey, key);
  }
  try {
    return await crypto.subtle.verify({ name: "Ed25519" }, key, bytes(signature), data);
  } catch (err) {
    return false;
  }
}

/** The keys a pack may be signed with: the service's (from /api/meta), then what verified packs said since. */
function trustedKeys(extra) {
  const keys = new Map();
  for (const k of (state.meta && state.meta.signing_keys) || []) keys.set(k.kid, k);
  for (const k of extra || []) keys.set(k.kid, k); // a verified pack carries rotations and revocations
  return keys;
}

/** Verify one signed envelope {pack, kid, signature}; returns the parsed content or throws. */
async function openEnvelope(envelope, keys) {
  const key = envelope && keys.get(envelope.kid);
  if (!key || key.status === "revoked") throw new Error("pack signed with an unknown or revoked key");
  const ok = await verifyWith(key.public_key, envelope.signature, new TextEncoder().encode(envelope.pack));
  if (!ok) throw new Error("pack signature does not verify");
  return JSON.parse(envelope.pack);
}

function applyDelta(pack, delta) {
  if (delta.from !== pack.version) throw new Error("delta is not for this version");
  for (const part of ["batches", "enterprises"]) {
    for (const [k, v] of Object.entries(delta[part] || {})) {
      if (v === null) delete pack[part][k];
      else pack[part][k] = v;
    }
  }
  for (const k of ["version", "as_of", "scope", "codes", "rules", "not_offline", "keys"]) pack[k] = delta[k];
  return pack;
}

function indexOf(pack) {
  const gs1 = new Map();
  for (const [code, b] of Object.entries(pack.batches)) {
    if (b.g && b.l) gs1.set(b.g + "|l|" + b.l, code);
    if (b.g && b.s) gs1.set(b.g + "|s|" + b.s, code);
  }
  return gs1;
}

/** Drop the pack held in memory: the next use reads (and verifies) the kept copy again. */
export function forgetPack() {
  loaded = null;
}

/** Verify a kept chain (pack, then deltas) and return the pack it makes; throws when any link fails. */
async function openChain(kept) {
  let pack = await openEnvelope(kept.base, trustedKeys());
  for (const env of kept.deltas || []) pack = applyDelta(pack, await openEnvelope(env, trustedKeys(pack.keys)));
  return pack;
}

/** The verified pack kept on this phone, or null (none yet, or it failed its check: then it is not used). */
export async function currentPack() {
  const user = storeKey();
  if (loaded && loaded.user === user) return loaded.pack;
  const kept = await REFI.idb.get("kv", user);
  if (!kept) return null;
  try {
    const pack = await openChain(kept);
    loaded = { user, pack, index: indexOf(pack) };
    return pack;
  } catch (err) {
    loaded = null;
    await REFI.idb.put("kv", { refused_at: new Date().toISOString(), error: String(err.message || err) }, user + ":refused");
    return null;
  }
}

async function fetchSigned(url, headers = {}) {
  const res = await REFI.authFetch(url, { headers, cache: "no-store" });
  if (res.status === 304) return { unchanged: true };
  const body = await REFI.readBody(res);
  if (!res.ok) return { status: res.status, body };
  return { envelope: body };
}

let refreshing = null;

/** Bring the pack up to date while online: a delta since the kept version, else the whole pack. Never throws;
 *  callers during a run share it. */
export function refreshPack() {
  if (!refreshing) refreshing = refreshOnce().finally(() => { refreshing = null; });
  return refreshing;
}

async function refreshOnce() {
  if (!state.session || !["inspector", "supervisor", "admin"].includes(state.session.role) || !state.online) return null;
  if (!(state.meta && state.meta.signing_keys)) await loadMeta(); // the trust anchor, before any pack is opened
  const user = storeKey();
  try {
    const kept = await REFI.idb.get("kv", user);
    const pack = kept ? await currentPack() : null;
    if (pack && (kept.deltas || []).length < MAX_DELTAS) {
      const got = await fetchSigned("/api/offline/delta?since=" + encodeURIComponent(pack.version));
      if (got.unchanged) return pack;
      if (got.envelope) {
        const next = applyDelta(structuredClone(pack), await openEnvelope(got.envelope, trustedKeys(pack.keys)));
        await REFI.idb.put("kv", { base: kept.base, deltas: (kept.deltas || []).concat([got.envelope]) }, user);
        loaded = { user, pack: next, index: indexOf(next) };
        return next;
      }
    }
    const got = await fetchSigned("/api/offline/pack");
    if (!got.envelope) return pack;
    const fresh = await openEnvelope(got.envelope, trustedKeys());
    await REFI.idb.put("kv", { base: got.envelope, deltas: [] }, user);
    await REFI.idb.del("kv", user + ":refused");
    loaded = { user, pack: fresh, index: indexOf(fresh) };
    return fresh;
  } catch (err) {
    return null; // offline, or a pack that failed its check: the kept one (if any) stays in use
  }
}

// ---- reading a label --------------------------------------------------------------------------

function native(text) {
  const squeezed = String(text).toUpperCase().replace(/[\s\-_.]/g, "");
  if (!/^RE[A-Z0-9]{9}$/.test(squeezed) || ![...squeezed].every((c) => CODE_ALPHABET.includes(c))) return null;
  let total = 0;
  let weight = 1;
  for (const ch of [...squeezed].reverse()) {
    total += CODE_ALPHABET.indexOf(ch) * weight;
    weight = (weight * 3) % 31;
  }
  return total % 31 === 0 ? squeezed : null;
}

const FIXED = { "01": 14, "17": 6 };

/** GS1's mod-10 check digit (GTIN-14), which the server checks through biip. */
function gtinValid(gtin) {
  if (!/^\d{14}$/.test(gtin)) return false;
  const digits = [...gtin].map(Number);
  const sum = digits.slice(0, 13).reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
  return (10 - (sum % 10)) % 10 === digits[13];
}

function elements(text) {
  const out = {};
  const value = text.replace(/^\][A-Za-z][0-9]/, "");
  if (value.startsWith("(")) {
    for (const m of value.matchAll(/\((\d{2,4})\)([^()]+)/g)) out[m[1]] = m[2].trim();
    return out;
  }
  if (/^https?:\/\//i.test(value)) {
    const parts = new URL(value).pathname.split("/").filter(Boolean).map(decodeURIComponent);
    for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]] = parts[i + 1];
    return out;
  }
  let rest = value.replace(/^\x1d/, "");
  while (rest.length) {
    const ai = ["8030"].find((a) => rest.startsWith(a)) || rest.slice(0, 2);
    rest = rest.slice(ai.length);
    const end = FIXED[ai] || (rest.indexOf("\x1d") >= 0 ? rest.indexOf("\x1d") : rest.length);
    out[ai] = rest.slice(0, end);
    rest = rest.slice(end).replace(/^\x1d/, "");
  }
  return out;
}

/** What a scanned or typed text is: our code (with its signature after ';'), a GS1 code, or neither. */
export function readLabel(text) {
  const raw = String(text || "").trim();
  const [head, ...tail] = raw.split(";");
  const code = native(head);
  if (code) return { kind: "native", code, signature: tail.length ? tail.join(";") : null };
  if (/^(\(|\]|https?:|\d|\x1d)/i.test(raw)) {
    try {
      const el = elements(raw);
      if (el["01"] && gtinValid(el["01"]) && (el["10"] || el["21"])) {
        return { kind: "gs1", gtin: el["01"], lot: el["10"] || null, serial: el["21"] || null, signature: el["8030"] ?? null };
      }
    } catch (err) { /* not a GS1 code */ }
  }
  return { kind: "malformed", raw };
}

/** valid, missing, malformed, unknown_key, revoked_key or forged, with the pack's keys. */
export async function checkSignature(code, signature, keys) {
  if (!signature) return "missing";
  if (!SIGNATURE.test(signature)) return "malformed";
  const kid = signature.slice(0, 3);
  const key = (keys || []).find((k) => k.kid === kid);
  if (!key) return "unknown_key";
  if (key.status === "revoked") return "revoked_key";
  const ok = await verifyWith(key.public_key, signature.slice(3), new TextEncoder().encode(`REFI-LABEL:1:${kid}:${code}`));
  return ok ? "valid" : "forged";
}

// ---- judging ----------------------------------------------------------------------------------

const reason = (code, evidence) => ({ code, severity: FAIL_REASONS.has(code) ? "fail" : "warning", evidence });
const name = (pack, id) => (pack.enterprises[id] && pack.enterprises[id].name) || id;

function contextReasons(pack, code, b, ctx) {
  const found = [];
  const holder = ctx.holder_enterprise_id || null;
  const site = ctx.site || {};
  if (holder && holder !== b.h && holder !== b.t) {
    found.push(reason("unrecorded_transfer", { found_holder_id: holder, found_holder_name: name(pack, holder),
      recorded_holder_id: b.h, recorded_holder_name: name(pack, b.h) }));
  }
  const tolerance = pack.rules.mass_tolerance_pct;
  if (ctx.observed_mass_kg != null && ctx.observed_mass_kg > b.r * (1 + tolerance / 100)) {
    found.push(reason("quantity_mismatch", { observed_kg: ctx.observed_mass_kg, remaining_kg: b.r, tolerance_pct: tolerance }));
  }
  const late = [...new Set([b.p, b.h, holder].filter(Boolean))].map((id) => pack.enterprises[id] && pack.enterprises[id].late).filter(Boolean);
  if (late.length) {
    found.push(reason("late_reporting", { enterprise_name: late.map((l) => l.entry.enterprise_name).join(" and "),
      periods_text: late.map((l) => l.text).join("; "), enterprises: late.map((l) => l.entry) }));
  }
  if (site.type === "port" && !b.x) found.push(reason("no_export_record", { site_name: site.name || "port", holder_id: b.h }));
  return found;
}

const statusOf = (reasons) => (reasons.some((r) => r.severity === "fail") ? "fail" : reasons.length ? "warning" : "pass");

/** Judge a code on this phone from the verified pack; null when there is no usable pack. */
export async function offlineVerdict(text, ctx = {}) {
  const pack = await currentPack();
  if (!pack) return null;
  const label = readLabel(text);
  const base = { offline: true, as_of: pack.as_of, version: pack.version, codes: pack.codes, scope: pack.scope };
  const notDone = [{ check: "cloned_code", reason: "offline" }];
  const verdict = (reasons, batch) => Object.assign(base, { code: batch || label.code || text, batch_code: batch || null,
    verdict: { status: statusOf(reasons), reasons, checks_not_done: notDone } });
  if (label.kind === "malformed") return verdict([reason("malformed_code", { detail: "", typo: false, text })]);
  const code = label.kind === "native" ? label.code
    : loaded.index.get(label.gtin + "|l|" + label.lot) || (label.lot ? null : loaded.index.get(label.gtin + "|s|" + label.serial));
  const b = code && pack.batches[code];
  if (!b) return verdict([reason("unknown_code", { code: label.code || label.lot || label.serial || text, form: label.kind })]);
  let reasons = (b.reasons || []).filter((r) => !(r.code === "retired_code" && b.st === "exported" && (ctx.site || {}).type === "port"));
  reasons = reasons.concat(contextReasons(pack, code, b, ctx));
  const expected = label.signature !== null || (label.kind === "gs1" && label.serial !== null);
  if (expected) {
    const problem = await checkSignature(code, label.signature, pack.keys);
    if (problem !== "valid") reasons.push(reason("forged_label", { code, problem, kid: (label.signature || "").slice(0, 3) }));
  } else {
    notDone.push({ check: "forged_label", reason: "unsigned_form" });
  }
  reasons.sort((x, y) => ORDER.indexOf(x.code) - ORDER.indexOf(y.code));
  return verdict(reasons, code);
}

/** True when the server's verdict differs from the one the phone gave offline (status or reasons). */
export function differs(offline, result) {
  if (!offline || !result || !result.verdict) return false;
  const codes = (v) => (v.reasons || []).map((r) => r.code).filter((c) => c !== "cloned_code").sort().join(",");
  return offline.status !== result.verdict.status || offline.reasons !== codes(result.verdict);
}
