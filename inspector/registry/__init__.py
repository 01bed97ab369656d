"""What an administrator keeps about enterprises.

enterprises: creating and editing them (USCC checked, ETags), issuing quotas and recording penalties, all audited;
approvals: the whitelist as an append-only history of grants, suspensions, reinstatements and revocations, and
whether a stage was approved on a day.
"""
