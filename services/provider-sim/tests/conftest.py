"""Fixtures for the simulator's own tests (see ``sim_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_server import RunningSim, running_sim


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with running_sim() as running:
        yield running
