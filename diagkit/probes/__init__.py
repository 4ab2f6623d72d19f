"""Probes: one module per probe (the file name is the probe's name). See :mod:`.base`."""
