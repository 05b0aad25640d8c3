"""``coefs_`` and ``intercepts_``: the network's weights as scikit-learn's lists, assignable.

scikit-learn stores its weights in two plain lists, and code written for it assigns them:
``mlp.coefs_ = [W1, W2]``, ``mlp.coefs_[0] = W1``, or, before any fit,
``mlp.coefs_ = [0] * 2`` followed by item assignments and a ``partial_fit`` that starts from
them (its ``test_fit``). Here the weights live in the network (``model_``), so:

- reading gives a :class:`LayerArrays`, a list of live views whose item assignment copies into
  the network (shape checked);
- assigning a list to a fitted estimator copies each array into the network (shapes checked);
- assigning before the first fit keeps the list object itself (later item assignments
  included); the next ``partial_fit``, or ``fit`` with ``warm_start=True``, builds the
  network from it (:func:`take_assigned`), as scikit-learn continues from assigned weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: where an estimator keeps lists assigned before it has a network
PENDING = {"coefs_": "_assigned_coefs", "intercepts_": "_assigned_intercepts"}


class LayerArrays(list):
    """One array per layer, live views of the network's; ``[i] = array`` writes into it.

    The number and order of the layers are the network's, so operations that would change
    them (``append``, ``del``, ``sort``, ...) raise ``TypeError``.
    """

    def __init__(self, arrays: list[np.ndarray], name: str) -> None:
        super().__init__(arrays)
        self._name = name

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError(f"assign {self._name} layer by layer ({self._name}[0] = ...) or "
                            f"as a whole list ({self._name} = [...])")
        target = list.__getitem__(self, index)
        target[...] = _checked(value, target.shape, f"{self._name}[{index}]")

    def _fixed(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{self._name} has one array per layer of the network; to change the "
                        "architecture set hidden_layer_sizes and fit again")

    append = extend = insert = pop = remove = clear = sort = reverse = _fixed
    __delitem__ = __iadd__ = __imul__ = _fixed

    def __reduce__(self):  # a copy or a pickle is a plain list of arrays
        return list, (list(self),)


def live(model: Any, name: str) -> LayerArrays:
    """``coefs_`` or ``intercepts_`` of a network: live views."""
    arrays = model.weights if name == "coefs_" else model.biases
    return LayerArrays(list(arrays), name)


def assign(model: Any, name: str, value: Any) -> None:
    """Copy ``value`` (one array per layer, the network's shapes) into the network."""
    current = live(model, name)
    shapes = [a.shape for a in current]
    values = _as_list(value, name)
    if len(values) != len(current):
        raise ValueError(f"{name} must be a list of {len(current)} arrays of shapes {shapes} "
                         f"(one per layer of the fitted network); got {len(values)} items")
    checked = [_checked(v, shape, f"{name}[{i}]") for i, (v, shape) in
               enumerate(zip(values, shapes))]
    for target, source in zip(current, checked):
        target[...] = source


def take_assigned(est: Any, n_features: int, n_outputs: int
                  ) -> tuple[list[int], list[np.ndarray], list[np.ndarray]]:
    """The layer sizes and weights of the lists assigned before the first fit (then forgets
    them), checked against the data: (n_features, ...) first and (..., n_outputs) last."""
    coefs = est.__dict__.pop(PENDING["coefs_"], None)
    intercepts = est.__dict__.pop(PENDING["intercepts_"], None)
    if coefs is None or intercepts is None:
        missing = "intercepts_" if coefs is not None else "coefs_"
        raise ValueError(f"{missing} was not assigned: to start from given weights assign both "
                         "coefs_ and intercepts_ before partial_fit (or fit with "
                         "warm_start=True)")
    coefs, intercepts = _as_list(coefs, "coefs_"), _as_list(intercepts, "intercepts_")
    if not coefs or len(coefs) != len(intercepts):
        raise ValueError(f"coefs_ and intercepts_ need one array per layer each; got "
                         f"{len(coefs)} and {len(intercepts)}")
    shapes = [np.shape(c) for c in coefs]
    if any(len(s) != 2 for s in shapes):
        raise ValueError(f"each coefs_[i] must be a 2-D (n_in, n_out) array; got shapes {shapes}")
    sizes = [shapes[0][0]] + [s[1] for s in shapes]
    expected = [(n_in, n_out) for n_in, n_out in zip(sizes, sizes[1:])]
    if sizes[0] != n_features or sizes[-1] != n_outputs or shapes != expected:
        raise ValueError(
            f"the assigned coefs_ have shapes {shapes}: the layers must chain from the data's "
            f"{n_features} features to its {n_outputs} outputs, (n_features, h1), (h1, h2), ..., "
            f"(h_last, {n_outputs})")
    W = [_checked(c, shape, f"coefs_[{i}]") for i, (c, shape) in enumerate(zip(coefs, shapes))]
    b = [_checked(v, (n_out,), f"intercepts_[{i}]")
         for i, (v, (_, n_out)) in enumerate(zip(intercepts, shapes))]
    return sizes, W, b


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, (str, bytes, np.ndarray)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list with one array per layer; got "
                        f"{type(value).__name__}")
    return list(value)


def _checked(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array
