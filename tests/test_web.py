"""The web app as the Flask app serves it: the shell, its assets and service worker, and the security headers."""
import gzip
import json
import re
from pathlib import Path

import pytest

from api import web
from inspector.verdict.reasons import REASONS

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "mobile_web" / "app" / "i18n"
PLURAL = re.compile(r"\.(zero|one|two|few|many)$")


def catalog(name):
    """The keys and texts of one message catalog (a plain `export default {...}` object)."""
    text = (CATALOGS / f"{name}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$', text, re.M))


def test_shell_is_served_with_a_strict_csp(client):
    r = client.get("/")
    assert r.status_code == 200
    assert b'<script type="module" src="/app/main.js">' in r.data
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=(self)" in r.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in r.headers, "HSTS only over HTTPS"


def test_hsts_over_https(client):
    r = client.get("/", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_shell_has_no_inline_script_or_style():
    html = (ROOT / "mobile_web" / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "every script is a file, so the CSP needs no hashes"
    assert "style=" not in html and "<style" not in html


def test_api_responses_get_a_locked_down_csp(client):
    r = client.get("/api/meta")
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_swagger_ui_keeps_working_with_its_inline_script_allowed_by_hash(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    inline = re.findall(r"<script>(.*?)</script>", r.get_data(as_text=True), re.S)
    assert inline, "flask-smorest's page has its inline script"
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200


def test_service_worker_has_root_scope_and_lists_the_shell(client):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.mimetype == "text/javascript"
    assert "no-cache" in r.headers["Cache-Control"]
    body = r.get_data(as_text=True)
    build = json.loads(re.search(r"const BUILD = (\{.*?\});", body).group(1))
    assert re.fullmatch(r"[0-9a-f]{16}", build["version"])
    for url in ("/", "/manifest.webmanifest", "/app/main.js", "/app/core.js", "/app/app.css",
                "/app/i18n/en.js", "/app/i18n/zh-CN.js", "/app/i18n/id.js", "/app/i18n/fr.js", "/icons/icon-192.png"):
        assert url in build["shell"], url
    for url in build["shell"]:
        assert client.get(url).status_code == 200, url


def test_decoder_is_served_by_us_when_built(client):
    if not web.ready():
        pytest.skip("mobile_web/vendor is not built (scripts/build_web.sh)")
    build = json.loads(re.search(r"const BUILD = (\{.*?\});", client.get("/sw.js").get_data(as_text=True)).group(1))
    assert "/vendor/zxing/zxing_reader.wasm" in build["decoder"]
    assert "/vendor/zxing/es/reader/index.js" in build["decoder"]
    assert not [u for u in build["shell"] if u.startswith("/vendor/")], "the shell installs even without the decoder"
    r = client.get("/vendor/zxing/zxing_reader.wasm")
    assert r.status_code == 200 and r.mimetype == "application/wasm"
    reader = client.get("/vendor/zxing/es/reader/index.js").get_data(as_text=True)
    assert "from \"../share.js\"" in reader


def test_version_changes_when_a_shell_file_changes(client, tmp_path, monkeypatch):
    before = web.build_version()
    fake = tmp_path / "mobile_web"
    for name in ("index.html", "sw.js", "manifest.webmanifest"):
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_bytes((ROOT / "mobile_web" / name).read_bytes())
    (fake / "app").mkdir()
    (fake / "app" / "main.js").write_text("console.log(1)")
    monkeypatch.setattr(web, "ROOT", fake)
    first = web.build_version()
    (fake / "app" / "main.js").write_text("console.log(2)")
    assert web.build_version() != first != before


def test_assets_are_gzipped_and_revalidated(client):
    r = client.get("/app/main.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Vary"] == "Accept-Encoding"
    assert b"boot()" in gzip.decompress(r.data)
    etag = r.headers["ETag"]
    again = client.get("/app/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    plain = client.get("/app/main.js")
    assert "Content-Encoding" not in plain.headers and b"boot()" in plain.data


def test_manifest_makes_the_app_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r.mimetype == "application/manifest+json"
    manifest = json.loads(r.data)
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(i.get("purpose") == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


@pytest.mark.parametrize("path", ["/app/../api/web.py", "/app/%2e%2e/%2e%2e/api/web.py", "/vendor/../package.json",
                                  "/app/nope.js", "/node_modules/zxing-wasm/package.json", "/package.json",
                                  "/tools/make_icons.py"])
def test_only_the_app_folders_are_reachable(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("name", ["zh-CN", "id", "fr"])
def test_every_catalog_has_every_message_with_the_same_placeholders(name):
    english, other = catalog("en"), catalog(name)
    assert len(english) > 300

    def base(keys):
        # Plural forms ("key.one") exist only where a language has them; the base key is always there.
        return {k for k in keys if not PLURAL.search(k)}
    assert base(other) == base(english)
    for key in set(other) | set(english):
        if PLURAL.search(key):
            assert PLURAL.sub("", key) in english, key
    for key, text in english.items():
        if key in other:
            assert sorted(re.findall(r"\{\w+\}", other[key])) == sorted(re.findall(r"\{\w+\}", text)), key


def test_every_verdict_reason_is_translated():
    for name in ("en", "zh-CN", "id", "fr"):
        messages = catalog(name)
        for code in REASONS:
            for part in ("title", "meaning", "message"):
                assert f"reason.{code}.{part}" in messages, (name, code, part)


def test_check_character_port_matches_python():
    """The phone's instant check (batchcode.js, run in Node) agrees with inspector.batch_code on every input."""
    import random
    import shutil
    import subprocess

    from inspector.codes import batch_code

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    rng = random.Random(7)
    inputs = []
    for _ in range(150):
        code = batch_code.issue(rng)
        inputs.append(code)
        i = rng.randrange(2, len(code))
        inputs.append(code[:i] + rng.choice(batch_code.ALPHABET.replace(code[i], "")) + code[i + 1:])
        j = rng.choice([k for k in range(2, len(code) - 1) if code[k] != code[k + 1]])
        inputs.append(code[:j] + code[j + 1] + code[j] + code[j + 2:])
        inputs.append(f"{code[:2]} {code[2:6]}-{code[6:10]} {code[10:]}".lower())
    script = ("import('./mobile_web/app/batchcode.js').then((m) => { const xs = JSON.parse(process.argv[1]);"
              " console.log(JSON.stringify(xs.map((x) => m.checkInput(x).state === 'valid'))); });")
    out = subprocess.run([node, "--input-type=module", "-e", script, json.dumps(inputs)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    js_valid = json.loads(out)

    def py_valid(text):
        try:
            batch_code.normalise(text)
            return True
        except batch_code.BatchCodeError:
            return False

    assert js_valid == [py_valid(x) for x in inputs]
    assert sum(js_valid) == 300, "the issued codes (and their typed forms) pass, every mutation fails"


def test_every_planted_reason_reads_in_every_language(client, seeded, auth):
    """Each reason the planted cases produce becomes a full sentence from its evidence in all four languages:
    no placeholder left, no 'undefined', and not the generic fallback."""
    import shutil
    import subprocess
    import uuid
    from datetime import datetime, timezone

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    headers = auth.headers("inspector")
    reasons = {}
    for case in seeded:
        body = {**case["scan"], "code": case["code"], "client_id": str(uuid.uuid4()),
                "scanned_at": datetime.now(timezone.utc).isoformat()}
        r = client.post("/api/scans", json=body, headers=headers)
        assert r.status_code == 201, r.json
        for reason in r.json["verdict"]["reasons"]:
            reasons.setdefault(reason["code"], reason)
    assert len(reasons) >= 11, sorted(reasons)
    script = """
globalThis.document = { documentElement: {} };
const { setLanguage, reasonMessage, t } = await import('./mobile_web/app/i18n.js');
const reasons = JSON.parse(process.argv[1]);
const out = {};
for (const lang of ['en', 'zh-CN', 'id', 'fr']) {
  await setLanguage(lang);
  out[lang] = reasons.map((r) => ({ code: r.code, text: reasonMessage(r), meaning: t(`reason.${r.code}.meaning`) }));
}
console.log(JSON.stringify(out));
"""
    done = subprocess.run([node, "--input-type=module", "-e", script, json.dumps(list(reasons.values()), default=str)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for lang, texts in json.loads(done.stdout).items():
        for item in texts:
            text = item["text"]
            assert "{" not in text and "undefined" not in text and "NaN" not in text, (lang, item)
            if not (item["code"] == "malformed_code" and lang != "en"):
                assert text != item["meaning"], (lang, item["code"], "fell back to the generic sentence")
