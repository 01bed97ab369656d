/* The service worker: precaches the app shell (and the zxing decoder) so the app opens with no network,
 * and sends the outbox through Background Sync. The server writes BUILD in when it serves this file. */
"use strict";

const BUILD = /*BUILD*/{ "version": "dev", "shell": ["/"], "decoder": [] }/*END*/;
const CACHE = "refi-shell-" + BUILD.version;
const SYNC_TAG = "refi-outbox";

importScripts("/app/core.js");

async function precache(urls, cache) {
  // no-cache: revalidate against the server (a 304 costs a few bytes) so a new build never keeps a stale file.
  await Promise.all(urls.map(async (url) => {
    const res = await fetch(new Request(url, { cache: "no-cache", credentials: "same-origin" }));
    if (!res.ok) throw new Error(`precache ${url}: HTTP ${res.status}`);
    await cache.put(url, res);
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await precache(BUILD.shell, cache);
    // The decoder is big; if it fails now, the page still works (BarcodeDetector or the server decode).
    try { await precache(BUILD.decoder, cache); } catch (err) { /* fetched on first use instead */ }
    // The first install takes over at once; an update waits until the user reloads (see main.js).
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("refi-shell-") && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "sync") event.waitUntil(self.REFI.syncOutbox());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The API is never served from the cache here: the page keeps its own "as of" copies in IndexedDB.
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js" || url.pathname === "/healthz" || url.pathname === "/readyz") return;
  if (req.mode === "navigate") {
    // Every navigation gets the shell; the hash picks the screen.
    event.respondWith(caches.match("/", { cacheName: CACHE, ignoreSearch: true }).then((hit) => hit || fetch(req)));
    return;
  }
  event.respondWith((async () => {
    const hit = await caches.match(url.pathname, { cacheName: CACHE, ignoreSearch: true });
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && url.pathname.startsWith("/vendor/")) {
      const cache = await caches.open(CACHE);
      cache.put(url.pathname, res.clone());
    }
    return res;
  })());
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil((async () => {
    const result = await self.REFI.syncOutbox();
    // Throwing tells the browser to try again later, with its own back-off.
    if (result && result.pending && result.stopped && result.stopped !== "signed_out") throw new Error("outbox not drained: " + result.stopped);
  })());
});
