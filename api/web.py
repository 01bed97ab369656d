"""The progressive web app (mobile_web/) on the API's origin, and the security headers on every response.

Assets are plain files; they are gzipped once in memory (keyed by mtime) because the app runs behind
gunicorn with no front proxy in the simple set-up, and the phone is on a slow link.
"""
import base64
import gzip
import hashlib
import json
import mimetypes
import re
import threading
from pathlib import Path

from flask import Blueprint, Response, abort, request

ROOT = Path(__file__).resolve().parent.parent / "mobile_web"

# URL prefix -> folder under mobile_web/. Nothing else (package.json, node_modules, tools) is reachable.
FOLDERS = {"app": "app", "icons": "icons", "vendor": "vendor"}
TOP_FILES = {"manifest.webmanifest": "manifest.webmanifest", "favicon.ico": "icons/favicon.ico"}
# The zxing decoder is precached after the shell, and a failure there (an unbuilt vendor/) never stops the
# shell from installing: the phone then falls back to BarcodeDetector or the server's /api/decode.
DECODER_PREFIX = "/vendor/"
INSTALL_ONLY = {"/icons/icon-512.png", "/icons/maskable-512.png", "/icons/apple-touch-icon.png", "/icons/favicon.ico"}
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".json", ".webmanifest", ".svg", ".wasm", ".ico"}
SW_BUILD = re.compile(r"/\*BUILD\*/.*?/\*END\*/", re.S)

APP_CSP = "; ".join([
    "default-src 'self'",
    # wasm-unsafe-eval lets the zxing decoder compile its WebAssembly; no JavaScript eval is allowed.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
PERMISSIONS = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=(), interest-cohort=()"

blp = Blueprint("web", __name__)
_cache = {}
_cache_lock = threading.Lock()


class Asset:
    """One file's bytes, gzipped bytes and ETag, read once per mtime."""

    def __init__(self, path, body):
        self.path = path
        self.body = body
        self.etag = hashlib.sha256(body).hexdigest()[:32]
        self.mimetype = _mimetype(path)
        self.gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None


def _mimetype(path):
    if path.suffix == ".webmanifest":
        return "application/manifest+json"
    if path.suffix in (".js", ".mjs"):
        return "text/javascript"
    if path.suffix == ".wasm":
        return "application/wasm"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _load(path):
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    asset = _cache.get(key)
    if asset is None:
        asset = Asset(path, path.read_bytes())
        with _cache_lock:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = asset
    return asset


def _resolve(folder, name):
    base = (ROOT / folder).resolve()
    path = (base / name).resolve()
    if base not in path.parents or not path.is_file() or any(p.startswith(".") for p in path.relative_to(base).parts):
        abort(404)
    return path


def _send(asset, body=None, etag=None, cache="no-cache"):
    """Answer with the asset, gzipped when the client takes it, honouring If-None-Match."""
    body = asset.body if body is None else body
    etag = etag or asset.etag
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    gzipped = asset.gzipped if body is asset.body else (gzip.compress(body, 9, mtime=0) if asset.gzipped else None)
    if gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzipped
    return Response(body, mimetype=asset.mimetype, headers=headers)


def shell_files():
    """Every URL the service worker precaches: the shell first, the decoder (wasm) last."""
    urls = ["/", "/manifest.webmanifest", "/favicon.ico"]
    for prefix, folder in FOLDERS.items():
        base = ROOT / folder
        if base.is_dir():
            urls += sorted(f"/{prefix}/{p.relative_to(base).as_posix()}" for p in base.rglob("*")
                           if p.is_file() and not any(x.startswith(".") for x in p.relative_to(base).parts)
                           and p.suffix not in (".map", ".ts"))
    # Installers fetch the big icons themselves; the shell needs only the one it shows.
    urls = [u for u in urls if u not in INSTALL_ONLY]
    shell = [u for u in urls if not u.startswith(DECODER_PREFIX)]
    decoder = [u for u in urls if u.startswith(DECODER_PREFIX)]
    return shell, decoder


def _path_for(url):
    if url == "/":
        return ROOT / "index.html"
    name = url.lstrip("/")
    if name in TOP_FILES:
        return ROOT / TOP_FILES[name]
    prefix, _, rest = name.partition("/")
    return ROOT / FOLDERS[prefix] / rest


def build_version():
    """A digest of every precached file: it changes whenever any shell file changes, so the worker updates."""
    shell, decoder = shell_files()
    digest = hashlib.sha256()
    for url in shell + decoder:
        asset = _load(_path_for(url))
        if asset is not None:
            digest.update(url.encode() + b"\0" + asset.etag.encode())
    return digest.hexdigest()[:16]


@blp.get("/")
def index():
    """The app shell."""
    asset = _load(ROOT / "index.html")
    if asset is None:
        abort(404)
    return _send(asset)


@blp.get("/sw.js")
def service_worker():
    """The service worker, with this build's version and precache list written in."""
    asset = _load(ROOT / "sw.js")
    if asset is None:
        abort(404)
    shell, decoder = shell_files()
    build = json.dumps({"version": build_version(), "shell": shell, "decoder": decoder}, separators=(",", ":"))
    body = SW_BUILD.sub(lambda _: build, asset.body.decode()).encode()
    response = _send(asset, body=body, etag=hashlib.sha256(body).hexdigest()[:32], cache="no-cache, max-age=0")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@blp.get("/<any(app, icons, vendor):prefix>/<path:name>")
def asset_file(prefix, name):
    """A script, style sheet, catalog, icon or decoder file of the app."""
    asset = _load(_resolve(FOLDERS[prefix], name))
    return _send(asset)


@blp.get("/manifest.webmanifest")
@blp.get("/favicon.ico")
def top_file():
    """The web app manifest and the favicon."""
    name = request.path.lstrip("/")
    asset = _load(ROOT / TOP_FILES[name])
    if asset is None:
        abort(404)
    return _send(asset)


def _inline_script_hashes(html):
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts)


def docs_csp(response):
    """Swagger UI keeps its one inline script: allow exactly that script by its hash."""
    hashes = _inline_script_hashes(response.get_data(as_text=True)) if response.mimetype == "text/html" else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {hashes}".strip(),
        # Swagger UI's React components set style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


@blp.after_app_request
def security_headers(response):
    """Every response: CSP for its kind (app, API docs, API), no sniffing, no framing, no referrer."""
    path = request.path
    headers = response.headers
    if path == "/api/docs" or path.startswith("/api/docs/"):
        csp = docs_csp(response)
    elif path.startswith("/api/") or path in ("/healthz", "/readyz"):
        csp = API_CSP
    else:
        csp = APP_CSP
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def ready():
    """True when the built decoder files are in place (scripts/build_web.sh has run)."""
    return (ROOT / "vendor" / "zxing" / "zxing_reader.wasm").is_file()


@blp.record_once
def _warn_unbuilt(state):
    if not ready():
        state.app.logger.warning("mobile_web/vendor is missing: run `bash scripts/build_web.sh` for the in-browser decoder")

