"""Rebuilding a saved ``Preprocessor``, after checking it: a model file may be damaged or
hostile, so every name, kind, category and array is checked for type, length and value."""

from __future__ import annotations

from typing import Any

import numpy as np

from .columns import CATEGORICAL, IMPUTERS, KINDS, NUMERIC, SCALINGS

#: sanity bounds far above any real table, so a file cannot make us build millions of things
MAX_COLUMNS = 100_000
MAX_CATEGORIES = 1_000_000


def _fail(problem: str) -> ValueError:
    return ValueError(f"the preprocessor config is invalid: {problem}")


def _is_vector(value: Any, length: int) -> bool:
    return (isinstance(value, np.ndarray) and value.shape == (length,)
            and value.dtype == np.float64)


def check_config(config: Any, arrays: Any) -> None:
    """Raise ``ValueError`` unless ``(config, arrays)`` describe a fitted preprocessor."""
    if not isinstance(config, dict) or config.get("kind") != "tabular":
        raise _fail("expected an object with kind 'tabular'")
    if config.get("version") != 1:
        raise _fail(f"version {config.get('version')!r:.20} is not supported (expected 1)")
    if config.get("scale") not in SCALINGS or config.get("impute") not in (*IMPUTERS, None):
        raise _fail("scale or impute holds an unknown value")
    for key in ("target_scaling", "named"):
        if not isinstance(config.get(key), bool):
            raise _fail(f"{key} must be true or false")
    ignore = config.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise _fail("ignore must be a list of column names")
    columns = config.get("columns")
    if (not isinstance(columns, list) or not 1 <= len(columns) <= MAX_COLUMNS
            or not all(isinstance(c, dict) and set(c) == {"name", "kind"}
                       and isinstance(c["name"], str) and c["kind"] in KINDS for c in columns)):
        raise _fail(f"columns must be a list of 1 to {MAX_COLUMNS} objects with a name and a "
                    f"kind ({', '.join(KINDS)})")
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        raise _fail("column names repeat")
    categorical = [c["name"] for c in columns if c["kind"] == CATEGORICAL]
    _check_categories(config, categorical)
    _check_arrays(config, arrays, len(names) - len(categorical))


def _check_categories(config: dict[str, Any], categorical: list[str]) -> None:
    categories, fills = config.get("categories"), config.get("category_fill")
    if not isinstance(categories, dict) or sorted(categories) != sorted(categorical):
        raise _fail("categories must list the categories of every categorical column")
    if not isinstance(fills, dict) or sorted(fills) != sorted(categorical):
        raise _fail("category_fill must hold one entry per categorical column")
    total = 0
    for name, values in categories.items():
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, str) for v in values)
                or len(set(values)) != len(values)):
            raise _fail(f"the categories of {name!r:.60} must be distinct strings")
        total += len(values)
        fill = fills[name]
        if fill is not None and fill not in values:
            raise _fail(f"the fill category of {name!r:.60} is not one of its categories")
        if (fill is None) != (config["impute"] is None):
            raise _fail(f"the fill category of {name!r:.60} disagrees with impute")
    if total > MAX_CATEGORIES:
        raise _fail(f"more than {MAX_CATEGORIES} categories")


def _check_arrays(config: dict[str, Any], arrays: Any, n_numeric: int) -> None:
    if not isinstance(arrays, dict):
        raise _fail("the arrays must be a dict")
    expected = set()
    if n_numeric:
        expected |= {"offset", "scale"} | ({"fill"} if config["impute"] is not None else set())
    if config["target_scaling"]:
        expected |= {"target_offset", "target_scale"}
    if set(arrays) != expected:
        raise _fail(f"expected the arrays {sorted(expected)}; got {sorted(arrays)}")
    for key in ("offset", "scale", "fill"):
        if key in arrays and not _is_vector(arrays[key], n_numeric):
            raise _fail(f"{key} must be float64 of shape ({n_numeric},)")
    if config["target_scaling"]:
        k = arrays["target_offset"].shape[0] if isinstance(arrays["target_offset"],
                                                           np.ndarray) else -1
        if k < 1 or not all(_is_vector(arrays[key], k)
                            for key in ("target_offset", "target_scale")):
            raise _fail("target_offset and target_scale must be float64 vectors of one "
                        "equal length")
    for key, value in arrays.items():
        if not np.all(np.isfinite(value)):
            raise _fail(f"{key} holds NaN or inf")
        if key in ("scale", "target_scale") and not np.all(value > 0):
            raise _fail(f"{key} must be positive")


def rebuild(cls: Any, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """``cls.from_config``: a fitted preprocessor from a checked config and arrays."""
    check_config(config, arrays)
    pre = cls(config["scale"], config["impute"], config["target_scaling"],
              config.get("ignore", []))
    pre.named = config["named"]
    pre.feature_names = [c["name"] for c in config["columns"]]
    pre.kinds = {c["name"]: c["kind"] for c in config["columns"]}
    pre.categories = {n: list(v) for n, v in config["categories"].items()}
    pre.category_fill = dict(config["category_fill"])
    if pre.numeric_columns:
        pre.offset_, pre.scale_ = arrays["offset"], arrays["scale"]
        pre.fill_ = arrays.get("fill")
    if pre.target_scaling:
        pre.target_offset_, pre.target_scale_ = arrays["target_offset"], arrays["target_scale"]
    return pre


def from_scaler(cls: Any, scaler: Any) -> Any:
    """``cls.from_scaler``: the numeric preprocessor equal to a fitted ``Scaler``."""
    from .prep import Scaler

    fitted = Scaler.from_config(scaler if isinstance(scaler, dict) else scaler.get_config())
    if not fitted.fitted:
        raise ValueError("the scaler is not fitted; fit it before saving it with a model")
    pre = cls(fitted.kind)
    pre.named = False
    pre.feature_names = [f"x{i + 1}" for i in range(fitted.n_features)]
    pre.kinds = {n: NUMERIC for n in pre.feature_names}
    pre.offset_ = np.asarray(fitted.offset_, dtype=np.float64)
    pre.scale_ = np.asarray(fitted.scale_, dtype=np.float64)
    return pre
