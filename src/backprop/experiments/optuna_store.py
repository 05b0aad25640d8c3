"""Optuna, imported on first use, and the journal file that holds a sweep's study."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def optuna_module() -> Any:
    """Optuna, quiet; an ImportError that names the extra when it is missing."""
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("method = \"optuna\" needs Optuna: pip install 'backprop[optuna]'"
                          ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def journal(path: str | Path) -> Any:
    """Optuna's journal storage in the file ``path`` (safe for several processes)."""
    optuna = optuna_module()
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
