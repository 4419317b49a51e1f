"""Serve the dashboards with waitress, a production WSGI server (threads, no debug mode)."""

import errno
import os
from pathlib import Path

from dashboards.app import create_app
from dashboards.auth.oidc import OIDCConfigError, OIDCSettings
from dashboards.auth.users import UsersError, load_users, users_file

CONNECTION_LIMIT = 500
"""Open connections waitress keeps (its default is 100, counting its own two sockets). A
browser keeps up to six connections open to the server, idle ones for minutes, so 25 people
are 150: past the limit, a new connection waits until waitress closes idle ones (after
120 s) and the page hangs that long (benchmarks/bench_load.py). 500 is 80 browsers; each
connection costs a file descriptor, and waitress's select() allows fewer than 1024."""


def serve(host: str = "127.0.0.1", port: int = 8050, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    data_dir = Path(os.environ.get("RCM_DATA_DIR", "data"))
    try:
        users = load_users(data_dir)
        oidc = OIDCSettings.from_env()
    except (UsersError, OIDCConfigError) as error:
        raise SystemExit(f"Cannot serve the dashboards: {error}") from None
    if not users and oidc is None:
        raise SystemExit(
            f"Cannot serve the dashboards: no users in {users_file(data_dir)} and no single "
            "sign-on (RCM_OIDC_ISSUER). Add one with `rcm users add NAME --role owner` "
            "(or run `rcm demo`)."
        )
    app = create_app()
    who = f"{len(users)} password users" + (f", single sign-on via {oidc.issuer}" if oidc else "")
    print(f"Dashboards: http://{host}:{port}/  ({who}; Ctrl+C to stop)", flush=True)
    try:
        waitress_serve(
            app.server,
            host=host,
            port=port,
            threads=threads,
            connection_limit=CONNECTION_LIMIT,
            ident="rcm-warehouse",
        )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise SystemExit(
            f"Cannot serve the dashboards: {host}:{port} is already in use (another rcm serve?). "
            "Stop it, or choose another port with --port."
        ) from None
