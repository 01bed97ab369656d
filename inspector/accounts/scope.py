"""What a signed-in actor may see of enterprises: its own (enterprise users), its provinces (limited supervisors)."""


def provinces_of(actor):
    """The provinces a supervisor is limited to, or None when the actor is not limited by province."""
    if actor.get("role") != "supervisor" or actor.get("provinces") is None:
        return None
    return list(actor["provinces"])


def enterprise_filter(actor):
    """A filter on enterprises for what the actor may see; {} for everyone."""
    if actor.get("role") == "enterprise":
        return {"_id": actor.get("enterprise_id") or "-"}
    provinces = provinces_of(actor)
    return {} if provinces is None else {"province": {"$in": provinces}}


def sees(actor, enterprise):
    """True when the actor may see this enterprise (a dict with _id and province)."""
    if actor.get("role") == "enterprise":
        return enterprise.get("_id") == actor.get("enterprise_id")
    provinces = provinces_of(actor)
    return provinces is None or enterprise.get("province") in provinces


def visible_ids(db, actor):
    """The ids of the enterprises the actor may see, or None for all (served by the enterprises province index)."""
    query = enterprise_filter(actor)
    if not query:
        return None
    return [e["_id"] for e in db.enterprises.find(query, {"_id": 1})]


def sees_id(db, actor, enterprise_id):
    """True when the actor may see the enterprise with this id (an unknown id is seen only by the unlimited)."""
    if actor.get("role") == "enterprise":
        return enterprise_id == actor.get("enterprise_id")
    provinces = provinces_of(actor)
    if provinces is None:
        return True
    return db.enterprises.count_documents({"_id": enterprise_id, "province": {"$in": provinces}}, limit=1) == 1
