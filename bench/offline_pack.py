"""The offline verdict pack: gzipped bytes and build time for the small and medium datasets (with a linear estimate for
1M batches), a day's delta, the lookup time per code in chromium, and what a label signature does to symbol sizes.

Baselines, measured in the same run: a plain read of every batch (build time), a gzipped JSON list of the bare codes
(bytes), a Map lookup of the same codes in the same page (lookup time), the unsigned symbols (symbol size).
"""
import gzip
import json
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import context, create_app  # noqa: E402
from inspector.offline import pack as packs  # noqa: E402
from inspector.offline.signing import demo_keyring  # noqa: E402
from seed.loader import load  # noqa: E402

NATIONAL = {"role": "supervisor", "provinces": None, "user_id": "bench"}
DAY_CHANGED = 0.01  # a day's ledger: about 1% of batches move, are drawn from or retire


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def build_figures(scale):
    app = create_app({"MONGO_DB": f"bench_{uuid.uuid4().hex}", "SEED_DEMO": False})
    with app.app_context():
        db, settings, now = context.db(), context.settings(), context.now()
        load(db, scale)
        started = time.perf_counter()
        codes = [b["_id"] for b in db.batches.find({})]
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        content = packs.snapshot(db, NATIONAL, settings, now)
        build_s = time.perf_counter() - started
        content["version"], content["keys"] = packs.version_of(content), demo_keyring().public_keys()
        body = packs.canonical(content)
        bare = _gz(json.dumps(codes).encode())
        packed = _gz(body)
        # A day later: 1% of the batches drawn from (remaining mass), then the pack rebuilt and diffed.
        for code in codes[:: int(1 / DAY_CHANGED)]:
            kg = db.batches.find_one({"_id": code}, {"remaining_kg": 1})["remaining_kg"]
            db.batches.update_one({"_id": code}, {"$set": {"remaining_kg": round(kg * 0.9, 3)}})
        later = packs.snapshot(db, NATIONAL, settings, now + timedelta(days=1))
        delta = {k: later["batches"].get(k) for k in set(later["batches"]) | set(content["batches"])
                 if later["batches"].get(k) != content["batches"].get(k)}
        delta_enterprises = {k: v for k, v in later["enterprises"].items() if content["enterprises"].get(k) != v}
        delta_gz = _gz(packs.canonical({"batches": delta, "enterprises": delta_enterprises}))
    n = len(codes)
    print(f"{scale}: {n:,} batches, {sum(1 for b in content['batches'].values() if 'reasons' in b):,} with standing "
          f"problems")
    print(f"  pack {len(body):,} B raw, {packed:,} B gzipped ({packed / n:.1f} B per batch); "
          f"{packed / bare:.2f}x a gzipped list of the bare codes ({bare:,} B)")
    print(f"  build {build_s:.2f} s = {build_s / read_s:.1f}x a plain read of every batch ({read_s:.2f} s) "
          f"on the embedded store")
    print(f"  1M batches (linear): about {packed / n * 1e6 / 1e6:.0f} MB gzipped, build about "
          f"{build_s / n * 1e6 / 60:.0f} min here")
    print(f"  daily delta ({DAY_CHANGED:.0%} of batches drawn from, one day on): {len(delta):,} batches, "
          f"{delta_gz:,} B gzipped = {delta_gz / packed:.3f}x the pack")
    return n


def lookup_figures(codes_to_try=400):
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    app = create_app({"SEED_SCALE": "small"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with app.app_context():
        codes = [b["_id"] for b in context.db().batches.find({}, {"_id": 1}).limit(codes_to_try)]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(base_url=base)
            page.goto("/#/login")
            page.wait_for_selector("body[data-ready]")
            page.fill("input[name=username]", "inspector")
            page.fill("input[name=password]", "demo")
            page.click("form.login button[type=submit]")
            page.wait_for_selector("nav.tabs a")
            out = page.evaluate("""async (codes) => {
              const m = await import('/app/offline.js');
              const fetched = await m.refreshPack();
              if (!fetched) return { error: 'no pack: ' + JSON.stringify(await REFI.idb.get('kv', 'offline_pack:inspector:refused')) };
              m.forgetPack();
              let t = performance.now();
              const pack = await m.currentPack();  // read from IndexedDB and its signature verified
              const open = performance.now() - t;
              t = performance.now();
              for (const c of codes) await m.offlineVerdict(c, { site: { type: 'market' } });
              const judge = (performance.now() - t) / codes.length;
              const map = new Map(Object.entries(pack.batches));
              t = performance.now();
              let hits = 0;
              for (let i = 0; i < 1000; i++) for (const c of codes) hits += map.has(c) ? 1 : 0;
              const bare = (performance.now() - t) / (1000 * codes.length);
              return { open, judge, bare, hits };
            }""", codes)
            browser.close()
            if "error" in out:
                raise SystemExit(out["error"])
    finally:
        server.shutdown()
    print(f"chromium: open the kept pack (IndexedDB read + Ed25519 check) {out['open']:.0f} ms; "
          f"offline verdict {out['judge']:.3f} ms per code (target <= 50 ms) = "
          f"{out['judge'] / max(out['bare'], 1e-6):,.0f}x a bare Map lookup ({out['bare'] * 1000:.2f} us)")


def symbol_figures():
    import segno
    import zxingcpp

    ring = demo_keyring()
    code, gtin, serial = "RET5EV3GWF8", "06952101000123", "10000001"
    signature = ring.sign_label(code)
    qr_plain, qr_signed = segno.make(code, error="m", micro=False), segno.make(f"{code};{signature}", error="m",
                                                                                micro=False)
    dm_plain = zxingcpp.create_barcode(f"(01){gtin}(10){code}", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    dm_signed = zxingcpp.create_barcode(f"(01){gtin}(10){code}(21){serial}(8030){signature}",
                                        zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    import numpy as np

    dm_p, dm_s = (np.asarray(zxingcpp.write_barcode_to_image(b, scale=1, add_quiet_zones=False)).shape
                  for b in (dm_plain, dm_signed))
    print(f"label signature: {len(signature)} characters (3 key id + 86 Ed25519 base64url; GS1 allows 90 in 8030)")
    print(f"  QR (level M): {qr_plain.symbol_size(border=0)[0]} -> {qr_signed.symbol_size(border=0)[0]} modules a side "
          f"(version {qr_plain.version} -> {qr_signed.version}), "
          f"{(qr_signed.symbol_size(border=0)[0] / qr_plain.symbol_size(border=0)[0]) ** 2:.1f}x the area")
    print(f"  GS1 DataMatrix: {dm_p[1]}x{dm_p[0]} -> {dm_s[1]}x{dm_s[0]} modules, "
          f"{dm_s[0] * dm_s[1] / (dm_p[0] * dm_p[1]):.1f}x the area")


def main():
    for scale in ("small", "medium")[: 1 if "--small" in sys.argv else 2]:
        build_figures(scale)
    lookup_figures()
    symbol_figures()


if __name__ == "__main__":
    main()
