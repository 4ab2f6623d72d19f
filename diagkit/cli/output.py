"""What the CLI prints: JSON documents, aligned tables, wrapped text.

Every stream the commands write to is already an escaping one (``diagkit.textsafe``, set up
in :func:`diagkit.cli.app.main`): control characters in host, log or case text are shown
escaped, never obeyed. The helpers here only keep one record on one line (:func:`table`).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

from diagkit.textsafe import one_line


def dump(value: Any, out: TextIO) -> None:
    """A JSON document (``docs/cli-json.md``): indented, UTF-8 as is, one trailing newline."""
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size((120, 24)).columns)


def wrap(text: str, width: int, indent: str) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO, *,
          indent: str = "", wrap_last: bool = False) -> None:
    # One line per row: a newline (or any control character) inside a cell is shown escaped.
    cells = [[one_line(c) for c in header]] + [[one_line(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    total = terminal_width()
    lead = len(indent) + sum(w + 2 for w in widths[:-1])
    for row in cells:
        head = indent + "".join(c.ljust(w + 2) for c, w in zip(row[:-1], widths[:-1], strict=True))
        last = row[-1]
        if wrap_last and lead + len(last) > total and total - lead > 20:
            lines = textwrap.wrap(last, total - lead) or [""]
            print(head + lines[0], file=out)
            for more in lines[1:]:
                print(" " * lead + more, file=out)
        else:
            print((head + last).rstrip(), file=out)
