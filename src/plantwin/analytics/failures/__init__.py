"""Machine-failure classification on the AI4I 2020 data set: one classifier per failure mode.

`evaluate` runs stratified k-fold cross-validation and returns precision, recall, F1 and
support per mode (TWF, HDF, PWF, OSF, RNF) and for any failure.
"""

from plantwin.analytics.failures.data import MODES, Ai4iData, DatasetError, load_ai4i
from plantwin.analytics.failures.metrics import Scores, scores
from plantwin.analytics.failures.validation import Evaluation, evaluate

__all__ = [
    "MODES",
    "Ai4iData",
    "DatasetError",
    "Evaluation",
    "Scores",
    "evaluate",
    "load_ai4i",
    "scores",
]
