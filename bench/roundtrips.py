"""Count MongoDB round trips by wrapping a database handle (works on mongomock and pymongo alike)."""

_COUNTED = {"find", "find_one", "aggregate", "insert_one", "insert_many", "update_one", "update_many", "replace_one",
            "delete_one", "delete_many", "count_documents", "find_one_and_update", "bulk_write", "distinct",
            "estimated_document_count"}


class Counter:
    """A running count of calls that reach the database."""

    def __init__(self):
        self.calls = []

    def reset(self):
        self.calls = []

    @property
    def count(self):
        return len(self.calls)


class CountingCollection:
    """A collection whose database calls are counted."""

    def __init__(self, collection, counter):
        self._collection = collection
        self._counter = counter

    def __getattr__(self, name):
        attr = getattr(self._collection, name)
        if name in _COUNTED:
            def counted(*args, **kwargs):
                self._counter.calls.append(f"{self._collection.name}.{name}")
                return attr(*args, **kwargs)
            return counted
        return attr


class CountingDatabase:
    """A database whose collections count their calls; commands count too."""

    def __init__(self, db, counter):
        self._db = db
        self._counter = counter

    def __getitem__(self, name):
        return CountingCollection(self._db[name], self._counter)

    def get_collection(self, name, **kwargs):
        return CountingCollection(self._db.get_collection(name, **kwargs), self._counter)

    def command(self, *args, **kwargs):
        self._counter.calls.append("command")
        return self._db.command(*args, **kwargs)

    def __getattr__(self, name):
        attr = getattr(self._db, name)
        if hasattr(attr, "find_one") and hasattr(attr, "aggregate"):
            return CountingCollection(attr, self._counter)
        return attr
