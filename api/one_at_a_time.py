"""The embedded store's turns: one request at a time in the app, its body read before and its answer sent after.

mongomock is not thread-safe, so on the embedded store gunicorn's threads take turns inside the app (see
gunicorn.conf.py). A turn lasts only while the app works: the request body is read into a spooled file first, within
BODY_READ_TIMEOUT_SECONDS, and the answer is written into one before the turn ends and sent after it, a stalled
client being dropped after SEND_TIMEOUT_SECONDS. A slow client then holds a thread for a while, never the turn.
"""
import io
import json
import logging
import socket
import tempfile
import threading
import time
import uuid

from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import RequestEntityTooLarge

from .logs import REQUEST_ID_HEADER, SANE_REQUEST_ID
from .web import API_CSP

log = logging.getLogger(__name__)

IN_MEMORY_BYTES = 1024 * 1024  # bodies and answers beyond this go to a temporary file
PIECE_BYTES = 64 * 1024


class OneAtATime:
    """WSGI middleware: reads the body, takes the turn for the app alone, and sends the answer after the turn."""

    def __init__(self, app, max_body_bytes, read_timeout, send_timeout):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self.send_timeout = send_timeout
        self.lock = threading.Lock()
        self.deadlines = Deadlines()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        sock = environ.get("gunicorn.socket")
        if environ.get("HTTP_VERSION") == "2":
            sock = None  # one connection carries many requests: cutting it off would end them all
        try:
            refusal = self._read_body(environ, sock)
        except NoMoreData:
            raise  # the client went away mid-body: gunicorn closes the connection quietly
        except ParseException:
            refusal = (400, "malformed_body", "The chunked request body is malformed; send it again.", {})
        if refusal:
            return self._refuse(environ, start_response, started, *refusal)
        answered = {}

        def start(status, headers, exc_info=None):
            answered["request_id"] = next((v for k, v in headers if k.lower() == REQUEST_ID_HEADER.lower()), None)
            return start_response(status, headers, exc_info)

        with self.lock:
            body = self.app(environ, start)
            answer = _answer_of(body, environ)
        return Sending(answer, self.deadlines, sock, self.send_timeout, environ, answered.get("request_id"))

    def _read_body(self, environ, sock):
        """Replace wsgi.input with the whole body; return a refusal (status, code, message, details) or None."""
        length = _content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not length and not chunked:
            return None
        if length and length > self.max_body_bytes:
            # The app refuses it from its Content-Length (after any 401) without reading a byte.
            environ["wsgi.input"] = _Overflowing(io.BytesIO())
            return None
        wanted = length if length else self.max_body_bytes + 1
        spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)
        watch = self.deadlines.watch(sock, self.read_timeout, socket.SHUT_RD) if sock is not None else None
        source, received, complete = environ["wsgi.input"], 0, False
        try:
            while received < wanted:
                piece = source.read(min(PIECE_BYTES, wanted - received))
                if not piece:
                    break
                spool.write(piece)
                received += len(piece)
            # A chunked body ends with an empty read (or runs past the bound); a short read of a sized one is a
            # client gone or cut off.
            complete = received == length if length else True
        except (NoMoreData, OSError):
            if not (watch and watch.expired):
                spool.close()
                raise
        finally:
            if watch:
                self.deadlines.forget(watch)
        if watch and watch.expired and not complete:
            spool.close()
            return (408, "body_timeout", f"The request body did not arrive within {self.read_timeout:g} s "
                    f"({received:,} bytes came); send it again on a better connection.",
                    {"timeout_seconds": self.read_timeout, "received_bytes": received})
        spool.seek(0)
        # A short body keeps its declared length, so the app sees the client as gone, as it would unbuffered.
        environ["wsgi.input"] = _Overflowing(spool) if received > self.max_body_bytes else spool
        return None

    def _refuse(self, environ, start_response, started, status, code, message, details):
        """Answer in the house error shape without taking the turn (the app never sees the request)."""
        phrase = {400: "Bad Request", 408: "Request Timeout"}[status]
        request_id = environ.get("HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_"), "")
        if not SANE_REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        payload = json.dumps({"code": status, "status": phrase, "message": message,
                              "errors": {"error_code": code, **details}}).encode()
        start_response(f"{status} {phrase}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
            (REQUEST_ID_HEADER, request_id), ("Content-Security-Policy", API_CSP),
            ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store")])
        # The rest of the body may still be on its way: the connection closes after this answer (gunicorn's own
        # Response has no other way to be told, and its start_response is a bound method of it).
        force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
        if force_close:
            force_close()
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        logging.getLogger("api.access").info(
            "%s %s %s %.1f ms", method, path, status, duration_ms,
            extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms, "user_id": None,
                   "role": None, "remote_addr": environ.get("REMOTE_ADDR"), "request_id": request_id})
        return [payload]


def _content_length(environ):
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _answer_of(body, environ):
    """The app's answer held apart from the store: bytes in memory or a spooled file, or a file to stream."""
    if isinstance(body, environ.get("wsgi.file_wrapper", ())):
        return body  # a file on disk, not the store: it is read while sending
    chunks, size, spool = [], 0, None
    try:
        for chunk in body:
            if spool is None:
                chunks.append(chunk)
                size += len(chunk)
                if size > IN_MEMORY_BYTES:
                    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)
                    spool.writelines(chunks)
                    chunks = None
            else:
                spool.write(chunk)
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    finally:
        if hasattr(body, "close"):
            body.close()
    if spool is None:
        return chunks
    spool.seek(0)
    return _SpoolPieces(spool)


class _SpoolPieces:
    """A spooled answer read back in pieces, closed with the response."""

    def __init__(self, spool):
        self.spool = spool

    def __iter__(self):
        return iter(lambda: self.spool.read(PIECE_BYTES), b"")

    def close(self):
        self.spool.close()


class _Overflowing(io.RawIOBase):
    """The body as read, then a 413 for whoever reads past it: it was cut at the largest body the app takes."""

    def __init__(self, spool):
        self.spool = spool

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.spool.readinto(buffer)
        if not count and len(buffer):
            raise RequestEntityTooLarge()
        return count

    def close(self):
        self.spool.close()
        super().close()


class Sending:
    """The response body as the server sends it: every piece must leave within the send timeout, or the client is cut off."""

    def __init__(self, answer, deadlines, sock, timeout, environ, request_id=None):
        self.answer = answer
        self.request_id = request_id
        self.deadlines = deadlines
        self.timeout = timeout
        self.path = environ.get("PATH_INFO")
        self.watch = deadlines.watch(sock, timeout, socket.SHUT_RDWR) if sock is not None else None

    def __iter__(self):
        for piece in self.answer:
            if self.watch:
                self.deadlines.extend(self.watch, self.timeout)
            yield piece

    def close(self):
        if self.watch:
            self.deadlines.forget(self.watch)
            if self.watch.expired:
                log.warning("cut off a client that stopped reading the answer to %s for %g s", self.path, self.timeout,
                            extra={"request_id": self.request_id})
        if hasattr(self.answer, "close"):
            self.answer.close()


class Watch:
    """One socket's deadline; expired once it has been cut off."""

    def __init__(self, sock, deadline, how):
        self.sock = sock
        self.deadline = deadline
        self.how = how
        self.expired = False


class Deadlines:
    """One thread that shuts the sockets of clients past their deadline, which wakes the thread blocked on them."""

    TICK_SECONDS = 0.25

    def __init__(self):
        self.condition = threading.Condition()
        self.watches = set()
        self.thread = None

    def watch(self, sock, seconds, how):
        """Cut off sock (shutdown how) unless forgotten or extended within seconds."""
        watch = Watch(sock, time.monotonic() + seconds, how)
        with self.condition:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="client-deadlines", daemon=True)
                self.thread.start()
            if not self.watches:
                self.condition.notify()
            self.watches.add(watch)
        return watch

    def extend(self, watch, seconds):
        """Move the deadline to seconds from now."""
        watch.deadline = time.monotonic() + seconds

    def forget(self, watch):
        """Stop watching; once this returns the socket is never cut off by this watch."""
        with self.condition:
            self.watches.discard(watch)

    def _run(self):
        with self.condition:
            while True:
                while not self.watches:
                    self.condition.wait()
                now = time.monotonic()
                for watch in [w for w in self.watches if w.deadline <= now]:
                    self.watches.discard(watch)
                    watch.expired = True
                    try:
                        # The plain socket's shutdown: an SSL socket's own would drop its TLS state mid-answer.
                        socket.socket.shutdown(watch.sock, watch.how)
                    except OSError:
                        pass
                self.condition.wait(self.TICK_SECONDS)
