"""The active case: where ``diagkit probe``/``run``/``bundle create`` and the GUI's probe runs
and console commands journal automatically. Kept in settings as ``"active_case"``."""

from __future__ import annotations

from diagkit import config

KEY = "active_case"


def active_case() -> int | None:
    """The active case number, or ``None`` (none set, or the setting is not a number)."""
    value = config.load_settings().get(KEY)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def set_active_case(case_id: int | None) -> None:
    """Make ``case_id`` the active case; ``None`` clears it."""
    with config.edit_settings() as settings:  # another process may change another setting
        if case_id is None:
            settings.pop(KEY, None)
        else:
            settings[KEY] = int(case_id)
