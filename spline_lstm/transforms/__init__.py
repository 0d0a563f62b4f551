"""Fitted on the train split: the target's transform chain and one scaler per column."""
