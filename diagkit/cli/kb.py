"""``diagkit kb``: search, show, write, export and import knowledge-base articles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from diagkit.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, workspace
from diagkit.cli.output import dump
from diagkit.errors import KbError
from diagkit.textsafe import one_line

if TYPE_CHECKING:
    from diagkit.store.contract import KbStore, Store

JSON_SCHEMA_KB_SEARCH = "diagkit.kb-search/1"
JSON_SCHEMA_KB_ARTICLE = "diagkit.kb-article/1"
JSON_SCHEMA_KB_DRAFT = "diagkit.kb-draft/1"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = sub.add_parser("kb", help="knowledge base: search, show, new, export, import, starter")
    kb.set_defaults(handler=_kb)
    ksub = kb.add_subparsers(dest="kb_command")

    s = ksub.add_parser("search", help="full-text search: diagkit kb search WORDS")
    s.add_argument("query", nargs="+", help="words to look for (any text is safe)")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--tag", help="only articles with this tag")
    s.add_argument("--json", action="store_true")

    sh = ksub.add_parser("show", help="print an article: diagkit kb show SLUG|ID")
    sh.add_argument("ref", metavar="SLUG|ID")
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--markdown", action="store_true", help="print the article's .md file form")

    n = ksub.add_parser("new", help="write a new article (from a file, a case, or options)")
    n.add_argument("--title", help="the problem in a few words (required unless --file)")
    n.add_argument("--slug")
    n.add_argument("--from-case", type=int, metavar="N",
                   help="draft from case N's journal (findings, log signatures, Cause:/Fix:/"
                        "Workaround: notes), written to a file to edit; see --edit, --save")
    n.add_argument("--edit", action="store_true",
                   help="open the draft in $VISUAL/$EDITOR and save it when the editor exits "
                        "(the default with --from-case when an editor is set and this is a "
                        "terminal)")
    n.add_argument("--save", action="store_true",
                   help="with --from-case: save the draft as it is, without editing")
    n.add_argument("--out", type=Path, metavar="FILE.md",
                   help="with --from-case: where to write the draft (default: the data dir's "
                        "kb-drafts folder)")
    n.add_argument("--file", type=Path, help="an article .md file (front matter + sections)")
    n.add_argument("--tag", action="append", default=[], help="repeatable")
    n.add_argument("--json", action="store_true")

    e = ksub.add_parser("export", help="write every article to FOLDER/<slug>.md")
    e.add_argument("folder", type=Path)

    i = ksub.add_parser("import", help="import FOLDER/*.md, updating articles with the same slug")
    i.add_argument("folder", type=Path)

    ksub.add_parser("starter", help="(re)install the starter articles that are missing")


def article_json(a: Any) -> dict[str, Any]:
    """An article as the JSON documented in docs/cli-json.md."""
    return {
        "id": a.id, "slug": a.slug, "title": a.title, "symptoms": a.symptoms,
        "environment": a.environment, "cause": a.cause, "resolution": a.resolution,
        "tags": list(a.tags), "links": list(a.links), "rules": [r.to_dict() for r in a.rules],
        "source_case": a.source_case, "author": a.author,
        "created": a.created.isoformat() if a.created else None,
        "updated": a.updated.isoformat() if a.updated else None,
        "version": a.version_counter,
    }


def _kb(args: argparse.Namespace, out: TextIO) -> int:
    cmd = getattr(args, "kb_command", None)
    if cmd is None:
        print("usage: diagkit kb {search,show,new,export,import,starter} ...", file=out)
        return EXIT_USAGE
    with workspace() as ws:
        return _COMMANDS[cmd](ws.kb(), args, out)


def _search(store: KbStore, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.search import search

    query = " ".join(args.query)
    hits = search(store, query, limit=args.limit, tag=args.tag)
    if args.json:
        dump({"schema": JSON_SCHEMA_KB_SEARCH, "query": query,
               "hits": [{"slug": h.article.slug, "id": h.article.id, "title": h.article.title,
                         "tags": list(h.article.tags), "rank": round(h.rank, 6),
                         "snippet": h.snippet_text()} for h in hits]}, out)
        return EXIT_OK
    if not hits:
        print(f"No article matches {query!r}. Try fewer or other words.", file=out)
        return EXIT_FAILED
    for h in hits:
        print(f"{h.article.slug}  {one_line(h.article.title)}", file=out)
        snippet = " ".join(h.snippet_text().split())
        if snippet:
            print(f"    {snippet}", file=out)
    return EXIT_OK


def _show(store: KbStore, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.markdown import article_to_markdown

    article = store.get_article(args.ref)
    if args.json:
        dump({"schema": JSON_SCHEMA_KB_ARTICLE, "article": article_json(article)}, out)
    elif args.markdown:
        out.write(article_to_markdown(article))
    else:
        print(f"{one_line(article.title)}  [{article.slug}, #{article.id}]", file=out)
        if article.tags:
            print(f"Tags: {', '.join(article.tags)}", file=out)
        if article.source_case is not None:
            print(f"From case {article.source_case}", file=out)
        for name in ("symptoms", "environment", "cause", "resolution"):
            text = getattr(article, name).strip()
            if text:
                print(f"\n{name.capitalize()}\n{text}", file=out)
        if article.links:
            print("\nLinks\n" + "\n".join(f"- {link}" for link in article.links), file=out)
        if article.rules:
            print("\nRecognised by", file=out)
            for r in article.rules:
                print(f"- {json.dumps(r.to_dict(), ensure_ascii=False)}", file=out)
                try:
                    r.validate()  # stored before patterns were checked: matching skips it
                except KbError as exc:
                    print(f"  SKIPPED by matching: {exc}", file=out)
    return EXIT_OK


def _new(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.markdown import ArticleDraft, article_from_markdown

    if args.file is not None:
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KbError(f"Cannot read {args.file}: {exc}. Give a readable .md file.") from exc
        draft = article_from_markdown(text, name=str(args.file))
    elif args.from_case is not None:
        from diagkit.kb.from_case import draft_from_case
        from diagkit.timeline import batched_changes, case_timeline, open_history

        case = store.get_case(args.from_case)
        samples = open_history()
        try:  # its timeline tells what happened
            events = case_timeline(store, case.id, samples=samples).events
        finally:
            if samples is not None:
                samples.close()
        draft = draft_from_case(case, store.journal(case.id), batched_changes(events))
        if not args.save:
            return _draft_to_edit(store, args, _with_options(draft, args), out)
    elif args.title:
        draft = ArticleDraft(title=args.title)
    else:
        raise KbError("Give the article a --title (or --file x.md, or --from-case N).")
    article = _with_options(draft, args).save(store)
    return _saved(article, args, out)


def _with_options(draft: Any, args: argparse.Namespace) -> Any:
    from dataclasses import replace

    if args.title:
        draft = replace(draft, title=args.title)
    if args.slug:
        draft = replace(draft, slug=args.slug)
    if args.tag:
        draft = replace(draft, tags=tuple(dict.fromkeys([*draft.tags, *args.tag])))
    return draft


def _editor() -> list[str] | None:
    """The user's editor command ($VISUAL, else $EDITOR), split like a shell would."""
    import os
    import shlex

    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or ""
    try:
        return shlex.split(command) or None
    except ValueError:
        return None


def _draft_to_edit(store: Store, args: argparse.Namespace, draft: Any, out: TextIO) -> int:
    """``kb new --from-case``: the draft goes to a file; with an editor (``--edit``, or one set
    and a terminal) it opens there and what the engineer wrote is saved when it exits; else
    the file's path and the next step are printed. Nothing unreviewed reaches the KB."""
    import subprocess
    import sys

    from diagkit.kb.from_case import read_draft_file, write_draft_file

    editor = _editor()
    edit = args.edit or (editor is not None and sys.stdin.isatty() and sys.stdout.isatty())
    if args.edit and editor is None:
        raise KbError("--edit needs an editor: set VISUAL or EDITOR (e.g. export EDITOR=nano), "
                      "or leave --edit out to get the draft's file.")
    if args.out is not None:
        path = args.out
        try:
            path.write_text(_markdown(draft), encoding="utf-8")
        except OSError as exc:
            raise KbError(f"Cannot write the draft to {path}: {exc.strerror or exc}. Choose "
                          "another --out.") from exc
    else:
        path = write_draft_file(draft)
    later = f"diagkit kb new --file {path}"
    if not edit or editor is None:
        if args.json:
            dump({"schema": JSON_SCHEMA_KB_DRAFT, "path": str(path), "saved": False}, out)
        else:
            print(f"Draft article from case {args.from_case} written to {path}\n"
                  f"Edit it (cause, resolution, rules), then save it with: {later}", file=out)
        return EXIT_OK
    try:
        code = subprocess.run([*editor, str(path)], check=False).returncode
    except OSError as exc:
        raise KbError(f"Cannot start the editor {editor[0]!r}: {exc.strerror or exc}. The draft "
                      f"is in {path}; edit it, then: {later}") from exc
    if code != 0:
        raise KbError(f"The editor exited with status {code}; nothing was saved. The draft is "
                      f"in {path}; edit it, then: {later}")
    try:
        edited = read_draft_file(path)
    except KbError as exc:
        raise KbError(f"{exc} Nothing was saved; fix the file, then: {later}") from None
    if edited is None:
        print(f"The draft {path} was emptied: nothing saved.", file=out)
        return EXIT_FAILED
    from dataclasses import replace

    # The editor may drop the front matter lines; the case stays the article's source.
    edited = replace(edited, source_case=edited.source_case or draft.source_case,
                     author=edited.author or draft.author)
    return _saved(edited.save(store), args, out)


def _markdown(draft: Any) -> str:
    from diagkit.kb.markdown import article_to_markdown

    return article_to_markdown(draft)


def _saved(article: Any, args: argparse.Namespace, out: TextIO) -> int:
    if args.json:
        dump({"schema": JSON_SCHEMA_KB_ARTICLE, "article": article_json(article)}, out)
    else:
        print(f"Saved article {article.slug} (#{article.id}). Edit it as a file with "
              f"'diagkit kb export DIR', then 'diagkit kb import DIR'.", file=out)
    return EXIT_OK


def _export(store: KbStore, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.markdown import export_articles

    paths = export_articles(store, args.folder)
    print(f"Wrote {len(paths)} article(s) to {args.folder}", file=out)
    return EXIT_OK


def _import(store: KbStore, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.markdown import import_articles

    report = import_articles(store, args.folder)
    print(f"Imported {report.total} article(s) from {args.folder}: {len(report.created)} new, "
          f"{len(report.updated)} updated, {len(report.unchanged)} unchanged", file=out)
    return EXIT_OK


def _starter(store: KbStore, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.kb.markdown import install_starter_articles

    added = install_starter_articles(store)
    print(f"Installed {added} starter article(s); {store.article_count()} in total.", file=out)
    return EXIT_OK


_COMMANDS = {"search": _search, "show": _show, "new": _new, "export": _export,
             "import": _import, "starter": _starter}
