"""tovholder serve | demo | check-script | user add | export | purge"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any

from server.settings import Settings, SettingsError, from_env


def _raise_file_limit() -> None:
    """Each phone holds a socket: allow as many as the hard limit does."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on this platform
        pass


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        # The sansio protocol keeps no task per connection and lets the hub write
        # pre-encoded frames straight to each socket (server/realtime/hub.py).
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,  # deflate costs ~120 KiB per phone
        "ws_max_size": settings.ws_max_message,
        "ws_ping_interval": settings.ws_ping_interval,
        "ws_ping_timeout": settings.ws_ping_timeout,
        # On SIGTERM uvicorn closes every websocket with 1012 (service restart),
        # which htmx's ws extension answers by reconnecting with backoff.
        "timeout_graceful_shutdown": 5,
        "backlog": 4096,
        "log_level": "info",
    }


def _freeze_imports() -> None:
    """Move everything imported so far out of the garbage collector's sight, so
    its full collections (which stop the event loop) scan only live data."""
    gc.collect()
    gc.freeze()


def worker_app() -> object:
    """The app factory each of `serve --workers N`'s processes calls."""
    from server.app import create_app

    app = create_app(from_env(), quiet_gc=True)
    _freeze_imports()
    return app


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, with SO_REUSEPORT: a new `tovholder serve` can start
    on the same port while the old one still runs, and the old one then be
    stopped (SIGTERM: its screens get 1012 and reconnect to the new one), so a
    restart has no gap in which phones find nobody listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _refuse_demo_password(settings: Settings) -> None:
    from server.demo import DEMO_PASSWORD, accounts_with_demo_password

    found = asyncio.run(accounts_with_demo_password(settings))
    if found:
        raise SettingsError(
            f"the account(s) {', '.join(found)} still have the demo password "
            f"({DEMO_PASSWORD!r}, printed in the README). Demo data belongs in `tovholder demo`; "
            "give each a password of its own first (the account page, or an administrator's reset)."
        )


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from server.app import create_app
    from server.store.migrate import upgrade

    upgrade(settings.db_url)
    if settings.mode != "demo":
        _refuse_demo_password(settings)
    _raise_file_limit()
    options = uvicorn_options(settings)
    sock = listen(host, port)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        # Each worker holds its own live sessions; TOVHOLDER_REALTIME (redis or
        # postgres) tells the others about its commits. Settings come from the
        # environment, which the workers inherit.
        config = uvicorn.Config(
            "server.cli:worker_app", factory=True, host=host, port=port, workers=workers, **options
        )
        Multiprocess(config, sockets=[sock]).run()
        return
    app = create_app(settings, quiet_gc=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    _freeze_imports()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = from_env().check_listening(args.host)
    if args.workers > 1 and settings.realtime_backend == "memory":
        print(
            "tovholder: --workers needs TOVHOLDER_REALTIME=redis or postgres, so each worker "
            "hears of the others' changes",
            file=sys.stderr,
        )
        return 2
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import DEMO_PASSWORD, DEMO_USER, seed
    from server.store.migrate import upgrade

    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"  # noqa: S104
    settings = (
        from_env(mode="demo", base_url=base)
        if "TOVHOLDER_BASE_URL" not in __import__("os").environ
        else from_env(mode="demo")
    )
    settings.check_listening(args.host)
    upgrade(settings.db_url)
    info = asyncio.run(seed(settings))
    print(
        "\n".join(
            [
                "",
                "Tovholder demo is starting.",
                f"  Facilitator:  {settings.base_url}/login   user: {DEMO_USER}   password: {DEMO_PASSWORD}",
                f"  Live session: {settings.base_url}/facilitator/sessions/{info.session_id}",
                f"  Projector:    {settings.base_url}{info.projector_path}",
                f"  Phones:       {settings.base_url}/j/{info.join_code}   (or the code {info.join_code} at {settings.base_url}/)",
                "",
            ]
        ),
        flush=True,
    )
    _serve(settings, args.host, args.port)
    return 0


def cmd_check_script(args: argparse.Namespace) -> int:
    from server.scripts.check import main

    return main([*(["--strict"] if args.strict else []), *args.files])


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.store.db import make_engine
    from server.store.migrate import upgrade
    from server.store.repo import Repo

    settings = from_env()
    password = args.password or getpass.getpass("Password: ")
    if len(password) < 10:
        print("The password must have at least 10 characters.", file=sys.stderr)
        return 1
    upgrade(settings.db_url)

    async def add() -> None:
        engine = make_engine(settings.db_url)
        try:
            repo = Repo(engine)
            if await repo.user_by_name(args.username):
                raise SystemExit(f"The user {args.username!r} exists already.")
            await repo.add_user(
                args.username,
                password,
                args.name or args.username,
                is_admin=args.admin,
                # The user's pages: as asked, else the installation's TOVHOLDER_LANGUAGE;
                # they change it themselves on /account.
                language=args.language or settings.language,
            )
        finally:
            await engine.dispose()

    asyncio.run(add())
    print(f"Added {args.username}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from server.privacy.commands import run_export
    from server.store.migrate import upgrade

    settings = from_env()
    upgrade(settings.db_url)
    return run_export(settings, args.engagement_id, args.output)


def cmd_purge(args: argparse.Namespace) -> int:
    from server.privacy.commands import run_purge
    from server.store.migrate import upgrade

    settings = from_env()
    upgrade(settings.db_url)
    return run_purge(settings, args.dry_run)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tovholder", description="Runs facilitated sessions live in the room."
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, fn, port in (("serve", cmd_serve, 8000), ("demo", cmd_demo, 8000)):
        sp = sub.add_parser(name)
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=port)
        if name == "serve":
            sp.add_argument(
                "--workers", type=int, default=1, help="processes (needs redis/postgres)"
            )
        sp.set_defaults(fn=fn)
    cs = sub.add_parser("check-script", help="validate and dry-run facilitation scripts")
    cs.add_argument("--strict", action="store_true", help="warnings fail the check too")
    cs.add_argument("files", nargs="+")
    cs.set_defaults(fn=cmd_check_script)
    user = sub.add_parser("user").add_subparsers(dest="user_command", required=True)
    ua = user.add_parser("add", help="add a facilitator/coordinator account")
    ua.add_argument("username")
    ua.add_argument("--name", default="")
    ua.add_argument("--password", default="", help="asked for when left out")
    ua.add_argument("--admin", action="store_true")
    ua.add_argument(
        "--language", choices=("da", "en"), default="", help="of their pages (default: the setting)"
    )
    ua.set_defaults(fn=cmd_user_add)
    ex = sub.add_parser(
        "export", help="an engagement as one zip archive (without an id: list the engagements)"
    )
    ex.add_argument("engagement_id", nargs="?")
    ex.add_argument("-o", "--output", help="the file to write (never overwritten)")
    ex.set_defaults(fn=cmd_export)
    pu = sub.add_parser(
        "purge", help="delete engagements with no activity for TOVHOLDER_RETENTION_DAYS"
    )
    pu.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    pu.set_defaults(fn=cmd_purge)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Alembic names each of its plugins at start; the migrations it runs still show.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except SettingsError as exc:
        print(f"tovholder: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
