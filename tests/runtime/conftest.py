"""Fixtures of the runtime tests: ffmpeg for video (fail under CI, skip otherwise)."""

from __future__ import annotations

import pytest
from spikeflow_runtime.errors import ToolMissingError
from spikeflow_runtime.sources import find_ffmpeg

from tests.conftest import IN_CI


@pytest.fixture
def ffmpeg() -> str:
    """The ffmpeg binary the video source uses; without one fail when CI=true, skip otherwise."""
    try:
        return find_ffmpeg("the video tests")
    except ToolMissingError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))
