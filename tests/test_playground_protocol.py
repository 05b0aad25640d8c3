"""The playground's server in-process: the WebSocket protocol, frames, sessions, bad input,
static files and the host checks (Starlette's TestClient; no browser)."""

from __future__ import annotations

import base64
import json
import threading
import time
import warnings

import numpy as np
import pytest
from playground_helpers import Page, labelled_csv

import backprop as bp
from backprop.playground import create_app
from backprop.playground.config import Config, from_hash
from backprop.playground.csv_upload import MAX_CSV_BYTES
from backprop.playground.data import make_data

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns about httpx; both work.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

XOR = "#data=xor&hidden=8,8&act=tanh,tanh&batch=10&lr=0.03&seed=3&points=200"


@pytest.fixture(scope="module")
def client():
    app = create_app(allowed_hosts=("testserver", "127.0.0.1", "localhost"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def page(client):
    with client.websocket_connect("/ws") as ws:
        page = Page(ws)
        yield page


def trainer_threads() -> int:
    return sum(t.name == "playground-trainer" and t.is_alive() for t in threading.enumerate())


# -- hello, frames and the URL state -------------------------------------------------------------
def test_hello_applies_the_link_and_the_first_frame_has_every_field(page):
    state = page.hello(XOR)
    assert state["config"]["dataset"] == "xor" and state["config"]["hidden"] == [8, 8]
    assert state["epoch"] == 0 and not state["playing"]
    assert state["layers"] == [8, 8, 1] and state["inputs"] == ["x1", "x2"]
    data = page.until("data")
    assert len(data["train"]) == 100 and len(data["test"]) == 100
    assert data["domain"] == [-6.0, 6.0, -6.0, 6.0]
    header, arrays = page.current_frame()
    assert header["epoch"] == 0 and header["generation"] == state["generation"]
    assert arrays["output"].shape == (1, 100, 100) and arrays["output"].dtype == np.float32
    assert np.all((arrays["output"] > 0) & (arrays["output"] < 1))  # sigmoid probabilities
    assert arrays["neurons"].shape == (16, 50, 50) and arrays["neurons"].dtype == np.uint8
    assert arrays["inputs"].shape == (2, 50, 50)
    # every parameter: (2+1)·8 + (8+1)·8 + (8+1)·1
    assert arrays["params"].shape == (24 + 72 + 9,)
    assert header["train_loss"] > 0 and header["test_loss"] > 0
    assert 0 <= header["train_accuracy"] <= 1 and len(header["grad_norms"]) == 3


def test_the_url_hash_round_trips_and_follows_every_change(page):
    state = page.hello(XOR + "&opt=adam&dropout=0.2&reg=l2&l2=0.003&discretize=1")
    config, problems = from_hash(state["hash"])
    assert problems == [] and config.as_dict() == state["config"]
    assert config.optimizer == "adam" and config.dropout == 0.2 and config.l2_penalty == 0.003
    state = page.command({"type": "config", "changes": {"hidden": [5, 3, 2],
                                                       "activations": ["relu"]}})
    assert "hidden=5,3,2" in state["hash"] and "act=relu,relu,relu" in state["hash"]
    assert from_hash(state["hash"])[0].hidden == (5, 3, 2)


def test_a_link_with_bad_values_keeps_the_good_ones_and_says_which_were_dropped(page):
    page.send({"type": "hello", "hash": "#data=spiral&lr=-4&hidden=4,99&act=tanh&bogus=1"})
    state = page.until("state")
    assert state["config"]["dataset"] == "spiral"
    assert state["config"]["lr"] == Config().lr and state["config"]["hidden"] == [4, 2]
    messages = [page.until("error")["message"] for _ in range(3)]
    text = " ".join(messages)
    assert "lr must be a number from 1e-06 to 10" in text
    assert "hidden layer needs 1 to 32 neurons" in text and "unknown setting 'bogus'" in text


# -- step, play/pause, reset -----------------------------------------------------------------
def test_step_trains_exactly_one_epoch_of_the_engine(page):
    page.hello(XOR)
    for expected in (1, 2, 3):
        assert page.command({"type": "step"})["epoch"] == expected
    header, arrays = page.settled_frame()
    assert header["epoch"] == 3
    # the same three epochs with the library directly
    data = make_data("xor", n_samples=200, seed=0)
    X = data.inputs(data.X_train, ["x1", "x2"]).astype(np.float32)
    model = bp.MLP([2, 8, 8, 1], activation="tanh", output_activation="sigmoid", seed=3)
    model.fit(X, data.y_train, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.03),
              epochs=3, batch_size=10, metrics=[])
    np.testing.assert_array_equal(arrays["params"], model.get_flat_weights())


def test_play_runs_until_pause_and_pause_holds_the_epoch(page):
    page.hello(XOR)
    assert page.command({"type": "play"})["playing"]
    first, _ = page.frame_where(lambda h: h["playing"] and h["epoch"] >= 1)
    later, _ = page.frame_where(lambda h: h["epoch"] >= first["epoch"] + 20)
    assert later["train_loss"] < first["train_loss"] + 1e-9 or later["epoch"] > first["epoch"]
    state = page.command({"type": "pause"})
    assert not state["playing"]
    header, _ = page.settled_frame()
    assert header["epoch"] == state["epoch"] >= later["epoch"]
    # nothing moves while paused: a step adds exactly one epoch to where it stopped
    assert page.command({"type": "step"})["epoch"] == state["epoch"] + 1
    assert trainer_threads() == 0


def test_reset_returns_to_epoch_zero_with_the_same_start_and_data(page):
    page.hello(XOR)
    _, start = page.settled_frame()
    page.command({"type": "step"})
    page.command({"type": "step"})
    data_before = page.data
    state = page.command({"type": "reset"})
    assert state["epoch"] == 0 and not state["playing"]
    header, arrays = page.settled_frame()
    assert header["generation"] == state["generation"]
    np.testing.assert_array_equal(arrays["params"], start["params"])  # same seed, same start
    assert page.data is data_before  # reset keeps the data: no new data message
    regenerated = page.command({"type": "regenerate"})
    new_data = page.until("data")
    assert regenerated["config"]["data_seed"] == 1 and new_data["train"] != data_before["train"]


def test_the_learning_rate_changes_live_without_a_reset(page):
    page.hello(XOR)
    page.command({"type": "play"})
    before, _ = page.frame_where(lambda h: h["epoch"] >= 5)
    state = page.command({"type": "config", "changes": {"lr": 0.1}})
    assert state["generation"] == page.state["generation"] and state["config"]["lr"] == 0.1
    after, _ = page.frame_where(lambda h: h["lr"] == 0.1)
    assert after["generation"] == before["generation"] and after["epoch"] >= before["epoch"]
    assert "lr=0.1" in state["hash"]
    page.command({"type": "pause"})


def test_a_structural_change_rebuilds_at_epoch_zero(page):
    page.hello(XOR)
    page.command({"type": "step"})
    generation = page.state["generation"]
    state = page.command({"type": "config", "changes": {"features": ["x1", "x2", "x1x2"]}})
    assert state["epoch"] == 0 and state["generation"] == generation + 1
    header, arrays = page.settled_frame()
    assert arrays["inputs"].shape[0] == 3 and arrays["params"].size == (3 + 1) * 8 + 72 + 9


# -- everything TensorFlow Playground cannot do --------------------------------------------
def test_several_classes_get_a_softmax_and_a_probability_field_per_class(page):
    page.hello("#data=spiral&classes=4&hidden=8&act=relu&opt=adam&lr=0.01")
    assert page.state["task"] == "multiclass" and page.state["layers"] == [8, 4]
    assert page.state["loss_name"] == "categorical_crossentropy"
    header, arrays = page.current_frame()
    out = arrays["output"]
    assert out.shape == (4, 100, 100)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)
    page.command({"type": "step"})
    header, _ = page.settled_frame()
    assert header["test_accuracy"] is not None


def test_eight_layers_of_32_with_dropout_and_per_layer_activations(page):
    acts = ["relu", "tanh", "elu", "gelu", "swish", "sigmoid", "leaky_relu", "identity"]
    page.hello(f"#data=circle&hidden={','.join(['32'] * 8)}&act={','.join(acts)}&dropout=0.2"
               "&opt=momentum&lr=0.01")
    assert page.state["config"]["activations"] == acts
    page.command({"type": "step"})
    _, arrays = page.settled_frame()
    assert arrays["neurons"].shape == (256, 25, 25)
    page.send({"type": "config", "changes": {"hidden": [4] * 9}})
    assert "at most 8 layer widths" in page.until("error")["message"]


def test_regression_sets_use_an_identity_output_and_a_value_field(page):
    page.hello("#problem=regression&hidden=6&loss=huber")
    assert page.state["config"]["dataset"] == "reg-plane" and page.state["task"] == "regression"
    _, arrays = page.current_frame()
    assert arrays["output"].shape == (1, 100, 100)
    page.command({"type": "step"})
    header, _ = page.settled_frame()
    assert header["train_accuracy"] is None
    page.send({"type": "config", "changes": {"loss": "cross_entropy"}})
    assert "does not fit a regression problem" in page.until("error")["message"]


def test_editing_a_weight_and_a_bias_shows_in_the_next_frame(page):
    page.hello(XOR)
    page.command({"type": "set_param", "layer": 2, "kind": "W", "i": 3, "j": 5,
                  "value": -1.25})
    page.command({"type": "set_param", "layer": 3, "kind": "b", "j": 0, "value": 0.5})
    header, arrays = page.settled_frame()
    params = arrays["params"]
    assert params[24 + 3 * 8 + 5] == np.float32(-1.25)  # W⁽²⁾ after W⁽¹⁾, b⁽¹⁾ (24 values)
    assert params[24 + 72 + 8] == np.float32(0.5)  # b⁽³⁾ after W⁽³⁾ (8 values)


def test_export_gives_a_loadable_model_and_a_snippet_that_replays_the_run(page, tmp_path,
                                                                           monkeypatch):
    page.hello(XOR)
    page.command({"type": "step"})
    page.command({"type": "config", "changes": {"lr": 0.1}})  # live changes, replayed
    page.command({"type": "set_param", "layer": 1, "kind": "W", "i": 0, "j": 0, "value": 0.75})
    page.command({"type": "config", "changes": {"batch_size": 25}})
    page.command({"type": "step"})
    page.command({"type": "step"})
    header, arrays = page.settled_frame()
    export = page.command({"type": "export"}, kind="export")
    path = tmp_path / export["filename"]
    path.write_bytes(base64.b64decode(export["model"]))
    model = bp.load(path)
    np.testing.assert_array_equal(model.get_flat_weights(), arrays["params"])
    # the page's output field is this model's prediction on the plane's grid
    data = make_data("xor", n_samples=200, seed=0)
    grid = data.inputs(data.grid(100), ["x1", "x2"])
    np.testing.assert_allclose(model.predict(grid)[:, 0].reshape(100, 100),
                               arrays["output"][0], atol=1e-6)
    assert model.training_config["epoch"] == 3
    monkeypatch.chdir(tmp_path)
    exec(compile(export["snippet"], "snippet", "exec"), {"__name__": "snippet"})
    replayed = bp.load(tmp_path / export["filename"])
    np.testing.assert_array_equal(replayed.get_flat_weights(), arrays["params"])


def test_a_csv_upload_trains_on_every_column_and_draws_two(page):
    page.hello("#hidden=6&act=tanh&opt=adam&lr=0.03")
    text = labelled_csv(n=90, classes=3, extra=2)
    replies = [page.command({"type": "csv", "name": "shapes.csv", "text": text}, kind="csv")]
    state = page.until("state")
    data = page.until("data")
    assert replies[0]["columns"] == ["a", "b", "c0", "c1", "kind"] and replies[0]["rows"] == 90
    assert state["config"]["dataset"] == "csv" and state["config"]["target"] == "kind"
    assert state["task"] == "multiclass" and state["classes"] == ["alpha", "beta", "gamma"]
    assert state["inputs"] == ["a", "b", "c0", "c1"] and data["axes"] == ["a", "b"]
    _, arrays = page.current_frame()
    assert arrays["output"].shape == (3, 100, 100)
    state = page.command({"type": "config", "changes": {"y_column": "c0"}})
    assert page.until("data")["axes"] == ["a", "c0"]
    for _ in range(5):
        page.command({"type": "step"})
    header, _ = page.settled_frame()
    assert header["train_accuracy"] > 0.5
    export = page.command({"type": "export"}, kind="export")
    assert "csv_data(handle.read(), target='kind'" in export["snippet"]


def test_a_messy_csv_is_read_like_the_library_reads_it_and_the_model_carries_that(
        page, tmp_path):
    """Semicolons, an ID column, a text column, empty cells, a numeric target: the upload
    goes through read_table and a Preprocessor, and the exported model predicts on raw rows
    (in the target's units, for regression) exactly what the page drew."""
    rng = np.random.default_rng(1)
    rows = ["id;size;weight;colour;price"]
    for i in range(80):
        size, weight = rng.uniform(1, 5), rng.uniform(10, 50)
        colour = ["red", "green", "blue"][i % 3]
        price = 3 * size + 0.1 * weight + (2 if colour == "red" else 0) + rng.normal(0, 0.3)
        cell = "" if i % 17 == 5 else f"{weight:.2f}"  # a few empty cells
        rows.append(f"{1000 + i};{size:.3f};{cell};{colour};{price:.3f}")
    text = "\n".join(rows) + "\n"
    page.hello("#hidden=6&act=tanh&opt=adam&lr=0.03&batch=8")
    page.command({"type": "csv", "name": "shop.csv", "text": text}, kind="csv")
    state = page.until("state")
    assert state["config"]["target"] == "price" and state["task"] == "regression"
    assert (state["config"]["x_column"], state["config"]["y_column"]) == ("size", "weight")
    # the ID column is left out; the text column is one-hot encoded
    assert state["inputs"] == ["size", "weight", "colour=blue", "colour=green", "colour=red"]
    for _ in range(30):
        page.command({"type": "step"})
    header, arrays = page.settled_frame()
    assert header["train_loss"] < 0.2  # standardised target: 0.5 would be the mean's loss
    export = page.command({"type": "export"}, kind="export")
    path = tmp_path / export["filename"]
    path.write_bytes(base64.b64decode(export["model"]))
    model = bp.load(path)
    from backprop.playground.csv_upload import csv_data

    data = csv_data(text, "price", "size", "weight", "regression", 50, 0, "shop.csv")
    raw = model.predict(data.grid(100))[:, 0]  # raw rows in, price out
    drawn = data.preprocessor.inverse_transform_target(arrays["output"].reshape(-1, 1))[:, 0]
    np.testing.assert_allclose(raw, drawn, rtol=1e-5, atol=1e-4)
    assert model.preprocessor is not None


def test_the_doctor_s_findings_ride_in_the_frames(page):
    page.hello("#data=xor&hidden=4&loss=mse")  # a sigmoid output trained on squared error
    header, _ = page.current_frame()
    assert header["findings"] is None  # nothing trained, nothing diagnosed
    page.command({"type": "step"})
    header, _ = page.settled_frame()
    assert header["findings_kind"] == "diagnosis"
    codes = {f["code"]: f for f in header["findings"]}
    assert "loss_output_mismatch" in codes
    finding = codes["loss_output_mismatch"]
    assert finding["severity"] == "warning" and "binary_crossentropy" in finding["advice"]
    page.command({"type": "play"})  # while it trains: what the doctor has noticed so far
    header, _ = page.frame_where(lambda h: h["findings_kind"] == "live" and any(
        f["code"] == "loss_output_mismatch" for f in h["findings"]))
    assert all(f["epoch"] is not None for f in header["findings"])
    page.command({"type": "pause"})
    state = page.command({"type": "config", "changes": {"loss": "cross_entropy"}})
    page.command({"type": "step"})
    header, _ = page.settled_frame()
    assert header["generation"] == state["generation"]
    assert "loss_output_mismatch" not in {f["code"] for f in header["findings"]}


def test_explain_traces_one_step_in_the_chapter_s_notation(page):
    page.hello(XOR)
    page.command({"type": "step"})
    explained = page.command({"type": "explain"}, kind="explain")
    assert explained["epoch"] == 1 and "first 8 training rows" in explained["note"]
    text = explained["markdown"]
    for symbol in ("z⁽¹⁾", "a⁽²⁾", "δ⁽³⁾", "∂L/∂W⁽¹⁾", "∂L/∂b⁽³⁾"):
        assert symbol in text, symbol
    assert page.command({"type": "step"})["epoch"] == 2  # explaining changed nothing
    page.command({"type": "config", "changes": {"dropout": 0.2}})
    page.send({"type": "explain"})
    assert "build it without dropout" in page.until("error")["message"]


# -- bad input: a clear message, and the session goes on -----------------------------------
BAD_MESSAGES = [
    ("{not json", "malformed message (not JSON"),
    ('["a list"]', 'must be a JSON object with a "type"'),
    ('{"type": "fly"}', "unknown message type 'fly'; expected one of: hello"),
    ('{"type": "config", "changes": {"lr": -1}}', "lr must be a number from 1e-06 to 10"),
    ('{"type": "config", "changes": {"lr": "fast"}}', "lr must be a number"),
    ('{"type": "config", "changes": {"noise": 500}}', "noise must be an integer from 0 to 50"),
    ('{"type": "config", "changes": {"hidden": [33]}}', "1 to 32 neurons"),
    ('{"type": "config", "changes": {"features": []}}', "at least one input feature"),
    ('{"type": "config", "changes": {"activations": ["relu6"]}}', "each activation must be one of"),
    ('{"type": "config", "changes": {"wings": 2}}', "unknown setting 'wings'"),
    ('{"type": "config", "changes": "lr=2"}', "config changes must be an object"),
    ('{"type": "config", "changes": {"dataset": "csv"}}', "upload a CSV file before"),
    ('{"type": "set_param", "layer": 9, "kind": "W", "i": 0, "j": 0, "value": 1}',
     "layer must be an integer from 1 to 3"),
    ('{"type": "set_param", "layer": 1, "kind": "W", "i": 5, "j": 0, "value": 1}',
     "i must be an integer from 0 to 1"),
    ('{"type": "set_param", "layer": 1, "kind": "W", "i": 0, "j": 0, "value": 1e9}',
     "must be a number from -100 to 100"),
    ('{"type": "set_param", "layer": 1, "kind": "q", "j": 0, "value": 1}', 'kind must be "W"'),
    ('{"type": "csv", "name": "x.csv", "text": 5}', "the CSV must arrive as text"),
    ('{"type": "csv", "name": "x.csv", "text": "a,b\\n1,2\\n"}', "this CSV has 1 besides"),
    ('{"type": "csv", "name": "x.csv", "text": "a,b,c\\n1,2,3\\n4,5,6,7\\n"}',
     "line 3 of x.csv has 4 fields; the header has 3"),
    ('{"type": "csv", "name": "x.csv", "text": "a,b,c\\n1,2,3\\n4,5\\n"}',
     "target column 'c' in x.csv has missing values on lines [3]"),
    ('{"type": "csv", "name": "x.csv", "text": "a,b,c\\n1,x,0\\n2,3,1\\n"}',
     "draws two numeric columns against each other"),
    ('{"type": "csv", "name": "x.csv", "text": "a,b,c\\n1,2,0\\n2,3,0\\n"}', "a single class"),
    ('{"type": "csv", "name": "x.csv", "text": ""}', "x.csv"),
]


@pytest.mark.parametrize("text, expected", BAD_MESSAGES)
def test_bad_messages_get_an_error_reply_and_the_session_carries_on(page, text, expected):
    page.hello(XOR)
    page.send(text)
    error = page.until("error")
    assert expected in error["message"], error["message"]
    assert page.command({"type": "step"})["epoch"] == 1  # still the same, working session
    assert page.state["config"]["dataset"] == "xor"


def test_binary_and_oversized_messages_and_huge_csvs_are_refused(page):
    page.hello(XOR)
    page.ws.send_bytes(b"\x00\x01")
    assert "binary messages are not understood" in page.until("error")["message"]
    huge = "a,b,c\n" + "1,2,0\n" * (MAX_CSV_BYTES // 6 + 10)
    page.send({"type": "csv", "name": "big.csv", "text": huge})
    assert "the playground takes files up to 5 MB" in page.until("error")["message"]
    page.send("x" * (2 * MAX_CSV_BYTES + 5000))
    assert "message of" in page.until("error")["message"]
    # 300 categories, each on 10 rows (a text different on every row would be left out
    # of the features by read_table, as free text)
    words = "a,b,note,k\n" + "".join(f"{i},{i % 7},word{i % 300},{i % 2}\n"
                                      for i in range(3000))
    page.send({"type": "csv", "name": "notes.csv", "text": words})
    assert "make 302 network inputs" in page.until("error")["message"]
    assert page.command({"type": "step"})["epoch"] == 1


def test_divergence_stops_training_with_a_message_and_reset_recovers(page):
    page.hello("#problem=regression&hidden=8,8&act=relu,relu&lr=10&opt=sgd&batch=50")
    page.command({"type": "play"})
    while not page.errors:  # the worker's message may come before or after the reply
        page.receive()
    error = page.errors[0]
    assert "Training stopped: training diverged" in error["message"]
    assert "smaller learning rate" in error["message"]
    state = page.command({"type": "reset"})
    assert state["epoch"] == 0
    page.command({"type": "config", "changes": {"lr": 0.01}})
    assert page.command({"type": "step"})["epoch"] == 1


# -- sessions, the page going away, the server -------------------------------------------------
def test_two_pages_are_two_independent_sessions(client):
    with client.websocket_connect("/ws") as ws_a, client.websocket_connect("/ws") as ws_b:
        a, b = Page(ws_a), Page(ws_b)
        a.hello(XOR)
        b.hello("#data=circle&hidden=3")
        a.command({"type": "step"})
        a.command({"type": "step"})
        assert a.state["epoch"] == 2
        assert b.command({"type": "step"})["epoch"] == 1
        assert b.state["config"]["dataset"] == "circle" and a.state["config"]["dataset"] == "xor"
        assert client.get("/health").json()["sessions"] == 2


def test_closing_the_page_mid_training_stops_its_worker_and_the_server_serves_on(client):
    with client.websocket_connect("/ws") as ws:
        page = Page(ws)
        page.hello(XOR)
        page.command({"type": "play"})
        page.frame_where(lambda h: h["epoch"] >= 3)
        assert trainer_threads() == 1
    deadline = time.monotonic() + 10
    while trainer_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert trainer_threads() == 0
    with client.websocket_connect("/ws") as ws:
        assert Page(ws).hello(XOR)["epoch"] == 0
    assert client.get("/health").json()["sessions"] == 0


def test_the_page_and_its_files_come_from_the_package_only(client):
    page = client.get("/")
    assert page.status_code == 200 and "backprop playground" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    script = client.get("/static/js/main.js")
    assert script.status_code == 200 and "WebSocket" in script.text
    for path in ("/static/../session.py", "/static/%2e%2e/session.py",
                 "/static/..%2fsession.py", "/static/js/..%2f..%2fsession.py",
                 "/static/%2e%2e/%2e%2e/playground/session.py", "/static//etc/passwd",
                 "/static/missing.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "class Session" not in response.text and "root:" not in response.text


def test_other_hosts_and_origins_are_refused(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}):
            pass
    assert refused.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://127.0.0.1:8765"}) as ws:
        assert Page(ws).hello()["type"] == "state"


def test_the_config_checks_ranges_and_names_what_is_allowed():
    config = Config().updated({"problem": "regression"})
    assert config.dataset == "reg-plane" and config.loss == "mse"
    config = config.updated({"dataset": "gauss"})  # a data set decides the problem type
    assert config.problem == "classification" and config.loss == "mse"  # fits both
    config = Config().updated({"problem": "regression", "loss": "mae"}).updated(
        {"problem": "classification"})
    assert config.dataset == "circle" and config.loss == "cross_entropy"  # mae does not
    assert Config().updated({"hidden": [3, 3, 3]}).activations == ("tanh",) * 3
    with pytest.raises(ValueError, match="activations needs one name per hidden layer"):
        Config().updated({"activations": ["relu", "tanh", "elu"]})
    for key, value in (("batch_size", 0), ("train_percent", 95), ("seed", -1), ("lr", True),
                       ("discretize", "yes"), ("x_column", 3)):
        with pytest.raises(ValueError, match=key):
            Config().updated({key: value})
    assert json.loads(json.dumps(Config().as_dict())) == Config().as_dict()
