"""``python -m examples.webapp``: serve the reference web host with uvicorn."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import uvicorn
from examples.webapp.app import create_app
from examples.webapp.host import build_host, parse_actor

from runactionability import ConfigurationError


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.webapp", description=__doc__)
    parser.add_argument("--config", help="a runactionability.toml (docs/configuration.md)")
    parser.add_argument("--database", help="a SQLite path or a URL (default: the demo's file)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--as-of", type=_instant, help="evaluate at this instant (default: the demo's, else now)"
    )
    parser.add_argument(
        "--actor",
        action="append",
        default=[],
        help="KEY=WORKSPACE[,WORKSPACE] (or KEY=*): one more actor for the login stub",
    )
    args = parser.parse_args(argv)
    try:
        actors = [parse_actor(text) for text in args.actor]
        host = build_host(
            database=args.database, config_path=args.config, as_of=args.as_of, actors=actors
        )
    except (ValueError, ConfigurationError) as exc:
        sys.exit(f"webapp: {exc}")
    uvicorn.run(create_app(host), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
