"""Remaining useful life: run-to-failure data, condition normalisation, windowed features,
gradient-boosted models with a quantile interval, and the PHM08 metrics."""
