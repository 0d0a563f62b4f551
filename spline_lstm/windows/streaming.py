"""Streaming input: windows cut on the fly from the model-space series, batch by batch (tf.data).

Training and prediction never hold ``[N, lookback, F]`` copies: a 10M-point series with
lookback 168 would need 6.7 GB of windows, while the series itself is 40 MB. Each batch
gathers its windows from the series with one index array.
"""

from __future__ import annotations

import numpy as np


def window_dataset(series: np.ndarray, origins: np.ndarray, lookback: int, horizon: int,
                   batch_size: int, *, shuffle: bool = False, seed: int = 0,
                   with_targets: bool = True, target_index: int = 0, x_reach: int = 0):
    """A tf.data.Dataset of (X [B, lookback + x_reach, F], y [B, horizon]) float32 batches.

    series: float32 [n, F] model-space values; origins: int64 [N] index of each window's
    last input point; y is column ``target_index``. Shuffling is seeded and reshuffles
    every epoch (deterministic under ``make_deterministic``). with_targets=False yields X
    only (prediction), and then the windows may end at the last point of the series.
    x_reach: steps after the origin X also holds (see ``cut.cut_windows``).
    """
    import tensorflow as tf

    values = tf.constant(np.asarray(series, dtype=np.float32))
    origins_t = tf.constant(np.asarray(origins, dtype=np.int64))
    reach = horizon if with_targets else x_reach
    offsets = tf.range(-lookback + 1, reach + 1, dtype=tf.int64)
    n = len(origins)
    n_batches = -(-n // batch_size)
    # The pipeline's functions hold no Python control flow on tensors, so AutoGraph has
    # nothing to convert; its conversion cost 0.1-0.2 s the first time in a process.
    plain = tf.autograph.experimental.do_not_convert

    def batches_of(order):
        # Whole batches of origins at once: no per-window elements in the pipeline.
        @plain
        def take(b):
            return order[b * batch_size:tf.minimum((b + 1) * batch_size, n)]
        return tf.data.Dataset.range(n_batches).map(take)

    if shuffle and n > 1:
        # One permutation of the origins per epoch (N int64s), not a shuffle buffer of N
        # elements: that buffer costs ~150 bytes per window, 1 GB at 7M windows. The epoch
        # counter lives in the dataset, so the orders depend on ``seed`` and nothing global.
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False)

        @plain
        def epoch_batches(_):
            key = epoch.assign_add(1)
            return batches_of(tf.random.experimental.stateless_shuffle(
                origins_t, seed=tf.stack([tf.constant(seed, tf.int64), key])))

        dataset = tf.data.Dataset.range(1).flat_map(epoch_batches)
        # flat_map hides the length; Keras needs it to run every epoch, not just the first.
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(n_batches))
    else:
        dataset = batches_of(origins_t)

    @plain
    def gather(batch_origins):
        windows = tf.gather(values, batch_origins[:, None] + offsets[None, :])  # [B, L+r, F]
        X = windows[:, :lookback + x_reach, :]
        return (X, windows[:, lookback:, target_index]) if with_targets else X

    # tf.data's autotuner runs its own optimisation thread and resizes buffers while the
    # two cores train: without it an epoch took 18-27 % less on the smoke's and air
    # passengers' shapes, with the same batches (benchmarks/results/speed.md).
    options = tf.data.Options()
    options.autotune.enabled = False
    return (dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE).with_options(options))
