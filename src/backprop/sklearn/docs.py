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
        Draws, in scikit-learn's order, the starting weights (``init=None``), the
        early-stopping split and each epoch's batch order, so the same value starts from
        scikit-learn's weights and trains on its batches; dropout and a named ``init`` use
        a generator seeded from it. An int gives identical results run after run.
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
        Hold out ``validation_fraction`` of the training data (stratified for
        single-output classification, as scikit-learn) and stop when the validation score
        (accuracy or R²; see ``early_stopping_on``) has not improved by ``tol`` for more
        than ``n_iter_no_change`` epochs; the weights of the best validation epoch are kept.
        Ignored by "lbfgs", as in scikit-learn.
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
        otherwise, as scikit-learn; "float32" is faster on large data.
    early_stopping_on : {"score", "loss"}, default="score"
        What ``early_stopping`` watches: ``"score"`` is scikit-learn's rule (the validation
        score must beat its best by ``tol``); ``"loss"`` watches the validation loss, the
        objective being minimised (it must fall below its best by ``tol``), which moves
        smoothly where accuracy on a small validation set moves in steps."""

COMMON_ATTRIBUTES = """
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer: live views of ``model_``'s weights. Assignable as in
        scikit-learn: ``est.coefs_ = [...]`` or ``est.coefs_[i] = W`` copies into the
        network (same shapes, else ValueError); assigned before any fit, the list is where
        the next ``partial_fit`` (or ``fit`` with ``warm_start=True``) starts.
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer; assignable like ``coefs_``.
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
    best_loss_ : float or None
        Lowest training loss reached; None with ``early_stopping`` (as scikit-learn).
    best_validation_score_, best_validation_loss_ : float or None
        Validation score and loss of the kept (best) epoch when ``early_stopping``, else
        None.
    n_iter_ : int
        Epochs run by the last call.
    t_ : int
        Training samples seen over all calls.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    n_layers_, n_outputs_ : int
    out_activation_ : str
        "logistic", "softmax", "identity", or "exp" for ``loss="poisson"``.
    model_ : backprop.Sequential
        The trained network (``bp.save(est.model_, path)`` writes a model file)."""


#: how a diverging loss ends, and every deliberate difference from scikit-learn's MLP
COMMON_NOTES = """
    Notes
    -----
    **Divergence.** When the loss or the weights stop being finite, or the weights' norm
    grows a thousandfold in one epoch, training stops at once and the network keeps its
    last finite weights. Without ``early_stopping`` this raises
    :class:`~backprop.sklearn.TrainingDivergedError`, a ``ValueError`` (scikit-learn's
    error type, led by its "Solver produced non-finite parameter weights" message when
    values became non-finite) that is also the engine's ``TrainingDiverged``, carrying the
    epoch, the history and the last finite weights. With ``early_stopping`` it does what
    scikit-learn does: no error, the diverged epoch is recorded with NaN in ``loss_curve_``,
    ``validation_loss_curve_`` and ``validation_scores_``, the weights of the best
    validation epoch are kept (the last finite ones if no epoch had a finite score), and a
    ``ConvergenceWarning`` says so. scikit-learn instead trains on through NaN epochs.

    **Differences from scikit-learn's MLP** (all deliberate; the same settings otherwise
    draw the same weights and batches and train the same way):

    - the guard above stops a diverging run (scikit-learn trains on, or ends with NaN
      weights); it also counts a thousandfold jump of the weights' norm as divergence;
    - Adam's ε is added to √v̂ (PyTorch's form), scikit-learn's to √v inside the bias
      correction: steps differ only for gradients near ε;
    - the L2 penalty of the last, smaller mini-batch of an epoch is ``alpha`` over the full
      batch size (scikit-learn uses that batch's size);
    - ``hidden_layer_sizes`` is the first positional parameter of both estimators
      (scikit-learn's ``MLPRegressor`` takes ``loss`` first);
    - ``loss="poisson"`` refuses negative targets with a ValueError;
    - ``partial_fit`` of a multi-label classifier does not need ``classes``;
    - ``loss_`` of a multi-output regressor is the loss summed over the targets (the
      objective descended; scikit-learn reports it divided by their number);
    - ``verbose`` prints the validation loss with the score;
    - private attributes differ: there is no ``_optimizer.learning_rate`` (the engine
      optimiser's ``lr``) and no ``_loss_grad_lbfgs``; fitted ``model_`` is the network;
    - additions: more activations, solvers (adamw, rmsprop, adagrad) and regression losses,
      ``init``, ``dropout``, ``class_weight``, ``dtype``, ``early_stopping_on``,
      ``validation_loss_curve_`` and ``best_validation_loss_``."""
