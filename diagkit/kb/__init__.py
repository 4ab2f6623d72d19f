"""The knowledge base: known problems written down once, found again by search and by rules.

* :mod:`diagkit.store.contract` - the records (:class:`~diagkit.store.contract.Article`,
  ``ArticleDraft``, ``MatchRule``, ``SearchHit``) and the ``KbStore`` protocol; the SQL is in
  :mod:`diagkit.store.shared.kb` (search: ``diagkit.store.sqlite.search``, ``...postgres.search``);
* :mod:`diagkit.kb.match` - which articles describe what a host shows (known-error matching);
* :mod:`diagkit.kb.markdown` - articles as Markdown files with front matter (export/import),
  and the starter set shipped in ``diagkit/kb/starter/``;
* :mod:`diagkit.kb.from_case` - a draft article from a solved case's journal.

Stores install the starter articles themselves when they are created, and add new or improved
ones after an update (:mod:`diagkit.kb.starters`; deleting or editing a starter article is
final). :func:`open_kb` does the same for a store whose class leaves it out.
"""

from __future__ import annotations

from typing import TypeVar

from diagkit.errors import KbError
from diagkit.store.contract import KbStore

S = TypeVar("S", bound=KbStore)

#: kb_meta key set by diagkit before per-article starter records (see diagkit.kb.starters).
STARTER_KEY = "starter_installed"


def open_kb(store: S) -> S:
    """``store``, with the shipped starter articles in step (:func:`diagkit.kb.starters.
    sync_starters`: one read when nothing changed)."""
    from diagkit.kb.starters import sync_starters

    sync_starters(store)
    return store


__all__ = ["STARTER_KEY", "KbError", "open_kb"]
