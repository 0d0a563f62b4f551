import numpy as np
import pytest

from spline_lstm.models.network import ModelSpec, build_model, load_checkpoint
from spline_lstm.models.training import make_deterministic, save_model_atomically


def _stock_and_fused(units=5, **options):
    """A stock keras LSTM and a BlockLSTM with the same (random, non-zero) weights."""
    import keras

    from spline_lstm.models.block_lstm import BlockLSTM

    make_deterministic(3)
    stock, fused = keras.layers.LSTM(units, **options), BlockLSTM(units, **options)
    stock.build((None, 7, 3))
    fused.build((None, 7, 3))
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.5, w.shape).astype(np.float32) for w in stock.get_weights()]
    stock.set_weights(weights)
    fused.set_weights(weights)
    return stock, fused


def _output_and_gradients(layer, x, weight_of_each_output):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * weight_of_each_output)
    grads = tape.gradient(loss, [x, *layer.trainable_variables])
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("return_sequences", [True, False])
def test_the_fused_kernel_computes_what_keras_lstm_computes_with_its_gradients(
        return_sequences):
    stock, fused = _stock_and_fused(return_sequences=return_sequences)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 7, 3)).astype(np.float32)
    y_shape = (6, 7, 5) if return_sequences else (6, 5)
    weight = rng.normal(size=y_shape).astype(np.float32)
    y_stock, g_stock = _output_and_gradients(stock, x, weight)
    y_fused, g_fused = _output_and_gradients(fused, x, weight)
    assert y_fused.shape == y_shape
    np.testing.assert_allclose(y_fused, y_stock, atol=1e-6)
    for got, expected in zip(g_fused, g_stock):  # d/dx, kernel, recurrent kernel, bias
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_network_runs_its_lstm_as_one_fused_op_and_a_gru_as_keras_steps():
    import tensorflow as tf

    def op_types(cell):
        model = build_model(ModelSpec(lookback=8, horizon=1, hidden_units=[4, 4], cell=cell))
        graph = tf.function(model).get_concrete_function(
            tf.TensorSpec((None, 8, 1), tf.float32)).graph
        return [op.type for op in graph.get_operations()]

    lstm = op_types("lstm")
    assert lstm.count("BlockLSTM") == 2 and "Sigmoid" not in lstm
    assert "BlockLSTM" not in op_types("gru")


def test_options_the_kernel_lacks_fall_back_to_keras_own_loop():
    stock, fused = _stock_and_fused(go_backwards=True)
    x = np.random.default_rng(2).normal(size=(4, 7, 3)).astype(np.float32)
    assert not fused._fused_applies(mask=None)
    np.testing.assert_allclose(fused(x).numpy(), stock(x).numpy(), atol=1e-6)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # never trained
def test_fused_checkpoints_load_in_safe_mode_and_predict_the_same(tmp_path):
    make_deterministic(0)
    model = build_model(ModelSpec(lookback=8, horizon=2, hidden_units=[4, 4]))
    save_model_atomically(model, tmp_path / "best.keras")
    x = np.random.default_rng(3).normal(size=(5, 8, 1)).astype(np.float32)
    reloaded = load_checkpoint(tmp_path / "best.keras")
    layer = reloaded.get_layer("lstm_1")
    assert type(layer).__name__ == "BlockLSTM" and layer._fused_applies(mask=None)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_checkpoints_of_the_stock_lstm_still_load(tmp_path):
    import keras

    inputs = keras.Input((8, 1))
    old = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(3)(inputs)))
    old.save(tmp_path / "old.keras")
    x = np.ones((2, 8, 1), np.float32)
    np.testing.assert_allclose(load_checkpoint(tmp_path / "old.keras").predict(x, verbose=0),
                               old.predict(x, verbose=0), atol=1e-6)
