"""API answers go compressed to a phone that accepts it, and a compressed ETag still works in If-Match."""
import gzip
import json

import brotli
import pytest


@pytest.fixture
def supervisor(auth, seeded):
    return auth.headers("supervisor")


@pytest.fixture
def admin(auth, seeded):
    return auth.headers("admin")


def test_history_page_comes_brotli_compressed_and_reads_the_same(client, supervisor):
    plain = client.get("/api/scans?page_size=50", headers=supervisor)
    packed = client.get("/api/scans?page_size=50", headers={**supervisor, "Accept-Encoding": "br, gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers, "a client that does not ask gets plain JSON"
    assert packed.headers["Content-Encoding"] == "br" and "Accept-Encoding" in packed.headers["Vary"]
    body = brotli.decompress(packed.get_data())
    assert json.loads(body) == plain.json
    assert len(packed.get_data()) * 3 < len(body), "the History page shrinks several-fold"


def test_gzip_for_a_client_without_brotli(client, supervisor):
    packed = client.get("/api/scans?page_size=50", headers={**supervisor, "Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.get_data()))


def test_errors_and_small_answers_stay_plain(client, supervisor):
    missing = client.get("/api/batches/RE0000000000", headers={**supervisor, "Accept-Encoding": "br"})
    assert missing.status_code in (404, 422) and "Content-Encoding" not in missing.headers
    assert missing.json["code"] == missing.status_code


def test_a_compressed_etag_is_accepted_in_if_match(app, client, admin):
    app.config["COMPRESS_MIN_SIZE"] = 0  # an enterprise record is under the 1 KB threshold
    path = "/api/registry/enterprises/ENT-BPS"
    read = client.get(path, headers={**admin, "Accept-Encoding": "br"})
    tag = read.headers["ETag"]
    assert read.headers["Content-Encoding"] == "br" and tag.endswith(':br"')
    changed = client.patch(path, json={"name": "Baotou Plains Separation Co."}, headers={**admin, "If-Match": tag})
    assert changed.status_code == 200, changed.json
    assert client.patch(path, json={"name": "Y"}, headers={**admin, "If-Match": tag}).status_code == 412, \
        "the compressed form of a stale tag is as stale as the plain one"
