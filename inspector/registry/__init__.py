"""What an administrator keeps: enterprises and their whitelist approvals."""
