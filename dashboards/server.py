"""Serve the dashboards with waitress, a production WSGI server (threads, no debug mode)."""

from dashboards.app import create_app


def serve(host: str = "127.0.0.1", port: int = 8050, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    app = create_app()
    print(f"Dashboards: http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="rcm-warehouse")
