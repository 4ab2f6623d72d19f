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
    code, text = run("kb", "new", "--from-case", str(case.id), "--json")
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
