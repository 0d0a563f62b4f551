"""The report's Covariates section says how each covariate was read."""

from spline_lstm.reporting.report import _covariates_section

METRICS = {"mase": 0.5, "rmse": 1.0, "mae": 0.8, "smape": 3.0}


def _section(relative: bool, **more) -> str:
    covariates = {"used": [{"name": "income", "type": "numeric", "known_in_advance": True,
                            "relative": relative},
                           {"name": "workday", "type": "boolean", "known_in_advance": True}],
                  "columns": ["target", "income", "workday"], "network_with": METRICS,
                  "network_without": METRICS, "mase_ratio": 1.0, **more}
    return "\n".join(_covariates_section(covariates, {"auto_arima": METRICS,
                                                      "auto_arima_x": METRICS}))


def test_a_trending_covariate_is_named_as_read_from_the_origin():
    assert ("`income` (numeric, known in advance, read as its change since each origin)"
            in _section(relative=True))
    assert "beyond the train split's range" in _section(relative=True)
    plain = _section(relative=False)  # older metrics (no "relative" key) read the same way
    assert "`income` (numeric, known in advance)" in plain and "change since" not in plain
    assert "| auto_arima with covariates (`auto_arima_x`) |" in plain


def test_how_a_classical_model_fitted_the_covariates_coefficients_is_said():
    fits = {"mstl_arima_x": "on changes over the horizon"}
    said = _section(relative=False, classical_regression=fits)
    assert "`mstl_arima_x` fitted them on changes over the horizon (of a fit on" in said
    assert "the fit on changes by 2% or more" in said  # the rule it was chosen by
    assert "coefficients" not in _section(relative=False)  # older metrics: no such line
