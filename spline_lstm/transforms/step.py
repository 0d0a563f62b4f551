"""What the chain asks of a transform step, and the shared part of the pointwise ones.

A step has ``step`` (its name in the chain's description), ``label`` (its part of the
chain's short name, None when it does nothing), ``burn_in`` (leading points it leaves
undefined), ``apply(values)``, ``invert_forecasts(predicted, inputs, origins)`` (``inputs``:
what the step was applied to, read only at or before each origin) and ``to_dict``.
"""

from __future__ import annotations

import numpy as np


class PointwiseStep:
    """A step applied value by value: inverting a forecast needs no history."""

    burn_in = 0
    pointwise = True

    def invert(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def invert_forecasts(self, predicted: np.ndarray, inputs: np.ndarray | None,
                         origins: np.ndarray) -> np.ndarray:
        return self.invert(predicted)
