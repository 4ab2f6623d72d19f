"""The SQL every backend shares, written once over the backend's transactions and
:class:`~diagkit.store.dialect.Dialect` (see :mod:`diagkit.store` for the map)."""
