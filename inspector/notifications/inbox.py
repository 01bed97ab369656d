"""A user's inbox: their items newest first, the unread count, marking read. Only ever the caller's own items."""
from inspector.clock import aware
from inspector.notifications.texts import render

MAX_PAGE = 200
MAX_MARK = 500


def view(item, lang):
    """An inbox item as the app shows it: kind, title and sentence in the language, link, times."""
    title, body = render(item["kind"], item.get("params"), lang)
    return {"id": item["_id"], "kind": item["kind"], "title": title, "body": body, "link": item.get("link"),
            "created_at": aware(item["created_at"]), "read_at": aware(item.get("read_at"))}


def items(db, user, lang, unread_only=False, limit=50, skip=0):
    """One page of the user's items, newest first (served by user_id, created_at), and how many there are."""
    query = {"user_id": user["_id"]}
    if unread_only:
        query["read_at"] = None
    cursor = db.notifications.find(query).sort([("created_at", -1), ("_id", -1)]).skip(skip).limit(min(limit, MAX_PAGE))
    return [view(i, lang) for i in cursor], db.notifications.count_documents(query)


def unread(db, user):
    """How many of the user's items are unread (served by user_id, read_at)."""
    return db.notifications.count_documents({"user_id": user["_id"], "read_at": None})


def mark_read(db, user, ids, now, everything=False):
    """Mark the user's items read (the ids given, or all); others' ids match nothing. Return how many changed."""
    query = {"user_id": user["_id"], "read_at": None}
    if not everything:
        query["_id"] = {"$in": [str(i) for i in list(ids)[:MAX_MARK]]}
    return db.notifications.update_many(query, {"$set": {"read_at": now}}).modified_count
