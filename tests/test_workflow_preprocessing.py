"""The one preprocessing mechanism: ``datasets.Preprocessor`` held equal to scikit-learn's
transforms, carried through fit, predict, the model file, ONNX and TorchScript; tables read as
they come; the pairing rule for every registered activation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from workflow_data import messy_frame

import backprop as bp
from backprop import datasets
from backprop.datasets import Preprocessor, UnseenCategoryWarning
from backprop.io import export_torch, onnx_inputs
from backprop.preprocessing import ColumnNames


def _table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "size": rng.normal(10, 3, n), "colour": rng.choice(["red", "green", "blue"], n),
        "organic": rng.choice([True, False], n), "count": rng.integers(0, 9, n),
        "shape": rng.choice(["round", "long"], n)})
    frame = frame.astype({"size": float, "colour": object, "organic": object})
    frame.loc[[2, 9, 30], "size"] = np.nan
    frame.loc[[4, 50], "colour"] = np.nan
    frame.loc[[7], "organic"] = np.nan
    y = 3 * frame["size"].fillna(10) + (frame["colour"] == "red") * 5 + rng.normal(0, 1, n)
    return frame, y.to_numpy()


@pytest.mark.parametrize("scale, scaler", [("standard", StandardScaler),
                                           ("minmax", MinMaxScaler)])
@pytest.mark.parametrize("impute", ["median", "most_frequent"])
def test_transform_equals_scikit_learns_column_transformer(scale, scaler, impute):
    frame, _ = _table()
    pre = Preprocessor(scale=scale, impute=impute).fit(frame)
    numeric = ["size", "organic", "count"]
    reference = ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(strategy=impute), scaler()), numeric),
        ("categories", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                     OneHotEncoder(handle_unknown="ignore",
                                                   sparse_output=False)), ["colour", "shape"]),
    ]).fit(frame.astype({"organic": float}))
    expected = reference.transform(frame.astype({"organic": float}))
    np.testing.assert_allclose(pre.transform(frame), expected, rtol=1e-12, atol=1e-12)
    assert pre.output_names == ["size", "organic", "count", "colour=blue", "colour=green",
                                "colour=red", "shape=long", "shape=round"]


def test_config_and_arrays_round_trip_exactly():
    frame, y = _table()
    pre = Preprocessor(impute="median", target_scaling=True, ignore=["id"]).fit(frame, y)
    config = json.loads(json.dumps(pre.get_config()))
    again = Preprocessor.from_config(config, pre.get_arrays())
    np.testing.assert_array_equal(again.transform(frame), pre.transform(frame))
    np.testing.assert_array_equal(again.transform_target(y), pre.transform_target(y))
    np.testing.assert_allclose(pre.inverse_transform_target(pre.transform_target(y))[:, 0], y)


def test_rows_by_position_and_by_name_and_ignored_columns():
    frame, _ = _table()
    pre = Preprocessor(impute="median", ignore=["price"]).fit(frame)
    expected = pre.transform(frame)
    np.testing.assert_array_equal(pre.transform(frame[frame.columns[::-1]]), expected)
    np.testing.assert_array_equal(pre.transform(frame.assign(price=1.0)), expected)
    np.testing.assert_array_equal(pre.transform(frame.to_numpy(dtype=object)), expected)
    with pytest.raises(ValueError, match="missing 'shape'; unexpected 'form'"):
        pre.transform(frame.rename(columns={"shape": "form"}))
    with pytest.raises(ValueError, match=r"one sample of 5 columns: X.reshape\(1, -1\)"):
        pre.transform(frame.to_numpy(dtype=object)[0])


@pytest.mark.filterwarnings("ignore::backprop.PoorFitWarning")  # five epochs: not the point
def test_unseen_category_is_a_zero_row_and_a_warning_in_every_path(tmp_path):
    import onnxruntime as ort
    import torch

    frame, y = _table()
    pre = Preprocessor(impute="median", target_scaling=True).fit(frame, y)
    model = bp.MLP([pre.n_features_out, 6, 1], seed=0)
    model.preprocessor = pre
    model.fit(frame, y, optimizer="adam", epochs=5)
    new = frame.head(4).copy()
    new["colour"] = ["purple", "red", np.nan, "green"]
    with pytest.warns(UnseenCategoryWarning, match="'colour': 'purple'"):
        encoded = pre.transform(new)
    colour = [i for i, n in enumerate(pre.output_names) if n.startswith("colour=")]
    np.testing.assert_array_equal(encoded[0, colour], 0.0)  # unseen: all zeros
    fill = pre.categories["colour"].index(pre.category_fill["colour"])
    np.testing.assert_array_equal(encoded[2, colour], np.eye(3)[fill])  # gap: most frequent
    with pytest.warns(UnseenCategoryWarning):
        expected = model.predict(new)
    feed = onnx_inputs(model, new)
    session = ort.InferenceSession(str(bp.export_onnx(model, tmp_path / "m.onnx")),
                                   providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, feed)[0], expected, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's own notice
        module = torch.jit.load(str(export_torch(model, tmp_path / "m.pt")))
    categories = [list(feed[name][:, 0]) for name in pre.categorical_columns]
    with torch.no_grad():
        got = module(torch.tensor(feed["X"]), categories).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_missing_values_without_imputation_name_every_column():
    frame, _ = _table()
    with pytest.raises(ValueError, match=r"in 3 columns: 'size' \(rows 2, 9, 30\); 'colour' "
                                         r"\(rows 4, 50\); 'organic' \(row 7\)"):
        Preprocessor().fit(frame)
    pre = Preprocessor().fit(frame.dropna())
    with pytest.raises(ValueError, match="trained without gaps .*'size' \\(row 2\\)"):
        pre.transform(frame.head(5))


@pytest.mark.parametrize("edit, match", [
    (lambda c, a: c.update(kind="pickle"), "kind 'tabular'"),
    (lambda c, a: c["columns"].append({"name": "x", "kind": "code"}), "columns must be"),
    (lambda c, a: c["categories"].update(colour=["red", "red"]), "distinct strings"),
    (lambda c, a: c["category_fill"].update(colour="purple"), "not one of its categories"),
    (lambda c, a: a.update(scale=np.zeros(3)), "scale must be positive"),
    (lambda c, a: a.update(offset=np.zeros(7)), r"offset must be float64 of shape \(3,\)"),
    (lambda c, a: a.pop("fill"), "expected the arrays"),
    (lambda c, a: a.update(target_scale=np.array([np.inf])), "NaN or inf"),
])
def test_damaged_configs_are_refused(edit, match):
    frame, y = _table()
    pre = Preprocessor(impute="median", target_scaling=True).fit(frame, y)
    config, arrays = json.loads(json.dumps(pre.get_config())), dict(pre.get_arrays())
    edit(config, arrays)
    with pytest.raises(ValueError, match=match):
        Preprocessor.from_config(config, arrays)


def test_a_model_file_holds_names_in_json_and_numbers_as_tensors(tmp_path):
    from backprop.io import read_safetensors

    frame, y = _table()
    pre = Preprocessor(impute="median", target_scaling=True).fit(frame, y)
    model = bp.MLP([pre.n_features_out, 4, 1], seed=0)
    model.preprocessor = pre
    tensors, meta = read_safetensors(bp.save(model, tmp_path / "m.safetensors"))
    assert sorted(n for n in tensors if n.startswith("preprocessor.")) == [
        "preprocessor.fill", "preprocessor.offset", "preprocessor.scale",
        "preprocessor.target_offset", "preprocessor.target_scale"]
    assert json.loads(meta["preprocessor"])["categories"]["colour"] == ["blue", "green", "red"]


@pytest.mark.filterwarnings("ignore::backprop.PoorFitWarning")  # two epochs: not the point
def test_fit_on_a_dataframe_remembers_its_column_names(tmp_path):
    frame = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0]})
    model = bp.MLP([2, 1], seed=0)
    model.fit(frame, [0.0, 1, 2, 3], epochs=2)
    assert isinstance(model.preprocessor, ColumnNames)
    assert bp.load(bp.save(model, tmp_path / "m.safetensors")).preprocessor.feature_names == \
        ["a", "b"]
    with pytest.raises(TypeError, match="lacks transform"):
        model.preprocessor = object()


# -- tables as they come ---------------------------------------------------------------------
def test_read_table_understands_na_spellings_booleans_and_ids(tmp_path):
    path = tmp_path / "shop.csv"
    messy_frame().to_csv(path, index=False)
    with pytest.warns(UserWarning, match="'item_id' looks like a row identifier"):
        table = datasets.read_table(path, "price")
    assert table.feature_names == ["colour", "organic", "size", "weight"]
    assert table.X.isna().sum().to_dict() == {"colour": 2, "organic": 0, "size": 3,
                                              "weight": 1}
    assert table.X["organic"].dtype == bool and table.task == "regression"
    assert list(table.lines[:3]) == [2, 3, 4]


def test_read_table_decimal_commas_with_semicolons_and_explicit_features(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("id;gewicht;farbe;klasse\n1;1,5;rot;a\n2;2,25;blau;b\n3;0,5;rot;a\n",
                    encoding="utf-8")
    table = datasets.read_table(path, "klasse", features=["id", "gewicht"])
    assert table.X["gewicht"].tolist() == [1.5, 2.25, 0.5]
    assert table.feature_names == ["id", "gewicht"] and table.classes == ["a", "b"]
    assert table.left_out == {"klasse": "the target", "farbe": "not in --features"}


@pytest.mark.parametrize("kwargs, match", [
    ({"drop": ["nope"]}, "has no column 'nope'"),
    ({"features": ["price"]}, "cannot also be a feature"),
    ({"task": "sideways"}, "task must be"),
])
def test_read_table_bad_options(tmp_path, kwargs, match):
    path = tmp_path / "shop.csv"
    messy_frame().to_csv(path, index=False)
    with pytest.raises(ValueError, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        datasets.read_table(path, "price", **kwargs)


def test_a_missing_target_value_is_refused_with_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,a\n2,\n3,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing values on lines \[3\]"):
        datasets.read_table(path, "y")


# -- the pairing rule, for every registered activation ----------------------------------------
PROBABILITIES = {"sigmoid", "softmax"}


@pytest.mark.parametrize("activation", bp.activations.ACTIVATIONS.names())
@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy", "mse"])
def test_pairing_rule_for_every_activation(activation, loss):
    problem = bp.losses.pairing_problem(loss, activation, 3)
    if loss == "mse":
        assert problem is None
    elif loss == "binary_crossentropy":
        assert (problem is None) == (activation in PROBABILITIES)
    else:
        assert (problem is None) == (activation == "softmax")
    if problem is not None:
        assert problem.loss == loss and problem.activation in PROBABILITIES
        assert f"--output-activation {problem.activation}" in problem.message("cli")
    single = bp.losses.pairing_problem(loss, activation, 1)
    if activation == "softmax":
        assert single is not None and "always outputs 1" in single.problem


def test_to_torch_carries_the_preprocessing_unless_asked_for_the_network_alone():
    import torch

    frame, y = _table()
    pre = Preprocessor(impute="median", target_scaling=True).fit(frame, y)
    model = bp.MLP([pre.n_features_out, 6, 1], seed=0)
    model.preprocessor = pre
    model.fit(frame, y, optimizer="adam", epochs=5)
    feed = onnx_inputs(model, frame)
    categories = [list(feed[name][:, 0]) for name in pre.categorical_columns]
    with torch.no_grad():  # raw columns in, predict's answer (target un-scaled) out
        got = bp.to_torch(model)(torch.tensor(feed["X"]), categories).numpy()
    np.testing.assert_allclose(got, model.predict(frame), rtol=1e-6)
    network = bp.to_torch(model, preprocessing=False)  # preprocessed inputs in
    assert isinstance(network, torch.nn.Sequential)
    with torch.no_grad():
        scaled = network(torch.tensor(pre.transform(frame), dtype=torch.float32)).numpy()
    np.testing.assert_allclose(pre.inverse_transform_target(scaled), model.predict(frame),
                               rtol=1e-6)
    back = bp.from_torch(network)
    np.testing.assert_array_equal(back.get_flat_weights(), model.get_flat_weights())
    with pytest.raises(TypeError, match="preprocessing=False"):
        bp.from_torch(bp.to_torch(model))


def test_read_table_leaves_out_text_unique_to_each_row(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"name": [f"Person {i}" for i in range(n)],
                          "sex": rng.choice(["f", "m"], n), "age": rng.normal(30, 9, n),
                          "survived": rng.integers(0, 2, n)})
    frame.loc[5, "name"] = None  # a gap does not make the others less unique
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"'name' holds a different text on every row "
                                         r"\(59 distinct values\)"):
        table = datasets.read_table(path, "survived")
    assert table.feature_names == ["sex", "age"]
    assert table.left_out["name"] == "text unique to each row"
    kept = datasets.read_table(path, "survived", features=["name", "sex"])  # asked for: kept
    assert kept.feature_names == ["name", "sex"]
    frame.head(12).to_csv(path, index=False)  # 12 rows: too few to tell
    assert "name" in datasets.read_table(path, "survived").feature_names
