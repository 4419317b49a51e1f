"""The shell of the dashboards: top bar with the pages, the global filter bar and the page
container. Pages live in ``dashboards/pages``; the URL's query string holds the filters, so
every view can be bookmarked and shared.

The URL is Dash Pages' own location component (``_pages_location``): the filter bar writes
the filters into its query string, and Dash Pages renders the page again with them.
"""

import importlib
from pathlib import Path

import dash
import flask
from dash import Dash, Input, Output, callback, ctx, dcc, html, no_update

from dashboards import data
from dashboards.auth.access import current_viewer
from dashboards.auth.web import Auth, AuthSettings
from dashboards.filters import GLOBAL_KEYS, build_search, global_search, parse_search

URL = "_pages_location"
PAGE_MODULES = ["overview", "denials", "claim", "ar", "collections", "visit_mix", "scheduling"]
FILTERS = [  # (query key, component id, label, placeholder)
    ("from", "shell-filter-from", "From", "12 months before 'To'"),
    ("to", "shell-filter-to", "To", "Last full month"),
    ("location", "shell-filter-location", "Location", "All locations"),
    ("provider", "shell-filter-provider", "Provider", "All providers"),
    ("payer_class", "shell-filter-payer-class", "Payer class", "All payer classes"),
    ("payer", "shell-filter-payer", "Payer", "All payers"),
]
assert [key for key, *_ in FILTERS] == list(GLOBAL_KEYS)
OPTION_GROUPS = ["months", "months", "locations", "providers", "payer_classes", "payers"]
NAV = [
    ("/", "Overview"),
    ("/denials", "Denials"),
    ("/ar", "A/R"),
    ("/collections", "Collections"),
    ("/visit-mix", "Visit mix"),
    ("/scheduling", "Scheduling"),
]


def _filter_bar() -> html.Div:
    controls = [
        html.Div(
            [
                html.Label(label, htmlFor=component_id),
                dcc.Dropdown(id=component_id, placeholder=placeholder, clearable=True),
            ],
            className="filter",
        )
        for _key, component_id, label, placeholder in FILTERS
    ]
    return html.Div(
        [*controls, dcc.Link("Reset filters", href="/", id="shell-reset")],
        className="filterbar",
    )


def _account() -> html.Div:
    """Who is signed in, and the sign-out form (with the session's CSRF token). The idle
    time rides along for assets/session.js, which signs an unattended screen out."""
    viewer = current_viewer()
    session = flask.g.get("rcm_session")
    auth: Auth = flask.current_app.extensions["rcm_auth"]
    if viewer is None or session is None:  # the guard stops this earlier; belt and braces
        return html.Div(className="account")
    return html.Div(
        [
            html.Span(f"{viewer.user} · {viewer.role_title}", id="shell-user"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=session.csrf_token),
                    html.Button("Sign out", id="shell-sign-out", type="submit"),
                ],
                action="/logout",
                method="POST",
                id="shell-sign-out-form",
            ),
        ],
        className="account",
        id="shell-account",
        **{"data-idle-seconds": str(int(auth.settings.idle_seconds))},
    )


def _layout() -> html.Div:
    return html.Div(
        [
            html.Header(
                [
                    html.Span("rcm-warehouse", className="brand"),
                    html.Nav(
                        [
                            dcc.Link(title, href=path, id=f"shell-nav-{i}")
                            for i, (path, title) in enumerate(NAV)
                        ]
                    ),
                    html.Span(id="shell-published", className="published"),
                    _account(),
                ],
                className="topbar",
            ),
            _filter_bar(),
            html.Main(dash.page_container, className="content"),
        ]
    )


def create_app(auth: Auth | None = None) -> Dash:
    """The dashboards behind sign-in (``auth`` defaults to the environment's settings)."""
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(Path(__file__).parent / "assets"),
        title="rcm-warehouse",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    # the pages register themselves (dash.register_page needs the app to exist first)
    for name in PAGE_MODULES:
        importlib.import_module(f"dashboards.pages.{name}")

    app.layout = _layout
    auth = auth or Auth(AuthSettings.from_env())
    auth.install(app)
    app.server.extensions["rcm_auth"] = auth
    return app


def _options_and_stamp(payer_class: str | None) -> tuple[list, str]:
    """Dropdown options (payers of the chosen class) and the 'data to … published …' text."""
    try:
        options = data.filter_options(payer_class)
        published = data.publication().get("published_at")
        as_of = data.as_of_date()
    except data.WarehouseUnavailable:
        return [[] for _ in FILTERS], "No warehouse published"
    stamp = published.strftime("%Y-%m-%d %H:%M UTC") if published else "–"
    text = f"Data to {as_of:%d %b %Y} · published {stamp}" if as_of else f"published {stamp}"
    return [options[group] for group in OPTION_GROUPS], text


@callback(
    Output(URL, "search"),
    *[Output(component_id, "value") for _key, component_id, *_ in FILTERS],
    *[Output(component_id, "options") for _key, component_id, *_ in FILTERS],
    Output("shell-published", "children"),
    Input(URL, "search"),
    *[Input(component_id, "value") for _key, component_id, *_ in FILTERS],
)
def sync_filters_and_url(search: str | None, *values: str | None):
    """The URL is the truth: a link sets the filters; a changed filter rewrites the URL
    (keeping the page's own parameters, such as a drill-down). Options travel with the
    values: a dropdown given a value before its options would show its placeholder."""
    keys = [key for key, *_ in FILTERS]
    params = parse_search(search)
    unchanged = [no_update] * len(keys)
    if ctx.triggered_id in {component_id for _key, component_id, *_ in FILTERS}:
        params.update(dict(zip(keys, values, strict=True)))
        new_search = build_search(params)
        changed = new_search != (search or "")
        options: list = unchanged
        stamp: object = no_update
        if ctx.triggered_id == "shell-filter-payer-class":  # the payer list follows the class
            options, stamp = _options_and_stamp(params.get("payer_class"))
        return (new_search if changed else no_update, *unchanged, *options, stamp)
    options, stamp = _options_and_stamp(params.get("payer_class"))
    return (no_update, *[params.get(key) for key in keys], *options, stamp)


@callback(
    *[Output(f"shell-nav-{i}", "href") for i in range(len(NAV))],
    *[Output(f"shell-nav-{i}", "className") for i in range(len(NAV))],
    Input(URL, "search"),
    Input(URL, "pathname"),
)
def keep_filters_in_links(search: str | None, pathname: str | None):
    carried = global_search(search)
    first = (pathname or "/").strip("/").split("/")[0]
    current = {"": "/", "claims": "/denials"}.get(first, f"/{first}")  # a claim is a drill-down
    active = ["active" if path == current else "" for path, _ in NAV]
    return (*[f"{path}{carried}" for path, _ in NAV], *active)
