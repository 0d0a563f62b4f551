"""Stage 4: train the forecaster; best.keras / last.keras and checkpoint_meta.json."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.arrays import check_window_source
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from contracts.records import TrainingSummary
from spline_lstm.models.recurrent import RecurrentForecaster, RecurrentSettings
from spline_lstm.models.training import MONITOR
from spline_lstm.store.atomic import write_json
from spline_lstm.windows.processed import ProcessedData
from tasks.logs import stage_logger


@task(name="train", cache_policy=NO_CACHE)
def train(data: ProcessedData, config: RunConfig, staged: ArtifactLayout,
          pretrained: RecurrentForecaster | None = None
          ) -> tuple[RecurrentForecaster, TrainingSummary]:
    """Fit on train, early-stop on val; the fitted forecaster and its training summary.

    pretrained: the winner of transform selection, trained on exactly these windows with
    this config and seed; its checkpoints are adopted instead of training it twice.
    """
    logger = stage_logger()
    pre = data.preprocessor
    check_window_source(data.series, data.origins, lookback=pre.lookback, horizon=pre.horizon)
    if pretrained is not None:
        forecaster = pretrained
        forecaster.save(staged.checkpoints_dir)
        logger.info("adopted the model trained for transform %s during selection",
                    pre.transform_name)
    else:
        counts = data.window_counts()
        logger.info("training %s %s on %d windows (val %d), up to %d epochs", config.model,
                    config.hidden_units, counts["train"], counts["val"], config.epochs)
        forecaster = RecurrentForecaster(RecurrentSettings.from_config(config),
                                         staged.checkpoints_dir, log=logger.info).fit(data)
    result = forecaster.training
    # The best checkpoint must reproduce the val_loss it was selected for.
    summary = TrainingSummary(
        run_id=config.run_id, best_epoch=result.best_epoch, last_epoch=result.last_epoch,
        monitor=MONITOR, best_val_loss=result.best_val_loss,
        best_val_loss_reloaded=forecaster.validation_loss(data),
        epochs_requested=result.epochs_requested, epochs_ran=result.epochs_ran,
        early_stopped=result.early_stopped,
        batch_size=forecaster.recurrent.batch_size_for(data),
        model=forecaster.spec.to_dict(), history=result.history)
    write_json(staged.checkpoint_meta_json, summary.to_dict())
    logger.info("best epoch %d/%d, val_loss %.5f (reloaded %.5f)", result.best_epoch,
                result.last_epoch, result.best_val_loss, summary.best_val_loss_reloaded)
    return forecaster, summary
