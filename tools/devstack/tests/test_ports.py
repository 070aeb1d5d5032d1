"""``sb-stack up`` with a port already taken fails at once, naming the port and its variable,
in one line and before it starts anything (it used to wait 90 s and print a traceback)."""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from switchboard_devstack.cli import app
from switchboard_devstack.stack import PORT_VARIABLES, free_port


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("variable", ["SB_STACK_KAFKA_PORT", "SB_STACK_INGRESS_PORT"])
def test_up_fails_fast_naming_the_port_and_its_variable(tmp_path, taken_port, variable):
    env = {name: str(free_port()) for name in PORT_VARIABLES.values()}
    env[variable] = str(taken_port)
    env["SB_STACK_ROOT"] = str(tmp_path / "stack")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["up"], env=env)
    assert result.exit_code == 1, result.output
    assert time.monotonic() - started < 5
    lines = result.output.strip().splitlines()
    assert lines == [
        f"sb-stack up: port {taken_port} on 127.0.0.1 is already in use "
        f"(set {variable} to another port, or stop what holds it)"
    ]
    assert not (tmp_path / "stack" / "run").exists()  # nothing was started


def test_free_ports_pass_the_check(tmp_path):
    from switchboard_devstack.stack import StackConfig

    StackConfig.ephemeral(tmp_path).check_ports()  # raises PortInUse otherwise


def test_a_child_that_exited_is_not_alive(tmp_path):
    """A service that dies at start (say, its port was taken after the check) is seen at once:
    an exited child is a zombie until reaped, and ``kill 0`` still answers for a zombie."""
    import sys

    from switchboard_devstack.stack import Stack, StackConfig

    stack = Stack(StackConfig.ephemeral(tmp_path))
    stack._spawn("quitter", [sys.executable, "-c", "raise SystemExit(1)"])
    deadline = time.monotonic() + 10
    while stack._alive("quitter") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stack._alive("quitter")
