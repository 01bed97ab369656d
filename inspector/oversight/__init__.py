"""What supervisors watch.

reporting: each enterprise's monthly ledger on time, late, missing or still open; risk: enterprises ranked by
recent evidence, with the factors behind each score; recall: every batch made from a batch, at any depth.
"""
