"""Helpers shared by the shared library's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from switchboard.flow.document import FlowInvalid, build_flow


@pytest.fixture
def expect_problem() -> Callable[[Any, str, str], None]:
    """``expect_problem(doc, pointer, fragment)``: building ``doc`` fails with a problem at
    ``pointer`` whose message contains ``fragment``."""

    def check(doc: Any, pointer: str, fragment: str) -> None:
        with pytest.raises(FlowInvalid) as info:
            build_flow(doc, name="t")
        assert any(p.pointer == pointer and fragment in p.message for p in info.value.problems), info.value.problems

    return check
