"""Where and how to reach a SPARQL server: endpoint settings (derived from the query URL, the
config file ``~/.config/cmckg/sparql.yaml``, ``CMCKG_SPARQL_*`` environment variables) and the
server profiles (Virtuoso's layout and limits). ``stores.remote`` talks to the server with them.
"""

from __future__ import annotations

import os
import urllib.parse
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml
from SPARQLWrapper import POSTDIRECTLY, URLENCODED

from ..errors import ConfigError

ENV_PREFIX = "CMCKG_SPARQL_"
DEFAULT_GRAPH_MODES = ("copy", "union")
REQUEST_FORMS = {"form": URLENCODED, "direct": POSTDIRECTLY}
SERVERS = ("auto", "generic", "virtuoso")


@dataclass(frozen=True)
class ServerProfile:
    """What one server product needs beyond the SPARQL 1.1 defaults."""

    name: str
    update_path: str | None  # None: the query URL itself
    store_path: str | None
    default_graph: str
    hidden_graphs: tuple[str, ...] = ()
    # Virtuoso's GRAPH ?g { } matches no graph: list graphs by their quads instead.
    lists_graphs_by_quads: bool = False
    # Virtuoso's SPARQL parser runs out of stack near 5,000 triples in one DATA block.
    quads_per_operation: int | None = None
    # The largest update request the server takes (Virtuoso: 10,000,000 bytes, error SR578).
    max_request_bytes: int | None = None
    # Why answers read from this server cannot be trusted (None: they can).
    limitation: str | None = None


#: Virtuoso 7: one /sparql endpoint for queries and updates, the Graph Store at
#: /sparql-graph-crud, a default graph that is the union of all graphs, and system graphs of its
#: own (RDF views, LDP, URIQA) that no cmckg record wrote.
VIRTUOSO = ServerProfile(
    "virtuoso",
    None,
    "/sparql-graph-crud",
    "union",
    (
        "http://www.openlinksw.com/schemas/virtrdf#",
        "http://www.w3.org/ns/ldp#",
        "http://localuriqaserver/sparql",
    ),
    lists_graphs_by_quads=True,
    quads_per_operation=1000,
    max_request_bytes=10_000_000,
    limitation=(
        "Virtuoso 7.2 can store and ingest cmckg records, but its answers to cmckg's questions "
        "are wrong: it writes xsd:double values with 6 significant digits, returns no rows for "
        "the lineage query and fails on the upstream-values query (README, 'Running on a "
        "SPARQL server'); lineage, analyses, validation and export are refused"
    ),
)
GENERIC = ServerProfile("generic", None, None, "copy")


@dataclass(frozen=True)
class EndpointSettings:
    """Where and how to reach one SPARQL server. Credentials never show in ``repr``.

    ``default_graph``: ``copy`` (cmckg keeps the set union of the named graphs in the server's
    default graph, as in the embedded store) or ``union`` (the server's default graph already is
    the union of the named graphs, e.g. Fuseki's ``unionDefaultGraph``; cmckg writes named
    graphs only)."""

    query: str
    update: str
    store: str
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    update_timeout: float = 600.0
    retries: int = 2
    backoff: float = 0.25
    default_graph: str = "copy"
    query_form: str = "form"
    update_form: str = "direct"
    server: str = "auto"
    explicit: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def resolve(cls, location: str, environ: Mapping[str, str] | None = None) -> EndpointSettings:
        """Settings for the query URL ``location``: derived defaults, then the config file's
        entry for that URL, then ``CMCKG_SPARQL_*`` environment variables (each overriding)."""
        environ = os.environ if environ is None else environ
        query, url_user, url_password = _split_userinfo(location)
        update, store = _derived_endpoints(query)
        settings = cls(query, update, store, user=url_user, password=url_password)
        config = _config_file(environ)
        if config is not None:
            settings = settings._merge(_config_entry(config, query), str(config))
        for name in (f.name for f in fields(cls) if f.name not in _INTERNAL):
            variable = ENV_PREFIX + name.upper()
            if environ.get(variable):
                settings = settings._merge({name: environ[variable]}, variable)
        if settings.token and (settings.user or settings.password):
            raise ConfigError(
                "give either a bearer token or a user and password, not both",
                settings.query,
            )
        if bool(settings.user) != bool(settings.password):
            raise ConfigError(
                "basic authentication needs both a user and a password", settings.query
            )
        return settings

    def _merge(self, values: Mapping[str, Any], origin: str) -> EndpointSettings:
        numbers = {"timeout": float, "update_timeout": float, "retries": int}
        known = {f.name for f in fields(self)} - _INTERNAL
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(
                    f"unknown setting '{key}'; known: {', '.join(sorted(known))}", origin
                )
            if key in numbers:
                try:
                    value = numbers[key](value)
                except (TypeError, ValueError):
                    raise ConfigError(f"{value!r} is not a number", origin, field=key) from None
                if value < 0 or (value == 0 and key != "retries"):
                    raise ConfigError("must be positive", origin, field=key)
            elif not isinstance(value, str):
                raise ConfigError("must be a string", origin, field=key)
            elif key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(
                    f"{value!r} is not one of {', '.join(_CHOICES[key])}", origin, field=key
                )
            changes[key] = value
        return replace(self, **changes, explicit=self.explicit | set(changes))

    def with_profile(self, profile: ServerProfile) -> EndpointSettings:
        """These settings with a server profile's defaults for what was not set explicitly."""
        parts = urllib.parse.urlsplit(self.query)

        def at(path: str | None) -> str:
            return (
                self.query
                if path is None
                else urllib.parse.urlunsplit(parts._replace(path=path, query="", fragment=""))
            )

        defaults: dict[str, Any] = {
            "update": at(profile.update_path),
            "store": at(profile.store_path),
            "default_graph": profile.default_graph,
        }
        return replace(
            self,
            server=profile.name,
            **{k: v for k, v in defaults.items() if k not in self.explicit},
        )

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header value, or None without credentials."""
        if self.token:
            return f"Bearer {self.token}"
        if self.user and self.password:
            return "Basic " + b64encode(f"{self.user}:{self.password}".encode()).decode()
        return None


_INTERNAL = {"query", "backoff", "explicit"}
_CHOICES = {
    "default_graph": DEFAULT_GRAPH_MODES,
    "query_form": tuple(REQUEST_FORMS),
    "update_form": tuple(REQUEST_FORMS),
    "server": SERVERS,
}
_PROFILES = {"virtuoso": VIRTUOSO, "generic": GENERIC}


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$CMCKG_SPARQL_CONFIG``, else ``$XDG_CONFIG_HOME/cmckg/sparql.yaml`` (~/.config)."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_PREFIX + "CONFIG"):
        return Path(environ[ENV_PREFIX + "CONFIG"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cmckg" / "sparql.yaml"


def _config_file(environ: Mapping[str, str]) -> Path | None:
    path = config_path(environ)
    if path.is_file():
        return path
    if environ.get(ENV_PREFIX + "CONFIG"):
        raise ConfigError("no such config file (named by CMCKG_SPARQL_CONFIG)", str(path))
    return None


def _config_entry(path: Path, query: str) -> Mapping[str, Any]:
    """The config file's settings for one query URL (keys are query URLs)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}".replace("\n", " "), str(path)) from exc
    if not isinstance(loaded, dict):
        raise ConfigError("expected a mapping from query URL to settings", str(path))
    for key, entry in loaded.items():
        if str(key).rstrip("/") == query.rstrip("/"):
            if not isinstance(entry, dict):
                raise ConfigError(
                    "the settings of an endpoint must be a mapping", str(path), location=str(key)
                )
            return entry
    return {}


def _split_userinfo(location: str) -> tuple[str, str | None, str | None]:
    """The URL without ``user:password@`` (so it can be shown), and the user and password."""
    parts = urllib.parse.urlsplit(location)
    if parts.username is None and parts.password is None:
        return location, None, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    unquote = urllib.parse.unquote
    return clean, unquote(parts.username or ""), unquote(parts.password or "") or None


def _derived_endpoints(query: str) -> tuple[str, str]:
    """Update and Graph Store URLs beside a ``…/query`` or ``…/sparql`` URL (Oxigraph's
    layout: ``/query``, ``/update``, ``/store``); otherwise the query URL for all three."""
    parts = urllib.parse.urlsplit(query)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    if last not in {"query", "sparql"}:
        return query, query
    return tuple(  # type: ignore[return-value]
        urllib.parse.urlunsplit(parts._replace(path=f"{head}/{name}"))
        for name in ("update", "store")
    )
