"""The weekly availability grid: every entered hour is visible, also at night."""

from dashboards.components.availability_grid import frame


def test_grid__shows_a_window_over_midnight_on_both_days():
    windows = [
        {"weekday": 0, "start": "23:00", "end": "24:00"},  # Mo 23:00-01:00, as core stores it
        {"weekday": 1, "start": "00:00", "end": "01:00"},
        {"weekday": 2, "start": "09:00", "end": "11:00"},
    ]
    grid = frame(windows)
    assert (grid.loc["23:00", "Mo"], grid.loc["00:00", "Di"], grid.loc["10:00", "Mi"]) == ("●", "●", "●")
    assert (grid.loc["23:00", "Di"], grid.loc["00:00", "Mo"]) == ("", "")


def test_grid__daytime_windows_keep_the_usual_hours():
    grid = frame([{"weekday": 4, "start": "08:00", "end": "12:00"}])
    assert (grid.index[0], grid.index[-1]) == ("07:00", "21:00")
    assert grid.loc["08:00", "Fr"] == "●"
