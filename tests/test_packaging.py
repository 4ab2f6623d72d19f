"""A non-editable install must carry every package, the templates and the resources."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "diagkit").rglob("__init__.py")
        if "__pycache__" not in p.parts
    } | {"diagkit.resources"}
    assert found <= listed, f"add to pyproject.toml packages: {sorted(found - listed)}"


def test_wheel_contains_code_resources_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("diagkit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("diagkit/__main__.py", "diagkit/cli/app.py", "diagkit/py.typed",
                     "diagkit/transport/ssh.py", "diagkit/probes/runner.py",
                     "diagkit/probes/disk.py", "diagkit/ui/main_window.py",
                     "diagkit/resources/__init__.py"):
        assert required in names, required
    shipped = {p.name for p in (REPO / "resources" / "probes").glob("*") if p.is_file()}
    assert shipped, "resources/probes holds example probes"
    for name in shipped:
        assert f"diagkit/resources/probes/{name}" in names
    templates = {p.name for p in (REPO / "diagkit" / "reports" / "templates").glob("*.jinja2")}
    assert "report.html.jinja2" in templates and "report.md.jinja2" in templates
    for name in templates:
        assert f"diagkit/reports/templates/{name}" in names
    assert any(n.startswith("diagkit-") and n.endswith("entry_points.txt") for n in names)
