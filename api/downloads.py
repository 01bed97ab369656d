"""Download headers: Content-Disposition per RFC 6266, so a file named in Chinese downloads under its own name."""
import unicodedata
from urllib.parse import quote


def ascii_fallback(filename):
    """The name for clients that ignore filename*: accents dropped, other non-ASCII letters as underscores."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    if len(plain) < len(filename):
        stem, dot, ext = filename.rpartition(".")
        ext = ext if dot and ext.isascii() else ""
        plain = "".join(ch if ch.isascii() and ch.isprintable() else "_" for ch in (stem if ext else filename))
        plain = (plain.strip("_ ") or "file") + ("." + ext if ext else "")
    plain = "".join(ch for ch in plain if ch.isprintable() and ch not in '"\\;')
    return plain.strip(" .") or "file"


def content_disposition(kind, filename):
    """`attachment; filename="..."; filename*=UTF-8''...` (the starred form only when the name is not plain ASCII)."""
    fallback = ascii_fallback(filename)
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")
    return value
