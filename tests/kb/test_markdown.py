"""Articles as Markdown files: round trip, upsert by slug, clear errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagkit.errors import KbError
from diagkit.kb.markdown import (
    ArticleDraft,
    article_from_markdown,
    article_to_markdown,
    draft_of,
    export_articles,
    import_articles,
)
from diagkit.store.contract import MatchRule
from diagkit.store.sqlite import SqliteStore

RULES = (MatchRule("finding", r"^Filesystem .+ is \d+ % full$", probe="disk"),
         MatchRule("metric", metric="disk.used_percent", op=">=", value=95.0,
                   labels={"mount": "/"}),
         MatchRule("log", r'No space "left"|ENOSPC'))


def make(store: SqliteStore) -> None:
    store.create_article(ArticleDraft(
        "Disk full: / at 100 %", slug="disk-full", tags=["disk", "storage"],
        links=["https://example.org/a"], rules=RULES, source_case=None,
        symptoms="- writes fail\n\n## Not a section\ntext", cause="logs",
        resolution="1. `du -xh /`\n2. rotate", environment="ext4", author="Ana: L2"))
    store.create_article(ArticleDraft("Clock drift", symptoms="chrony", source_case=7))


def test_round_trip_export_import(store: SqliteStore, tmp_path: Path) -> None:
    make(store)
    paths = export_articles(store, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["clock-drift.md", "disk-full.md"]
    with SqliteStore(tmp_path / "other.db") as other:
        report = import_articles(other, tmp_path / "out")
        assert sorted(report.created) == ["clock-drift", "disk-full"]
        for a in store.list_articles():
            assert draft_of(other.get_article(a.slug)) == draft_of(a)
        # importing the same files again changes nothing
        again = import_articles(other, tmp_path / "out")
        assert sorted(again.unchanged) == ["clock-drift", "disk-full"] and not again.updated


def test_import_updates_by_slug(store: SqliteStore, tmp_path: Path) -> None:
    make(store)
    export_articles(store, tmp_path)
    path = tmp_path / "disk-full.md"
    path.write_text(path.read_text().replace("\nlogs\n", "\ncore dumps\n"))
    (tmp_path / "new-one.md").write_text("---\ntitle: New one\ntags: a, b\n---\nbody only\n")
    report = import_articles(store, tmp_path)
    assert report.updated == ("disk-full",) and report.created == ("new-one",)
    a = store.get_article("disk-full")
    assert a.cause == "core dumps" and a.version_counter == 2
    new = store.get_article("new-one")
    assert new.tags == ("a", "b") and new.symptoms == "body only"


def test_markdown_text_form() -> None:
    d = ArticleDraft(title="x: y", slug="x-y", symptoms="s", rules=RULES[:1])
    text = article_to_markdown(d)
    assert text.startswith("---\ntitle: x: y\nslug: x-y\n")
    assert '  - {"kind": "finding", "pattern": "^Filesystem .+ is \\\\d+ % full$"' in text
    assert "## Symptoms\n\ns\n" in text
    assert article_from_markdown(text) == d


@pytest.mark.parametrize(("text", "message"), [
    ("title: x\n", "line 1: an article file starts with a front matter block"),
    ("---\ntitle: x\n", "front matter is not closed"),
    ("---\nslug: x\n---\n", "needs a 'title: ...' line"),
    ("---\ntitle: x\ncolour: red\n---\n", "line 3: unknown field 'colour'"),
    ("---\ntitle: x\ntags: [\"a\",\n---\n", "line 3: the value of 'tags' is not valid JSON"),
    ("---\ntitle: x\nrules:\n  - {\"kind\": \"log\", \"pattern\": \"(\"}\n---\n",
     "line 4: The log match rule's pattern '(' is not a valid regular expression"),
    ("---\ntitle: x\nrules:\n  - [1]\n---\n", "line 4: each rule is a JSON object"),
    ("---\ntitle: x\nslug: Not OK\n---\n", "line 3: An article slug is"),
    ("---\ntitle: x\nsource_case: \"seven\"\n---\n", "'source_case' is a case number"),
    ("---\ntitle: x\njust words\n---\n", "line 3: expected 'key: value'"),
])
def test_bad_front_matter_names_the_file_and_line(text: str, message: str) -> None:
    with pytest.raises(KbError) as err:
        article_from_markdown(text, name="kb/bad.md")
    assert str(err.value).startswith("kb/bad.md")
    assert message in str(err.value)


def test_one_bad_file_imports_nothing(store: SqliteStore, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n")
    (tmp_path / "bad.md").write_text("---\ntitle: Bad\nrules:\n  - {\"kind\": \"nope\"}\n---\n")
    with pytest.raises(KbError, match=r"bad\.md, line 4: A match rule's kind is one of"):
        import_articles(store, tmp_path)
    assert store.article_count() == 0
    with pytest.raises(KbError, match="is not a folder"):
        import_articles(store, tmp_path / "missing")
