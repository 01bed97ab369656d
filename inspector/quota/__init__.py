"""Quota arithmetic in one home: allocation, penalties' cuts, usage taken by productions, and status."""
