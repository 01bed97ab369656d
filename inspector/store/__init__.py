"""The MongoDB connection.

connection: one client per process (or the embedded demo store), durable writes for records that are evidence,
and reading documents by id in few round trips; indexes: every index the service relies on, declared in one place
and applied idempotently.
"""
