"""Data sets, CSV loading, splits and the scaler."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from backprop import datasets

# -- generators and bundled sets --------------------------------------------------------------
SHAPES = {
    # name: (kwargs, X shape, task, n_classes)
    "xor": ({}, (4, 2), "binary", 2),
    "moons": ({"n_samples": 150}, (150, 2), "binary", 2),
    "circles": ({"n_samples": 151}, (151, 2), "binary", 2),
    "spiral": ({"n_samples": 301, "n_classes": 4}, (301, 2), "multiclass", 4),
    "gaussian": ({"n_samples": 90, "n_classes": 3, "n_features": 5}, (90, 5), "multiclass", 3),
    "classification": ({"n_samples": 200, "n_features": 8, "n_classes": 4}, (200, 8),
                       "multiclass", 4),
    "iris": ({}, (150, 4), "multiclass", 3),
    "wine": ({}, (178, 13), "multiclass", 3),
    "breast_cancer": ({}, (569, 30), "binary", 2),
    "digits": ({}, (1797, 64), "multiclass", 10),
    "diabetes": ({}, (442, 10), "regression", None),
}


def test_names_cover_every_loader():
    assert sorted(datasets.NAMES) == sorted(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_types_and_labels(name):
    kwargs, shape, task, n_classes = SHAPES[name]
    ds = datasets.load(name, seed=3, **kwargs)
    assert ds.X.shape == shape and ds.X.dtype == np.float64 and ds.X.flags.c_contiguous
    assert ds.y.shape == (shape[0],)
    assert ds.task == task and ds.name == name
    assert len(ds.feature_names) == shape[1]
    assert np.all(np.isfinite(ds.X))
    if n_classes is None:
        assert ds.classes is None and ds.y.dtype == np.float64
    else:
        assert ds.y.dtype == np.int64 and len(ds.classes) == n_classes == ds.n_classes
        # every class index 0..K-1 occurs
        np.testing.assert_array_equal(np.unique(ds.y), np.arange(n_classes))
    json.dumps({"classes": ds.classes, "features": ds.feature_names})


@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "gaussian", "classification"])
def test_same_seed_same_data_other_seed_other_data(name):
    a = datasets.load(name, n_samples=100, seed=7)
    b = datasets.load(name, n_samples=100, seed=7)
    c = datasets.load(name, n_samples=100, seed=8)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)


def test_generator_seed_is_accepted_and_reproducible():
    a = datasets.spiral(n_samples=60, seed=np.random.default_rng(5))
    b = datasets.spiral(n_samples=60, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.X, b.X)


def test_int_seed_matches_scikit_learn_generator():
    X, y = skd.make_moons(n_samples=80, noise=0.3, random_state=11)
    ds = datasets.moons(n_samples=80, noise=0.3, seed=11)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)


def test_xor_exact_values():
    ds = datasets.xor()
    np.testing.assert_array_equal(ds.X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y, [0, 1, 1, 0])
    assert ds.classes == [0, 1]


def test_noisy_xor_keeps_corner_labels():
    ds = datasets.xor(n_samples=400, noise=0.1, seed=0)
    corner = np.round(ds.X).clip(0, 1).astype(int)
    # noise 0.1 is far below the 0.5 needed to cross into another corner's cell
    np.testing.assert_array_equal(ds.y, corner[:, 0] ^ corner[:, 1])
    assert np.bincount(ds.y).tolist() == [200, 200]


def test_spiral_arms_are_balanced_and_bounded():
    ds = datasets.spiral(n_samples=302, n_classes=3, noise=0.0, seed=0)
    assert np.bincount(ds.y).tolist() == [101, 101, 100]
    radius = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert radius.min() == pytest.approx(0.05) and radius.max() == pytest.approx(1.0)
    # without noise arm k is arm 0 rotated by 2πk/3: same radii, angle shifted
    r0, r1 = radius[ds.y == 0][:100], radius[ds.y == 1][:100]
    np.testing.assert_allclose(r0, r1)


def test_bundled_set_matches_scikit_learn():
    bunch = skd.load_breast_cancer()
    ds = datasets.breast_cancer()
    np.testing.assert_array_equal(ds.X, bunch.data)
    np.testing.assert_array_equal(ds.y, bunch.target)
    assert ds.classes == ["malignant", "benign"]
    assert datasets.digits().classes == list(range(10))


@pytest.mark.parametrize("call, error, match", [
    (lambda: datasets.load("mnist"), ValueError, "unknown data set 'mnist'; choose one of: xor"),
    (lambda: datasets.load("iris", n_samples=10), TypeError, "has no option n_samples"),
    (lambda: datasets.load("moons", target="y"), ValueError, "CSV files only"),
    (lambda: datasets.load("data.csv"), ValueError, "needs target="),
    (lambda: datasets.moons(n_samples=0), ValueError, "n_samples must be a positive integer"),
    (lambda: datasets.moons(noise=-1), ValueError, "noise must be a non-negative number"),
    (lambda: datasets.circles(factor=1.5), ValueError, r"factor must be a number in \(0, 1\)"),
    (lambda: datasets.spiral(n_classes=1), ValueError, "n_classes must be at least 2"),
    (lambda: datasets.spiral(n_samples=2, n_classes=3), ValueError, "one sample per class"),
    (lambda: datasets.classification(n_features=2, n_classes=5), ValueError,
     "needs at least 3 features"),
    (lambda: datasets.moons(seed=-1), ValueError, "seed must be a non-negative integer"),
])
def test_bad_loader_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_load_drops_none_options_and_seed_for_fixed_sets():
    assert datasets.load("moons", n_samples=None, seed=None).X.shape == (1000, 2)
    np.testing.assert_array_equal(datasets.load("iris", seed=4).X, datasets.iris().X)


# -- CSV --------------------------------------------------------------------------------------
def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_string_labels(tmp_path):
    path = write(tmp_path, "a,b,species\n1,2.5,cat\n3,4,dog\n\n5,6,cat\n7,8,bird\n")
    ds = datasets.load(path, target="species")
    np.testing.assert_array_equal(ds.X, [[1, 2.5], [3, 4], [5, 6], [7, 8]])
    assert ds.classes == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(ds.y, [1, 2, 1, 0])
    assert ds.task == "multiclass" and ds.feature_names == ["a", "b"] and ds.name == "data"
    assert [ds.classes[k] for k in ds.y] == ["cat", "dog", "cat", "bird"]


def test_csv_target_anywhere_and_numeric_labels(tmp_path):
    path = write(tmp_path, "label,x\n1.0,0.5\n0,1.5\n1,2.5\n")
    ds = datasets.from_csv(path, "label")
    assert ds.task == "binary" and ds.classes == [0, 1]
    np.testing.assert_array_equal(ds.y, [1, 0, 1])
    np.testing.assert_array_equal(ds.X, [[0.5], [1.5], [2.5]])
    json.dumps(ds.classes)


def test_csv_regression_target(tmp_path):
    rows = "\n".join(f"{i},{i * 0.37:.2f}" for i in range(30))
    ds = datasets.from_csv(write(tmp_path, "x,price\n" + rows + "\n"), "price")
    assert ds.task == "regression" and ds.classes is None
    assert ds.y.dtype == np.float64 and ds.y[10] == pytest.approx(3.70)
    # an explicit task wins over the guess
    forced = datasets.from_csv(write(tmp_path, "x,k\n1,1\n2,2\n3,3\n", "k.csv"), "k",
                               task="regression")
    assert forced.task == "regression"


def test_load_csv_passes_options_and_ignores_seed(tmp_path):
    path = write(tmp_path, "x,k\n1,1\n2,2\n3,3\n")
    assert datasets.load(str(path), target="k", seed=3, task="regression").task == "regression"
    with pytest.raises(TypeError, match="has no option noise; its options: task, max_classes"):
        datasets.load(path, target="k", noise=0.1)


def test_csv_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        datasets.from_csv(missing, "y")


def test_csv_unknown_column_lists_columns(tmp_path):
    path = write(tmp_path, "height,weight,label\n1,2,a\n3,4,b\n")
    with pytest.raises(ValueError, match="unknown target column 'lable'.*columns: height, "
                                         "weight, label"):
        datasets.from_csv(path, "lable")


@pytest.mark.parametrize("text, match", [
    ("x,colour,y\n1,red,0\n2,blue,1\n", "feature column 'colour' .* not numeric .*line 2"),
    ("x,y\n1,0\n,1\n", "missing values .* in 1 column: 'x' \\(line 3\\)"),
    ("x,z,y\n1,NA,0\n,2,1\n3,NaN,1\n", "in 2 columns: 'x' \\(line 3\\); 'z' \\(lines 2, 4\\)"),
    ("x,y\n1,0\n2,1,5\n", "line 3 .* has 3 fields; the header has 2"),
    ("x,y\n", "header row and at least one data row"),
    ("x,x,y\n1,2,0\n", "unique, non-empty column names"),
    ("x,y\n1,a\n2,a\n", "single class"),
    ("x,y\ninf,0\n1,1\n", "non-finite value inf on line 2"),
    ("x,y\n1,0.5\n2,nan\n", "target column 'y' .* missing values on lines \\[3\\]"),
])
def test_csv_bad_content(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        datasets.from_csv(write(tmp_path, text), "y")


def test_csv_string_target_cannot_be_regression(tmp_path):
    with pytest.raises(ValueError, match="not numeric"):
        datasets.from_csv(write(tmp_path, "x,y\n1,a\n2,b\n"), "y", task="regression")


# -- splits -----------------------------------------------------------------------------------
def test_split_sizes_disjoint_and_complete():
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = np.repeat([0, 1], 50)
    s = datasets.split(X, y, test_size=0.2, val_size=0.1, seed=0)
    assert (len(s.X_train), len(s.X_val), len(s.X_test)) == (70, 10, 20)
    rows = np.concatenate([s.X_train[:, 0], s.X_val[:, 0], s.X_test[:, 0]]) / 2
    np.testing.assert_array_equal(np.sort(rows), np.arange(100))
    # rows and labels stay together
    for part_X, part_y in ((s.X_train, s.y_train), (s.X_val, s.y_val), (s.X_test, s.y_test)):
        np.testing.assert_array_equal(part_y, y[(part_X[:, 0] / 2).astype(int)])


def test_split_is_stratified():
    y = np.array([0] * 600 + [1] * 300 + [2] * 100)
    X = np.arange(y.size, dtype=float)[:, None]
    s = datasets.split(X, y, test_size=0.2, val_size=0.2, seed=1)
    for part in (s.y_train, s.y_val, s.y_test):
        np.testing.assert_allclose(np.bincount(part) / part.size, [0.6, 0.3, 0.1], atol=0.006)
    plain = datasets.split(X, y, test_size=0.2, stratify=False, seed=1)
    assert plain.X_val is None and plain.y_val is None and len(plain.y_test) == 200


def test_split_determinism_by_seed():
    ds = datasets.moons(n_samples=100, seed=0)
    a = datasets.split(ds.X, ds.y, seed=5)
    b = datasets.split(ds.X, ds.y, seed=5)
    c = datasets.split(ds.X, ds.y, seed=6)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_split_regression_targets_and_no_test():
    X = np.arange(50, dtype=float)[:, None]
    s = datasets.split(X, X[:, 0] * 0.5, test_size=0.0, val_size=0.2, seed=0)
    assert s.X_test is None and s.y_test is None and len(s.y_val) == 10
    np.testing.assert_array_equal(s.y_train, s.X_train[:, 0] * 0.5)


@pytest.mark.parametrize("kwargs, match", [
    ({"test_size": 1.0}, r"test_size must be a fraction in \[0, 1\)"),
    ({"val_size": -0.1}, "val_size must be a fraction"),
    ({"test_size": 0.6, "val_size": 0.5}, "must be below 1"),
])
def test_split_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.split(np.zeros((10, 1)), np.arange(10) % 2, **kwargs)


def test_split_too_small_to_stratify_says_how_to_fix():
    ds = datasets.xor()
    with pytest.raises(ValueError, match="stratify=False"):
        datasets.split(ds.X, ds.y, test_size=0.25, seed=0)
    assert len(datasets.split(ds.X, ds.y, test_size=0.25, stratify=False, seed=0).y_test) == 1


def test_split_rows_mismatch():
    with pytest.raises(ValueError, match="X has 4, y has shape \\(3,\\)"):
        datasets.split(np.zeros((4, 2)), np.zeros(3))


# -- scaler -----------------------------------------------------------------------------------
@pytest.fixture
def parts():
    ds = datasets.wine()
    return datasets.split(ds.X, ds.y, test_size=0.3, seed=0)


def test_standard_scaler_fitted_on_train_only(parts):
    scaler = datasets.Scaler("standard").fit(parts.X_train)
    train = scaler.transform(parts.X_train)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-12)
    test = scaler.transform(parts.X_test)
    # the test rows are transformed with the training statistics, so they are not exactly 0/1
    assert np.abs(test.mean(axis=0)).max() > 1e-3
    np.testing.assert_allclose(test, StandardScaler().fit(parts.X_train).transform(parts.X_test))
    np.testing.assert_allclose(scaler.inverse_transform(test), parts.X_test)


def test_minmax_scaler_matches_scikit_learn(parts):
    scaler = datasets.Scaler("minmax")
    train = scaler.fit_transform(parts.X_train)
    assert train.min() == 0.0 and train.max() == pytest.approx(1.0)
    np.testing.assert_allclose(scaler.transform(parts.X_test),
                               MinMaxScaler().fit(parts.X_train).transform(parts.X_test))


def test_constant_column_and_float32():
    X = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    out = datasets.Scaler().fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[-1, 0], [1, 0]])
    assert datasets.Scaler("none").fit_transform(X).tolist() == X.tolist()


@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
def test_scaler_config_round_trip(kind, parts):
    scaler = datasets.Scaler(kind).fit(parts.X_train)
    config = json.loads(json.dumps(scaler.get_config()))
    assert config["kind"] == kind
    if kind == "standard":
        assert set(config) == {"kind", "mean", "scale"}
    elif kind == "minmax":
        assert set(config) == {"kind", "min", "range"}
    again = datasets.Scaler.from_config(config)
    np.testing.assert_array_equal(again.transform(parts.X_test), scaler.transform(parts.X_test))
    unfitted = datasets.Scaler.from_config(datasets.Scaler(kind).get_config())
    assert not unfitted.fitted


@pytest.mark.parametrize("call, match", [
    (lambda: datasets.Scaler("robust"), "unknown scaler kind 'robust'; choose one of"),
    (lambda: datasets.Scaler().transform(np.zeros((2, 2))), "not fitted yet"),
    (lambda: datasets.Scaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 4))),
     "X has 4 features but the scaler was fitted on 2"),
    (lambda: datasets.Scaler.from_config({"mean": [0.0]}), "'kind' key"),
    (lambda: datasets.Scaler.from_config({"kind": "standard", "mean": [0.0]}), "needs both"),
    (lambda: datasets.Scaler.from_config({"kind": "minmax", "min": [0.0], "range": [0.0]}),
     "positive 'range'"),
    (lambda: datasets.Scaler().fit(np.array([[1.0], [np.nan]])), "NaN at rows \\[1\\]"),
])
def test_scaler_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
