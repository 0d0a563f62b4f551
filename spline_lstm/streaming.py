"""Streaming input: windows cut on the fly from the 1-D series, batch by batch (tf.data).

Training and prediction never hold ``[N, lookback]`` copies: a 10M-point series with
lookback 168 would need 6.7 GB of windows, while the series itself is 40 MB. Each batch
gathers its windows from the series with one index array.
"""

from __future__ import annotations

import numpy as np


def window_dataset(series: np.ndarray, origins: np.ndarray, lookback: int, horizon: int,
                   batch_size: int, *, shuffle: bool = False, seed: int = 0,
                   with_targets: bool = True):
    """A tf.data.Dataset of (X [B, lookback, 1], y [B, horizon]) float32 batches.

    series: float32 [n] model-space values; origins: int64 [N] index of each window's
    last input point. Shuffling is seeded and reshuffles every epoch (deterministic
    under ``make_deterministic``). with_targets=False yields X only (prediction).
    """
    import tensorflow as tf

    values = tf.constant(np.asarray(series, dtype=np.float32))
    offsets = tf.range(-lookback + 1, horizon + 1, dtype=tf.int64)
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(origins, dtype=np.int64))
    if shuffle and len(origins) > 1:
        dataset = dataset.shuffle(len(origins), seed=seed, reshuffle_each_iteration=True)

    def gather(batch_origins):
        windows = tf.gather(values, batch_origins[:, None] + offsets[None, :])
        X = tf.expand_dims(windows[:, :lookback], -1)
        return (X, windows[:, lookback:]) if with_targets else X

    return (dataset.batch(batch_size)
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))
