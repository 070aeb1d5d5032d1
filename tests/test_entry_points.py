"""Each service's command line: ``--help`` says what it is and which variables it reads, and
``--version`` its version, both without starting to serve (they used to start the service)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import uvicorn

SERVICES = [
    ("switchboard_ingress", "switchboard-ingress", "SB_CALLBACK_SECRET"),
    ("switchboard_flow_runner", "switchboard-flow-runner", "SB_FLOWS_DIR"),
    ("switchboard_dialer", "switchboard-dialer", "SB_DIAL_CPS"),
    ("switchboard_cdr_sink", "switchboard-cdr-sink", "SB_DATABASE_URL"),
    ("switchboard_provider_sim", "switchboard-provider-sim", "SIM_SPEED"),
]


@pytest.fixture(autouse=True)
def never_serve(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the entry point started serving")

    monkeypatch.setattr(uvicorn, "run", refuse)


@pytest.mark.parametrize(("module", "prog", "variable"), SERVICES)
def test_help_describes_the_service_and_its_variables(capsys, module, prog, variable):
    main = importlib.import_module(f"{module}.__main__").main
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert out.startswith(f"usage: {prog}") and "environment (default):" in out
    assert f"  {variable}=" in out  # listed with its default


@pytest.mark.parametrize(("module", "prog", "variable"), SERVICES)
def test_version(capsys, module, prog, variable):
    main = importlib.import_module(f"{module}.__main__").main
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} 0.1.0"


def test_unknown_argument_exits_2_in_one_line(capsys):
    main = importlib.import_module("switchboard_cdr_sink.__main__").main
    with pytest.raises(SystemExit) as exit_:
        main(["--port", "1"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("switchboard-cdr-sink: error:")


def test_the_real_process_answers_help_and_exits():
    """A real process, started as ``sb-stack`` starts it: answers and exits at once."""
    script = subprocess.run(
        [sys.executable, "-m", "switchboard_dialer", "--help"], capture_output=True, text=True, timeout=60
    )
    assert script.returncode == 0 and "SB_DIAL_CPS" in script.stdout
