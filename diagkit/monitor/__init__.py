"""Sampling hosts over time: live plots now; thresholds, forecasts and many hosts later."""
