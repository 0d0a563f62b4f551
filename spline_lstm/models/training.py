"""Train a forecaster with early stopping and atomic best/last ``.keras`` checkpoints."""

from __future__ import annotations

import contextlib
import math
import os
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from contracts.errors import CheckpointSaveError
from spline_lstm.cancel import raise_if_stop_requested

MONITOR = "val_loss"


@dataclass(frozen=True)
class TrainResult:
    history: dict[str, list[float]]
    best_epoch: int  # 1-based
    last_epoch: int  # 1-based
    best_val_loss: float
    epochs_requested: int
    early_stopped: bool

    @property
    def epochs_ran(self) -> int:
        return self.last_epoch


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TF for deterministic kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def layer_seeds_from(seed: int):
    """Within the block, Keras draws each new layer's seed from a generator of its own.

    Keras takes a layer's initializer and dropout seeds from Python's global random, which
    any thread may draw from at any moment (websockets' keepalive ping in a Prefect client,
    dask's comms): one draw between ``make_deterministic`` and a layer's creation changes
    that model's weights. The private generator starts where ``random.seed(seed)`` puts
    the global one, so the weights are the ones a quiet process always built. Hold a lock
    around the block: Keras reads the generator from one module-level name.
    """
    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


def save_model_atomically(model, path: Path) -> None:
    """Write ``model`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    # Named by process and thread: fits run in threads of one process (candidates, series).
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.keras")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(tmp)
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - any failure to persist is a checkpoint error
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CheckpointSaveError(
            f"could not save checkpoint {path}: {type(exc).__name__}: {exc}; check free disk "
            "space and write permission on --artifacts-dir") from exc


def _best_weights_callback(log: Callable[[str], None], total_epochs: int):
    import keras

    class BestWeightsAndProgress(keras.callbacks.Callback):
        """Keep the lowest-val_loss weights in memory; log one line per epoch.

        The best checkpoint is written once, after training (a file per improvement cost
        a save each time, and nothing reads it before training ends).
        """

        def __init__(self) -> None:
            super().__init__()
            self.best = math.inf
            self.best_epoch = 0
            self.best_weights: list | None = None

        def on_train_batch_end(self, batch: int, logs=None) -> None:
            raise_if_stop_requested()  # a polite stop ends training within a batch

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            logs = logs or {}
            val_loss = float(logs.get(MONITOR, math.nan))
            improved = val_loss < self.best
            if improved:
                self.best, self.best_epoch = val_loss, epoch + 1
                self.best_weights = self.model.get_weights()
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            log(f"epoch {epoch + 1}/{total_epochs} loss={logs.get('loss', math.nan):.5f} "
                f"val_loss={val_loss:.5f} lr={lr:.2e}{' *best' if improved else ''}")

    return BestWeightsAndProgress()


def _one_iterator_per_fit(train, val) -> tuple:
    """(x, {validation_data, steps}) for ``model.fit``, reading each dataset through one
    iterator for the whole fit.

    Keras makes a new iterator of a finite dataset every epoch, and making one instantiates
    the whole input pipeline: 10-13 ms each for the windows' datasets, two per epoch, 40 %
    of an epoch on a monthly series. Repeated, with the steps of one pass per epoch, the
    iterator lives across epochs and the batches are the same ones in the same order (the
    train windows' order is drawn once per pass, as before).
    """
    steps, val_steps = (int(d.cardinality()) for d in (train, val))
    if steps <= 0 or val_steps <= 0:  # unknown or infinite length: as given
        return train, {"validation_data": val}
    return train.repeat(), {"validation_data": val.repeat(), "steps_per_epoch": steps,
                            "validation_steps": val_steps}


def train_model(model, train, val, *, epochs: int, patience: int, best_path: Path,
                last_path: Path, log: Callable[[str], None] = lambda _msg: None) -> TrainResult:
    """Fit ``model``; best.keras holds the lowest-val_loss epoch, last.keras the final one.

    Both are written when training ends; ``model`` is left with the best epoch's weights.

    train, val: tf.data datasets of (X [B, lookback, F], y [B, horizon]) batches (train
    already shuffled per epoch), e.g. ``ProcessedData.dataset``.
    """
    import keras

    Path(best_path).parent.mkdir(parents=True, exist_ok=True)  # visible while training
    best = _best_weights_callback(log, epochs)
    stopper = keras.callbacks.EarlyStopping(monitor=MONITOR, patience=patience)
    plateau = keras.callbacks.ReduceLROnPlateau(monitor=MONITOR, factor=0.5,
                                                patience=max(2, patience // 3), min_lr=1e-5)
    x, inputs = _one_iterator_per_fit(train, val)
    history = model.fit(x, **inputs, epochs=epochs, verbose=0, shuffle=False,
                        callbacks=[best, stopper, plateau])
    losses = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    last_epoch = len(losses.get("loss", []))
    if best.best_epoch == 0:
        raise CheckpointSaveError(
            "no epoch produced a finite val_loss, so no best checkpoint exists; lower "
            "--learning-rate or check the input data for extreme values")
    save_model_atomically(model, Path(last_path))
    # The model leaves holding its best epoch's weights, as best.keras does.
    model.set_weights(best.best_weights)
    save_model_atomically(model, Path(best_path))
    return TrainResult(history=losses, best_epoch=best.best_epoch, last_epoch=last_epoch,
                       best_val_loss=float(best.best), epochs_requested=epochs,
                       early_stopped=last_epoch < epochs)
