"""`passerelle`: run the platform or one service, provision NATS, migrate, inspect the DLQ, sign tokens."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import socket
import sys
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path

import uvloop
from pydantic import ValidationError

from passerelle.contracts.catalogue import render_catalogue
from passerelle.contracts.schema_export import write_schemas
from passerelle.embedded.credentials import with_local_nats_admin
from passerelle.errors import BadConfiguration, Unreachable
from passerelle.identity import ROLES
from passerelle.messaging.authorization import (
    load_external_consumers,
    render_helm_values,
    render_server_config,
)
from passerelle.messaging.connection import connect_tool
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.logging import configure_logging
from passerelle.runtime.platform import (
    TAXONOMY_FILE_NAME,
    jwt_secret_for,
    prepare_database,
    provision_nats,
    service_database_url,
)
from passerelle.runtime.service import ServiceDefinition, consumed_events, load_services
from passerelle.settings import PlatformSettings
from passerelle.taxonomy.esco import import_esco

# Flags fall back to their PASSERELLE_* variables, as the services' settings do.
DATA_DIR = Path(os.environ.get("PASSERELLE_DATA_DIR") or ".passerelle")
DATA_DIR_HELP = "default: PASSERELLE_DATA_DIR, else .passerelle"

# Exit codes an operator's script can tell apart (argparse's own is 2: a wrong command line).
EXIT_UNEXPECTED = 1
EXIT_NATS = 3
EXIT_DATABASE = 4
EXIT_CONFIGURATION = 5

LOCAL_ADMIN_HELP = (
    "without NATS credentials in the environment, use the admin of the `up` of this dir (DIR/nats-admin.url)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="passerelle", description=__doc__)
    parser.add_argument("--version", action="version", version=f"passerelle {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="the whole platform on this machine")
    up.add_argument("--data-dir", type=Path, default=DATA_DIR, help=DATA_DIR_HELP)
    up.add_argument("--nats-url", help="use this NATS instead of an embedded nats-server")
    up.add_argument("--database-url", help="use this PostgreSQL server instead of an embedded one")
    up.add_argument("--host", default=os.environ.get("PASSERELLE_HOST") or "127.0.0.1")
    up.add_argument("--port", type=int, default=int(os.environ.get("PASSERELLE_PORT") or 8080))

    serve = commands.add_parser("serve", help="one service, configured by environment")
    serve.add_argument("service", choices=_installed_names(), help="an installed service")

    demo = commands.add_parser("demo", help="a scripted scenario on a fresh embedded platform")
    demo.add_argument("--data-dir", type=Path, help="keep the demo's data here (default: a temporary dir)")

    token = commands.add_parser("token", help="a signed development token")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", action="append", choices=sorted(ROLES), required=True)
    token.add_argument("--data-dir", type=Path, default=DATA_DIR)

    nats_cmd = commands.add_parser("nats", help="NATS topology").add_subparsers(dest="action", required=True)
    provision = nats_cmd.add_parser("provision", help="create or update streams and durable consumers")
    provision.add_argument("--replicas", type=int, default=1)
    provision.add_argument("--data-dir", type=Path, default=DATA_DIR, help=LOCAL_ADMIN_HELP)
    auth_config = nats_cmd.add_parser(
        "auth-config", help="each service's NATS user and permissions, from the topology in code"
    )
    auth_config.add_argument(
        "--format",
        choices=["conf", "helm"],
        default="conf",
        help="nats-server config, or NATS Helm chart values",
    )
    auth_config.add_argument(
        "--consumers",
        type=Path,
        help="other teams' consumers, a TOML file of [[consumer]] name, events "
        "(default: PASSERELLE_NATS_CONSUMERS_FILE)",
    )

    db = commands.add_parser("db", help="databases").add_subparsers(dest="action", required=True)
    db_upgrade = db.add_parser("upgrade", help="run every service's migrations")
    db_upgrade.add_argument("services", nargs="*", help="default: every installed service")
    db_upgrade.add_argument(
        "--database-url", help="a server URL: each service gets its database passerelle_<service> there"
    )

    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(dest="action", required=True)
    dlq_list = dlq.add_parser("list", help="show the messages in the DLQ")
    dlq_list.add_argument("--limit", type=int, default=100)
    dlq_list.add_argument("--json", action="store_true", help="one JSON object per letter, a line each")
    dlq_replay = dlq.add_parser("replay", help="publish one dead letter again on its original subject")
    dlq_replay.add_argument("sequence", type=int)
    for dlq_command in (dlq_list, dlq_replay):
        dlq_command.add_argument("--data-dir", type=Path, default=DATA_DIR, help=LOCAL_ADMIN_HELP)

    taxonomy = commands.add_parser("taxonomy", help="the skill taxonomy").add_subparsers(
        dest="action", required=True
    )
    esco = taxonomy.add_parser("import-esco", help="import the official ESCO CSV export (skills, hierarchy)")
    esco.add_argument("source", type=Path, help="the unzipped ESCO CSV folder")
    where = esco.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, default=DATA_DIR, help="write DIR/taxonomy.json")
    where.add_argument("--out", type=Path, help="write this file (then set PASSERELLE_TAXONOMY_FILE to it)")

    asyncapi = commands.add_parser("asyncapi", help="write each service's AsyncAPI 3 document as a file")
    asyncapi.add_argument("--out", type=Path, default=Path("asyncapi"), help="the folder (default: asyncapi)")

    contracts = commands.add_parser("contracts", help="the public contract").add_subparsers(
        dest="action", required=True
    )
    contracts.add_parser("schemas", help="write the events' JSON Schemas into the package")
    catalogue = contracts.add_parser("catalogue", help="the event catalogue in Markdown (docs/events.md)")
    catalogue.add_argument("--out", type=Path, help="write it to this file instead of stdout")
    return parser


def _installed_names() -> list[str]:
    """The services installed (their entry points), without importing them."""
    return sorted(entry.name for entry in entry_points(group="passerelle.services"))


def _version() -> str:
    try:
        return version("passerelle-shared")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = PlatformSettings()
        # The demo tells its story on stdout; only warnings from the machinery interrupt it.
        quiet = args.command == "demo" and "PASSERELLE_LOG_LEVEL" not in os.environ
        configure_logging("WARNING" if quiet else settings.log_level, settings.log_json)
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(_run(args, settings))  # libuv's loop: a tenth less CPU than asyncio's own
    except Exception as error:
        if args.debug:
            raise
        code, line = _failure(error)
        sys.exit(print(f"passerelle {args.command}: {line}", file=sys.stderr) or code)


def _failure(error: Exception) -> tuple[int, str]:
    """One line and an exit code for what went wrong; the traceback only with --debug."""
    if isinstance(error, Unreachable):
        return (EXIT_NATS if error.what == "NATS" else EXIT_DATABASE), str(error)
    if isinstance(error, ValidationError):
        fields = "; ".join(
            f"PASSERELLE_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        return EXIT_CONFIGURATION, f"bad configuration: {fields}"
    if isinstance(error, BadConfiguration):
        return EXIT_CONFIGURATION, f"bad configuration: {error}"
    if _database_unreachable(error):
        return EXIT_DATABASE, f"cannot reach the database: {error}"
    return EXIT_UNEXPECTED, f"unexpected {type(error).__name__}: {error} (--debug shows the traceback)"


def _database_unreachable(error: BaseException) -> bool:
    """Refused, timed out or not allowed in, at connection: PostgreSQL's class 08 and 28 errors."""
    while error is not None:
        if isinstance(error, (ConnectionRefusedError, socket.gaierror)):
            return True
        code = str(getattr(error, "sqlstate", "") or "")
        if code.startswith(("08", "28")):
            return True
        error = error.__cause__ or getattr(error, "orig", None)  # type: ignore[assignment]
    return False


async def _run(args: argparse.Namespace, settings: PlatformSettings) -> None:
    from passerelle.runtime import platform

    match args.command:
        case "up":
            settings = settings.model_copy(
                update={"data_dir": args.data_dir, "host": args.host, "port": args.port}
            )
            await platform.up(settings, nats_url=args.nats_url, database_url=args.database_url)
        case "serve":
            await platform.serve_one(settings, _installed(args.service))
        case "demo":
            from passerelle.demo import run_demo

            await run_demo(args.data_dir)
        case "token":
            if settings.jwt_secret is None:
                settings = settings.model_copy(update={"jwt_secret": jwt_secret_for(args.data_dir)})
            print(Authenticator(settings).issue(args.sub, args.role))
        case "nats":
            if args.action == "provision":
                settings = with_local_nats_admin(settings, args.data_dir)
            await _nats(settings, args)
        case "db":
            await _upgrade_databases(settings, args.services, args.database_url)
        case "dlq":
            await _dlq(with_local_nats_admin(settings, args.data_dir), args)
        case "taxonomy":
            _import_esco(args)
        case "contracts" | "asyncapi":
            _documents(settings, args)


def _documents(settings: PlatformSettings, args: argparse.Namespace) -> None:
    """What other teams read: the AsyncAPI documents, the JSON Schemas, the event catalogue."""
    if args.command == "asyncapi":
        from passerelle.runtime.asyncapi import write_documents

        services = [definition.build(settings, settings.database_url) for definition in load_services()]
        for path in write_documents(services, args.out):
            print(path)
    elif args.action == "schemas":
        for path in write_schemas():
            print(path)
    elif args.out:
        args.out.write_text(render_catalogue(), encoding="utf-8")
    else:
        print(render_catalogue(), end="")


def _installed(name: str) -> ServiceDefinition:
    """The installed service of that name (found by entry point), or a clear exit."""
    try:
        return load_services([name])[0]
    except LookupError as error:
        sys.exit(f"serve: {error}")


async def _nats(settings: PlatformSettings, args: argparse.Namespace) -> None:
    if args.action == "auth-config":
        consumed = consumed_events()
        consumers_file = args.consumers or settings.nats_consumers_file
        try:
            external = load_external_consumers(consumers_file, consumed) if consumers_file else []
        except ValueError as error:
            raise BadConfiguration(f"the consumers file: {error}") from error
        render = render_server_config if args.format == "conf" else render_helm_values
        print(render(consumed, external), end="")
        return
    for line in await provision_nats(settings, replicas=args.replicas):
        print(line)


def _import_esco(args: argparse.Namespace) -> None:
    destination = args.out or args.data_dir / TAXONOMY_FILE_NAME
    try:
        print(import_esco(args.source, destination))
    except (OSError, ValueError) as error:
        sys.exit(f"import-esco: {error}")


async def _upgrade_databases(settings: PlatformSettings, names: list[str], server_url: str | None) -> None:
    definitions = load_services(names or None)
    for definition in definitions:
        if server_url:
            url = service_database_url(server_url, definition.name)
        else:
            # PASSERELLE_<SERVICE>_DATABASE_URL, or PASSERELLE_DATABASE_URL when migrating one service.
            url = os.environ.get(f"PASSERELLE_{definition.name.upper()}_DATABASE_URL") or (
                settings.database_url if len(definitions) == 1 else ""
            )
            if not url:
                sys.exit(f"set PASSERELLE_{definition.name.upper()}_DATABASE_URL or pass --database-url")
        await prepare_database(definition, url)
        print(f"{definition.name}: migrated")


async def _dlq(settings: PlatformSettings, args: argparse.Namespace) -> None:
    connection = await connect_tool(settings)
    try:
        letters = DeadLetters(connection.jetstream())
        if args.action == "list" and args.json:
            for letter in await letters.list(args.limit):
                line = {**dataclasses.asdict(letter), "payload": letter.payload.decode("utf-8", "replace")}
                print(json.dumps(line, ensure_ascii=False))
        elif args.action == "list":
            shown = await letters.list(args.limit)
            for letter in shown:
                print(
                    f"#{letter.sequence} {letter.failed_at} {letter.consumer} <- {letter.original_subject} "
                    f"after {letter.deliveries} deliveries: {letter.error}"
                )
            print(f"{len(shown)} dead letter(s)")
        else:
            subject = await letters.replay(args.sequence)
            print(f"replayed #{args.sequence} on {subject}")
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
