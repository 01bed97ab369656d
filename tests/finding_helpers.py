"""Helpers for the findings tests: request bodies, real files, and walking a finding through its workflow."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from seed import users as demo_users
from seed.enterprises import enterprise_docs

GANZHOU = {"lat": 25.8412, "lon": 114.9396, "accuracy_m": 8.0}


def finding_body(**overrides):
    """A valid POST /api/inspections body against ENT-GMT (Jiangxi)."""
    body = {
        "client_id": str(uuid.uuid4()),
        "enterprise_id": "ENT-GMT",
        "site": {"type": "market", "name": "Ganzhou rare-earth market, stall 14"},
        "location": dict(GANZHOU),
        "observed_at": (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(),
        "batch_codes": ["RE5Q7KX2M"],
        "discrepancies": ["unrecorded_transfer", "label_missing_or_damaged"],
        "observed_mass_kg": 480.0,
        "severity": "high",
        "notes": "Drums relabelled by hand.",
    }
    body.update(overrides)
    return body


def log_finding(client, headers, **overrides):
    """POST a finding and return its JSON (asserting it was created)."""
    response = client.post("/api/inspections", json=finding_body(**overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def read(client, headers, finding_id):
    """GET a finding; return (json, ETag header)."""
    response = client.get(f"/api/inspections/{finding_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json, response.headers["ETag"]


def act(client, headers, finding_id, action, etag=None, **fields):
    """POST a transition with the finding's current ETag (read first unless given); return the response."""
    if etag is None:
        _, etag = read(client, headers, finding_id)
    return client.post(f"/api/inspections/{finding_id}/transitions", json={"action": action, **fields},
                       headers={**headers, "If-Match": etag})


def upload(client, headers, finding_id, data, filename="photo.jpg"):
    """POST a file as multipart 'file'; return the response."""
    return client.post(f"/api/inspections/{finding_id}/attachments", data={"file": (io.BytesIO(data), filename)},
                       headers=headers, content_type="multipart/form-data")


def photo(fmt="JPEG", size=(640, 480), color=(180, 120, 60), gps=None, taken_at=None, offset=None):
    """Real image bytes made with Pillow, optionally with EXIF GPS and DateTimeOriginal."""
    image = Image.new("RGB", size, color)
    image.putpixel((1, 1), (0, 0, 0))
    exif = Image.Exif()
    if taken_at:
        exif[0x8769] = {36867: taken_at, **({36881: offset} if offset else {})}
    if gps:
        lat, lon = gps
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif) if (gps or taken_at) else image.save(out, fmt)
    return out.getvalue()


def _dms(value):
    value = abs(value)
    return (float(int(value)), float(int(value * 60) % 60), round((value * 3600) % 60, 4))


def minimal_pdf(text="Weighing slip 2025-02-19: 480 kg"):
    """A small but complete one-page PDF, with a correct cross-reference table."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


class Crew:
    """Signed-in headers per demo user, signing each in once (signing in again would revoke the device's session)."""

    def __init__(self, auth):
        self._auth = auth
        self._headers = {}

    def __getitem__(self, username):
        if username not in self._headers:
            self._headers[username] = self._auth.headers(username)
        return self._headers[username]


@pytest.fixture
def crew(db, auth):
    """The demo enterprises and demo users (password 'demo'), without the rest of the demo dataset."""
    db.enterprises.insert_many(enterprise_docs())
    demo_users.ensure_demo_users(db)
    return Crew(auth)


def sent_finding(client, crew, **overrides):
    """A finding logged by 'inspector', confirmed and sent to its enterprise by 'supervisor'; returns its id."""
    finding = log_finding(client, crew["inspector"], **overrides)
    assert act(client, crew["supervisor"], finding["id"], "confirm").status_code == 200
    assert act(client, crew["supervisor"], finding["id"], "send_to_enterprise").status_code == 200
    return finding["id"]


def promote(db, auth, username, role="supervisor"):
    """Give a user another role (as an administrator might) and sign them in again; return new headers."""
    db.users.update_one({"username": username}, {"$set": {"role": role}})
    return auth.headers(username, device_id=f"promoted-{username}")
