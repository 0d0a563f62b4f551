"""An LSTM layer whose whole recurrence runs as one fused TensorFlow kernel on the CPU.

Keras' LSTM on a CPU lays every step's matmuls and gates out as separate ops (a loop,
or unrolled), and each op of each step costs Python time whenever a training, test or
prediction function is traced: most of a new network's fixed cost. TensorFlow's
``BlockLSTM`` kernel takes the whole sequence in one op, with one gradient op.

The layer is ``keras.layers.LSTM`` with the same weights, the same arithmetic (outputs
and gradients agree to float32 rounding: tests/spline_lstm/models/test_block_lstm.py)
and the same checkpoint layout; only the inner loop differs, and only where the kernel
computes exactly what Keras would (tanh/sigmoid gates, a bias, no mask, no dropout
inside the layer, forwards, float32, no GPU: there Keras uses cuDNN). Anything else runs
Keras' own loop. Registered as serialisable, so checkpoints load in safe mode.

``BlockLSTMV2`` (Keras' gate order) is not used: TF registers V1's gradient for it, which
assumes V1's gate order, so its gradients are wrong.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# Keras orders the four gates' columns input, forget, cell, output; BlockLSTM input,
# cell, forget, output.
_KERAS_TO_BLOCK_GATES = (0, 2, 1, 3)


def _block_gate_order(weights):
    parts = tf.split(weights, 4, axis=-1)
    return tf.concat([parts[g] for g in _KERAS_TO_BLOCK_GATES], axis=-1)


@keras.saving.register_keras_serializable(package="spline_lstm")
class BlockLSTM(keras.layers.LSTM):
    """``keras.layers.LSTM`` run by TensorFlow's fused ``BlockLSTM`` kernel on a CPU."""

    def _fused_applies(self, mask) -> bool:
        cell = self.cell
        return (mask is None and not self.go_backwards and not self.dropout
                and not self.recurrent_dropout and cell.use_bias
                and cell.activation is keras.activations.tanh
                and cell.recurrent_activation is keras.activations.sigmoid
                and self.compute_dtype == "float32"
                and not tf.config.list_logical_devices("GPU"))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self._fused_applies(mask):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        h0, c0 = initial_state[0], initial_state[1]
        weights = tf.concat([self.cell.kernel, self.cell.recurrent_kernel], axis=0)
        zeros = tf.zeros([self.cell.units], dtype=sequences.dtype)  # no peepholes
        steps = tf.shape(sequences, out_type=tf.int64)[1]
        fused = tf.raw_ops.BlockLSTM(
            seq_len_max=steps, x=tf.transpose(sequences, [1, 0, 2]), cs_prev=c0,
            h_prev=h0, w=_block_gate_order(weights), wci=zeros, wcf=zeros, wco=zeros,
            b=_block_gate_order(self.cell.bias), forget_bias=0.0, cell_clip=-1.0,
            use_peephole=False)
        last_h, last_c = fused.h[-1], fused.cs[-1]
        if self.return_sequences:
            outputs = tf.transpose(fused.h, [1, 0, 2])
        else:
            outputs = tf.expand_dims(last_h, axis=1)
        return last_h, outputs, [last_h, last_c]
