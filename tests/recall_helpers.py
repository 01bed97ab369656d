"""The planted recall case (seed/recall_case.py) for the trace, recall and task tests: codes, figures, planting."""
from seed.recall_case import CODES, EXPECTED, plant  # noqa: F401 - re-exported for the tests
