from __future__ import annotations

import pytest

from diagkit.cases.triage import (
    MATRIX,
    CaseSeverity,
    Impact,
    Triage,
    Urgency,
    severity_for,
    triage,
)

S1, S2, S3, S4 = CaseSeverity.S1, CaseSeverity.S2, CaseSeverity.S3, CaseSeverity.S4


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("extensive", "critical", S1),
        ("extensive", "low", S2),
        ("significant", "critical", S1),
        ("significant", "high", S2),
        ("significant", "low", S3),
        ("moderate", "medium", S3),
        ("moderate", "low", S4),
        ("minor", "critical", S2),
        ("minor", "high", S3),
        ("minor", "low", S4),
    ],
)
def test_matrix_cells(impact: str, urgency: str, expected: CaseSeverity) -> None:
    assert severity_for(impact, urgency) is expected


def test_matrix_is_complete_and_monotonic() -> None:
    impacts = list(Impact)  # most to least severe
    urgencies = list(Urgency)
    assert set(MATRIX) == set(impacts)
    for imp in impacts:
        assert set(MATRIX[imp]) == set(urgencies)
    for i, imp in enumerate(impacts):
        for j, urg in enumerate(urgencies):
            rank = MATRIX[imp][urg].rank
            if i + 1 < len(impacts):
                assert MATRIX[impacts[i + 1]][urg].rank >= rank
            if j + 1 < len(urgencies):
                assert MATRIX[imp][urgencies[j + 1]].rank >= rank


def test_module_docstring_table_matches_matrix() -> None:
    import diagkit.cases.triage as mod

    for imp in Impact:
        row = next(line.split() for line in mod.__doc__.splitlines()
                   if line.strip().startswith(imp.value + " "))
        assert row[1:] == [MATRIX[imp][u].value for u in Urgency]


def test_input_forgiving_case_and_space() -> None:
    assert severity_for("  Extensive ", "CRITICAL") is S1
    assert severity_for(Impact.MINOR, Urgency.LOW) is S4


def test_unknown_rounds_up_and_says_so() -> None:
    assert triage(None, None) == Triage(Impact.EXTENSIVE, Urgency.CRITICAL, S1, ("impact", "urgency"))
    t = triage("minor", "whenever")
    assert t.urgency is Urgency.CRITICAL and t.severity is S2 and t.assumed == ("urgency",)
    t = triage("", "low")
    assert t.impact is Impact.EXTENSIVE and t.severity is S2 and t.assumed == ("impact",)
    assert triage("minor", "low").assumed == ()


def test_severity_rank_orders_worst_first() -> None:
    assert sorted([S3, S1, S4, S2], key=lambda s: s.rank) == [S1, S2, S3, S4]
