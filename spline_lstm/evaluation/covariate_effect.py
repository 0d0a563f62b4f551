"""What the covariates are worth: the run's network next to the same network trained on
the target alone (same transform, split, settings and seed), both on the test split."""

from __future__ import annotations

from spline_lstm.evaluation.scoring import evaluate_split

REPORTED = ("mase", "rmse", "mae", "smape")


def covariate_effect(data, network_test, twin, twin_test, baselines: dict | None = None
                     ) -> dict:
    """The metrics JSON's ``covariates`` section: the covariates used, the network's
    test metrics with them (``network_test``) and without (``twin``: a
    ``models.univariate.UnivariateNetwork``, its test forecasts ``twin_test``), and how
    the fitted ``baselines`` (name -> Forecaster) given them fitted their coefficients."""
    encoders = data.preprocessor.features.encoders
    with_cov = evaluate_split(data, network_test).metrics
    without = evaluate_split(data, twin_test).metrics
    return {"used": [{"name": e.name, "type": e.kind, "known_in_advance": e.known_in_advance,
                      "relative": e.relative} for e in encoders],
            "columns": list(data.feature_names),
            "network_with": {k: with_cov[k] for k in REPORTED},
            "network_without": {k: without[k] for k in REPORTED}, "without_name": twin.name,
            "mase_ratio": (with_cov["mase"] / without["mase"] if without["mase"]
                           else float("nan")),
            "classical_regression": regression_fits(baselines or {})}


def regression_fits(baselines: dict) -> dict[str, str]:
    """name -> how a classical model given the covariates fitted their coefficients
    (``classical.JOINT`` or ``classical.ON_CHANGES``; only the models that choose)."""
    return {name: model.regression_fit for name, model in sorted(baselines.items())
            if getattr(model, "regression_fit", None)}
