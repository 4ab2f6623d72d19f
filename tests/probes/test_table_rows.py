"""Table rows read by column name, and still by position (the UI and reports walk them so)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from diagkit.probes import user
from diagkit.probes.base import Row, Table

TABLE = Table("top", "Top", ("pid", "user", "command"),
              ((42, "root", "sshd -D"), (7, "www", "nginx: worker")))


def test_cells_by_column_name_and_by_position() -> None:
    row = TABLE.rows[1]
    assert isinstance(row, Row)
    assert row["pid"] == row[0] == 7 and row["command"] == row[-1] == "nginx: worker"
    assert row[1:] == ("www", "nginx: worker") and type(row[1:]) is tuple
    pid, name, command = row
    assert (pid, name, command) == (7, "www", "nginx: worker")
    assert row == (7, "www", "nginx: worker") and hash(row) == hash((7, "www", "nginx: worker"))
    assert row.as_dict() == {"pid": 7, "user": "www", "command": "nginx: worker"}
    assert TABLE.column("pid") == (42, 7)


def test_unknown_column_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no column 'rss'.*pid, user, command"):
        TABLE.rows[0]["rss"]
    assert TABLE.rows[0].get("rss") is None and TABLE.rows[0].get("rss", 0) == 0
    assert Table("short", "Short", ("a", "b"), ((1,),)).rows[0].get("b", "-") == "-"


def test_json_copy_and_pickle_keep_rows() -> None:
    assert TABLE.to_dict()["rows"] == [[42, "root", "sshd -D"], [7, "www", "nginx: worker"]]
    assert json.loads(json.dumps(TABLE.rows)) == [[42, "root", "sshd -D"], [7, "www", "nginx: worker"]]
    for clone in (copy.deepcopy(TABLE), pickle.loads(pickle.dumps(TABLE))):
        assert clone == TABLE and clone.rows[0]["command"] == "sshd -D"


def test_user_probe_tables_are_addressable_too() -> None:
    data = user.parse_output("latency", json.dumps({"tables": [
        {"name": "dev", "columns": ["dev", "ms"], "rows": [["sda", 3.5], ["nvme0n1", 0.4]]}]}))
    (table,) = data.tables
    assert table.rows[1]["dev"] == "nvme0n1" and table.rows[1]["ms"] == 0.4
