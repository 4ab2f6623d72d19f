"""diagkit: a diagnostic toolkit for field and support engineers.

The core (everything outside ``diagkit.ui``) never imports Qt; the CLI and the desktop app are
two faces of the same core.
"""

from __future__ import annotations

__version__ = "0.1.0"
