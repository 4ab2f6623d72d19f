"""The starter articles kept in step with a store: in it from its first use, new or improved
ones added when diagkit is updated, and never against the engineer's will.

:func:`sync_starters` runs whenever the knowledge base is used: :func:`diagkit.kb.open_kb`
(the ``diagkit kb`` commands, the app's KB tab) and :func:`diagkit.kb.match.load_matcher`
(known-issue matching: ``diagkit case probe``, the app, KB search), so the first probe on a new
install can already name known issues. (Not in the store itself: the store is a layer below
the knowledge base and never imports it; see the layers contract in pyproject.toml.) It costs
one ``kb_meta`` read when the shipped set did not change (its fingerprint is recorded), else a
pass over the shipped articles, each with a version (a hash of its file) and a record per slug
in ``kb_meta`` (``starter:<slug>`` = ``{"version": ..., "hash": ...}``, the hash of the article
as installed):

* never recorded and the slug free: installed, recorded;
* never recorded but the slug taken (the engineer's own article, or a starter installed by
  diagkit before these records existed): left as it is, recorded as not ours to update;
* recorded with an older version: updated only if the stored article is still exactly what was
  installed (unedited); an edited one is the engineer's now, a deleted one stays deleted.

``diagkit kb starter`` remains the explicit way to bring deleted starter articles back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from diagkit.errors import KbError
from diagkit.store.contract import Article, ArticleDraft, KbStore

#: Sync on every use of the KB (see the module docstring). The test suite turns it off
#: (tests/conftest.py) so a test's store holds only its own articles unless it asks (open_kb).
AUTOMATIC = True
#: kb_meta key: the fingerprint of the shipped starter set last synced into this store.
SET_KEY = "starter_set"
#: kb_meta key prefix of one starter article's record.
RECORD_PREFIX = "starter:"
#: kb_meta key set by diagkit before per-article records (the whole set installed at once).
LEGACY_KEY = "starter_installed"
#: The starter set of those diagkits: in a store that had it, a missing one was deleted.
LEGACY_SLUGS = frozenset({
    "certificate-expired", "disk-full", "disk-io-errors", "dns-misconfiguration",
    "failed-systemd-units", "inode-exhaustion", "oom-killer", "read-only-filesystem",
    "ssh-host-key-changed", "swap-thrashing", "time-drift-ntp", "too-many-open-files",
})


@dataclass(frozen=True)
class Shipped:
    """A starter article as shipped: its draft and version (hash of its file's text)."""

    draft: ArticleDraft
    version: str


def _version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """The fingerprint of the shipped set, from the files' names and texts alone: opening a
    store compares it with the recorded one without parsing any article."""
    from importlib import resources

    folder = resources.files("diagkit.kb") / "starter"
    parts = [f"{e.name}={_version(e.read_text(encoding='utf-8'))};"
             for e in sorted(folder.iterdir(), key=lambda e: e.name) if e.name.endswith(".md")]
    return _version("".join(parts))


def shipped() -> tuple[tuple[Shipped, ...], str]:
    """The shipped starter articles (parsed) and the set's :func:`fingerprint`."""
    from diagkit.kb.markdown import starter_files

    items = tuple(Shipped(draft, _version(text)) for _name, text, draft in starter_files())
    return items, fingerprint()


def content_hash(article: Article | ArticleDraft) -> str:
    """What an article says (title, body, tags, links, rules), to tell an edited one."""
    from diagkit.kb.markdown import draft_of

    d = draft_of(article) if isinstance(article, Article) else article
    body = json.dumps([d.title, d.symptoms, d.environment, d.cause, d.resolution,
                       list(d.tags), list(d.links), [r.to_dict() for r in d.rules]],
                      ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SyncReport:
    installed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()


def _record(store: KbStore, slug: str, version: str, article: Article | None) -> None:
    value = {"version": version, "hash": content_hash(article) if article else None}
    store.set_kb_meta(RECORD_PREFIX + slug, json.dumps(value, sort_keys=True))


def _read_record(store: KbStore, slug: str) -> dict[str, str | None] | None:
    raw = store.get_kb_meta(RECORD_PREFIX + slug)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"version": None, "hash": None}  # damaged: treat the article as the user's
    return value if isinstance(value, dict) else {"version": None, "hash": None}


def sync_starters(store: KbStore, *, force: bool = False) -> SyncReport:
    """Bring ``store``'s starter articles in step with the shipped set (module docstring).
    Cheap when nothing changed (one read), unless ``force``."""
    if not force and store.get_kb_meta(SET_KEY) == fingerprint():
        return SyncReport()
    items, whole = shipped()
    installed: list[str] = []
    updated: list[str] = []
    legacy = store.get_kb_meta(LEGACY_KEY) is not None
    for item in items:
        slug = item.draft.slug
        record = _read_record(store, slug)
        current = _article(store, slug)
        if record is None:
            if current is None and not (legacy and slug in LEGACY_SLUGS):
                try:
                    current = item.draft.save(store)
                except KbError:
                    continue  # another process installed it a moment ago: it records it
                installed.append(slug)
                _record(store, slug, item.version, current)
            else:
                # Not installed by this mechanism: the engineer's article with that slug, or
                # one an older diagkit installed (maybe edited since, or deleted): kept as is.
                _record(store, slug, item.version, None)
            continue
        if record.get("version") == item.version or current is None:
            continue  # up to date, or deleted by the engineer: stays deleted
        if record.get("hash") is not None and content_hash(current) == record["hash"]:
            current = store.update_article(current.id, current.version_counter,
                                           **item.draft.fields())
            updated.append(slug)
            _record(store, slug, item.version, current)
    store.set_kb_meta(SET_KEY, whole)
    return SyncReport(tuple(installed), tuple(updated))


def _article(store: KbStore, slug: str) -> Article | None:
    from diagkit.store.contract import ArticleNotFound

    try:
        return store.get_article(slug)
    except ArticleNotFound:
        return None


__all__ = ["AUTOMATIC", "LEGACY_KEY", "LEGACY_SLUGS", "RECORD_PREFIX", "SET_KEY", "Shipped", "SyncReport", "content_hash",
           "fingerprint", "shipped", "sync_starters"]
