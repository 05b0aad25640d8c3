"""Figures for learners: the network, its decision boundary, its training, its parts.

Every function returns a ``matplotlib.figure.Figure`` and, given ``path``, also saves it
(PNG unless the suffix says otherwise). matplotlib is imported on first use, on the Agg
backend unless you chose another one, so figures work without a display; close a figure
you are done with (``matplotlib.pyplot.close(fig)``) when making many.

=============================  =============================================================
function                       shows
=============================  =============================================================
plot_architecture              neurons and connections per layer; for a model, edge width
                               by |w| and colour by the sign of w
plot_decision_boundary         P(class 1) or the winning class over the plane, the 0.5
                               contour / class borders, train and test points
plot_history                   loss and val_loss, accuracy and val_accuracy (learning rate
                               when a schedule changed it)
plot_activations               every registered activation with its derivative
plot_gradient_flow             per-layer gradient norm (and weight norm) over the epochs
plot_initialization            each layer's activations in a deep net under each initialiser
animate_decision_boundary      a GIF of the boundary forming during training
=============================  =============================================================

Examples
--------
>>> import backprop as bp
>>> from backprop import plots
>>> fig = plots.plot_architecture([2, 8, 1])
>>> len(fig.axes)
1
"""

from __future__ import annotations

from .architecture import plot_architecture
from .boundary import animate_decision_boundary, plot_decision_boundary
from .functions import layer_activations, plot_activations, plot_initialization
from .training import plot_gradient_flow, plot_history

__all__ = [
    "plot_architecture", "plot_decision_boundary", "plot_history", "plot_activations",
    "plot_gradient_flow", "plot_initialization", "animate_decision_boundary",
    "layer_activations",
]
