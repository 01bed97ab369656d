"""Fault tools for the tests: an embedded store that goes down on cue, a TCP proxy that drops connections, a real server.

StoreFaults patches mongomock's classes (so GridFS, which runs on mongomock collections, is covered too): it counts the
database operations the app makes and raises what pymongo raises when the server is gone, for everything while "down"
or from the k-th operation on. TcpProxy sits between a client and a server on loopback; it can stop like a dead
server, or drop seeded-random connections before, after or in the middle of the exchange.
"""
import contextlib
import random
import socket
import threading

import mongomock
import mongomock.collection
import mongomock.database
import mongomock.mongo_client
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError
from werkzeug.serving import make_server

COLLECTION_OPS = ("insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
                  "delete_many", "find", "find_one", "find_one_and_update", "find_one_and_replace",
                  "find_one_and_delete", "count_documents", "estimated_document_count", "distinct", "aggregate",
                  "bulk_write", "create_index", "create_indexes", "drop_index", "drop_indexes", "list_indexes",
                  "index_information", "drop", "rename")
DATABASE_OPS = ("command", "list_collection_names", "list_collections", "drop_collection", "create_collection")
CLIENT_OPS = ("list_database_names", "server_info")


class StoreFaults:
    """Count and fail the embedded store's operations; use as a context manager (patches undone on exit).

    Only the outermost call counts (mongomock calls its own public methods inside), and reading a collection's
    documents directly (inspector.store.find_by_ids does on the embedded store) counts as one operation too.
    """

    def __init__(self, error="selection"):
        self.error = error
        self.ops = 0
        self.log = []
        self._down = False
        self._fail_from = None
        self._fail_on = None
        self._lock = threading.Lock()
        self._depth = threading.local()
        self._patches = []

    # -- controls ------------------------------------------------------------------------------------------------
    def go_down(self):
        """Every operation fails from now on."""
        self._down = True

    def come_back(self):
        """The store answers again, and no operation is scheduled to fail."""
        self._down, self._fail_from, self._fail_on = False, None, None

    def fail_from(self, k):
        """The k-th operation from now (1-based) and every one after it fail, until come_back()."""
        with self._lock:
            self.ops, self.log = 0, []
            self._fail_from = k

    def fail_on(self, name):
        """The first operation named name (as in log, e.g. "audit_log.insert_one") and every one after it fail."""
        with self._lock:
            self.ops, self.log = 0, []
            self._fail_on = name

    @contextlib.contextmanager
    def down(self):
        """The store is down inside the block."""
        self.go_down()
        try:
            yield self
        finally:
            self.come_back()

    @contextlib.contextmanager
    def counting(self):
        """Count the operations inside the block: `with faults.counting() as seen: ...; seen.ops`."""
        with self._lock:
            self.ops, self.log = 0, []
        yield self

    @property
    def is_down(self):
        return self._down

    # -- the patches ---------------------------------------------------------------------------------------------
    def _raise(self, name):
        if self.error == "reconnect":
            raise AutoReconnect(f"connection closed (fault injected at {name})")
        raise ServerSelectionTimeoutError(f"No servers found yet, Timeout: 0.1s (fault injected at {name})")

    def _enter(self, name):
        """Count one outermost operation and raise if the store is down for it."""
        with self._lock:
            self.ops += 1
            self.log.append(name)
            if (self._fail_from is not None and self.ops >= self._fail_from) or self._fail_on == name:
                self._down = True
        if self._down:
            self._raise(name)

    def _wrap(self, owner, name):
        original = owner.__dict__[name]
        faults = self

        def wrapper(obj, *args, **kwargs):
            depth = getattr(faults._depth, "n", 0)
            if depth == 0:
                faults._enter(f"{getattr(obj, 'name', type(obj).__name__)}.{name}")
            faults._depth.n = depth + 1
            try:
                return original(obj, *args, **kwargs)
            finally:
                faults._depth.n = depth

        wrapper.__name__ = name
        return original, wrapper

    def __enter__(self):
        targets = [(mongomock.collection.Collection, COLLECTION_OPS), (mongomock.database.Database, DATABASE_OPS),
                   (mongomock.mongo_client.MongoClient, CLIENT_OPS)]
        for owner, names in targets:
            for name in names:
                if name in owner.__dict__:
                    original, wrapper = self._wrap(owner, name)
                    self._patches.append((owner, name, original))
                    setattr(owner, name, wrapper)
        self._patch_store_property()
        self._patch_cursor()
        return self

    def _patch_store_property(self):
        owner = mongomock.collection.Collection
        original = owner.__dict__["_store"]
        faults = self

        def read_store(obj):
            if getattr(faults._depth, "n", 0) == 0:
                faults._enter(f"{obj.name}._store")
            return original.fget(obj)

        self._patches.append((owner, "_store", original))
        owner._store = property(read_store)

    def _patch_cursor(self):
        owner = mongomock.collection.Cursor
        original = owner.__dict__["__next__"]
        faults = self

        def next_document(cursor):
            # Reading more of a cursor while the store is down fails too, without counting as a new operation.
            if faults._down and getattr(faults._depth, "n", 0) == 0:
                faults._raise("cursor.next")
            return original(cursor)

        self._patches.append((owner, "__next__", original))
        owner.__next__ = next_document
        if "next" in owner.__dict__:
            self._patches.append((owner, "next", owner.__dict__["next"]))
            owner.next = next_document

    def __exit__(self, *exc):
        self.come_back()
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches = []


# -- a TCP proxy on loopback -----------------------------------------------------------------------------------------

PASS, DROP_BEFORE, DROP_AFTER_REQUEST, DROP_MID_RESPONSE = "pass", "drop_before", "drop_after_request", "drop_mid"
FATES = (DROP_BEFORE, DROP_AFTER_REQUEST, DROP_MID_RESPONSE)


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target; stop() refuses and cuts every connection like a stopped server.

    With drop_rate > 0 each new connection (one HTTP exchange, the client sends Connection: close) is given a fate
    from a seeded generator: dropped before the request reaches the server, dropped once the server has answered
    but before the client hears anything (the work is done, the client never learns it), or cut in the middle of
    the response. `fates` records what happened, in order.
    """

    def __init__(self, target_host, target_port, drop_rate=0.0, seed=0):
        self.target = (target_host, target_port)
        self.drop_rate = drop_rate
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.fates = []
        self._listener = None
        self._sockets = set()
        self._sockets_lock = threading.Lock()
        self._running = False
        self.port = None

    def start(self, port=0):
        """Listen (again) on the given port, or a free one the first time; return the port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port or self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener, self._running = listener, True
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()
        return self.port

    def stop(self):
        """Refuse new connections and cut the open ones."""
        self._running = False
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        with self._sockets_lock:
            open_sockets, self._sockets = list(self._sockets), set()
        for sock in open_sockets:
            _close(sock)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _fate(self):
        with self._rng_lock:
            roll = self._rng.random()
            fate = self._rng.choice(FATES) if roll < self.drop_rate else PASS
            self.fates.append(fate)
            return fate

    def _track(self, sock):
        with self._sockets_lock:
            self._sockets.add(sock)

    def _accept(self, listener):
        while self._running:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._track(client)
            fate = self._fate() if self.drop_rate else PASS
            threading.Thread(target=self._serve, args=(client, fate), daemon=True, name="proxy-conn").start()

    def _serve(self, client, fate):
        try:
            if fate == DROP_BEFORE:
                client.settimeout(5)
                with contextlib.suppress(OSError):
                    client.recv(65536)  # the request leaves the client, and goes nowhere
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                return
            self._track(upstream)
            try:
                if fate == PASS:
                    self._pipe_both(client, upstream)
                else:
                    self._exchange_then_drop(client, upstream, fate)
            finally:
                _close(upstream)
        finally:
            _close(client)

    def _pipe_both(self, client, upstream):
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join(30)

    def _exchange_then_drop(self, client, upstream, fate):
        # The whole request goes up; the drop happens once the server has started answering, i.e. has done the work.
        forward = threading.Thread(target=_pump, args=(client, upstream, False), daemon=True)
        forward.start()
        upstream.settimeout(30)
        try:
            first = upstream.recv(65536)
        except OSError:
            return
        if fate == DROP_MID_RESPONSE and len(first) > 1:
            with contextlib.suppress(OSError):
                client.sendall(first[: max(1, len(first) // 2)])


def _pump(source, sink, close_sink=True):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        if close_sink:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


# -- the real app in a real server ------------------------------------------------------------------------------------

class AppServer:
    """The Flask app served by werkzeug's threaded server on a free loopback port, in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="app-server")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


def multipart(fields, files):
    """A multipart/form-data body: fields {name: str}, files {name: (filename, bytes, content_type)}."""
    boundary = f"----fault-tools-{random.getrandbits(64):016x}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
