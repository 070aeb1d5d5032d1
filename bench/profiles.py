"""Where a process spends its CPU: py-spy samples summarised by the package that owns the time.

``record(pids, seconds, out_dir)`` runs ``py-spy record --format raw`` (collapsed stacks, idle
threads left out) on each process at once; ``summarise(path)`` reads one such file and charges
each sample to the first frame, from the leaf up, that is not the standard library (so time in
``asyncio``/``selectors`` under aiokafka counts as aiokafka), named by package: ``starlette``,
``fastapi``, ``pydantic``, ``aiokafka``, ``redis``, ``uvicorn``, ``switchboard`` (our code, with
the service's own package under its name)... Shares are of the process's sampled (busy) time.

    uv run python bench/profiles.py bench/results/profiles/webhook-ingress.txt
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def owner(file: str) -> str:
    """The package a source file belongs to, from py-spy's short file name (``aiokafka/conn.py``):
    its top-level import name, ``stdlib`` or ``<native>``."""
    if not file:
        return "<native>"
    if file.startswith("<"):
        return "stdlib"
    top = file.split("/", 1)[0].removesuffix(".py")
    return "stdlib" if top in sys.stdlib_module_names else top


def summarise(path: Path, top: int = 12) -> dict[str, object]:
    """Shares (%) of the sampled time per owning package, and the hottest non-stdlib leaf
    functions, from one ``py-spy --format raw`` file."""
    by_owner: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [m for f in stack.split(";") if (m := FRAME.match(f))]
        total += count
        charged = "stdlib"
        for match in reversed(frames):
            name = owner(match["file"])
            if name != "stdlib":
                charged = name
                by_function[f"{name}:{match['func']}"] += count
                break
        by_owner[charged] += count
    share = {k: round(v * 100 / total, 1) for k, v in by_owner.most_common()} if total else {}
    functions = {k: round(v * 100 / total, 1) for k, v in by_function.most_common(top)} if total else {}
    return {"samples": total, "by_package_percent": share, "top_functions_percent": functions}


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: uv sync (it is a dev dependency)")
    return found


def start(pids: dict[str, int], seconds: float, out_dir: Path, rate: int = 250) -> list[subprocess.Popen[bytes]]:
    """Start one ``py-spy record`` per process for ``seconds``; wait on the returned processes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--duration",
                str(int(seconds)),
                "--format",
                "raw",
                "--output",
                str(out_dir / f"{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


if __name__ == "__main__":
    import json

    for arg in sys.argv[1:]:
        print(arg, json.dumps(summarise(Path(arg)), indent=2))
