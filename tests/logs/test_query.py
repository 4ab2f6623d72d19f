"""Query engine vs a brute-force reference: parse every record in Python, filter in Python.

Seeded random files in a small multi-line format defined here (so the engine is tested on its
own, whatever formats.py ships), plus the plain fallback format.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from diagkit.errors import LogFormatError
from diagkit.logs.logfile import LogFile
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext, Query
from diagkit.logs.query import (
    count,
    histogram,
    matching_indices,
    parse_bucket,
    parse_time,
    search,
    timeline,
)

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (\w+) (\w+)\[(\d+)\]: (.*)$", re.DOTALL)


class IsoFormat(LogFormat):
    """``2024-01-02T10:00:00 LEVEL source[pid]: message k=v``; lines not starting with a digit
    continue the previous record."""

    name = "iso-test"
    multiline = True

    def record_starts(self, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
        inside = starts < len(buf)
        out = np.zeros(len(starts), dtype=bool)
        first = buf[starts[inside]]
        out[inside] = (first >= ord("0")) & (first <= ord("9"))
        return out

    def is_record_start(self, line: str) -> bool:
        return line[:1].isdigit()

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = LINE.match(text)
        if not m:
            return Fields(message=text)
        extra = dict(kv.split("=", 1) for kv in m.group(5).split() if "=" in kv.strip("="))
        return Fields(timestamp=datetime.fromisoformat(m.group(1)), level=Level.parse(m.group(2)),
                      source=m.group(3), pid=int(m.group(4)), message=m.group(5), extra=extra)


WORDS = ["disk", "Disk", "DISK", "full", "timeout", "conn", "retry", "ok", "ssh", "cron",
         "a.b", "x+y", "[q]", "naïve", "ĳ"]
LEVELS = ["DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "weird"]


def make_log(path: Path, seed: int, n: int = 600) -> Path:
    rnd = random.Random(seed)
    t = datetime(2024, 3, 1, 12, 0, 0)
    lines = []
    if seed % 2:
        lines.append("orphan first line without a header")
    for _ in range(n):
        t += timedelta(seconds=rnd.choice([0, 1, 5, 60, -30]))  # sometimes backwards
        msg = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 6)))
        if rnd.random() < 0.3:
            msg += f" status={rnd.choice([200, 404, 500])}"
        lines.append(f"{t:%Y-%m-%dT%H:%M:%S} {rnd.choice(LEVELS)} "
                     f"{rnd.choice(['sshd', 'cron', 'app'])}[{rnd.randint(1, 4)}]: {msg}")
        for _ in range(rnd.choice([0, 0, 0, 1, 3])):
            lines.append(f"    at frame {rnd.choice(WORDS)}")
        if rnd.random() < 0.02:
            lines.append("")  # blank line: a continuation too
    path.write_text("\n".join(lines) + ("\n" if seed % 3 else ""), encoding="utf-8")
    return path


def reference_records(path: Path, fmt: LogFormat) -> list[tuple[str, Fields]]:
    text = path.read_bytes().decode("utf-8", "replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    # a record shows "\r\n" (and "\r\r\n") as "\n"; a "\r" ending the file goes too
    lines = [ln.rstrip("\r") for ln in lines]
    groups: list[list[str]] = []
    for line in lines:
        if not groups or fmt.is_record_start(line):
            groups.append([line])
        else:
            groups[-1].append(line)
    ctx = ParseContext(reference_time=datetime.now())
    return [("\n".join(g), fmt.parse("\n".join(g), ctx)) for g in groups]


def reference(path: Path, fmt: LogFormat, q: Query) -> list[int]:
    out = []
    for i, (raw, f) in enumerate(reference_records(path, fmt)):
        if q.text:
            if q.regex:
                flags = re.MULTILINE | (0 if q.case_sensitive else re.IGNORECASE)
                if not re.search(q.text.encode(), raw.encode(), flags):
                    continue
            elif q.case_sensitive:
                if q.text not in raw:
                    continue
            elif q.text.encode().lower() not in raw.encode().lower():
                continue
        if any(x.encode().lower() in raw.encode().lower() for x in q.exclude):
            continue
        if q.levels and (f.level not in q.levels or f.level == Level.UNKNOWN):
            continue
        if q.min_level and (f.level < q.min_level or f.level == Level.UNKNOWN):
            continue
        if q.since and (f.timestamp is None or f.timestamp < q.since):
            continue
        if q.until and (f.timestamp is None or f.timestamp > q.until):
            continue
        ok = True
        for k, v in q.fields.items():
            have = {"source": f.source, "pid": str(f.pid), "host": f.host}.get(k, f.extra.get(k))
            if have != v:
                ok = False
        if ok:
            out.append(i)
    return out


def random_query(rnd: random.Random) -> Query:
    kw: dict = {}
    if rnd.random() < 0.6:
        word = rnd.choice(WORDS)
        if rnd.random() < 0.4:
            kw.update(text=rnd.choice([re.escape(word), r"dis[kK]\s+\w+", r"^\s+at", r"ok$",
                                       r"(timeout|retry) (conn|ssh)", r"full\s+2024",
                                       r"\w$", r"=500$", r"ok\r?$", r"^$"]), regex=True)
        else:
            kw.update(text=word)
        kw["case_sensitive"] = rnd.random() < 0.3
    if rnd.random() < 0.3:
        kw["min_level"] = rnd.choice([Level.INFO, Level.WARNING, Level.ERROR])
    if rnd.random() < 0.2:
        kw["levels"] = frozenset(rnd.sample([Level.DEBUG, Level.NOTICE, Level.ERROR], 2))
    if rnd.random() < 0.3:
        kw["since"] = datetime(2024, 3, 1, 12, 0) + timedelta(minutes=rnd.randint(0, 120))
    if rnd.random() < 0.3:
        kw["until"] = datetime(2024, 3, 1, 12, 30) + timedelta(minutes=rnd.randint(0, 120))
    if rnd.random() < 0.25:
        kw["fields"] = rnd.choice([{"source": "sshd"}, {"pid": "2"}, {"status": "500"},
                                   {"source": "cron", "pid": "1"}])
    if rnd.random() < 0.25:
        kw["exclude"] = tuple(rnd.sample(["disk", "CONN", "frame ok", "ĳ"], rnd.randint(1, 2)))
    return Query(**kw)


@pytest.mark.parametrize("crlf", ["\n", "\r\n", "\r\r\n"], ids=["lf", "crlf", "crcrlf"])
@pytest.mark.parametrize("seed", range(8))
def test_matches_reference(tmp_path: Path, seed: int, crlf: str) -> None:
    path = make_log(tmp_path / f"gen{seed}.log", seed)
    if crlf != "\n":  # the same log written on Windows: every query finds the same records
        path.write_bytes(path.read_bytes().replace(b"\n", crlf.encode()))
    fmt = IsoFormat()
    rnd = random.Random(1000 + seed)
    with LogFile.open(path, format=fmt) as log:
        refs = reference_records(path, fmt)
        assert log.record_count == len(refs)
        for i in rnd.sample(range(len(refs)), 20):
            assert log.record(i).raw == refs[i][0]
        for _ in range(40):
            q = random_query(rnd)
            want = reference(path, fmt, q)
            got = matching_indices(log, q).tolist()
            assert got == want, q


def test_arrays_and_candidate_parsing_agree(tmp_path: Path) -> None:
    path = make_log(tmp_path / "a.log", 4)
    q = Query(text="disk", min_level=Level.WARNING, since=datetime(2024, 3, 1, 12, 20))
    with LogFile.open(path, format=IsoFormat()) as log:
        few = matching_indices(log, q).tolist()  # parses only the candidates' headers
        log.levels()
        assert log.arrays_ready()
        assert matching_indices(log, q).tolist() == few == reference(path, IsoFormat(), q)


def test_plain_format_text_search(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("alpha\nBeta gamma\n\nalphabet soup\nend", encoding="utf-8")
    with LogFile.open(path, format="plain") as log:
        assert matching_indices(log, Query(text="ALPHA")).tolist() == [0, 3]
        assert matching_indices(log, Query(text="ALPHA", case_sensitive=True)).tolist() == []
        assert matching_indices(log, Query(text=r"^\w+$", regex=True)).tolist() == [0, 4]
        assert matching_indices(log, Query(exclude=("alpha",))).tolist() == [1, 2, 4]
        # a regex that could run over a record boundary counts only inside a record
        assert matching_indices(log, Query(text=r"gamma\s+alpha", regex=True)).tolist() == []


def test_context_flags(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("".join(f"line {i}{' hit' if i in (3, 5, 12) else ''}\n" for i in range(20)))
    with LogFile.open(path) as log:
        got = [(m.record.index, m.is_context) for m in search(log, Query(text="hit", context=2))]
    assert got == [(1, True), (2, True), (3, False), (4, True), (5, False), (6, True), (7, True),
                   (10, True), (11, True), (12, False), (13, True), (14, True)]


def test_count_by_level(tmp_path: Path) -> None:
    path = make_log(tmp_path / "a.log", 2)
    q = Query(text="timeout")
    with LogFile.open(path, format=IsoFormat()) as log:
        c = count(log, q)
    refs = reference_records(path, IsoFormat())
    want = [refs[i][1].level for i in reference(path, IsoFormat(), q)]
    assert c.total == len(want)
    assert c.by_level == {lv: want.count(lv) for lv in set(want)}


def test_histogram_and_timeline_with_backwards_times(tmp_path: Path) -> None:
    a = tmp_path / "a.log"
    b = tmp_path / "b.log"
    a.write_text("2024-03-01T10:00:10 INFO x[1]: a1\n2024-03-01T10:00:05 ERROR x[1]: a2 (backwards)\n"
                 "  trace of a2\n2024-03-01T10:02:00 WARN x[1]: a3\n")
    b.write_text("2024-03-01T10:00:07 INFO y[2]: b1\n2024-03-01T10:01:30 INFO y[2]: b2\n")
    with LogFile.open(a, format=IsoFormat()) as la, LogFile.open(b, format=IsoFormat()) as lb:
        order = [r.message.split()[0] for r in timeline([la, lb])]
        assert order == ["a2", "b1", "a1", "b2", "a3"]
        assert [r.file for r in timeline([la, lb])][:2] == [str(a), str(b)]
        h = histogram([la, lb], timedelta(minutes=1))
        assert h.starts[0] == datetime(2024, 3, 1, 10, 0).astimezone()
        assert h.total() == (3, 1, 1)
        assert h.counts[Level.ERROR] == (1, 0, 0)
        assert h.counts[Level.WARNING] == (0, 0, 1)
        hq = histogram([la, lb], timedelta(minutes=1), Query(min_level=Level.WARNING))
        assert hq.total() == (1, 0, 1)
        only_b = list(timeline([la, lb], Query(text=": b")))
        assert [r.message for r in only_b] == ["b1", "b2"]


def test_parse_time_and_bucket() -> None:
    now = datetime(2024, 5, 10, 15, 30, 0)
    assert parse_time("2024-01-02 10:00", now=now) == datetime(2024, 1, 2, 10, 0)
    assert parse_time("2024-01-02T10:00:00+02:00", now=now).utcoffset() == timedelta(hours=2)
    assert parse_time("10:00", now=now) == datetime(2024, 5, 10, 10, 0)
    assert parse_time("-1h", now=now) == datetime(2024, 5, 10, 14, 30)
    assert parse_time("2 days ago", now=now) == datetime(2024, 5, 8, 15, 30)
    assert parse_time("30m", now=now) == datetime(2024, 5, 10, 15, 0)
    assert parse_time("yesterday", now=now) == datetime(2024, 5, 9)
    assert parse_time("2024-01-02", now=now) == datetime(2024, 1, 2)
    with pytest.raises(LogFormatError, match="as a time"):
        parse_time("next tuesday", now=now)
    assert parse_bucket("30s") == timedelta(seconds=30)
    assert parse_bucket("1m") == timedelta(minutes=1)
    assert parse_bucket("1h") == timedelta(hours=1)
    assert parse_bucket("1d") == timedelta(days=1)
    with pytest.raises(LogFormatError, match="bucket"):
        parse_bucket("fast")


def test_bad_regex_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("a\n")
    with LogFile.open(path) as log, pytest.raises(LogFormatError, match="not a valid regular"):
        matching_indices(log, Query(text="(unclosed", regex=True))


def test_literal_positions_match_a_plain_scan() -> None:
    import re as _re

    import numpy as _np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from diagkit.logs.query import _literal_positions

    alphabet = st.sampled_from(list("aAbB@`[{ z\n0é"))

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.text(alphabet, max_size=200), st.text(alphabet.filter(lambda c: c != "\n"),
                                                    min_size=1, max_size=4), st.booleans())
    def check(hay: str, needle: str, fold: bool) -> None:
        data, pat = hay.encode(), needle.encode()
        if fold:
            pat = pat.lower()
        found = _literal_positions(_np.frombuffer(data, dtype=_np.uint8), pat, fold_case=fold)
        flags = _re.IGNORECASE if fold else 0
        # ASCII-only folding, overlapping hits, like the engine
        want = [m.start() for m in _re.finditer(b"(?=" + _re.escape(pat) + b")", data,
                                                flags | _re.ASCII)]
        assert sorted(found.tolist()) == want

    check()
