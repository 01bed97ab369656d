"""Evidence files through the HTTP API: content checks, limits, GridFS storage, dedupe, thumbnails, EXIF and scope."""
import hashlib
import io
import uuid
from urllib.parse import unquote

import pytest
from PIL import Image, TiffImagePlugin

from api.context import db as current_db
from conftest import AuthActions, make_app
from finding_helpers import Crew, act, crew, log_finding, minimal_pdf, photo, read, sent_finding, upload  # noqa: F401
from seed import users as demo_users
from inspector.findings import attachments
from seed.enterprises import enterprise_docs


def test_photo_is_stored_with_its_sha256_thumbnail_and_exif(client, db, crew):
    finding = log_finding(client, crew["inspector"])
    data = photo(size=(1600, 1200), gps=(25.8415, 114.9399), taken_at="2025:02:19 10:41:57", offset="+08:00")
    response = upload(client, crew["inspector"], finding["id"], data, "IMG_0042.JPG")
    assert response.status_code == 201
    attachment = response.json
    assert attachment["content_type"] == "image/jpeg" and attachment["kind"] == "photo"
    assert attachment["sha256"] == hashlib.sha256(data).hexdigest()
    assert (attachment["width"], attachment["height"], attachment["size"]) == (1600, 1200, len(data))
    assert attachment["filename"] == "IMG_0042.JPG" and attachment["has_thumbnail"] is True
    meta = attachment["photo"]
    assert meta["taken_at"] == "2025-02-19T10:41:57+08:00"
    assert meta["gps"]["lat"] == pytest.approx(25.8415, abs=1e-4)
    assert meta["gps"]["lon"] == pytest.approx(114.9399, abs=1e-4)
    assert meta["distance_from_finding_m"] < 100  # the photo was taken where the finding says
    assert db.fs.files.count_documents({"metadata.sha256": attachment["sha256"]}) == 2  # original and thumbnail

    base = f"/api/inspections/{finding['id']}/attachments/{attachment['id']}"
    original = client.get(base, headers=crew["inspector"])
    assert original.status_code == 200 and original.data == data
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    thumbnail = client.get(f"{base}/thumbnail", headers=crew["supervisor"])
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumbnail.data))
    assert small.format == "JPEG" and max(small.size) == 320 and small.size == (320, 240)


def test_png_webp_and_pdf_are_accepted_by_content(client, crew):
    finding = log_finding(client, crew["inspector"])
    cases = [(photo("PNG"), "a.png", "image/png"), (photo("WEBP", color=(1, 2, 3)), "b.webp", "image/webp"),
             (minimal_pdf(), "slip.pdf", "application/pdf")]
    for data, name, expected in cases:
        response = upload(client, crew["inspector"], finding["id"], data, name)
        assert response.status_code == 201, (name, response.json)
        assert response.json["content_type"] == expected
    # The name does not decide: a PNG called .pdf is a PNG.
    renamed = upload(client, crew["inspector"], finding["id"], photo("PNG", color=(9, 9, 9)), "report.pdf")
    assert renamed.json["content_type"] == "image/png"


def test_pdf_download_is_an_attachment_and_has_no_thumbnail(client, crew):
    finding = log_finding(client, crew["inspector"])
    pdf = upload(client, crew["inspector"], finding["id"], minimal_pdf(), "slip.pdf").json
    assert pdf["kind"] == "document" and pdf["has_thumbnail"] is False
    base = f"/api/inspections/{finding['id']}/attachments/{pdf['id']}"
    download = client.get(base, headers=crew["supervisor"])
    assert download.status_code == 200 and download.data == minimal_pdf()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    missing = client.get(f"{base}/thumbnail", headers=crew["supervisor"])
    assert missing.status_code == 404 and missing.json["errors"]["error_code"] == "no_thumbnail"


def test_the_same_content_twice_is_kept_once(client, db, crew):
    finding = log_finding(client, crew["inspector"])
    data = photo()
    first = upload(client, crew["inspector"], finding["id"], data, "one.jpg")
    again = upload(client, crew["inspector"], finding["id"], data, "two.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["filename"] == "one.jpg"
    body, _ = read(client, crew["inspector"], finding["id"])
    assert len(body["attachments"]) == 1
    assert [e["action"] for e in body["timeline"]] == ["submit", "attach"]
    assert db.fs.files.count_documents({"metadata.sha256": first.json["sha256"], "metadata.thumbnail_of": None}) == 1


def test_wrong_types_are_415_whatever_their_name(client, crew):
    finding = log_finding(client, crew["inspector"])
    gif = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(gif, "GIF")
    for data, name in [(b"just some text, not a photo", "photo.jpg"), (gif.getvalue(), "anim.gif"),
                       (b"<html><script>alert(1)</script></html>", "slip.pdf"), (b"MZ\x90\x00" + bytes(200), "x.png")]:
        response = upload(client, crew["inspector"], finding["id"], data, name)
        assert response.status_code == 415, name
        assert response.json["errors"]["error_code"] == "unsupported_file_type"
    assert read(client, crew["inspector"], finding["id"])[0]["attachments"] == []


def test_cut_off_uploads_are_422_not_stored(client, crew):
    finding = log_finding(client, crew["inspector"])
    jpeg, pdf = photo(size=(800, 600)), minimal_pdf()
    for data in (jpeg[: len(jpeg) // 2], pdf[:-30], b""):
        response = upload(client, crew["inspector"], finding["id"], data, "cut")
        assert response.status_code == 422, response.json
        assert response.json["errors"]["error_code"] in ("damaged_file", "empty_file")
    missing = client.post(f"/api/inspections/{finding['id']}/attachments", data={}, headers=crew["inspector"],
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.json["errors"]["error_code"] == "file_missing"


def test_a_file_over_the_default_15_mb_is_413(client, crew):
    finding = log_finding(client, crew["inspector"])
    data = b"%PDF-1.4\n" + bytes(15 * 1024 * 1024) + b"%%EOF\n"
    response = upload(client, crew["inspector"], finding["id"], data, "huge.pdf")
    assert response.status_code == 413
    assert response.json["errors"]["error_code"] == "file_too_large"


def test_broken_exif_is_tolerated(client, crew):
    finding = log_finding(client, crew["inspector"])
    jpeg = photo(color=(7, 8, 9))
    broken = jpeg[:2] + b"\xff\xe1\x00\x10Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff" + jpeg[2:]
    response = upload(client, crew["inspector"], finding["id"], broken, "odd.jpg")
    assert response.status_code == 201
    assert "gps" not in response.json["photo"] and "taken_at" not in response.json["photo"]


def test_exif_gps_with_impossible_values_is_ignored():
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif[0x8825] = {1: "N", 2: (TiffImagePlugin.IFDRational(1, 0), 0.0, 0.0), 3: "E", 4: (500.0, 0.0, 0.0)}
    assert "gps" not in attachments.photo_metadata(image)


@pytest.fixture
def tight(db):
    """A second app on the same database with a 50 kB upload limit and a 10,000-pixel photo limit."""
    app = make_app(db.name, MAX_UPLOAD_BYTES=50_000, MAX_IMAGE_PIXELS=10_000)
    with app.app_context():
        current_db().enterprises.insert_many(enterprise_docs())
        demo_users.ensure_demo_users(current_db())
    client = app.test_client()
    return client, Crew(AuthActions(client))


def test_the_upload_limit_is_configurable_and_checked_on_the_file_itself(tight):
    client, people = tight
    finding = log_finding(client, people["inspector"])
    just_over = b"%PDF-1.4\n" + bytes(50_000) + b"%%EOF\n"  # within the multipart allowance, over the file limit
    response = upload(client, people["inspector"], finding["id"], just_over, "big.pdf")
    assert response.status_code == 413 and response.json["errors"]["error_code"] == "file_too_large"
    far_over = b"%PDF-1.4\n" + bytes(600_000) + b"%%EOF\n"  # beyond what the server will even read
    response = upload(client, people["inspector"], finding["id"], far_over, "bigger.pdf")
    assert response.status_code == 413 and response.json["errors"]["error_code"] == "file_too_large"
    assert upload(client, people["inspector"], finding["id"], minimal_pdf(), "ok.pdf").status_code == 201


def test_a_photo_with_too_many_pixels_is_refused_before_decoding(tight):
    client, people = tight
    finding = log_finding(client, people["inspector"])
    bomb = photo("PNG", size=(1000, 1000))  # one colour: a few kB on the wire, a million pixels in memory
    assert len(bomb) < 50_000
    response = upload(client, people["inspector"], finding["id"], bomb, "bomb.png")
    assert response.status_code == 413 and response.json["errors"]["error_code"] == "image_too_large"
    assert upload(client, people["inspector"], finding["id"], photo("PNG", size=(90, 90)), "ok.png").status_code == 201


def test_downloads_are_scoped_like_their_finding(client, crew):
    finding_id = sent_finding(client, crew)
    attachment = upload(client, crew["inspector"], finding_id, photo()).json
    url = f"/api/inspections/{finding_id}/attachments/{attachment['id']}"
    assert client.get(url, headers=crew["enterprise"]).status_code == 200
    for username in ("enterprise2", "inspector2"):
        response = client.get(url, headers=crew[username])
        assert response.status_code == 404, username
        assert client.get(f"{url}/thumbnail", headers=crew[username]).status_code == 404
    assert client.get(url).status_code == 401
    # An attachment id is only found under its own finding.
    other = log_finding(client, crew["inspector"])
    moved = client.get(f"/api/inspections/{other['id']}/attachments/{attachment['id']}", headers=crew["inspector"])
    assert moved.status_code == 404 and moved.json["errors"]["error_code"] == "attachment_not_found"
    random_id = client.get(f"/api/inspections/{finding_id}/attachments/{uuid.uuid4()}", headers=crew["inspector"])
    assert random_id.status_code == 404


def test_enterprise_documents_are_visible_to_the_supervisor_not_to_other_enterprises(client, crew):
    finding_id = sent_finding(client, crew)
    document = upload(client, crew["enterprise"], finding_id, minimal_pdf(), "transfer-record.pdf").json
    assert document["uploaded_role"] == "enterprise"
    url = f"/api/inspections/{finding_id}/attachments/{document['id']}"
    assert client.get(url, headers=crew["supervisor"]).status_code == 200
    assert client.get(url, headers=crew["enterprise2"]).status_code == 404
    # The enterprise cannot attach to another enterprise's finding either.
    bmm = sent_finding(client, crew, enterprise_id="ENT-BMM")
    assert upload(client, crew["enterprise"], bmm, minimal_pdf()).status_code == 404


def test_who_may_attach_when(client, crew):
    finding = log_finding(client, crew["inspector"])
    assert upload(client, crew["inspector2"], finding["id"], photo()).status_code == 404  # not theirs to see
    assert upload(client, crew["admin"], finding["id"], photo()).status_code == 403
    assert upload(client, crew["supervisor"], finding["id"], minimal_pdf()).status_code == 201
    finding_id = sent_finding(client, crew)
    act(client, crew["enterprise"], finding_id, "respond", comment="Done.")
    late = upload(client, crew["enterprise"], finding_id, minimal_pdf("late"))
    assert late.status_code == 409  # a response was given; documents come with the next request for more
    act(client, crew["supervisor"], finding_id, "resolve", outcome="accepted")
    closed = upload(client, crew["inspector"], finding_id, photo())
    assert closed.status_code == 409 and closed.json["errors"]["error_code"] == "invalid_transition"


def test_filenames_are_cleaned(client, crew):
    finding = log_finding(client, crew["inspector"])
    response = upload(client, crew["inspector"], finding["id"], photo(), "../../etc/pass\x07wd.jpg")
    assert response.json["filename"] == "passwd.jpg"


def test_a_finding_holds_a_bounded_number_of_files_but_a_retry_still_succeeds(client, crew, monkeypatch):
    from inspector.findings import workflow

    monkeypatch.setattr(workflow, "MAX_ATTACHMENTS", 2)
    finding = log_finding(client, crew["inspector"])
    first, second, third = photo(color=(1, 1, 1)), photo(color=(2, 2, 2)), photo(color=(3, 3, 3))
    assert upload(client, crew["inspector"], finding["id"], first).status_code == 201
    assert upload(client, crew["inspector"], finding["id"], second).status_code == 201
    refused = upload(client, crew["inspector"], finding["id"], third)
    assert refused.status_code == 409 and refused.json["errors"]["error_code"] == "too_many_attachments"
    assert upload(client, crew["inspector"], finding["id"], second).status_code == 200  # an upload retried


def test_a_photo_named_in_chinese_downloads_under_its_own_name(client, crew):
    finding = log_finding(client, crew["inspector"])
    data = photo(color=(10, 200, 30))
    stored = upload(client, crew["inspector"], finding["id"], data, "现场照片.jpg")
    assert stored.status_code == 201 and stored.json["filename"] == "现场照片.jpg"
    base = f"/api/inspections/{finding['id']}/attachments/{stored.json['id']}"
    for path, expected in ((base, "现场照片.jpg"), (f"{base}/thumbnail", "thumbnail-现场照片.jpg")):
        download = client.get(path, headers=crew["supervisor"])
        assert download.status_code == 200
        header = download.headers["Content-Disposition"]
        header.encode("ascii")  # a header is ASCII: the name travels percent-encoded
        assert header.startswith('inline; filename="') and "filename*=UTF-8''" in header
        assert unquote(header.split("filename*=UTF-8''")[1]) == expected
    assert client.get(base, headers=crew["supervisor"]).data == data
