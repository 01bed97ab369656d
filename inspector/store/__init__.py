"""The MongoDB connection: one client per process, the write concerns, and every index the service relies on."""
