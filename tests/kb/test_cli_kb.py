"""``diagkit kb ...`` through diagkit.cli.main, on the real (isolated) data dir."""

from __future__ import annotations

import io
import json
from pathlib import Path

from diagkit.cli import main
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_search_installs_the_starter_set_and_finds_it() -> None:
    code, text = run("kb", "search", "no", "space", "left")
    assert code == 0 and "disk-full" in text and "[space]" in text
    code, text = run("kb", "search", "--json", 'NEAR("oom', "killer")
    doc = json.loads(text)
    assert code == 0 and doc["schema"] == "diagkit.kb-search/1"
    assert doc["hits"][0]["slug"] == "oom-killer"
    assert set(doc["hits"][0]) == {"slug", "id", "title", "tags", "rank", "snippet"}
    code, text = run("kb", "search", "zzzzqqq")
    assert code == 1 and "No article matches" in text


def test_show_text_json_markdown() -> None:
    code, text = run("kb", "show", "disk-full")
    assert code == 0 and "Resolution" in text and "Recognised by" in text
    code, text = run("kb", "show", "disk-full", "--json")
    art = json.loads(text)["article"]
    assert art["slug"] == "disk-full" and art["rules"] and art["version"] == 1
    code, text = run("kb", "show", "disk-full", "--markdown")
    assert text.startswith("---\ntitle: ")
    assert run("kb", "show", "nope")[0] == 1


def test_new_from_title_file_and_case(tmp_path: Path) -> None:
    code, text = run("kb", "new", "--title", "VPN drops", "--tag", "vpn", "--json")
    assert code == 0 and json.loads(text)["article"]["tags"] == ["vpn"]
    f = tmp_path / "x.md"
    f.write_text("---\ntitle: From file\nslug: from-file\n---\n## Cause\nit\n")
    assert run("kb", "new", "--file", str(f))[0] == 0
    with SqliteStore() as store:
        assert store.get_article("from-file").cause == "it"
        case = store.create_case(CaseDraft("Nightly job fails"))
        store.append_journal(case.id, "note", "Resolution: rerun with more memory")
    code, text = run("kb", "new", "--from-case", str(case.id), "--save", "--json")
    art = json.loads(text)["article"]
    assert art["source_case"] == case.id and art["resolution"] == "rerun with more memory"
    f.write_text("---\ntitle: x\nrules:\n  - {\"kind\": \"log\"}\n---\n")
    assert run("kb", "new", "--file", str(f))[0] == 1
    assert run("kb", "new")[0] == 1


def test_export_import_starter(tmp_path: Path, capsys) -> None:
    from diagkit.kb.markdown import starter_drafts

    n = len(starter_drafts())
    code, text = run("kb", "export", str(tmp_path / "kb"))
    assert code == 0 and f"Wrote {n} article(s)" in text
    (tmp_path / "kb" / "disk-full.md").write_text(
        (tmp_path / "kb" / "disk-full.md").read_text().replace("## Cause\n", "## Cause\nNew. "))
    code, text = run("kb", "import", str(tmp_path / "kb"))
    assert code == 0 and f"1 updated, {n - 1} unchanged" in text
    (tmp_path / "kb" / "broken.md").write_text("no front matter")
    code, _ = run("kb", "import", str(tmp_path / "kb"))
    assert code == 1 and "broken.md" in capsys.readouterr().err
    assert run("kb", "starter")[1].startswith("Installed 0 starter article(s)")
    assert run("kb")[0] == 2


def _from_case(case_id: int) -> list[str]:
    with SqliteStore() as store:
        return [a.slug for a in store.list_articles() if a.source_case == case_id]


def _case_with_notes() -> int:
    with SqliteStore() as store:
        case = store.create_case(CaseDraft("Cache tmpfs full", engineer="ana"))
        store.append_journal(case.id, "note", "Looked at df with the customer.\n"
                                              "Cause: cache never pruned\nFix: hourly prune job")
        return case.id


def test_from_case_writes_a_draft_to_edit_and_saves_nothing(monkeypatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "true")  # set, but no terminal: the path is printed
    case_id = _case_with_notes()
    code, text = run("kb", "new", "--from-case", str(case_id))
    assert code == 0 and "diagkit kb new --file " in text
    path = Path(text.split("written to ")[1].split("\n")[0])
    assert path.name == f"case-{case_id}.md" and (path.stat().st_mode & 0o077) == 0
    body = path.read_text()
    assert "## Cause\n\ncache never pruned" in body and "hourly prune job" in body
    assert not _from_case(case_id)  # nothing unreviewed in the KB
    code, text = run("kb", "new", "--from-case", str(case_id), "--json")
    doc = json.loads(text)
    assert doc["schema"] == "diagkit.kb-draft/1" and doc["path"].endswith(f"case-{case_id}-2.md")
    # Saved later from the file, as the message says.
    code, text = run("kb", "new", "--file", str(path), "--json")
    assert code == 0 and json.loads(text)["article"]["source_case"] == case_id


def test_from_case_edit_opens_the_editor_and_saves_what_was_written(
        tmp_path: Path, monkeypatch, capsys) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/hourly prune job/prune every hour (cron)/" "$1"\n')
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    case_id = _case_with_notes()
    code, text = run("kb", "new", "--from-case", str(case_id), "--edit", "--json")
    art = json.loads(text)["article"]
    assert code == 0 and art["resolution"] == "prune every hour (cron)"
    assert art["source_case"] == case_id and art["author"] == "ana"

    failing = tmp_path / "fail.sh"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(failing))
    assert run("kb", "new", "--from-case", str(case_id), "--edit")[0] == 1
    assert "exited with status 3; nothing was saved" in capsys.readouterr().err

    emptying = tmp_path / "empty.sh"
    emptying.write_text('#!/bin/sh\n: > "$1"\n')
    emptying.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(emptying))
    code, text = run("kb", "new", "--from-case", str(case_id), "--edit")
    assert code == 1 and "emptied: nothing saved" in text
    assert len(_from_case(case_id)) == 1  # only the one edited and saved above

    monkeypatch.delenv("EDITOR")
    assert run("kb", "new", "--from-case", str(case_id), "--edit")[0] == 1
    assert "set VISUAL or EDITOR" in capsys.readouterr().err
