"""The doctor's two proof tables as Markdown: each finding code from the run built to have it,
and the healthy runs with what (if anything) the doctor said about them.

The runs are those of the tests (tests/doctor_cases.py). Usage: python benchmarks/doctor_table.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import doctor_cases as cases  # noqa: E402


def _said(diagnosis) -> str:
    return ", ".join(f"{f.code} ({f.severity})" for f in diagnosis.findings) or "nothing"


def main() -> None:
    print("| code | run built to have it | diagnose | Doctor (first epoch) | measured |")
    print("|---|---|---|---|---|")
    done = {}
    for code, (run, what) in cases.PROBLEMS.items():
        result = done.get(run) or done.setdefault(run, run())
        found, live = result.diagnosis.get(code), result.doctor.get(code)
        print(f"| `{code}` | {what} | {found.severity if found else 'MISSED'} | "
              f"{f'{live.severity} ({live.epoch})' if live else 'MISSED'} | "
              f"{found.message if found else ''} |")
    print()
    print("| data | configuration | epochs | skill | warnings | diagnose says | seconds |")
    print("|---|---|---|---|---|---|---|")
    for config in cases.HEALTHY:
        start = time.perf_counter()
        result = config.run()
        seconds = time.perf_counter() - start
        warnings = len(result.diagnosis.warnings) + len(result.doctor.warnings)
        print(f"| {config.name} | {config.describe()} | {result.epochs} | "
              f"{result.diagnosis.measurements['skill']:.2f} | {warnings} | "
              f"{_said(result.diagnosis)} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
