"""Parameter and attribute documentation shared by ``MLPClassifier`` and ``MLPRegressor``.

Both docstrings are assembled from these blocks, so the two classes describe their common
parameters in the same words.
"""

COMMON_PARAMETERS = """
    hidden_layer_sizes : int or array-like of int, default=(100,)
        Width of each hidden layer; ``()`` gives a network without hidden layers.
    activation : str, Activation or list, default="relu"
        Hidden-layer activation: scikit-learn's ``"identity"``, ``"logistic"``, ``"tanh"``,
        ``"relu"``, or any activation registered in ``backprop.activations`` (``"leaky_relu"``,
        ``"elu"``, ``"selu"``, ``"softplus"``, ``"swish"``, ``"gelu"``, ...), or one per
        hidden layer.
    solver : {"adam", "sgd", "lbfgs", "adamw", "rmsprop", "adagrad"}, default="adam"
        ``"adamw"`` applies ``alpha`` as decoupled weight decay rather than as an L2 term;
        ``"rmsprop"`` and ``"adagrad"`` use ``learning_rate_init`` and ``epsilon``;
        ``"lbfgs"`` is SciPy's full-batch L-BFGS-B on the backpropagated gradient.
    alpha : float, default=1e-4
        L2 penalty, as scikit-learn: ``alpha/(2·Σw) · Σ‖W‖²`` per batch of sample weight Σw.
    batch_size : int or "auto", default="auto"
        ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule for ``solver="sgd"`` (as scikit-learn).
    learning_rate_init : float, default=1e-3
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    max_iter : int, default=200
        Epochs for the stochastic solvers, iterations for ``"lbfgs"``.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, shuffling, dropout and the early-stopping split; an int
        gives identical results run after run.
    tol : float, default=1e-4
        Minimum improvement of the monitored loss that resets the patience counter.
    verbose : bool or int, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        ``fit`` continues from the current weights instead of starting afresh.
    momentum : float in [0, 1), default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when the *validation
        loss* has not improved by ``tol`` for ``n_iter_no_change`` epochs; the weights of
        the epoch with the lowest validation loss are kept. (scikit-learn monitors the
        validation score instead.) Ignored by "lbfgs", as in scikit-learn.
    validation_fraction : float in (0, 1), default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decays and its denominator guard.
    n_iter_no_change : int or inf, default=10
        Patience, in epochs, of the stopping rule (and of the ``"adaptive"`` schedule).
    max_fun : int, default=15000
        Maximum loss evaluations for ``"lbfgs"``.
    init : str, callable or None, default=None
        None draws weights and biases as scikit-learn does (uniform in
        ±√(6/(fan_in + fan_out)), √2 instead of √6 for "logistic"). A name from
        ``backprop.initializers`` (``"he_normal"``, ``"glorot_uniform"``, ...) or a callable
        ``f(shape, rng, dtype)`` initialises the weights that way and the biases at zero.
    dropout : float or list of float, default=0.0
        Dropout rate after each hidden layer during training.
    dtype : {None, "float32", "float64"}, default=None
        Precision of the network. None keeps float32 input in float32 and trains in float64
        otherwise, as scikit-learn; "float32" is faster on large data."""

COMMON_ATTRIBUTES = """
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer (live views of ``model_``'s weights).
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer.
    loss_ : float
        Training objective of the last epoch: the data loss (summed over outputs, averaged
        over samples, as scikit-learn descends it) plus the alpha penalty. For several
        regression targets scikit-learn reports that data loss divided by their number.
    loss_curve_ : list of float
        ``loss_`` of every epoch (of every iteration for "lbfgs").
    validation_loss_curve_ : list of float or None
        Validation loss of every epoch when ``early_stopping``, else None.
    validation_scores_ : list of float or None
        Validation score (accuracy or R²) of every epoch when ``early_stopping``, else None.
    best_loss_ : float
        Lowest training loss reached.
    best_validation_loss_, best_validation_score_ : float or None
        Lowest validation loss and the score of that epoch, when ``early_stopping``.
    n_iter_ : int
        Epochs run by the last call.
    t_ : int
        Training samples seen over all calls.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    n_layers_, n_outputs_ : int
    out_activation_ : str
        "logistic", "softmax" or "identity".
    model_ : backprop.Sequential
        The trained network (``bp.save(est.model_, path)`` writes a model file)."""
