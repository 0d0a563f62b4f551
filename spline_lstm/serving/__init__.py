"""The HTTP API that serves each registered model's champion (``spline-lstm serve``)."""
