"""The knowledge base: known problems written down once, found again by search and by rules.

* :mod:`diagkit.store.contract` - the records (:class:`~diagkit.store.contract.Article`,
  ``ArticleDraft``, ``MatchRule``, ``SearchHit``) and the ``KbStore`` protocol; the SQL is in
  :mod:`diagkit.store.shared.kb` (search: ``diagkit.store.sqlite.search``, ``...postgres.search``);
* :mod:`diagkit.kb.match` - which articles describe what a host shows (known-error matching);
* :mod:`diagkit.kb.markdown` - articles as Markdown files with front matter (export/import),
  and the starter set shipped in ``diagkit/kb/starter/``;
* :mod:`diagkit.kb.from_case` - a draft article from a solved case's journal.

GUI and CLI open the KB through :func:`open_kb`, which installs the starter articles the first
time a database is used (remembered in ``kb_meta``, so deleting a starter article is final).
"""

from __future__ import annotations

from typing import TypeVar

from diagkit.errors import KbError
from diagkit.store.contract import KbStore

S = TypeVar("S", bound=KbStore)

#: kb_meta key set once the starter set was installed into a database.
STARTER_KEY = "starter_installed"


def open_kb(store: S) -> S:
    """``store``, with the starter articles installed if this database never had them."""
    if store.get_kb_meta(STARTER_KEY) is None:
        from diagkit.kb.markdown import install_starter_articles

        count = install_starter_articles(store)
        store.set_kb_meta(STARTER_KEY, str(count))
    return store


__all__ = ["STARTER_KEY", "KbError", "open_kb"]
