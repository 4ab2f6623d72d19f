"""Offline log inspection: see :mod:`diagkit.logs.model` for the map."""
