"""What a loaded dataset says about itself: its description and, on the demo store, the cases planted in it."""


def description(db):
    """The loaded dataset's description (seed, as-of date, sizes), or None."""
    return db.dataset_info.find_one({"_id": "current"}, {"_id": 0})


def demo_cases(db):
    """The planted demo cases in their order, each with the verdict it must get."""
    return list(db.demo_cases.find({}, {"_id": 0}).sort("order", 1))
