"""Bytes the web app transfers on a phone's first visit, as the server sends them (gzipped where the browser
accepts it), until the service worker has precached the shell. The zxing decoder's .wasm is listed apart.

Run: .venv/bin/python bench/first_load.py   (needs the built app: bash scripts/build_web.sh; and chromium)
"""
import logging
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import create_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
BUDGET = 200 * 1024


class ByteCounter:
    """WSGI middleware: the body bytes of every response, per path (what goes over the wire, before TLS)."""

    def __init__(self, app):
        self.app = app
        self.sent = defaultdict(lambda: {"bytes": 0, "requests": 0, "statuses": set(), "encoding": ""})
        self.lock = threading.Lock()
        self.order = []  # (path, bytes) in the order the responses finished

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        seen = {}

        def counting_start(status, headers, exc_info=None):
            seen["status"] = status.split()[0]
            seen["encoding"] = dict((k.lower(), v) for k, v in headers).get("content-encoding", "")
            return start_response(status, headers, exc_info)

        body = self.app(environ, counting_start)
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                row = self.sent[path]
                row["bytes"] += size
                row["requests"] += 1
                row["statuses"].add(seen.get("status"))
                row["encoding"] = row["encoding"] or seen.get("encoding", "")
                self.order.append((path, size))


def main():
    logging.disable(logging.WARNING)
    app = create_app()
    counter = ByteCounter(app.wsgi_app)
    app.wsgi_app = counter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(base_url=base, viewport={"width": 390, "height": 844}, service_workers="allow")
        page = ctx.new_page()
        started = time.perf_counter()
        page.goto("/")
        page.wait_for_selector("body[data-ready]")
        interactive_ms = (time.perf_counter() - started) * 1000
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")
        time.sleep(0.5)
        browser.close()
    server.shutdown()

    rows = sorted(counter.sent.items(), key=lambda kv: -kv[1]["bytes"])
    print(f"{'bytes':>9}  {'req':>3}  {'status':<8} {'enc':<5} path")
    for path, r in rows:
        print(f"{r['bytes']:>9}  {r['requests']:>3}  {','.join(sorted(s for s in r['statuses'] if s)):<8} "
              f"{r['encoding'] or '-':<5} {path}")
    first = counter.order[:next((i for i, (path, _) in enumerate(counter.order) if path == "/sw.js"), len(counter.order))]
    first_paint = sum(size for path, size in first if not path.startswith("/api/"))
    wasm = sum(r["bytes"] for path, r in rows if path.endswith(".wasm"))
    api = sum(r["bytes"] for path, r in rows if path.startswith("/api/"))
    shell = sum(r["bytes"] for path, r in rows if not path.endswith(".wasm") and not path.startswith("/api/"))
    print()
    print(f"shell, first load incl. precache (gzipped, no wasm): {shell:>9} bytes = {shell / 1024:.1f} KiB "
          f"({'within' if shell <= BUDGET else 'OVER'} the {BUDGET // 1024} KiB budget)")
    print(f"  of which the first screen, before the worker starts:  {first_paint:>7} bytes = {first_paint / 1024:.1f} KiB")
    print(f"API calls on the login screen:                       {api:>9} bytes")
    print(f"zxing decoder wasm (precached after the shell):      {wasm:>9} bytes = {wasm / 1024:.1f} KiB")
    print(f"login screen interactive after:                      {interactive_ms:>9.0f} ms (local, no throttling)")


if __name__ == "__main__":
    main()
