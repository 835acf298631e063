"""CSV downloads: quoted by the csv module, and nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

from webapp.services.tabular import to_csv


def test_cells_that_would_run_as_formulas_get_an_apostrophe() -> None:
    text = to_csv(["name"], [["=HYPERLINK(1)"], ["+1+1"], ["@SUM(A1)"], ["-cmd"]])
    assert text.splitlines()[1:] == ["'=HYPERLINK(1)", "'+1+1", "'@SUM(A1)", "'-cmd"]


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(["a", "b", "c"], [["-3", 4, "Ana, Silva"]]))))
    assert rows == [["a", "b", "c"], ["-3", "4", "Ana, Silva"]]


def test_header_cells_and_tab_or_return_starts_are_guarded_too() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(["=cmd|' /C calc'!A0", "ok"], [["\tx", "\ry"]]))))
    assert rows == [["'=cmd|' /C calc'!A0", "ok"], ["'\tx", "'\ry"]]
