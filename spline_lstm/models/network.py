"""The Keras network: a segment-wise LSTM (or GRU) on window-relative values.

Stock layers only, and one registered subclass of them (``block_lstm.BlockLSTM``, the
LSTM run by a fused kernel), so ``keras.models.load_model(path, safe_mode=True)`` opens
every checkpoint without code from the file. TensorFlow is imported lazily (it costs
seconds).

Input [batch, lookback, F] (model-space columns, the target at ``target_index``) ->
output [batch, horizon] (the target). With covariates known in advance (the last
``n_future`` columns) the input also holds the ``horizon`` steps after the origin,
[batch, lookback + horizon, F]; the network reads only those columns there.

- window_relative: the target channel of each window is measured relative to its last
  value, and that value is added back to the output, so the network learns changes, not
  levels, and can follow a series beyond the range it was trained on. Covariate channels
  are left as they are, except trending ones (``relative_features``), which are measured
  from their value at the window's origin over the window and the horizon.
- segments: the window is cut into segments of ``segment_length`` steps, each embedded
  by a dense layer, and the recurrent layers step over segments instead of points
  (as in SegRNN). On the shared series this matched point-wise LSTM accuracy at a
  fifth to a sixth of the training time (benchmarks/results/accuracy.md).
- a dense head emits all ``horizon`` steps at once (direct multi-step).
- known-in-advance covariates over the horizon go through a per-step decoder: each
  step's covariates, projected by a small dense layer, meet the encoder's state (repeated
  per step) in a shared MLP whose one output per step is added to the head's (the
  temporal decoder of TiDE, in stock layers).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from contracts.errors import ArtifactContractError, InputFileNotFoundError


@dataclass(frozen=True)
class ModelSpec:
    lookback: int
    horizon: int
    hidden_units: list[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.1
    cell: str = "lstm"
    learning_rate: float = 3e-3
    window_relative: bool = True
    segment_length: int = 1
    loss: str = "mae"
    n_features: int = 1
    target_index: int = 0
    n_future: int = 0  # trailing columns known in advance, read over the horizon too
    relative_features: list[int] = field(default_factory=list)  # covariate columns read
    # relative to the window's origin (trending ones; transforms/features.py)

    def to_dict(self) -> dict:
        return asdict(self)


# One thread per op: these networks' ops are too small to split (a 64 x 64 LSTM step),
# so a shared pool only adds hand-offs: on 2 cores an epoch took about a third longer
# with the fused LSTM kernel and up to a tenth longer unrolled (benchmarks/results/
# speed.md). Parallel work is candidates, folds and series side by side.
INTRA_OP_THREADS = 1


def _configure_tensorflow() -> None:
    """Before any model of the process is built or loaded: quiet TF, and run its graphs
    as traced.

    TF warns about retracing when several models predict in one process: harmless.
    Grappler rewrites each graph the first time it runs: 0.3-0.4 s of the first training
    of a network shape, and again in every forced prediction trace; on graphs this small
    its rewrites win nothing back (without them, epochs take the same time within a few
    per cent, predictions 15-25 % less; benchmarks/results/speed.md). Every model is
    built or loaded here, so training, scoring and serving run the same graphs and round
    alike.
    """
    # Read when TF's runtime starts: entry points set it first (flows/cli.py); a process
    # that ran TF ops before building a model keeps the pool it started with.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(INTRA_OP_THREADS))
    import tensorflow as tf

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def _target_relative(inputs, spec: ModelSpec, layers):
    """(network input with the target channel made relative, last target value [B, 1, 1])."""
    last = layers.Cropping1D((spec.lookback - 1, 0), name="last_value")(inputs)
    if spec.n_features == 1:
        return layers.Subtract(name="relative_window")([inputs, last]), last
    # Channels are picked with stock layers: move them to the time axis and crop there.
    by_channel = layers.Permute((2, 1), name="channels_first")(inputs)
    i, f = spec.target_index, spec.n_features
    target = layers.Permute((2, 1), name="target_channel")(
        layers.Cropping1D((i, f - i - 1), name="pick_target")(by_channel))
    last = layers.Cropping1D((spec.lookback - 1, 0), name="last_target")(target)
    relative = layers.Subtract(name="relative_target")([target, last])
    others = [layers.Permute((2, 1), name=f"channels_{a}_{b}")(
        layers.Cropping1D((a, f - b), name=f"pick_{a}_{b}")(by_channel))
        for a, b in ((0, i), (i + 1, f)) if b > a]
    return layers.Concatenate(axis=-1, name="relative_window")([relative, *others]), last


def _channel(x, index: int, width: int, name: str, layers):
    """Channel ``index`` of x [B, T, width] as [B, T, 1] (stock layers: crop on the time
    axis of the transposed tensor)."""
    by_channel = layers.Permute((2, 1), name=f"{name}_channels")(x)
    picked = layers.Cropping1D((index, width - index - 1), name=f"{name}_pick")(by_channel)
    return layers.Permute((2, 1), name=name)(picked)


def _relative_covariates(past, future, spec: ModelSpec, layers):
    """(past, future) with each column of ``spec.relative_features`` measured from its
    value at the window's origin (the last past step), over the window and the horizon.

    A trending covariate (income, output) reaches levels in the test split and the
    forecast that training never saw; relative to the origin it is a change, as the
    target is, and the learnt effect of a change carries over to any level.
    """
    f, k = spec.n_features, spec.n_future
    origin = layers.Cropping1D((spec.lookback - 1, 0), name="covariate_origin")(past)
    columns = []
    for c in range(f):
        column = _channel(past, c, f, f"past_{c}", layers)
        if c in spec.relative_features:
            column = layers.Subtract(name=f"past_{c}_from_origin")(
                [column, _channel(origin, c, f, f"origin_{c}", layers)])
        columns.append(column)
    past = layers.Concatenate(axis=-1, name="window_with_relative_covariates")(columns)
    if future is None:
        return past, None
    ahead = []
    for j in range(k):
        c = f - k + j
        column = _channel(future, j, k, f"ahead_{c}", layers)
        if c in spec.relative_features:
            column = layers.Subtract(name=f"ahead_{c}_from_origin")(
                [column, _channel(origin, c, f, f"ahead_origin_{c}", layers)])
        ahead.append(column)
    future = (ahead[0] if k == 1 else
              layers.Concatenate(axis=-1, name="ahead_with_relative_covariates")(ahead))
    return past, future


def _known_ahead_decoder(state, future, spec: ModelSpec, layers):
    """[B, H]: each horizon step from the encoder state and that step's known covariates,
    through the same small MLP for every step (a per-step decoder, as in TiDE), so an
    effect such as demand rising with heat is learnt once, not once per step."""
    width = max(8, spec.hidden_units[-1] // 2)
    known = layers.Dense(width, activation="relu", name="known_projection")(future)
    repeated = layers.RepeatVector(spec.horizon, name="state_per_step")(state)
    h = layers.Concatenate(name="state_and_known")([repeated, known])
    h = layers.Dense(width, activation="relu", name="step_decoder")(h)
    return layers.Flatten(name="step_outputs")(layers.Dense(1, name="step_output")(h))


# An LSTM runs as one fused kernel (block_lstm.py). A GRU (or an LSTM where the kernel
# does not apply) this short (the default segments give about 8 steps) runs unrolled:
# each step's ops laid out in the graph instead of a while loop, an epoch 15-22 % faster
# on 2 cores for 0.1-0.2 s more tracing per network shape. A longer one (point-wise steps
# over a long lookback) stays a loop: the unrolled graph grows with every step.
MAX_UNROLLED_STEPS = 16


def _segment_length(spec: ModelSpec) -> int:
    return max(1, min(spec.segment_length, spec.lookback))


def recurrent_steps(spec: ModelSpec) -> int:
    """Steps the recurrent layers take per window: its whole segments, or its points."""
    return spec.lookback // _segment_length(spec)


def build_model(spec: ModelSpec):
    """Return a compiled keras.Model for ``spec``."""
    _configure_tensorflow()
    import keras
    from keras import layers

    from spline_lstm.models.block_lstm import BlockLSTM

    reach = spec.horizon if spec.n_future else 0
    inputs = keras.Input(shape=(spec.lookback + reach, spec.n_features), name="window")
    past, future = inputs, None
    if spec.n_future:
        past = layers.Cropping1D((0, reach), name="past")(inputs)
        ahead = layers.Permute((2, 1), name="ahead_channels")(
            layers.Cropping1D((spec.lookback, 0), name="ahead")(inputs))
        future = layers.Permute((2, 1), name="known_ahead")(layers.Cropping1D(
            (spec.n_features - spec.n_future, 0), name="pick_known_ahead")(ahead))  # [B, H, K]
    if spec.relative_features:
        past, future = _relative_covariates(past, future, spec, layers)
    x, last = past, None
    if spec.window_relative:
        x, last = _target_relative(past, spec, layers)

    h = x
    seg = _segment_length(spec)
    if seg > 1:
        usable = recurrent_steps(spec) * seg
        if usable < spec.lookback:  # drop the oldest steps that do not fill a segment
            h = layers.Cropping1D((spec.lookback - usable, 0), name="whole_segments")(h)
        h = layers.Reshape((usable // seg, seg * spec.n_features), name="segments")(h)
        h = layers.Dense(spec.hidden_units[0], activation="relu", name="segment_embedding")(h)
    cell = {"lstm": BlockLSTM, "gru": layers.GRU}[spec.cell]
    unroll = recurrent_steps(spec) <= MAX_UNROLLED_STEPS
    for i, units in enumerate(spec.hidden_units):
        is_last = i == len(spec.hidden_units) - 1
        h = cell(units, return_sequences=not is_last, unroll=unroll,
                 name=f"{spec.cell}_{i + 1}")(h)
        if spec.dropout > 0:
            h = layers.Dropout(spec.dropout, name=f"dropout_{i + 1}")(h)
    out = layers.Dense(spec.horizon, name="head")(h)
    if future is not None:
        out = layers.Add(name="with_known_ahead")([out, _known_ahead_decoder(h, future, spec,
                                                                              layers)])
    if last is not None:
        out = layers.Add(name="forecast")([out, layers.Flatten(name="last_flat")(last)])

    model = keras.Model(inputs, out, name=f"spline_{spec.cell}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
                  loss=spec.loss)
    return model


def load_checkpoint(path):
    """Load a ``.keras`` checkpoint in safe mode (no arbitrary code).

    A missing file is 21; a truncated, tampered or code-carrying one (e.g. a Lambda
    layer, which safe mode refuses to deserialise) is 22.
    """
    _configure_tensorflow()
    import keras

    from spline_lstm.models import block_lstm  # noqa: F401 - registers BlockLSTM

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(f"checkpoint not found: {path}; re-run training")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load means "do not trust it"
        raise ArtifactContractError(
            f"checkpoint {path} could not be loaded safely ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); it is truncated, "
            "altered or carries code. Re-run training for this run_id") from None
