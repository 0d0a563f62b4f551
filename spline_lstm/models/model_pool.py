"""Compiled networks kept for reuse, so a new fit of a known shape pays no graph trace.

The first epoch of a new Keras model costs seconds of tracing (3.0 s against 0.2 s for
the next epoch on the smoke shape; benchmarks/results/speed.md), and every candidate,
backtest window and trial used to pay it again. A leased model is put back exactly as
``build_seeded_model(spec, seed)`` made it: every variable (weights, the
dropout seed-generator states) and every optimizer variable (step count, learning rate,
moments) is reset to the values recorded right after it was built. Training a leased
model is therefore bit-identical to training a fresh one (tests/spline_lstm/models/
test_model_pool.py), while Keras keeps its traced train, validation and predict
functions.

One model is leased to one user at a time: candidates trained side by side in threads
each get their own. Free models are kept per (spec, seed), a bounded number in all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

MAX_FREE_MODELS = 8


@dataclass
class _Pooled:
    model: object
    initial: list[np.ndarray]  # model.variables right after the build
    initial_optimizer: list[np.ndarray]  # optimizer.variables, built but unused

    def reset(self) -> None:
        for variable, value in zip(self.model.variables, self.initial):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self.initial_optimizer):
            variable.assign(value)
        self.model.stop_training = False


def dataset_signature(*datasets) -> tuple[str, ...]:
    """What Keras traces a fit's functions for: the datasets' element specs.

    The windows' datasets leave the batch dimension open ([None, lookback, F]), so every
    batch size and window count shares one signature, one trace and the same rounding:
    a fit on a reused model is bit-identical to a fresh one whatever data it saw before
    (tests/spline_lstm/models/test_model_pool.py). A dataset with a static batch
    dimension gets a signature of its own.
    """
    return tuple(repr(d.element_spec) for d in datasets)


class ModelPool:
    """Lease compiled models by (spec, seed); ``build`` makes a new one when none is free.

    ``build(spec, seed)`` must return a freshly seeded, compiled model; it runs under the
    caller's seeding lock (see RecurrentForecaster), not under the pool's.
    """

    def __init__(self, build: Callable[[object, int], object],
                 max_free: int = MAX_FREE_MODELS) -> None:
        self._build = build
        self._max_free = max_free
        self._free: OrderedDict[tuple, list[_Pooled]] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # models built so far (the rest of the leases reused one)

    @staticmethod
    def _key(spec, seed: int, signature: tuple = ()) -> tuple:
        return (tuple(sorted((k, repr(v)) for k, v in spec.to_dict().items())), int(seed),
                tuple(signature))

    def _take(self, key: tuple) -> _Pooled | None:
        with self._lock:
            free = self._free.get(key)
            if not free:
                return None
            pooled = free.pop()
            if not free:
                del self._free[key]
            return pooled

    def _give_back(self, key: tuple, pooled: _Pooled) -> None:
        with self._lock:
            self._free.setdefault(key, []).append(pooled)
            self._free.move_to_end(key)
            while sum(len(v) for v in self._free.values()) > self._max_free:
                oldest = next(iter(self._free))  # least recently returned shape goes first
                self._free[oldest].pop(0)
                if not self._free[oldest]:
                    del self._free[oldest]

    def _new(self, spec, seed: int) -> _Pooled:
        model = self._build(spec, seed)
        # Build the optimizer now (zeros and the initial learning rate, nothing random) so
        # its state can be recorded and restored like the weights.
        model.optimizer.build(model.trainable_variables)
        with self._lock:
            self.built += 1
        return _Pooled(model, [np.array(v.numpy()) for v in model.variables],
                       [np.array(v.numpy()) for v in model.optimizer.variables])

    @contextmanager
    def lease(self, spec, seed: int, new_model_lock=None, signature: tuple = ()
              ) -> Iterator[object]:
        """A model in its just-built state for the duration of the ``with`` block.

        ``new_model_lock`` (a lock) is held while a new model is built, e.g. the lock that
        serialises process-wide seeding. ``signature``: the input signature the model's
        traced functions will be called with (``dataset_signature``). Keras traces one
        function per signature; data of another signature would add a second trace (and,
        for static batch sizes, a relaxed one that rounds differently), so a model is
        reused only for the signature it was leased for.
        """
        key = self._key(spec, seed, signature)
        pooled = self._take(key)
        if pooled is None:
            if new_model_lock is None:
                pooled = self._new(spec, seed)
            else:
                with new_model_lock:
                    pooled = self._new(spec, seed)
        else:
            pooled.reset()
        yield pooled.model
        # Reached only when the block ended normally: a model whose fit failed midway
        # is dropped rather than trusted again.
        self._give_back(key, pooled)
