"""Where rolling-origin backtests cut the span before the test split (pure).

Origins expand: fold k of K trains on everything before its validation points and
scores the block after its cut; the last block ends where the test split begins.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.errors import InsufficientDataError
from spline_lstm.windows.split import MIN_TRAIN_WINDOWS


def window_label(index: int) -> str:
    """How the model choice, the metrics and the report name backtest window ``index``."""
    return f"backtest window {index}"


@dataclass(frozen=True)
class Fold:
    index: int  # 1..K, oldest first
    train_end: int  # fit on [0, train_end), early-stop on [train_end, cut)
    cut: int  # the scored block starts here
    end: int  # ... and ends here (exclusive)


def default_step(n_before_test: int, val_points: int, horizon: int) -> int:
    """A block as long as the validation split, and at least one horizon."""
    return max(val_points, horizon)


# Choosing among candidates wants about this many scored origins over all blocks: a short
# series (a few origins per block) gets more windows, a long one the fewest.
AUTO_TARGET_ORIGINS = 60
AUTO_MIN_WINDOWS, AUTO_MAX_WINDOWS = 2, 5


def points_needed(*, lookback: int, horizon: int, burn_in: int = 0) -> int:
    """Training points a fold needs: enough for MIN_TRAIN_WINDOWS windows."""
    return burn_in + lookback + horizon + MIN_TRAIN_WINDOWS - 1


def fitting_windows(n_before_test: int, *, step: int, val_points: int, lookback: int,
                    horizon: int, burn_in: int = 0, most: int = AUTO_MAX_WINDOWS) -> int:
    """How many expanding folds (up to ``most``) fit before the test split."""
    need = points_needed(lookback=lookback, horizon=horizon, burn_in=burn_in)
    return sum(1 for k in range(1, most + 1) if n_before_test - k * step - val_points >= need)


def auto_windows(n_before_test: int, *, step: int, val_points: int, lookback: int,
                 horizon: int, burn_in: int = 0) -> int:
    """The backtest windows a run chooses its model on when the user gave none: enough
    blocks for about AUTO_TARGET_ORIGINS forecast origins (2 to 5), as many as fit (0:
    none fits, the validation split decides)."""
    if step < horizon or val_points < horizon:
        return 0
    per_block = step - horizon + 1
    wanted = min(max(-(-AUTO_TARGET_ORIGINS // per_block), AUTO_MIN_WINDOWS), AUTO_MAX_WINDOWS)
    return fitting_windows(n_before_test, step=step, val_points=val_points, lookback=lookback,
                           horizon=horizon, burn_in=burn_in, most=wanted)


def plan_folds(n_before_test: int, *, windows: int, step: int, val_points: int,
               lookback: int, horizon: int, burn_in: int = 0) -> list[Fold]:
    """K expanding folds whose last block ends at ``n_before_test``; 26 if they do not fit."""
    folds = [Fold(index=k, train_end=end - step - val_points, cut=end - step, end=end)
             for k, end in ((k, n_before_test - (windows - k) * step)
                            for k in range(1, windows + 1))]
    need = points_needed(lookback=lookback, horizon=horizon, burn_in=burn_in)
    fit = fitting_windows(n_before_test, step=step, val_points=val_points, lookback=lookback,
                          horizon=horizon, burn_in=burn_in, most=windows)
    if step < horizon or val_points < horizon or fit < windows:
        raise InsufficientDataError(
            f"--backtest-windows {windows} with blocks of {step} points does not fit before "
            f"the test split ({n_before_test} points): each fold needs {need} training points "
            f"and {val_points} validation points before its block, so {fit} window(s) fit. "
            f"Use --backtest-windows {fit}" + (" or a smaller --backtest-step" if fit else
                                              ", a longer series or a smaller --backtest-step"))
    return folds
