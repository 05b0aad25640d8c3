"""scikit-learn's own MLP test module, run against ``backprop.sklearn``.

The module is read from the *installed* scikit-learn (``sklearn/neural_network/tests/
test_mlp.py``) at collection time and executed with one line changed: its import of
``MLPClassifier, MLPRegressor`` comes from ``backprop.sklearn``. Nothing of scikit-learn's
file is copied into this repository, so a new scikit-learn release brings its new tests.
scikit-learn's ``conftest.py`` is loaded as a plugin: it parametrises ``global_random_seed``
from ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` (42 when unset; e.g. ``0``, ``0-5`` or ``all``)::

    SKLEARN_TESTS_GLOBAL_RANDOM_SEED=0-5 pytest tests/test_sklearn_upstream.py

Every upstream test must pass, except those that read scikit-learn's private attributes
(listed in ``READS_PRIVATES`` with the attribute): they are strict expected failures that must
fail with the ``AttributeError`` of that missing attribute, so any other failure shows.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import pytest

pytest_plugins = ["sklearn.conftest"]

UPSTREAM_MODULE = "sklearn.neural_network.tests.test_mlp"
UPSTREAM_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
OUR_IMPORT = "from backprop.sklearn import MLPClassifier, MLPRegressor"

#: upstream tests that call or read scikit-learn's private attributes, with the attribute
READS_PRIVATES = {
    "test_gradient": "calls scikit-learn's private MLP._loss_grad_lbfgs",
    "test_learning_rate_warmstart": "reads scikit-learn's private _optimizer.learning_rate",
    "test_adaptive_learning_rate": "reads scikit-learn's private _optimizer.learning_rate",
}


def _upstream_source() -> tuple[str, str]:
    spec = importlib.util.find_spec(UPSTREAM_MODULE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the installed scikit-learn has no {UPSTREAM_MODULE}; the upstream "
                           "tests ship in scikit-learn's wheel since 0.18")
    path = Path(spec.origin)
    source = path.read_text(encoding="utf-8")
    if source.count(UPSTREAM_IMPORT) != 1:
        raise RuntimeError(f"{path} no longer imports the estimators as {UPSTREAM_IMPORT!r}; "
                           "update UPSTREAM_IMPORT in this file")
    return source.replace(UPSTREAM_IMPORT, OUR_IMPORT), str(path)


def _load_upstream() -> types.ModuleType:
    source, path = _upstream_source()
    module = types.ModuleType("sklearn_upstream_test_mlp")
    module.__file__ = path
    # Compiled under the upstream path, so a failure's traceback shows scikit-learn's lines.
    exec(compile(source, path, "exec"), module.__dict__)
    return module


_UPSTREAM = _load_upstream()
UPSTREAM_TESTS = sorted(name for name, obj in vars(_UPSTREAM).items()
                        if name.startswith("test_") and callable(obj))

for _name in UPSTREAM_TESTS:
    _test = getattr(_UPSTREAM, _name)
    if _name in READS_PRIVATES:
        _test = pytest.mark.xfail(reason=READS_PRIVATES[_name], raises=AttributeError,
                                  strict=True)(_test)
    globals()[_name] = _test


def test_the_upstream_module_was_found_and_its_import_swapped():
    assert len(UPSTREAM_TESTS) >= 40
    assert set(READS_PRIVATES) <= set(UPSTREAM_TESTS)
    assert _UPSTREAM.MLPClassifier.__module__.startswith("backprop.sklearn")
    assert _UPSTREAM.MLPRegressor.__module__.startswith("backprop.sklearn")
