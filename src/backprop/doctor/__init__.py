"""The training doctor: what went wrong in a run, said in words, and one step explained.

- :func:`diagnose` measures a trained model, its data and its ``History`` and returns a
  :class:`Diagnosis` whose findings each carry a stable ``code``, a ``severity``, the measured
  ``evidence`` and ``advice`` naming the fix.
- :class:`Doctor` is the same as a callback: cheap checks every few epochs while training,
  the full diagnosis when it ends.
- :func:`explain_step` writes out one training step in the chapter's notation: z⁽ˡ⁾, a⁽ˡ⁾,
  δ⁽ˡ⁾, ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ and the updated W⁽ˡ⁾.

The thresholds and their sources are in :mod:`backprop.doctor.thresholds` (and docs/DOCTOR.md).
Engine code: NumPy only.
"""

from __future__ import annotations

from .callback import Doctor
from .diagnose import diagnose
from .explain import LayerStep, StepExplanation, explain_step
from .findings import CODES, Diagnosis, Finding
from .thresholds import THRESHOLDS

__all__ = ["diagnose", "Doctor", "Diagnosis", "Finding", "CODES", "THRESHOLDS",
           "explain_step", "StepExplanation", "LayerStep"]
