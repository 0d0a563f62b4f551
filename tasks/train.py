"""Stage 4: train the forecaster; best.keras / last.keras and checkpoint_meta.json."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from contracts.arrays import check_window_pair
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from spline_lstm.artifact_io import write_json
from spline_lstm.autoconfig import choose_recurrent_lookback
from spline_lstm.model import ModelSpec, build_model, load_checkpoint
from spline_lstm.preprocess import ProcessedData
from spline_lstm.training import MONITOR, make_deterministic, train_model
from spline_lstm.windows import SPLITS


def model_spec_for(config: RunConfig, data: ProcessedData) -> ModelSpec:
    pre = data.preprocessor
    return ModelSpec(lookback=pre.lookback, horizon=pre.horizon,
                     hidden_units=list(config.hidden_units), dropout=config.dropout,
                     cell=config.model, learning_rate=config.learning_rate,
                     recurrent_lookback=choose_recurrent_lookback(pre.lookback))


@task(name="train", tags=["stage:train"], cache_policy=NO_CACHE)
def train(data: ProcessedData, config: RunConfig, staged: ArtifactLayout) -> dict:
    """Fit on train, early-stop on val; return the training summary (no model object)."""
    logger = get_run_logger()
    pre = data.preprocessor
    for split in SPLITS:
        check_window_pair(data.X(split), data.y(split), lookback=pre.lookback,
                          horizon=pre.horizon, split=split)
    make_deterministic(config.seed)
    spec = model_spec_for(config, data)
    model = build_model(spec)
    logger.info("training %s %s on %d windows (val %d), up to %d epochs", config.model,
                config.hidden_units, len(data.X("train")), len(data.X("val")), config.epochs)
    result = train_model(model, data.X("train"), data.y("train"), data.X("val"), data.y("val"),
                         epochs=config.epochs, batch_size=config.batch_size,
                         patience=config.patience, best_path=staged.best_checkpoint,
                         last_path=staged.last_checkpoint, log=logger.info)
    # The best checkpoint must reproduce the val_loss it was selected for.
    reloaded = float(load_checkpoint(staged.best_checkpoint).evaluate(
        data.X("val"), data.y("val"), batch_size=config.batch_size, verbose=0))
    summary = {
        "run_id": config.run_id,
        "best_epoch": result.best_epoch,
        "last_epoch": result.last_epoch,
        "monitor": MONITOR,
        "best_val_loss": result.best_val_loss,
        "best_val_loss_reloaded": reloaded,
        "epochs_requested": result.epochs_requested,
        "epochs_ran": result.epochs_ran,
        "early_stopped": result.early_stopped,
        "model": spec.to_dict(),
        "history": result.history,
    }
    write_json(staged.checkpoint_meta_json, summary)
    logger.info("best epoch %d/%d, val_loss %.5f (reloaded %.5f)", result.best_epoch,
                result.last_epoch, result.best_val_loss, reloaded)
    return summary
