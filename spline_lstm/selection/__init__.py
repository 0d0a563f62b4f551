"""Choose among candidates (transform x forecaster) on the validation split."""
