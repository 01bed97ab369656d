"""The deterministic demo dataset: fictional enterprises, quotas, lineage, ledger and planted cases."""
