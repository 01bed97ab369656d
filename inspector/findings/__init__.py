"""Findings logged by inspectors: records, the state machine, attachments and exports."""
