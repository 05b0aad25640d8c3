"""No false alarms: healthy runs — each data set with a sensible network and optimiser —
get no warning from diagnose() or from the Doctor callback."""

from __future__ import annotations

import doctor_cases as cases
import pytest


@pytest.mark.parametrize("config", cases.HEALTHY, ids=[h.name for h in cases.HEALTHY])
def test_a_healthy_run_gets_no_warning(config):
    result = config.run()
    for source, diagnosis in (("diagnose", result.diagnosis), ("Doctor", result.doctor)):
        assert diagnosis.ok, f"{source} raised {[str(f) for f in diagnosis.warnings]}"
    # healthy means it learned: the loss is well below the input-independent baseline
    assert result.diagnosis.measurements["skill"] > 0.5
    assert all(f.severity == "info" for f in result.doctor.findings)


def test_there_are_at_least_eight_healthy_configurations_on_different_data():
    names = {h.name.split(" ")[0] for h in cases.HEALTHY}
    assert {"moons", "circles", "spiral", "iris", "wine", "breast_cancer", "digits",
            "diabetes"} <= names
