"""Articles as Markdown files: one ``<slug>.md`` per article, front matter first.

::

    ---
    title: Filesystem full
    slug: disk-full
    tags: ["disk", "storage"]
    links: ["https://example.org/runbook"]
    source_case: 12
    author: ana
    rules:
      - {"kind": "finding", "pattern": "is \\\\d+ % full", "probe": "disk"}
      - {"kind": "metric", "metric": "disk.used_percent", "op": ">=", "value": 95}
    ---
    ## Symptoms
    ...
    ## Environment
    ## Cause
    ## Resolution

The front matter is a tiny YAML subset written and read here (no YAML library): ``key: value``
lines where a value starting with ``[``, ``{``, ``"`` or a digit is JSON, anything else a plain
string; ``tags``/``links`` may also be comma-separated words; ``rules:`` is followed by
``  - {JSON object}`` lines. The body is split on the level-2 headings Symptoms, Environment,
Cause, Resolution (any other heading stays part of its section). Errors name the file and line.

The starter set (``diagkit/kb/starter/*.md``) uses the same format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from diagkit.errors import KbError
from diagkit.store.contract import (
    Article,
    ArticleDraft,
    KbStore,
    MatchRule,
    check_slug,
    slugify,
)

SECTIONS: tuple[str, ...] = ("symptoms", "environment", "cause", "resolution")
_KEYS = frozenset({"title", "slug", "tags", "links", "rules", "source_case", "author"})
_HEADING = re.compile(r"^##\s+(symptoms|environment|cause|resolution)\s*#*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_articles` did, by slug."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    files: tuple[Path, ...] = field(default=())

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def draft_of(article: Article) -> ArticleDraft:
    return ArticleDraft(title=article.title, slug=article.slug, symptoms=article.symptoms,
                        environment=article.environment, cause=article.cause,
                        resolution=article.resolution, tags=article.tags, links=article.links,
                        rules=article.rules, source_case=article.source_case,
                        author=article.author)


# --- writing -----------------------------------------------------------------------------------


def _front_value(value: str) -> str:
    # Plain when it reads back as the same string; JSON-quoted otherwise.
    plain = value == value.strip() and value and value[0] not in '[{"-#' \
        and not value[0].isdigit() and "\n" not in value
    return value if plain else json.dumps(value, ensure_ascii=False)


def article_to_markdown(a: Article | ArticleDraft) -> str:
    """The article as a Markdown file (front matter + four sections)."""
    lines = ["---", f"title: {_front_value(a.title)}"]
    if a.slug:
        lines.append(f"slug: {a.slug}")
    lines.append(f"tags: {json.dumps(list(a.tags), ensure_ascii=False)}")
    if a.links:
        lines.append(f"links: {json.dumps(list(a.links), ensure_ascii=False)}")
    if a.source_case is not None:
        lines.append(f"source_case: {a.source_case}")
    if a.author:
        lines.append(f"author: {_front_value(a.author)}")
    if a.rules:
        lines.append("rules:")
        lines += [f"  - {json.dumps(r.to_dict(), ensure_ascii=False)}" for r in a.rules]
    lines.append("---")
    for name in SECTIONS:
        lines += ["", f"## {name.capitalize()}", ""]
        text = getattr(a, name).strip("\n")
        if text:
            lines.append(text)
    return "\n".join(lines) + "\n"


# --- reading -----------------------------------------------------------------------------------


def _fail(name: str, line: int | None, problem: str) -> KbError:
    where = f"{name or 'article'}" + (f", line {line}" if line else "")
    return KbError(f"{where}: {problem}")


def _value(name: str, lineno: int, key: str, raw: str) -> Any:
    raw = raw.strip()
    if raw[:1] in ('[', '{', '"') or raw[:1].isdigit() or raw[:1] == "-":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _fail(name, lineno, f"the value of {key!r} is not valid JSON ({exc.msg}): "
                                      f"{raw[:80]}") from None
    return raw


def _strings(name: str, lineno: int, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise _fail(name, lineno, f"{key!r} is a list of strings like [\"a\", \"b\"] or a, b; "
                              f"got {value!r}.")


def article_from_markdown(text: str, *, name: str = "") -> ArticleDraft:
    """Parse an article file; :class:`KbError` naming ``name`` (the file) and the line if bad."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise _fail(name, 1, "an article file starts with a front matter block: a line '---', "
                             "'title: ...' and the other fields, then '---'.")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise _fail(name, None, "the front matter is not closed: add a line '---' after its "
                                "last field.") from None
    meta: dict[str, Any] = {}
    rules: list[MatchRule] = []
    in_rules = False
    for i in range(1, end):
        raw = lines[i]
        lineno = i + 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        stripped = raw.strip()
        if in_rules and stripped.startswith("- "):
            rule = _value(name, lineno, "rules", stripped[2:])
            if not isinstance(rule, dict):
                raise _fail(name, lineno, "each rule is a JSON object like {\"kind\": \"log\", "
                                          "\"pattern\": \"...\"}.")
            try:
                rules.append(MatchRule.from_dict(rule))
            except KbError as exc:
                raise _fail(name, lineno, str(exc)) from None
            continue
        key, colon, value = raw.partition(":")
        key = key.strip()
        if not colon or raw[:1].isspace():
            raise _fail(name, lineno, f"expected 'key: value', got {stripped[:80]!r}.")
        if key not in _KEYS:
            raise _fail(name, lineno, f"unknown field {key!r}; the front matter takes "
                                      f"{', '.join(sorted(_KEYS))}.")
        in_rules = key == "rules"
        if in_rules:
            if value.strip() not in ("", "[]"):
                raise _fail(name, lineno, "write rules as '  - {JSON}' lines under 'rules:'.")
            continue
        meta[key] = (lineno, _value(name, lineno, key, value) if value.strip() else "")

    if "title" not in meta or not str(meta["title"][1]).strip():
        raise _fail(name, 2, "the front matter needs a 'title: ...' line.")
    title = str(meta["title"][1]).strip()
    slug = ""
    if "slug" in meta:
        lineno, slug = meta["slug"][0], str(meta["slug"][1]).strip()
        try:
            check_slug(slug)
        except KbError as exc:
            raise _fail(name, lineno, str(exc)) from None
    source_case = None
    if meta.get("source_case", (0, ""))[1] not in ("", None):
        lineno, value = meta["source_case"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(name, lineno, f"'source_case' is a case number, not {value!r}.")
        source_case = value
    tags = _strings(name, meta["tags"][0], "tags", meta["tags"][1]) if "tags" in meta else ()
    links = (_strings(name, meta["links"][0], "links", meta["links"][1])
             if "links" in meta else ())

    sections: dict[str, list[str]] = {s: [] for s in SECTIONS}
    current = "symptoms"  # text before the first heading counts as symptoms
    for raw in lines[end + 1:]:
        m = _HEADING.match(raw.strip())
        if m:
            current = m.group(1).lower()
            continue
        sections[current].append(raw)
    body = {k: "\n".join(v).strip("\n") for k, v in sections.items()}
    return ArticleDraft(title=title, slug=slug, tags=tags, links=links, rules=tuple(rules),
                        source_case=source_case, author=str(meta.get("author", (0, ""))[1]),
                        symptoms=body["symptoms"], environment=body["environment"],
                        cause=body["cause"], resolution=body["resolution"])


# --- folders -----------------------------------------------------------------------------------


def export_articles(store: KbStore, folder: Path,
                    articles: Iterable[Article] | None = None) -> list[Path]:
    """Write every article (or ``articles``) to ``folder/<slug>.md``; the paths written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for article in (store.list_articles() if articles is None else articles):
            path = folder / f"{article.slug}.md"
            path.write_text(article_to_markdown(article), encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise KbError(f"Cannot write articles to {folder}: {exc.strerror or exc}. Choose a "
                      "folder you can write to.") from exc
    return written


def read_folder(folder: Path) -> list[tuple[Path, ArticleDraft]]:
    """Every ``*.md`` file of ``folder`` parsed; :class:`KbError` listing every bad file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KbError(f"{folder} is not a folder. Give the folder that holds the article "
                      "(.md) files.")
    drafts, problems = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            draft = article_from_markdown(path.read_text(encoding="utf-8"), name=str(path))
        except (KbError, UnicodeDecodeError, OSError) as exc:
            problems.append(str(exc) if isinstance(exc, KbError) else f"{path}: {exc}")
            continue
        drafts.append((path, draft if draft.slug else replace(draft, slug=_file_slug(path))))
    if problems:
        raise KbError(f"{len(problems)} article file(s) could not be read, nothing was "
                      "imported; fix them and import again:\n" + "\n".join(problems))
    slugs: dict[str, Path] = {}
    for path, draft in drafts:
        if draft.slug in slugs:
            raise KbError(f"{path} and {slugs[draft.slug]} both have the slug {draft.slug!r}; "
                          "nothing was imported. Give one of them another slug.")
        slugs[draft.slug] = path
    return drafts


def _file_slug(path: Path) -> str:
    stem = path.stem.lower()
    try:
        return check_slug(stem)
    except KbError:
        return slugify(stem)


def _same(article: Article, draft: ArticleDraft) -> bool:
    return draft_of(article) == replace(draft, slug=article.slug)


def import_drafts(store: KbStore, drafts: Sequence[tuple[Path, ArticleDraft]], *,
                  update: bool = True) -> ImportReport:
    """Upsert by slug: new slugs are created; existing ones updated (``update``) or kept."""
    existing = {a.slug: a for a in store.list_articles()}
    created, updated, unchanged = [], [], []
    for _path, draft in drafts:
        old = existing.get(draft.slug)
        if old is None:
            draft.save(store)
            created.append(draft.slug)
        elif not update or _same(old, draft):
            unchanged.append(draft.slug)
        else:
            store.update_article(old.id, old.version_counter, **draft.fields())
            updated.append(draft.slug)
    return ImportReport(tuple(created), tuple(updated), tuple(unchanged),
                        tuple(p for p, _ in drafts))


def import_articles(store: KbStore, folder: Path) -> ImportReport:
    """Import every ``*.md`` of ``folder``, upserting by slug (the file name when the front
    matter has no slug). All files are checked first: one bad file imports nothing."""
    return import_drafts(store, read_folder(folder))


# --- starter set -------------------------------------------------------------------------------


def starter_files() -> list[tuple[str, str, ArticleDraft]]:
    """The articles shipped in ``diagkit/kb/starter/``: file name, text, draft."""
    out = []
    folder = resources.files("diagkit.kb") / "starter"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            text = entry.read_text(encoding="utf-8")
            draft = article_from_markdown(text, name=f"starter/{entry.name}")
            out.append((entry.name, text,
                        draft if draft.slug else replace(draft, slug=entry.name[:-3])))
    return out


def starter_drafts() -> list[ArticleDraft]:
    """The articles shipped in ``diagkit/kb/starter/``."""
    return [draft for _name, _text, draft in starter_files()]


def install_starter_articles(store: KbStore) -> int:
    """Add the starter articles whose slugs are not in ``store`` yet; how many were added."""
    have = {a.slug for a in store.list_articles()}
    added = 0
    for draft in starter_drafts():
        if draft.slug in have:
            continue
        try:
            draft.save(store)
        except KbError:
            continue  # another process installed it a moment ago: the slug is taken
        added += 1
    return added
