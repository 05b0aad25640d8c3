"""The training doctor, live: ``bp.Doctor`` rides along with the worker's ``fit`` calls.

Each play (until pause) and each step is one ``fit`` call, so one run for the doctor: while
it trains, the page shows what the doctor has found so far (each with the epoch it first
appeared); once it stops, the doctor's diagnosis of that run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import Callback, Doctor

#: epochs between two live checks (each costs about one forward pass over 256 rows)
CHECK_EVERY = 25


class _KeepDiagnosis(Callback):
    """Ends each ``fit`` after the doctor: keeps its diagnosis for the page."""

    def __init__(self, live: LiveDoctor) -> None:
        self.live = live

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.live.examined = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        diagnosis = self.live.doctor.diagnosis
        if diagnosis is not None:
            self.live.last = [f.to_dict() for f in diagnosis.findings]


class LiveDoctor:
    """A ``Doctor`` for one network, and its findings so far.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_inputs)
        Training rows as the network reads them (its probe batch comes from them).
    T : ndarray
        Their targets, as ``fit`` gets them.
    """

    def __init__(self, X: np.ndarray, T: np.ndarray) -> None:
        self.doctor = Doctor(X, T, every=CHECK_EVERY)
        self.last: list[dict[str, Any]] = []
        #: whether any fit has run (before that there is nothing to diagnose)
        self.examined = False
        self.callbacks = (self.doctor, _KeepDiagnosis(self))

    def findings(self) -> tuple[str | None, list[dict[str, Any]] | None]:
        """``("live", findings so far)`` while a run trains (each with the epoch it was first
        seen: the doctor does not take one back during a run), ``("diagnosis", ...)`` once it
        stopped, ``(None, None)`` before the network has trained at all.

        Each finding is ``{"code", "severity", "message", "advice", "evidence", "epoch"}``.
        """
        if not self.examined:
            return None, None
        if self.doctor.diagnosis is not None:
            return "diagnosis", self.last
        found = [f.to_dict() for f in list(self.doctor.findings)]  # a copy: the worker appends
        return "live", [f for f in found if f["severity"] == "warning"] + \
            [f for f in found if f["severity"] != "warning"]
