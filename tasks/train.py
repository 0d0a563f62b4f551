"""Stage 4: train the forecaster; best.keras / last.keras and checkpoint_meta.json."""

from __future__ import annotations

import os

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.arrays import check_window_source
from contracts.artifacts import ArtifactLayout
from contracts.config import RunConfig
from spline_lstm.store.artifact_io import write_json
from spline_lstm.models.fitting import batch_size_for, fit_forecaster
from spline_lstm.models.network import load_checkpoint
from spline_lstm.windows.preprocess import ProcessedData
from spline_lstm.selection.select import CandidateFit
from spline_lstm.models.training import MONITOR
from tasks.logs import stage_logger, stage_tags


@task(name="train", tags=stage_tags("train"), cache_policy=NO_CACHE)
def train(data: ProcessedData, config: RunConfig, staged: ArtifactLayout,
          pretrained: CandidateFit | None = None) -> dict:
    """Fit on train, early-stop on val; return the training summary (no model object).

    pretrained: the winning candidate of transform selection, trained on exactly these
    windows with this config and seed; its checkpoints are adopted instead of training
    the same model a second time.
    """
    logger = stage_logger()
    pre = data.preprocessor
    check_window_source(data.series, data.origins, lookback=pre.lookback, horizon=pre.horizon)
    if pretrained is not None:
        staged.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        os.replace(pretrained.best_path, staged.best_checkpoint)
        os.replace(pretrained.last_path, staged.last_checkpoint)
        result, spec = pretrained.training, pretrained.spec
        logger.info("adopted the model trained for transform %s during selection",
                    pretrained.choice.name)
    else:
        counts = data.window_counts()
        logger.info("training %s %s on %d windows (val %d), up to %d epochs", config.model,
                    config.hidden_units, counts["train"], counts["val"], config.epochs)
        result, spec = fit_forecaster(data, config, staged.best_checkpoint,
                                      staged.last_checkpoint, log=logger.info)
    # The best checkpoint must reproduce the val_loss it was selected for.
    batch_size = batch_size_for(config, data)
    reloaded = float(load_checkpoint(staged.best_checkpoint).evaluate(
        data.dataset("val", batch_size), verbose=0))
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
        "batch_size": batch_size,
        "model": spec.to_dict(),
        "history": result.history,
    }
    write_json(staged.checkpoint_meta_json, summary)
    logger.info("best epoch %d/%d, val_loss %.5f (reloaded %.5f)", result.best_epoch,
                result.last_epoch, result.best_val_loss, reloaded)
    return summary
