"""``switchboard campaigns create/upload/start/pause/resume/cancel/progress`` and ``switchboard dnc
add/import/lists``: campaigns through the control-plane API, with the key in ``.stack/api-key.json``
(what ``make up`` writes) or ``SB_API_KEY``, at ``SB_API_URL`` (default ``http://127.0.0.1:8084``).

Exit codes: 0 done, 1 the API refused (its problem detail is printed), 2 the API is unreachable.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

campaigns_app = typer.Typer(help="Outbound campaigns: create, upload contacts, start, pause, resume, cancel, progress.")
dnc_app = typer.Typer(help="Do-not-call lists of the key's tenant.")
console = Console(highlight=False, soft_wrap=True)
API = typer.Option(None, "--api-url", help="the api service (default: SB_API_URL or http://127.0.0.1:8084)")
KEY = typer.Option(None, "--key-file", help="JSON with a 'key' (default: SB_API_KEY, else .stack/api-key.json)")
FINAL = ("completed", "cancelled")


def client(api_url: str | None, key_file: Path | None) -> httpx.Client:
    url = api_url or os.environ.get("SB_API_URL", "http://127.0.0.1:8084")
    key = os.environ.get("SB_API_KEY") if key_file is None else None
    if not key:
        path = key_file or Path(os.environ.get("SB_STACK_DIR", ".stack")) / "api-key.json"
        try:
            key = json.loads(path.read_text())["key"]
        except (OSError, ValueError, KeyError):
            console.print(f"[red]no API key: {path} is missing (run `make up`) and SB_API_KEY is not set[/]")
            raise typer.Exit(2) from None
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(60, read=600))


def answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title")
            field = f" (field {problem['field']})" if problem.get("field") else ""
        except ValueError:
            detail, field = response.text[:500], ""
        console.print(f"[red]{response.status_code}: {detail}{field}[/]")
        raise typer.Exit(1)
    return response.json()


def call(api_url: str | None, key_file: Path | None, method: str, url: str, **kw: Any) -> Any:
    try:
        with client(api_url, key_file) as http:
            return answer(http.request(method, url, **kw))
    except httpx.TransportError as exc:
        console.print(f"[red]the api is unreachable: {exc!r}[/]")
        raise typer.Exit(2) from None


def parse_retry(values: list[str]) -> dict[str, dict[str, int]]:
    """``busy=600:3`` → ``{"busy": {"delay_s": 600, "max_attempts": 3}}``."""
    out = {}
    for value in values:
        outcome, _, rule = value.partition("=")
        delay, _, attempts = rule.partition(":")
        if not (outcome and delay.isdigit() and attempts.isdigit()):
            console.print(f"[red]--retry {value!r}: use OUTCOME=DELAY_S:MAX_ATTEMPTS, e.g. busy=600:3[/]")
            raise typer.Exit(1)
        out[outcome] = {"delay_s": int(delay), "max_attempts": int(attempts)}
    return out


@campaigns_app.command("create")
def create(
    name: str = typer.Option(..., help="what the campaign is"),
    flow: str = typer.Option(..., help="the flow each answered call runs"),
    provider: str = typer.Option("africastalking"),
    account: str = typer.Option("default", help="the provider account"),
    caller_id: list[str] = typer.Option([], "--caller-id", help="a number calls come from (E.164); repeat"),
    cps: float | None = typer.Option(None, help="calls per second"),
    max_concurrent: int | None = typer.Option(None, help="calls out at once"),
    retry: list[str] = typer.Option(
        [], "--retry", help="OUTCOME=DELAY_S:MAX_ATTEMPTS (busy, no-answer, failed, machine)"
    ),
    window: str | None = typer.Option(None, help="every day's window in the callee's local time, e.g. 08:00-21:00"),
    holiday: list[str] = typer.Option([], "--holiday", help="a date with no calls, YYYY-MM-DD; repeat"),
    spec: Path | None = typer.Option(None, help="a JSON file with the whole campaign (the options above are ignored)"),
    api_url: str | None = API,
    key_file: Path | None = KEY,
) -> None:
    """Create a campaign (draft) and print its id."""
    if spec:
        body = json.loads(spec.read_text())
    else:
        body = {
            "name": name, "flow": flow, "provider": provider, "account": account, "caller_ids": caller_id,
            "policy": {"cps": cps, "max_concurrent": max_concurrent}, "retry": parse_retry(retry),
        }  # fmt: skip
        if window or holiday:
            start, _, end = (window or "00:00-24:00").partition("-")
            days = {d: [[start, end]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
            body["windows"] = {"days": days, "holidays": holiday}
    campaign = call(api_url, key_file, "POST", "/v1/campaigns", json=body)
    console.print(f"campaign [bold]{campaign['campaign_id']}[/] created ({campaign['status']})")
    print(campaign["campaign_id"])


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


@campaigns_app.command("upload")
def upload(
    campaign_id: str = typer.Argument(...),
    path: Path = typer.Argument(..., help="a CSV (phone column + session data columns) or a JSON list", exists=True),
    api_url: str | None = API,
    key_file: Path | None = KEY,
) -> None:
    """Upload contacts (streamed); print how many were kept and each refused line."""
    kind = "application/json" if path.suffix.lower() == ".json" else "text/csv"
    report = call(
        api_url, key_file, "POST", f"/v1/campaigns/{campaign_id}/contacts",
        content=_chunks(path), headers={"Content-Type": kind},
    )  # fmt: skip
    console.print(f"{report['accepted']} contacts added, {report['rejected']} refused")
    for error in report["errors"]:
        console.print(f"  line {error['line']}: {error['error']}")
    if report["errors_truncated"]:
        console.print(f"  … and {report['rejected'] - len(report['errors'])} more")


def _transition(action: str) -> None:
    def command(campaign_id: str = typer.Argument(...), api_url: str | None = API, key_file: Path | None = KEY) -> None:
        campaign = call(api_url, key_file, "POST", f"/v1/campaigns/{campaign_id}/{action}")
        console.print(f"campaign {campaign_id}: {campaign['status']}")
        for warning in campaign.get("warnings", []):
            console.print(f"[yellow]warning: {warning}[/]")

    command.__doc__ = f"{action.capitalize()} a campaign."
    campaigns_app.command(action)(command)


for _action in ("start", "pause", "resume", "cancel"):
    _transition(_action)


def progress_table(p: dict[str, Any]) -> Table:
    table = Table(title=f"campaign {p['campaign_id']}: {p['status']}")
    table.add_column("final status")
    table.add_column("contacts", justify="right")
    for status, n in sorted(p["by_final_status"].items()):
        table.add_row(status, str(n))
    table.add_row("[dim]waiting[/]", str(p["by_state"].get("pending", 0)))
    table.add_row("[dim]calling[/]", str(p["by_state"].get("dialing", 0)))
    return table


@campaigns_app.command("progress")
def progress(
    campaign_id: str = typer.Argument(...),
    once: bool = typer.Option(False, "--once", help="print the counts once (JSON) instead of following"),
    interval_s: float = typer.Option(1.0, help="seconds between reads"),
    api_url: str | None = API,
    key_file: Path | None = KEY,
) -> None:
    """Follow a campaign: a live progress bar with counts by status, until it completes or is cancelled."""
    url = f"/v1/campaigns/{campaign_id}/progress"
    if once:
        print(json.dumps(call(api_url, key_file, "GET", url), indent=2))
        return
    try:
        with client(api_url, key_file) as http, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[counts]}"), console=console,
        ) as bar:  # fmt: skip
            task = bar.add_task("contacts done", total=None, counts="")
            while True:
                p = answer(http.get(url))
                counts = " ".join(f"{k}={v}" for k, v in sorted(p["by_final_status"].items()))
                eta = f" eta {p['eta_s']:.0f}s" if p.get("eta_s") else ""
                bar.update(
                    task, total=p["contacts"], completed=p["by_state"].get("done", 0),
                    counts=f"{counts} calling={p['by_state'].get('dialing', 0)} ({p['status']}){eta}",
                )  # fmt: skip
                if p["status"] in FINAL:
                    break
                time.sleep(interval_s)
    except httpx.TransportError as exc:
        console.print(f"[red]the api is unreachable: {exc!r}[/]")
        raise typer.Exit(2) from None
    console.print(progress_table(p))
    console.print(
        f"attempts: {p['attempts']} ({', '.join(f'{k}={v}' for k, v in sorted(p['attempts_by_outcome'].items()))})"
    )


@dnc_app.command("add")
def dnc_add(
    numbers: list[str] = typer.Argument(..., help="E.164 numbers"),
    api_url: str | None = API,
    key_file: Path | None = KEY,
) -> None:
    """Add numbers to the tenant's own do-not-call list."""
    got = call(api_url, key_file, "POST", "/v1/dnc", json={"numbers": numbers})
    console.print(f"the tenant's list holds {got['entries']} numbers")


@dnc_app.command("import")
def dnc_import(
    name: str = typer.Argument(..., help="the list's name, e.g. national-registry"),
    path: Path = typer.Argument(..., exists=True, help="a CSV with a phone column"),
    as_of: str | None = typer.Option(None, help="the date the list was taken, YYYY-MM-DD (default: today)"),
    api_url: str | None = API,
    key_file: Path | None = KEY,
) -> None:
    """Replace an imported do-not-call list with a CSV file's numbers."""
    report = call(
        api_url, key_file, "PUT", f"/v1/dnc/lists/{name}", params={"as_of": as_of} if as_of else None,
        content=_chunks(path), headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    console.print(f"list {name}: {report['accepted']} numbers, {report['rejected']} lines refused")
    for error in report["errors"]:
        console.print(f"  line {error['line']}: {error['error']}")


@dnc_app.command("lists")
def dnc_lists(api_url: str | None = API, key_file: Path | None = KEY) -> None:
    """The tenant's lists with their age; a stale list (older than SB_DNC_MAX_AGE_DAYS) is flagged."""
    for item in call(api_url, key_file, "GET", "/v1/dnc/lists"):
        flag = " [yellow]STALE[/]" if item["stale"] else ""
        console.print(
            f"{item['name']}: {item['entries']} numbers, as of {item['as_of'][:10]} ({item['age_days']:.0f} days){flag}"
        )
