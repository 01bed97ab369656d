"""The MongoDB connection: one client per process, created lazily, or the embedded demo store."""
import contextlib
import copy
import logging
import os
import threading
from datetime import datetime

import pymongo
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from inspector.clock import aware

log = logging.getLogger(__name__)

_lock = threading.Lock()
_clients = {}  # (pid, uri) -> client; keyed by pid so a forked gunicorn worker never reuses its parent's sockets

DURABLE_WRITE_CONCERN = WriteConcern(w="majority", j=True)


class StoreUnavailable(Exception):
    """The database cannot be reached right now."""


UNAVAILABLE_ERRORS = (PyMongoError, StoreUnavailable)


def client_for(settings):
    """Return this process's client for the settings' MONGO_URI, or the embedded mongomock client."""
    key = (os.getpid(), settings.mongo_uri)
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _new_client(settings)
            _clients[key] = client
    return client


def _new_client(settings):
    if settings.demo:
        import mongomock
        import mongomock.gridfs

        mongomock.gridfs.enable_gridfs_integration()
        log.warning("MONGO_URI is not set: using the embedded in-memory demo store. Demo data only, nothing is saved.")
        return mongomock.MongoClient(tz_aware=True)
    timeout = settings.server_selection_timeout_ms
    return pymongo.MongoClient(
        settings.mongo_uri,
        uuidRepresentation="standard",
        tz_aware=True,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=max(timeout, 5000),
        retryWrites=True,
        appname="rare-earth-field-inspector",
    )


def database(settings, name=None):
    """Return the named database (default MONGO_DB) on this process's client."""
    return client_for(settings)[name or settings.mongo_db]


def durable(db, collection_name):
    """Return a collection handle whose writes wait for a journaled majority."""
    return db.get_collection(collection_name, write_concern=DURABLE_WRITE_CONCERN)


def ping(db):
    """Raise StoreUnavailable unless the database answers a ping."""
    try:
        db.command("ping")
    except PyMongoError as exc:
        raise StoreUnavailable(str(exc)) from exc


_embedded_writes = threading.RLock()


def atomic(db):
    """Serialise a read-check-write sequence on the embedded store, whose updates are not atomic across threads.

    A real MongoDB needs no lock: there the guarded updates inside the sequence are atomic on the server.
    """
    if type(db).__module__.startswith("mongomock"):
        return _embedded_writes
    return contextlib.nullcontext()


def find_by_ids(collection, ids, fields):
    """Documents whose _id is among ids, with the given fields: `{_id: {$in: ids}}` on MongoDB.

    The embedded store answers $in by testing every value against every document; its documents are keyed by _id,
    so there the lookup goes straight to them instead.
    """
    ids = list(ids)
    if not type(collection).__module__.startswith("mongomock"):
        return list(collection.find({"_id": {"$in": ids}}, fields))
    found = []
    documents = collection._store  # noqa: SLF001 - mongomock's own _id-keyed store
    for key in ids:
        if key in documents:
            doc = documents[key]
            found.append(_aware_dates(copy.deepcopy({k: doc[k] for k in fields if k in doc})))
    return found


def _aware_dates(value):
    """Dates as the tz-aware client returns them: the embedded store keeps naive UTC."""
    if isinstance(value, dict):
        return {k: _aware_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_aware_dates(v) for v in value]
    return aware(value) if isinstance(value, datetime) else value
