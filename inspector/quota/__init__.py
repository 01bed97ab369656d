"""Quota arithmetic, in one home.

allocation: a year's issued allocation, the cuts penalties make in it, the effective allocation, what is over and
whether a batch was within it; penalties: recording a penalty and previewing its cut; usage: each production
taking its tonnes from the year's quota, atomically; status: issued, cut, used and remaining per category.
"""
