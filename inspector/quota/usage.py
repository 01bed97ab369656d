"""Quota consumption: each recorded production takes its tonnes REO from the producer's yearly quota, atomically."""
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

LIGHT_PRODUCTS = ("bastnaesite_concentrate", "monazite_concentrate")
MEDIUM_HEAVY_PRODUCTS = ("ion_adsorption_mixed_oxide",)


def quota_category(producer, output, enterprise):
    """The quota category a production output draws on, or None when its stage is not quota-bound."""
    categories = producer.get("quota_categories") or []
    roles = enterprise.get("roles") or []
    if output.stage == "ore":
        if output.quota_category in ("mining_light", "mining_medium_heavy"):
            return output.quota_category
        mining = [c for c in categories if c.startswith("mining_")]
        if len(mining) == 1:
            return mining[0]
        if output.product_type in MEDIUM_HEAVY_PRODUCTS:
            return "mining_medium_heavy"
        return "mining_light"
    if output.stage == "compound" and ("separator" in roles or "separation" in categories):
        return "separation"
    return None


def consume_quota(db, enterprise_id, year, category, tonnes, allocated_t, known=False):
    """Add tonnes to the year's usage atomically and return the usage right after this addition.

    The first update is guarded with the room left in its filter, so concurrent productions can never both squeeze
    into the last tonnes; when it does not match, the tonnes are still counted, by an unguarded increment.
    """
    key = {"enterprise_id": enterprise_id, "year": year, "category": category}
    if not known:
        _ensure_row(db, key)
    done = db.quota_usage.find_one_and_update({**key, "used_t": {"$lte": allocated_t - tonnes}},
                                              {"$inc": {"used_t": tonnes}}, return_document=ReturnDocument.AFTER)
    if done is None:
        done = db.quota_usage.find_one_and_update(key, {"$inc": {"used_t": tonnes}},
                                                  return_document=ReturnDocument.AFTER)
    if done is None:  # the row was not there after all
        _ensure_row(db, key)
        return consume_quota(db, enterprise_id, year, category, tonnes, allocated_t, known=True)
    return done["used_t"]


def _ensure_row(db, key):
    try:
        db.quota_usage.update_one(key, {"$setOnInsert": {
            "_id": f"{key['enterprise_id']}:{key['year']}:{key['category']}", "used_t": 0.0}}, upsert=True)
    except DuplicateKeyError:
        pass  # created by a concurrent production a moment ago


def count_imported(db, enterprise_id, year, category, tonnes):
    """Note how much of a year's usage is imported feed (Order No. 71 counts it on the separator's quota)."""
    db.quota_usage.update_one({"enterprise_id": enterprise_id, "year": year, "category": category},
                              {"$inc": {"imported_t": tonnes}})
