"""The bulk miner's numpy look-up (diagkit.logs.linekeys, signatures._ChunkKeys): the same
cluster for every record as the per-line step it replaces, on real Loghub logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diagkit.logs import linekeys, signatures
from diagkit.logs.logfile import open_logs

LOGHUB = Path("/work/shared/loghub-dev")


def test_zero_digits_turns_exactly_the_ascii_digits_into_zero() -> None:
    every = bytes(range(256)) * 2  # each byte at every place of a word
    data = every + bytes(-len(every) % 8)
    out = np.zeros(len(data) // 8, dtype=np.uint64)
    tmp = np.zeros_like(out)
    got = linekeys.zero_digits(np.frombuffer(data, dtype=np.uint64), out, tmp)
    assert got.tobytes() == data.translate(signatures._ZEROS)


def _keys(lines: list[bytes], lead: int = 0, grid: bool = True) -> np.ndarray:
    """Keys of ``lines`` laid out after ``lead`` bytes; with ``grid`` each starts on a
    multiple of 8 (newlines fill the gaps), else each right after the one before."""
    data, starts = b" " * lead, []
    for line in lines:
        if grid:
            data += b"\n" * (-len(data) % 8)
        starts.append(len(data))
        data += line + b"\n"
    s = np.array(starts, dtype=np.int64)
    e = s + np.array([len(x) for x in lines], dtype=np.int64)
    hasher = linekeys.LineHasher()
    return hasher.keys(hasher.load(data), s, e)


def test_keys_ignore_digits_only() -> None:
    base = b"2024-03-01T00:00:00Z web1 sshd[2211]: Failed password from 10.0.0.1 port 4242"
    keys = _keys([
        base,
        base.replace(b"2211", b"9876").replace(b"4242", b"1234"),  # digits only: same key
        base.replace(b"web1", b"webA"),  # a letter: another key
        base.replace(b"2211", b"22110"),  # one digit more: another length
        b"", b"",  # empty lines (at two alignments)
        base[:-1],
    ])
    assert keys[0] == keys[1]
    assert len({int(k) for k in keys[[0, 2, 3, 4, 6]]}) == 5


def test_keys_are_the_same_on_the_same_place_of_the_8_byte_grid() -> None:
    line = b"Mar  1 10:00:00 host kernel: eth0: Link is Up - 1Gbps/Full"
    keys = _keys([line, b"x", line], lead=5, grid=False)
    moved = _keys([line], lead=5 + 8 * 123, grid=False)[0]
    assert moved == keys[0]  # another word index, the same place in the word
    # another place in the word: another key (met once more in Python, the same cluster)
    assert keys[2] != keys[0] if (len(line) + 3) % 8 else keys[2] == keys[0]


def _told_apart(path: Path) -> dict[str, int]:
    """Lines whose digits-as-"0" keys are equal but whose clusters are not (the class of an
    HTTP status behind its digits), at every place of the 8-byte grid; the records per class."""
    lines, classes = [], {"2xx": 0, "4xx": 0, "5xx": 0}
    for i in range(600):
        t = f"Mar  1 10:{i // 60:02d}:{i % 60:02d}"
        if i % 2:
            lines.append(f"{t} web{i % 4} kernel: usb {i % 9}-1: new device using ehci{i % 3}")
        else:
            status = (200, 404, 503, 201)[i // 4 % 4]
            classes[f"{status // 100}xx"] += 1
            lines.append(f"{t} web{i % 4} nginx[{i}]: GET /api/v1/items/{i} HTTP/1.1 {status}")
    path.write_text("\n".join(lines) + "\n")
    return classes


@pytest.mark.parametrize("name", ["Linux", "Apache", "OpenStack", "HDFS", "Proxifier",
                                  "HealthApp", "Android", "BGL", "told-apart"])
def test_bulk_lookup_gives_every_record_the_per_line_cluster(name: str, monkeypatch,
                                                             tmp_path: Path) -> None:
    classes = {}
    if name == "told-apart":
        path = tmp_path / "syslog"
        classes = _told_apart(path)
    else:
        path = next((LOGHUB / name).glob("*_2k.log"))

    def mined() -> tuple[list[str], np.ndarray]:
        [log] = open_logs([path])
        try:
            miner = signatures.SignatureMiner()
            # small chunks: many chunks, lines at every place of the 8-byte grid
            [ids], [bulk] = signatures._mine_into(miner, [log], None, None, chunk=97)
        finally:
            log.close()
        assert bulk, f"{name}: not mined in bulk"
        return [miner._clusters[int(i)].live().template() for i in ids], ids

    fast, fast_ids = mined()

    def per_line(self, data, s, end, single):  # the step the numpy look-up replaces
        raw = np.frombuffer(data, dtype=np.uint8)
        out = []
        for i, a in enumerate(s.tolist()):
            b = int(s[i + 1]) if i + 1 < len(s) else end
            nl = int(np.flatnonzero(raw[a:b] == 10)[0]) + a if (raw[a:b] == 10).any() else b
            out.append(self.cluster(data[a:nl])[0].id)
        return np.array(out, dtype=np.int32)

    monkeypatch.setattr(signatures._ChunkKeys, "chunk", per_line)
    slow, slow_ids = mined()
    assert (fast_ids >= 0).all()
    # the clusters as first assigned (before merges): the look-up, not the miner, is tested
    assert fast_ids.tolist() == slow_ids.tolist()
    assert fast == slow
    for cls, count in classes.items():
        assert sum(1 for t in fast if t.endswith(cls)) == count, cls
