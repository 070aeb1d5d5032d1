"""``switchboard flows validate PATH...`` and ``switchboard flows schema``; tenants and API keys
(``switchboard tenants create``, ``switchboard keys create/list/revoke``: :mod:`switchboard_cli.tenants`);
campaigns and do-not-call lists through the API (:mod:`switchboard_cli.campaigns`).

A routes file (``routes.yaml``, or any file shaped like one) is checked as routes, not as a flow:
its shape, and that each routed flow exists in the same folder and can run on its provider.

Exit codes of ``validate``: 0 = every flow is valid with no warnings, 1 = valid but with warnings,
2 = at least one flow has errors (or a file could not be read).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.console import Console

from switchboard.flow.document import Flow, FlowInvalid, Problem, build_flow, parse_text
from switchboard.flow.routes import check_routes, looks_like_routes, parse_routes
from switchboard.flow.schema import language_schema
from switchboard.kafka import create_topics
from switchboard.providers import PROVIDERS
from switchboard_cli.campaigns import campaigns_app, dnc_app
from switchboard_cli.tenants import keys_app, tenants_app

app = typer.Typer(add_completion=False, help="Switchboard's command line.")
flows_app = typer.Typer(help="Check flows and publish the flow language's schema.")
app.add_typer(flows_app, name="flows")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(dnc_app, name="dnc")
topics_app = typer.Typer(help="Kafka topics.")
app.add_typer(topics_app, name="topics")
console = Console(highlight=False, soft_wrap=True)


def check_file(path: Path, provider: str | None) -> list[Problem]:
    """Every problem in one flow file (errors and warnings)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [Problem("", f"cannot read the file: {exc.strerror}")]
    try:
        doc = parse_text(text, filename=path.name)
        if looks_like_routes(doc, path.name):
            return check_routes_file(doc, path.parent)
        flow = build_flow(doc, name=path.stem, provider=provider)
    except FlowInvalid as exc:
        return exc.problems
    return list(flow.warnings)


def flows_in(folder: Path) -> dict[str, Flow]:
    """The flows the runner would load from ``folder``, by name, unchecked (each file's own
    problems are reported when that file is validated)."""
    flows: dict[str, Flow] = {}
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".json", ".yaml", ".yml") or path.stem == "routes":
            continue
        try:
            doc = parse_text(path.read_text(encoding="utf-8"), filename=path.name)
            if looks_like_routes(doc, path.name):
                continue
            flow = build_flow(doc, name=path.stem, check=False)
        except (OSError, FlowInvalid, ValueError):
            continue
        flows[flow.name] = flow
    return flows


def expand(path: Path) -> list[Path]:
    """A file as itself; a flows folder as its flow and routes files, then each tenant folder's
    (``tenants/<tenant id>/``, which the runner loads as that tenant's flows and routes)."""
    if not path.is_dir():
        return [path]
    kinds = (".json", ".yaml", ".yml")
    files = [*sorted(path.glob("*")), *sorted(path.glob("tenants/*/*"))]
    return [p for p in files if p.suffix in kinds and p.is_file()]


def check_routes_file(doc: object, folder: Path) -> list[Problem]:
    """Every problem in a routes file: its shape, then each route against the flows in ``folder``."""
    routes, problems = parse_routes(doc)
    return problems + check_routes(routes, flows_in(folder))


@flows_app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(
        ..., help="flow files (JSON or YAML), or a flows folder (its files and each tenants/<id>/ folder's)"
    ),
    provider: str = typer.Option(
        "africastalking",
        help=f"provider the flows run on ({', '.join(list(PROVIDERS))}, or 'none' to skip the capability check)",
    ),
) -> None:
    """Check flow files; print every problem with its JSON pointer."""
    bound = None if provider == "none" else provider
    if bound and bound not in list(PROVIDERS):
        console.print(f"[red]unknown provider {provider!r}[/]")
        raise typer.Exit(2)
    errors = warnings = 0
    paths = [f for p in paths for f in expand(p)]
    for path in paths:
        problems = check_file(path, bound)
        if not problems:
            console.print(f"{path}: [green]ok[/]")
        for problem in problems:
            colour = "red" if problem.severity == "error" else "yellow"
            console.print(f"{path}: [{colour}]{problem.severity}[/]: {problem.pointer or '/'}: {problem.message}")
        errors += sum(p.severity == "error" for p in problems)
        warnings += sum(p.severity == "warning" for p in problems)
    console.print(f"{len(paths)} file(s), {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(2 if errors else 1 if warnings else 0)


@flows_app.command("schema")
def schema(output: Path | None = typer.Option(None, help="write to this file instead of stdout")) -> None:
    """Print the JSON Schema of the flow language."""
    text = json.dumps(language_schema(), indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        print(text, end="")


if __name__ == "__main__":
    app()


@topics_app.command("create")
def topics_create(
    bootstrap: str = typer.Option("127.0.0.1:9092", envvar="SB_KAFKA_BOOTSTRAP", help="host:port[,host:port]"),
    partitions: int = typer.Option(8, envvar="SB_KAFKA_PARTITIONS", help="partitions per topic"),
    replication_factor: int = typer.Option(1, envvar="SB_KAFKA_REPLICATION_FACTOR", help="replicas per topic"),
) -> None:
    """Create every Switchboard topic and its dead-letter topic if missing (a deployment's one-shot
    job: deploy/compose.yaml's ``topics``, deploy/k8s's ``switchboard-topics`` Job)."""
    created = asyncio.run(create_topics(bootstrap, partitions=partitions, replication_factor=replication_factor))
    console.print(f"created {len(created)} topic(s): {', '.join(created) or 'none (all exist)'}")
