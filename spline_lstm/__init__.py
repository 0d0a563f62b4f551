"""Spline-LSTM: the stage logic as plain functions and classes, grouped by the data path.

    data/        raw input -> a validated series on a regular, gap-filled grid
    transforms/  the target's transform chain and the column scalers, fitted on train
    windows/     chronological split, forecast windows, the processed data forecasters eat
    models/      the Forecaster interface and its families (recurrent, classical, naive)
    selection/   choosing among candidates on the validation split
    evaluation/  metrics, test scoring against the baselines, the verdict, the metrics record
    reporting/   the run report, plot, predictions table, failure card, fleet summary
    store/       artifact files: atomic writes, the safe unpickler, workspace, gate, provenance

No Prefect here (tasks/ and flows/ wrap these). Files are read in data/ (inputs) and
store/ (artifacts) and written in store/ and by a forecaster's save; transforms/,
windows/, selection/, evaluation/ and reporting/ take and return values only (the
failure card reads the runbook's text). tests/spline_lstm/test_architecture.py checks it.
See docs/architecture.md.
"""
