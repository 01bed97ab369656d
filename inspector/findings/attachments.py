"""Files on findings: checked by content, stored in GridFS with their SHA-256, photos thumbnailed and their EXIF kept."""
import hashlib
import io
import math
import os
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

import filetype
import gridfs
from PIL import Image, ImageOps
from pymongo.errors import DuplicateKeyError

from inspector.errors import DomainError
from inspector.audit import promises
from inspector.findings import workflow
from inspector.geo import distance_km
from inspector.store.connection import DURABLE_WRITE_CONCERN, durable

# Sniffed type -> (kind, the only Pillow decoder allowed to open it).
ACCEPTED = {"image/jpeg": ("photo", "JPEG"), "image/png": ("photo", "PNG"), "image/webp": ("photo", "WEBP"),
            "application/pdf": ("document", None)}
THUMBNAIL_SIDE = 320
PDF_TAIL = 1024  # readers accept %%EOF anywhere in the last kilobyte
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME, MAKE, MODEL = 36867, 36881, 306, 271, 272


class EvidenceFileError(DomainError, ValueError):
    """A file that cannot be kept as evidence; code is machine-readable."""

    KIND_OF_CODE = {"unsupported_file_type": "unsupported", "image_too_large": "too_large"}

    def __init__(self, code, message):
        super().__init__(message, code=code, kind=self.KIND_OF_CODE.get(code, "invalid"))


@dataclass
class FileFacts:
    """What the content of an upload turned out to be."""

    content_type: str
    kind: str
    width: int | None = None
    height: int | None = None
    photo: dict | None = None
    thumbnail: bytes | None = None


def examine(data, max_pixels):
    """Identify a file by its bytes (never its name); open photos fully; raise EvidenceFileError."""
    if not data:
        raise EvidenceFileError("empty_file", "The file is empty: the upload may have been cut off.")
    content_type = filetype.guess_mime(data[:262])
    if content_type not in ACCEPTED:
        raise EvidenceFileError("unsupported_file_type",
                                "Only photos (JPEG, PNG, WebP) and PDF documents can be attached; the file's "
                                "content is none of these, whatever its name says.")
    kind, decoder = ACCEPTED[content_type]
    if kind == "document":
        if b"%%EOF" not in data[-PDF_TAIL:]:
            raise EvidenceFileError("damaged_file", "The PDF is incomplete: the upload may have been cut off. Send it again.")
        return FileFacts(content_type, kind)
    return _examine_photo(data, content_type, decoder, max_pixels)


def _examine_photo(data, content_type, decoder, max_pixels):
    too_large = EvidenceFileError("image_too_large",
                                  f"The photo has more than {max_pixels // 1_000_000} million pixels: send a smaller one.")
    damaged = EvidenceFileError("damaged_file", "The photo is damaged or incomplete: the upload may have been cut off.")
    with warnings.catch_warnings():
        # Pillow only warns below twice its own limit; a decompression bomb must be refused, not warned about.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[decoder])
            width, height = image.size
            if width * height > max_pixels:
                raise too_large
            photo = photo_metadata(image)
            if decoder == "JPEG":
                image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))  # decode at 1/2..1/8 scale: same check, less work
            image.load()
        except EvidenceFileError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_large from None
        except Exception:  # noqa: BLE001 - any decoder failure means the bytes are not a whole photo
            raise damaged from None
    return FileFacts(content_type, "photo", width, height, photo, _thumbnail(image))


def _thumbnail(image):
    try:
        try:
            image = ImageOps.exif_transpose(image)
        except Exception:  # noqa: BLE001 - a broken orientation tag only costs the rotation
            pass
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()
    except Exception:  # noqa: BLE001 - an odd pixel format costs the thumbnail, never the evidence
        return None


def photo_metadata(image):
    """EXIF capture time, GPS position and camera as evidence; a broken EXIF block is noted, not fatal."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001
        return {"exif_error": "The photo's EXIF block could not be read."}
    meta = {}
    try:
        sub = exif.get_ifd(EXIF_IFD)
        taken = _exif_time(sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME), sub.get(OFFSET_TIME_ORIGINAL))
        if taken:
            meta["taken_at"] = taken
    except Exception:  # noqa: BLE001
        meta["exif_error"] = "The photo's capture time could not be read."
    try:
        gps = _exif_gps(exif.get_ifd(GPS_IFD))
        if gps:
            meta["gps"] = gps
    except Exception:  # noqa: BLE001
        meta["exif_error"] = "The photo's GPS position could not be read."
    camera = " ".join(_text(exif.get(tag)) for tag in (MAKE, MODEL) if exif.get(tag)).strip()
    if camera:
        meta["camera"] = camera[:100]
    return meta


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return "".join(ch for ch in str(value) if ch.isprintable()).strip()


def _exif_time(raw, offset):
    """The camera's clock reading as ISO 8601, with its UTC offset when the camera recorded one."""
    if not raw:
        return None
    moment = datetime.strptime(_text(raw)[:19], "%Y:%m:%d %H:%M:%S")
    text = moment.isoformat()
    offset = _text(offset) if offset else ""
    if re.fullmatch(r"[+-]\d{2}:\d{2}", offset):
        text += offset
    return text


def _exif_gps(gps):
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _degrees(gps[2]) * (-1 if _text(gps.get(1, "N")).upper() == "S" else 1)
    lon = _degrees(gps[4]) * (-1 if _text(gps.get(3, "E")).upper() == "W" else 1)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    out = {"lat": round(lat, 7), "lon": round(lon, 7)}
    if 6 in gps and math.isfinite(float(gps[6])):
        out["altitude_m"] = round(float(gps[6]) * (-1 if gps.get(5) in (1, b"\x01") else 1), 1)
    return out


def _degrees(dms):
    parts = [float(x) for x in (dms if isinstance(dms, (tuple, list)) else (dms,))] + [0.0, 0.0]
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def clean_filename(name):
    """A filename safe to show and to put in a header: no path, no control characters, not too long."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name.strip(" .")[:120] or "file"


def _files(db):
    return gridfs.GridFS(db.client.get_database(db.name, write_concern=DURABLE_WRITE_CONCERN))


def attach(db, finding, actor, data, filename, max_pixels, now=None):
    """Add a file to a finding; the same content again is a no-op. Return (attachment, created).

    The attachment document is the commit point: it is written once its files are whole, and carries its audit
    entry as a promise until the finding lists it. The files' ids follow from the finding and the content, so a retry
    after an interruption replaces whatever part of them the first try left, instead of leaving orphans.
    """
    now = now or datetime.now(timezone.utc)
    workflow.check_attach(finding, actor)
    sha256 = hashlib.sha256(data).hexdigest()
    with promises.exclusive("attachment", finding["_id"], sha256):
        existing = db.finding_attachments.find_one({"finding_id": finding["_id"], "sha256": sha256})
        if existing:
            _link(db, finding, actor, existing, now)
            return existing, False
        if len(finding.get("attachments") or []) >= workflow.MAX_ATTACHMENTS:
            raise workflow.TooManyAttachments(f"A finding holds at most {workflow.MAX_ATTACHMENTS} files.")
        facts = examine(data, max_pixels)
        files = _files(db)
        file_meta = {"sha256": sha256, "content_type": facts.content_type, "finding_id": finding["_id"]}
        file_id = _put(db, files, f"{finding['_id']}/{sha256}", data, filename=clean_filename(filename),
                       metadata=file_meta)
        thumbnail_id = _put(db, files, f"{file_id}/thumbnail", facts.thumbnail, filename="thumbnail.jpg",
                            metadata={**file_meta, "content_type": "image/jpeg", "thumbnail_of": sha256}) \
            if facts.thumbnail else None
        attachment = {
            "_id": str(uuid.uuid4()), "finding_id": finding["_id"], "sha256": sha256, "file_id": file_id,
            "thumbnail_id": thumbnail_id, "content_type": facts.content_type, "kind": facts.kind, "size": len(data),
            "filename": clean_filename(filename), "width": facts.width, "height": facts.height, "photo": facts.photo,
            "uploaded_at": now, "uploaded_by": actor.get("user_id"), "uploader": actor.get("username"),
            "uploaded_role": actor.get("role"),
        }
        if facts.photo and facts.photo.get("gps") and finding.get("location"):
            attachment["photo"]["distance_from_finding_m"] = round(
                distance_km(facts.photo["gps"], finding["location"]) * 1000)
        attachment["audit_pending"] = promises.pending(
            actor, "finding.attach", f"finding:{finding['_id']}",
            {"attachment_id": attachment["_id"], "sha256": sha256, "kind": attachment["kind"], "size": len(data)}, now)
        try:
            durable(db, "finding_attachments").insert_one(attachment)
        except DuplicateKeyError:
            # Another process stored the same bytes a moment ago (under the same file ids): keep its attachment.
            existing = db.finding_attachments.find_one({"finding_id": finding["_id"], "sha256": sha256})
            _link(db, finding, actor, existing, now)
            return existing, False
        _link(db, finding, actor, attachment, now)
        return attachment, True


def _put(db, files, file_id, data, **fields):
    """Store data under file_id; a whole file already there (another worker's, same content) is kept as it is.

    Only what an interrupted try left (a file whose chunks fall short of its length, or chunks with no file) is
    removed before storing again: deleting a whole file could pull it from under an attachment another worker
    is about to commit.
    """
    try:
        return files.put(data, _id=file_id, **fields)
    except gridfs.errors.FileExists:
        if _whole(db, file_id, len(data), fields["metadata"]["sha256"]):
            return file_id
        files.delete(file_id)
        return files.put(data, _id=file_id, **fields)


def _whole(db, file_id, length, sha256):
    """True when GridFS holds a complete file under file_id: its length, its SHA-256 and chunks that add up."""
    stored = db.fs.files.find_one({"_id": file_id}, {"length": 1, "chunkSize": 1, "metadata.sha256": 1})
    if not stored or stored.get("length") != length or (stored.get("metadata") or {}).get("sha256") != sha256:
        return False
    expected = -(-length // stored["chunkSize"])  # GridFS chunks are full but for the last
    return db.fs.chunks.count_documents({"files_id": file_id}) == expected


def summary(attachment):
    """The attachment as it is listed on its finding."""
    keys = ("sha256", "content_type", "kind", "size", "filename", "width", "height", "photo", "uploaded_at",
            "uploaded_by", "uploader", "uploaded_role")
    return {"id": attachment["_id"], **{k: attachment.get(k) for k in keys},
            "has_thumbnail": attachment.get("thumbnail_id") is not None}


def _link(db, finding, actor, attachment, now):
    """List the attachment on its finding and timeline once (this also heals an upload interrupted in between).

    The ETag is left alone: it versions the finding's state, and added evidence conflicts with no decision, so an
    enterprise can upload its documents and then respond with the ETag it read before.
    """
    entry = {"at": now, "action": "attach", "from": finding["status"], "to": finding["status"],
             "actor_id": actor.get("user_id"), "actor": actor.get("username"), "role": actor.get("role"),
             "device_id": actor.get("device_id"), "comment": None, "attachment_id": attachment["_id"],
             "kind": attachment["kind"]}
    durable(db, "findings").update_one(
        {"_id": finding["_id"], "attachments.id": {"$ne": attachment["_id"]}},
        {"$push": {"attachments": summary(attachment), "timeline": entry},
         "$set": {"updated_at": now}})
    promises.settle(db, "finding_attachments", attachment["_id"], attachment.pop("audit_pending", None))


def finish_abandoned(db, attachment):
    """List an attachment whose upload no client came back to retry, as its uploader's retry would have."""
    finding = db.findings.find_one({"_id": attachment["finding_id"]})
    if finding is None:
        return
    actor = attachment["audit_pending"]["actor"] or {}
    _link(db, finding, actor, attachment, attachment["uploaded_at"])


def find_attachment(db, finding_id, attachment_id):
    """The attachment with this id on this finding, or None."""
    return db.finding_attachments.find_one({"_id": str(attachment_id), "finding_id": str(finding_id)})


def open_stored(db, file_id):
    """A readable GridFS file, or None when it is gone."""
    try:
        return _files(db).get(file_id)
    except gridfs.errors.NoFile:
        return None
