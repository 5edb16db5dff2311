"""The rule of the emergency lane: Severe and Extreme alerts, nothing else."""
from __future__ import annotations

import pytest

from notifier.lanes import is_emergency


@pytest.mark.parametrize("severity", ["Extreme", "Severe"])
def test_severe_and_extreme_alerts_take_the_emergency_lane(severity):
    assert is_emergency(severity)


@pytest.mark.parametrize("severity", ["Moderate", "Minor", "Unknown", None, "severe"])
def test_every_other_severity_takes_the_routine_lane(severity):
    assert not is_emergency(severity)
