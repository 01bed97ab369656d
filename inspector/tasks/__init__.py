"""Inspection tasks: a supervisor sends inspectors to check batches; scans and findings complete the items."""
