"""One page's session: its configuration, data, network and trainer, and the page's commands.

The page speaks JSON (see :meth:`Session.handle`); every command returns the replies to send
back, and every bad message returns an ``{"type": "error", "message": ...}`` reply instead of
raising, leaving the session as it was. Frames are drawn separately (:meth:`Session.render`)
from the trainer's latest snapshot.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import numbers
import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from .config import (
    ACTIVATIONS,
    CLASSIFICATION_SETS,
    DATA_KEYS,
    FEATURES,
    LIVE,
    LOSSES,
    MAX_CLASSES,
    MAX_HIDDEN_LAYERS,
    MAX_NEURONS,
    MULTICLASS_SETS,
    OPTIMIZERS,
    REGRESSION_SETS,
    Config,
    from_hash,
)
from .csv_upload import (
    MAX_CSV_BYTES,
    MAX_CSV_CLASSES,
    MAX_CSV_COLUMNS,
    MAX_CSV_ROWS,
    csv_columns,
    csv_data,
)
from .data import PlaneData, make_data
from .doctor import LiveDoctor
from .frames import View
from .network import OUTPUT_ACTIVATION, build_model, build_optimizer, loss_name
from .snippet import snippet
from .trainer import Job, Snapshot, Trainer

log = logging.getLogger("backprop.playground")

#: the largest message the page may send (a CSV at its limit, JSON-escaped)
MAX_MESSAGE_CHARS = 2 * MAX_CSV_BYTES + 4096
#: a weight or bias typed into the page must lie within ± this
MAX_PARAMETER = 100.0
#: "explain this step" traces a batch of at most this many rows (the tables stay readable)
EXPLAIN_ROWS = 8
#: what the page offers (the server checks every value against config.py all the same)
OPTIONS = {
    "datasets": {"classification": list(CLASSIFICATION_SETS),
                 "regression": list(REGRESSION_SETS)},
    "multiclass_sets": list(MULTICLASS_SETS), "features": list(FEATURES),
    "activations": list(ACTIVATIONS), "losses": {k: list(v) for k, v in LOSSES.items()},
    "optimizers": list(OPTIMIZERS), "max_layers": MAX_HIDDEN_LAYERS,
    "max_neurons": MAX_NEURONS, "max_classes": MAX_CLASSES,
    "csv_limits": {"bytes": MAX_CSV_BYTES, "rows": MAX_CSV_ROWS, "columns": MAX_CSV_COLUMNS,
                   "classes": MAX_CSV_CLASSES},
}
COMMANDS = ("hello", "config", "play", "pause", "step", "reset", "regenerate", "set_param",
            "csv", "export", "explain")


class Session:
    """A page's playground.

    Parameters
    ----------
    notify : callable
        Takes a reply dict sent from another thread (the trainer's "training stopped").
    """

    def __init__(self, notify: Callable[[dict[str, Any]], None] = lambda message: None) -> None:
        self.notify = notify
        self.config = Config()
        self.csv_text: str | None = None
        self.csv_name = ""
        self.csv_header: list[str] = []
        self.data: PlaneData | None = None
        self.model: Any = None
        self.optimizer: Any = None
        self.view: View | None = None
        self.generation = 0
        #: live changes since epoch 0, replayed by the exported snippet
        self.timeline: list[dict[str, Any]] = []
        self.start: dict[str, Any] = {}
        self.trainer = Trainer(self._trainer_event)
        self.doctor: LiveDoctor | None = None

    # -- the page's messages ------------------------------------------------------------------
    def handle(self, text: Any) -> list[dict[str, Any]]:
        """Replies to one message from the page (JSON text)."""
        if not isinstance(text, str):
            return [_error("the playground understands JSON text messages only; got "
                           f"{type(text).__name__}")]
        if len(text) > MAX_MESSAGE_CHARS:
            return [_error(f"message of {len(text):,} characters refused; the limit is "
                           f"{MAX_MESSAGE_CHARS:,} (a CSV may be at most "
                           f"{MAX_CSV_BYTES // 2**20} MB)")]
        try:
            message = json.loads(text)
        except ValueError as exc:
            return [_error(f"malformed message (not JSON: {exc})")]
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return [_error('each message must be a JSON object with a "type"; got '
                           f"{text[:80]!r}")]
        kind = message["type"]
        if kind not in COMMANDS:
            replies = [_error(f"unknown message type {kind[:40]!r}; expected one of: "
                              f"{', '.join(COMMANDS)}")]
        else:
            try:
                replies = getattr(self, f"_on_{kind}")(message)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                replies = [_error(str(exc) or type(exc).__name__)]
            except Exception as exc:  # noqa: BLE001 - a bug must not end the session
                log.exception("playground: %s failed", kind)
                replies = [_error(f"internal error in {kind!r}: {type(exc).__name__}: {exc}")]
        # A message's "id" (a number or short text) comes back on each of its replies.
        ident = message.get("id")
        if isinstance(ident, (int, str)) and not isinstance(ident, bool) \
                and len(str(ident)) <= 64:
            for reply in replies:
                reply["id"] = ident
        return replies

    def _on_hello(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        config, problems = from_hash(_text(message, "hash", ""))
        replies = [_error(p, level="warning") for p in problems]
        if config.dataset == "csv" and self.csv_text is None:
            replies.append(_error("this link trains on an uploaded CSV; upload the file again "
                                  "(shown meanwhile: the circle set)", level="warning"))
            config = config.updated({"dataset": "circle"})
        return self._rebuild(config, data=True) + replies

    def _on_config(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        changes = message.get("changes")
        new = self.config.updated(changes)
        if new.dataset == "csv" and self.csv_text is None:
            raise ValueError("upload a CSV file before choosing the csv data set")
        changed = self.config.changed_fields(new)
        if not changed:
            return [self._state()]
        if changed <= LIVE:
            return self._live(new, changed)
        return self._rebuild(new, data=bool(changed & DATA_KEYS))

    def _live(self, new: Config, changed: set[str]) -> list[dict[str, Any]]:
        """Learning rate, L2 and batch size change the running network, without a reset."""
        job = self.trainer.job
        with self.trainer.paused():
            event: dict[str, Any] = {}
            if "lr" in changed:
                self.optimizer.lr = new.lr
                event["lr"] = new.lr
            if new.l2_penalty != self.config.l2_penalty:
                job.l2 = new.l2_penalty
                event["l2"] = new.l2_penalty
            if "batch_size" in changed:
                job.batch_size = new.batch_size
                event["batch_size"] = new.batch_size
            if event:
                self.timeline.append({"epoch": self.trainer.epoch, "set": event})
            self.config = new
        return [self._state()]

    def _on_play(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self.trainer.play()
        return [self._state()]

    def _on_pause(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self.trainer.pause()
        return [self._state()]

    def _on_step(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self.trainer.step(1)
        return [self._state()]

    def _on_reset(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        return self._rebuild(self.config, data=False)

    def _on_regenerate(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        seed = (self.config.data_seed + 1) % 2**31
        return self._rebuild(self.config.updated({"data_seed": seed}), data=True)

    def _on_set_param(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Edit one weight W⁽ˡ⁾[i, j] or bias b⁽ˡ⁾[j] (layer l from 1)."""
        layers = self.model.dense_layers
        layer = _int(message, "layer", 1, len(layers))
        dense = layers[layer - 1]
        kind = message.get("kind")
        if kind not in ("W", "b"):
            raise ValueError(f'kind must be "W" (a weight) or "b" (a bias); got {kind!r}')
        j = _int(message, "j", 0, dense.n_out - 1)
        i = _int(message, "i", 0, dense.n_in - 1) if kind == "W" else 0
        value = message.get("value")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or abs(value) > MAX_PARAMETER:
            raise ValueError(f"a weight or bias must be a number from {-MAX_PARAMETER:g} to "
                             f"{MAX_PARAMETER:g}; got {value!r}")
        with self.trainer.paused():
            if kind == "W":
                dense.W.value[i, j] = value
            else:
                dense.b.value[j] = value
            self.timeline.append({"epoch": self.trainer.epoch,
                                  "param": [layer, kind, i, j, float(value)]})
        return [self._state()]

    def _on_csv(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        text = message.get("text")
        name = _text(message, "name", "upload.csv")[:120]
        header, (target, x_column, y_column, problem) = csv_columns(text, name)
        config = self.config.updated({"dataset": "csv", "target": target,
                                      "x_column": x_column, "y_column": y_column,
                                      "problem": problem})
        data = csv_data(text, target, x_column, y_column, problem, config.train_percent,
                        config.data_seed, name)
        self.csv_text, self.csv_name, self.csv_header = text, name, header
        replies = self._rebuild(config, data=True, ready=data)
        return [{"type": "csv", "name": name, "columns": header, "rows":
                 int(data.X_train.shape[0] + data.X_test.shape[0])}, *replies]

    def _on_export(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        from .. import save

        config, data = self.config, self.data
        with self.trainer.paused():
            epoch = self.trainer.epoch
            with tempfile.TemporaryDirectory(prefix="playground-") as folder:
                path = os.path.join(folder, "model.safetensors")
                save(self.model, path, preprocessor=data.preprocessor,
                     classes=list(data.classes) or None,
                     training_config={"playground": config.as_dict(), "epoch": epoch,
                                      "loss": loss_name(config, data), "timeline":
                                      self.timeline})
                with open(path, "rb") as handle:
                    blob = handle.read()
        stem = f"playground-{config.dataset}-epoch{epoch}"
        sizes = [self.model.n_features] + [d.n_out for d in self.model.dense_layers]
        return [{"type": "export", "filename": stem + ".safetensors", "epoch": epoch,
                 "model": base64.b64encode(blob).decode("ascii"),
                 "snippet": snippet(config, sizes, OUTPUT_ACTIVATION[data.task],
                                    loss_name(config, data), data.task == "multiclass",
                                    self.start, epoch, self.timeline, self.csv_name,
                                    stem + ".safetensors"),
                 "snippet_filename": stem + ".py"}]

    def _on_explain(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """One training step from the current weights, in the chapter's notation
        (``bp.explain_step``), on the first rows of the training data."""
        from .. import explain_step

        view, config = self.view, self.config
        rows = min(config.batch_size, EXPLAIN_ROWS, view.X_train.shape[0])
        with self.trainer.paused():
            epoch = self.trainer.epoch
            step = explain_step(self.model, view.X_train[:rows], view.T_train[:rows],
                                loss=view.loss, optimizer=self.optimizer)
        note = (f"The network at epoch {epoch}, one step on the first {rows} training rows "
                "(the network itself is not changed).")
        if config.l2_penalty:
            note += f" The L2 term λΣ‖W‖² (λ = {config.l2_penalty:g}) is left out of this trace."
        return [{"type": "explain", "epoch": epoch, "note": note,
                 "markdown": step.to_markdown()}]

    # -- building -----------------------------------------------------------------------------
    def _rebuild(self, config: Config, data: bool,
                 ready: PlaneData | None = None) -> list[dict[str, Any]]:
        """A fresh network for ``config`` at epoch 0 (and fresh data if ``data``), paused.

        Everything new is built before anything is replaced: a configuration that cannot be
        built (CSV columns that do not fit, say) raises and leaves the session as it was.
        """
        new_data = self.data
        if ready is not None:
            new_data = ready
        elif data or new_data is None:
            if config.dataset == "csv":
                new_data = csv_data(self.csv_text, config.target, config.x_column,
                                    config.y_column, config.problem, config.train_percent,
                                    config.data_seed, self.csv_name)
            else:
                new_data = make_data(config.dataset, config.n_samples, config.noise,
                                     config.train_percent, config.classes, config.data_seed)
        model = build_model(config, new_data)
        view = View(self.generation + 1, config, new_data, model)
        optimizer = build_optimizer(config)
        doctor = LiveDoctor(view.X_train, view.T_train)
        job = Job(model, view.X_train, view.T_train, view.loss, optimizer, config.batch_size,
                  config.l2_penalty, view.generation, callbacks=doctor.callbacks,
                  validation=(view.X_test, view.T_test))
        self.trainer.pause()
        self.config, self.data, self.model, self.optimizer = config, new_data, model, optimizer
        self.generation, self.view, self.timeline = view.generation, view, []
        self.doctor = doctor
        self.start = {"lr": config.lr, "l2": config.l2_penalty, "batch_size": config.batch_size}
        self.trainer.load(job)
        replies = [self._state()]
        if data:
            replies.append(self._data_message())
        return replies

    # -- replies ------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        config, data = self.config, self.data
        pre = data.preprocessor
        names = list(pre.output_names) if pre is not None else list(config.features)
        return {
            "type": "state", "config": config.as_dict(), "hash": config.to_hash(),
            "generation": self.generation, "epoch": self.trainer.epoch,
            "playing": self.trainer.playing, "inputs": names,
            "layers": [layer.n_out for layer in self.model.dense_layers],
            "task": data.task, "classes": [str(c) for c in data.classes],
            "loss_name": loss_name(config, data),
            "csv": None if self.csv_text is None else {
                "name": self.csv_name, "header": self.csv_header,
                "columns": [c for c in pre.numeric_columns] if pre is not None else []},
            "options": OPTIONS,
        }

    def _data_message(self) -> dict[str, Any]:
        data = self.data

        def points(X: Any, y: np.ndarray) -> list[list[float]]:
            rows = np.column_stack([data.plane_points(X), y])
            return rows[np.isfinite(rows).all(axis=1)].round(5).tolist()  # gaps: not drawn

        return {"type": "data", "generation": self.generation, "task": data.task,
                "train": points(data.X_train, data.y_train),
                "test": points(data.X_test, data.y_test),
                "domain": list(data.domain),
                "axes": data.axes,
                "value_range": [float(data.y_train.min()), float(data.y_train.max())]
                if data.task == "regression" else [-1.0, 1.0]}

    # -- frames -------------------------------------------------------------------------------
    def latest(self) -> Snapshot | None:
        return self.trainer.latest

    def render(self, snap: Snapshot) -> bytes | None:
        """The frame for ``snap``, or None when the network was rebuilt since."""
        view, doctor = self.view, self.doctor
        if view is None or snap.generation != view.generation:
            return None
        kind, findings = doctor.findings()
        return view.render(snap, self.optimizer.lr,
                           {"findings": findings, "findings_kind": kind})

    def close(self) -> None:
        """The page went away: stop training and let go of the data."""
        self.trainer.close()

    def _trainer_event(self, message: dict[str, Any]) -> None:
        self.notify(message)


def _error(message: str, level: str = "error") -> dict[str, Any]:
    return {"type": "error", "level": level, "message": message}


def _text(message: dict[str, Any], key: str, default: str) -> str:
    value = message.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text; got {type(value).__name__}")
    return value


def _int(message: dict[str, Any], key: str, low: int, high: int) -> int:
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not low <= value <= high:
        raise ValueError(f"{key} must be an integer from {low} to {high}; got {value!r}")
    return int(value)
