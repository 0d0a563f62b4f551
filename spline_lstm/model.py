"""The Keras forecaster: a recurrent network with a linear highway, built from stock layers.

Stock layers only, so ``keras.models.load_model(path, safe_mode=True)`` opens every
checkpoint without custom code. TensorFlow is imported lazily (it costs seconds).

Input [batch, lookback, 1] (scaled model-space values) -> output [batch, horizon].

- window_relative: each window is measured relative to its last value, and that value
  is added back to the output. The network then learns changes, not levels, so it can
  follow a series beyond the range it was trained on.
- linear highway: a dense map of the whole window added to the recurrent output (as in
  LSTNet); it carries the autoregressive part, the recurrent layers the rest.
- recurrent_lookback: the recurrent layers read only the last steps of the window,
  which keeps long seasonal windows cheap to train.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CELLS = ("lstm", "gru")


@dataclass(frozen=True)
class ModelSpec:
    lookback: int
    horizon: int
    hidden_units: list[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.1
    cell: str = "lstm"
    learning_rate: float = 1e-3
    window_relative: bool = True
    linear_highway: bool = True
    recurrent_lookback: int | None = None
    loss: str = "mae"

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def effective_recurrent_lookback(self) -> int:
        if self.recurrent_lookback is None:
            return self.lookback
        return max(2, min(self.lookback, self.recurrent_lookback))


def build_model(spec: ModelSpec):
    """Return a compiled keras.Model for ``spec``."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(spec.lookback, 1), name="window")
    x = inputs
    last = None
    if spec.window_relative:
        last = layers.Cropping1D((spec.lookback - 1, 0), name="last_value")(inputs)
        x = layers.Subtract(name="relative_window")([inputs, last])

    recurrent_len = spec.effective_recurrent_lookback
    h = x
    if recurrent_len < spec.lookback:
        h = layers.Cropping1D((spec.lookback - recurrent_len, 0), name="recent_steps")(x)
    cell = {"lstm": layers.LSTM, "gru": layers.GRU}[spec.cell]
    for i, units in enumerate(spec.hidden_units):
        is_last = i == len(spec.hidden_units) - 1
        h = cell(units, return_sequences=not is_last, name=f"{spec.cell}_{i + 1}")(h)
        if spec.dropout > 0:
            h = layers.Dropout(spec.dropout, name=f"dropout_{i + 1}")(h)
    out = layers.Dense(spec.horizon, name="recurrent_head")(h)

    if spec.linear_highway:
        linear = layers.Dense(spec.horizon, name="linear_highway")(layers.Flatten()(x))
        out = layers.Add(name="combined")([out, linear])
    if last is not None:
        out = layers.Add(name="forecast")([out, layers.Flatten(name="last_flat")(last)])

    model = keras.Model(inputs, out, name=f"spline_{spec.cell}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
                  loss=spec.loss)
    return model


def load_checkpoint(path):
    """Load a ``.keras`` checkpoint in safe mode (no arbitrary code)."""
    import keras

    return keras.models.load_model(path, safe_mode=True, compile=True)
