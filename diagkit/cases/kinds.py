"""The kinds of customer update, one template each (:mod:`diagkit.cases.updates`).

Kept apart from the templating so ``diagkit --help`` can list them without loading Jinja or the
store (the CLI builds every parser at start-up).
"""

from __future__ import annotations

UPDATE_KINDS = ("acknowledgement", "progress", "information_request", "workaround", "resolution")
