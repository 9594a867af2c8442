"""Forecasts of site signals: hourly energy demand with prediction intervals."""
