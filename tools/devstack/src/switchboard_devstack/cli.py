"""``sb-stack``: the local stack and the demo (``make up``, ``make down``, ``make demo``)."""

from __future__ import annotations

import typer
from rich.console import Console

from switchboard_devstack.stack import PortInUse, Stack, StackConfig

app = typer.Typer(add_completion=False, help="Switchboard's local stack.")
console = Console()


@app.command()
def up(speed: float = typer.Option(None, help="simulator time factor (default: SIM_SPEED or 1)")) -> None:
    """Start Tansu, Redis, PostgreSQL and the seven services; return when all are ready."""
    config = StackConfig()
    if speed:
        config.speed = speed
    stack = Stack(config)
    if any(stack.status().values()):
        console.print("[yellow]stack already (partly) running; run `make down` first[/]")
        raise typer.Exit(1)
    try:
        with console.status("starting the stack…"):
            stack.up()
    except PortInUse as exc:
        console.print(f"[red]sb-stack up: {exc}[/]", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print("[green]Switchboard is up.[/]")
    for name, url in stack.urls().items():
        console.print(f"  {name:16} {url}")
    console.print(f"  logs             {stack.logs}")
    console.print(
        f"  local tenant 'local', its API key in {stack.config.api_key_file}:\n"
        f'    curl -H "Authorization: Bearer $(jq -r .key {stack.config.api_key_file})" {stack.config.api_url}/voice/'
    )


@app.command()
def down() -> None:
    """Stop everything `up` started."""
    Stack(StackConfig()).down()
    console.print("stack stopped")


@app.command()
def status() -> None:
    """Which processes of the stack are running."""
    for name, alive in Stack(StackConfig()).status().items():
        console.print(f"  {name:16} {'[green]running[/]' if alive else '[red]stopped[/]'}")


@app.command()
def demo(
    provider: str = typer.Option("africastalking", help="provider to run the workload on"),
    outbound: int = typer.Option(100, help="outbound survey calls"),
    inbound: int = typer.Option(20, help="inbound IVR calls"),
    speed: float = typer.Option(25.0, help="simulator time factor"),
) -> None:
    """Bring the stack up, run the workload through the simulator, print the summary, stop."""
    from switchboard_devstack.demo import run_demo

    try:
        code = run_demo(provider=provider, outbound=outbound, inbound=inbound, speed=speed)
    except PortInUse as exc:
        console.print(f"[red]sb-stack demo: {exc}[/]", soft_wrap=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
