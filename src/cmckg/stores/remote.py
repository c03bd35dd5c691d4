"""Any SPARQL 1.1 server as the store.

Queries and updates go through the SPARQL 1.1 Protocol (SPARQLWrapper); whole named graphs are
read through the SPARQL 1.1 Graph Store HTTP Protocol. The three endpoints are configurable, since
servers name them differently (see ``EndpointSettings``).

Guarantees:

- ``apply`` sends a change set (everything one ingest writes) as ONE SPARQL Update request. A
  server executes one update request as one transaction (Oxigraph, Fuseki/TDB2, GraphDB, RDF4J),
  so an ingest that fails or is cut off — server stopped, connection lost — leaves every record
  graph exactly as it was, never half loaded. Updates are never retried; re-running an ingest is
  safe because ingest is idempotent.
- Reads are retried a bounded number of times on connection failures and HTTP 429/502/503/504.
- Queries must see the union of the named graphs as their default graph, as on the embedded
  backends. That is server configuration (Oxigraph ``--union-default-graph``; see the README),
  checked on first use; queries are never rewritten with FROM clauses.
- Queries are POSTed URL-encoded (``query=…``), the form every SPARQL 1.1 server must accept
  (Virtuoso 7 never answers a query POSTed directly); updates are POSTed directly as
  ``application/sparql-update`` (no encoding cost on large ingests). Both are settings
  (``query_form``, ``update_form``: ``form`` or ``direct``).
- Server profiles (``server``: ``auto``, ``generic``, ``virtuoso``): on first contact cmckg reads
  the ``Server`` header; for Virtuoso, settings not given explicitly default to its layout
  (update at the query URL, Graph Store at ``/sparql-graph-crud``, ``default_graph: union``), and
  its own system graphs (``virtrdf#``…) are left out of ``graph_names``, ``quads`` and counts.
- Credentials (basic or bearer) come from environment variables or the config file, are sent
  only in the ``Authorization`` header and never appear in messages, ``repr`` or logs.
"""

from __future__ import annotations

import ast
import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier
from SPARQLWrapper import (
    CONSTRUCT,
    INSERT,
    JSON,
    POST,
    POSTDIRECTLY,
    SELECT,
    TURTLE,
    URLENCODED,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from ..errors import ConfigError, StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .terms import check_iri, inline_values, to_sparql
from .update import LineChanges, update_text

T = TypeVar("T")

ENV_PREFIX = "CMCKG_SPARQL_"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_TRANSIENT_HTTP = {429, 502, 503, 504}
_RDF_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
_WRAPPER_STATUS = {
    QueryBadFormed: 400,
    Unauthorized: 401,
    EndPointNotFound: 404,
    URITooLong: 414,
    EndPointInternalError: 500,
}


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


class RemoteStore(Store):
    """A SPARQL 1.1 server reached over HTTP(S); ``location`` is its query endpoint URL."""

    sole_writer = False  # others may write to the server

    def __init__(
        self,
        location: str,
        read_only: bool = False,
        *,
        settings: EndpointSettings | None = None,
    ) -> None:
        self.settings = settings or EndpointSettings.resolve(location)
        self.location = self.settings.query
        self.read_only = read_only
        self._union_checked = False
        self.profile: ServerProfile | None = None
        if self.settings.server != "auto":
            self._use(_PROFILES[self.settings.server])

    def __repr__(self) -> str:
        return f"RemoteStore({self.location!r}, read_only={self.read_only})"

    # -- server profile -------------------------------------------------------------------------

    def _use(self, profile: ServerProfile) -> None:
        if profile is not GENERIC:
            self.settings = self.settings.with_profile(profile)
        self.profile = profile

    def _identify(self) -> ServerProfile:
        """The server's profile, from the ``Server`` header of one small query (once)."""
        if self.profile is None:
            wrapper = self._sparql("ASK { }")
            header = self._call(
                self.settings.query, lambda: wrapper.query().response.headers.get("Server", "")
            )
            self._use(VIRTUOSO if header.lower().startswith("virtuoso") else GENERIC)
        assert self.profile is not None
        return self.profile

    def _without_hidden(self, variable: str) -> str:
        """A FILTER leaving out the server's system graphs (empty if it has none)."""
        hidden = self._identify().hidden_graphs
        return (
            f"FILTER({variable} NOT IN ({', '.join(f'<{g}>' for g in hidden)}))" if hidden else ""
        )

    def limitation(self) -> str | None:
        return self._identify().limitation

    # -- writes ---------------------------------------------------------------------------------

    def _apply(self, changes: ChangeSet) -> None:
        """Send the change set as one SPARQL Update request (one transaction on the server)."""
        profile = self._identify()
        try:
            lines = LineChanges.of(changes)
        except ValueError as exc:
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc
        text = update_text(
            lines,
            union_copy=self.settings.default_graph == "copy",
            chunk=profile.quads_per_operation,
        )
        size = len(text.encode())
        if profile.max_request_bytes and size > profile.max_request_bytes:
            raise StoreError(
                f"this change set is {size / 1e6:.1f} MB as one update request, over the "
                f"{profile.max_request_bytes / 1e6:g} MB {profile.name} takes in one request; "
                "nothing was sent: ingest fewer or smaller files per call",
                self.settings.update,
            )
        self._call(
            self.settings.update, lambda: self._sparql(text, update=True).query(), writing=True
        )

    # -- reads ----------------------------------------------------------------------------------

    def query(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> QueryResult:
        self._check_union_default()
        return self._select(inline_values(sparql, dict(bindings or {})))

    def construct(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        self._check_union_default()
        wrapper = self._sparql(inline_values(sparql, dict(bindings or {})), construct=True)

        def fetch() -> tuple[bytes, str]:
            response = wrapper.query().response
            return response.read(), response.headers.get_content_type()

        body, content_type = self._call(self.settings.query, fetch)
        return self._parse_rdf(body, _RDF_FORMATS.get(content_type, "turtle"), self.settings.query)

    def graph_names(self) -> set[URIRef]:
        pattern = "?s ?p ?o" if self._identify().lists_graphs_by_quads else ""
        result = self._select(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {pattern} }} {self._without_hidden('?g')} }}"
        )
        return {row[0] for row in result.rows if isinstance(row[0], URIRef)}

    def graph(self, graph_iri: URIRef) -> Graph:
        """GET the graph from the Graph Store endpoint (an absent graph is an empty graph)."""
        self._identify()
        store = self.settings.store
        iri = check_iri(str(graph_iri))
        url = f"{store}{'&' if '?' in store else '?'}graph={urllib.parse.quote(iri, safe='')}"
        headers = {"Accept": "application/n-triples"}
        if self.settings.authorization:
            headers["Authorization"] = self.settings.authorization

        def fetch() -> tuple[bytes, str] | None:
            request = urllib.request.Request(url, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:
                    return response.read(), response.headers.get_content_type()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                raise

        fetched = self._call(store, fetch)
        if fetched is None:
            # 404: no such graph — unless the URL is not a Graph Store at all, which would
            # silently lose content (e.g. the snapshot of a superseded record).
            if self._select(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}").boolean:
                raise StoreError(
                    "the Graph Store endpoint answered 404 for a graph the server "
                    "holds; set CMCKG_SPARQL_STORE to its Graph Store URL",
                    store,
                )
            return Graph()
        body, content_type = fetched
        return self._parse_rdf(body, _RDF_FORMATS.get(content_type, "nt"), store)

    def quads(self) -> Iterator[Quad]:
        result = self._select(
            f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._without_hidden('?g')} }}"
        )
        yield from result.rows  # type: ignore[misc]  (all four are always bound)

    def count_quads(self) -> int:
        result = self._select(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f"{self._without_hidden('?g')} }}"
        )
        return int(str(result.rows[0][0]))

    def _check_union_default(self) -> None:
        """Refuse to answer if the server's default graph is not the union of the named graphs
        (answers would silently be empty): one quad must also be visible without GRAPH. The
        quad has IRIs only, since servers may print a literal differently (Virtuoso: doubles)."""
        if self._union_checked:
            return
        sample = self._select(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(isIRI(?s) && isIRI(?o)) {self._without_hidden('?g')} }} LIMIT 1"
        )
        if sample.rows:
            s, p, o = (to_sparql(term) for term in sample.rows[0])  # type: ignore[arg-type]
            if not self._select(f"ASK {{ {s} {p} {o} }}").boolean:
                raise StoreError(
                    "the server's default graph is not the union of its named graphs (were "
                    "they written by another tool?); set default_graph: union and enable that "
                    "option on the server (e.g. Fuseki unionDefaultGraph; see the README, "
                    "'Running on a SPARQL server')",
                    self.location,
                )
            self._union_checked = True

    def _select(self, sparql: str) -> QueryResult:
        wrapper = self._sparql(sparql)
        body = self._call(self.settings.query, lambda: wrapper.query().response.read())
        try:
            return _query_result(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"not a SPARQL JSON result: {exc}", self.settings.query) from exc

    def _parse_rdf(self, body: bytes, fmt: str, endpoint: str) -> Graph:
        graph = Graph()
        try:
            graph.parse(data=body, format=fmt)
        except Exception as exc:  # rdflib raises several parser-specific types
            raise StoreError(f"the server sent RDF that does not parse: {exc}", endpoint) from exc
        return graph

    # -- HTTP -----------------------------------------------------------------------------------

    def _sparql(self, text: str, *, update: bool = False, construct: bool = False) -> SPARQLWrapper:
        """A SPARQLWrapper for one request.

        The text and operation type are set as attributes rather than through ``setQuery``,
        which guesses the type from keywords (a comment mentioning 'load' makes a query an
        update) with regular expressions that take seconds on a large update; the timeout too,
        since ``setTimeout`` truncates it to whole seconds."""
        wrapper = SPARQLWrapper(self.settings.query, updateEndpoint=self.settings.update)
        wrapper.setMethod(POST)
        form = self.settings.update_form if update else self.settings.query_form
        wrapper.setRequestMethod(REQUEST_FORMS[form])
        wrapper.setOnlyConneg(True)  # the Accept header only, no format=… parameters
        wrapper.timeout = self.settings.update_timeout if update else self.settings.timeout
        wrapper.setReturnFormat(TURTLE if construct else JSON)
        wrapper.queryString = text
        wrapper.queryType = INSERT if update else CONSTRUCT if construct else SELECT
        if self.settings.authorization:
            wrapper.addCustomHttpHeader("Authorization", self.settings.authorization)
        return wrapper

    def _call(self, endpoint: str, send: Callable[[], T], *, writing: bool = False) -> T:
        """Run one HTTP exchange; turn failures into a one-line StoreError naming the endpoint.
        Reads are retried on transient failures; writes never are."""
        attempts = 1 if writing else 1 + self.settings.retries
        attempt = 0
        while True:
            try:
                return send()
            except (SPARQLWrapperException, OSError, http.client.HTTPException) as exc:
                error, transient = self._describe(exc, writing)
                attempt += 1
                if not transient or attempt >= attempts:
                    raise StoreError(error, endpoint) from exc
            time.sleep(self.settings.backoff * 2 ** (attempt - 1))

    def _describe(self, exc: BaseException, writing: bool) -> tuple[str, bool]:
        """A one-line message for a failed exchange, and whether a retry may help."""
        status, text = _http_status(exc)
        if status is not None:
            return self._describe_status(status, text), status in _TRANSIENT_HTTP
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            limit = self.settings.update_timeout if writing else self.settings.timeout
            if writing:
                return (
                    f"no answer within {limit:g} s; the server applies an update completely "
                    "or not at all and may still be running it: check with 'cmckg stats' and "
                    "re-run the ingest if needed (it is idempotent)"
                ), False
            return (
                f"no answer within {limit:g} s (raise CMCKG_SPARQL_TIMEOUT if the server "
                "is just slow)"
            ), False
        if isinstance(reason, ConnectionRefusedError):
            return "cannot connect: connection refused (is the SPARQL server running?)", True
        if isinstance(reason, socket.gaierror):
            return f"cannot resolve the server's host name: {reason.strerror}", False
        if isinstance(reason, ssl.SSLError):
            return f"the TLS connection failed: {_one_line(reason)}", False
        if writing:
            return (
                f"the connection was lost during the update ({_one_line(reason)}); the server "
                "applies an update completely or not at all, so re-run the ingest (it is "
                "idempotent)"
            ), False
        return f"the connection failed: {_one_line(reason)}", True

    def _describe_status(self, status: int, text: str) -> str:
        detail = f": {text}" if text else ""
        if status == 401:
            given = (
                "the server rejected the credentials"
                if self.settings.authorization
                else (
                    "the server needs credentials: "
                    "set CMCKG_SPARQL_USER and CMCKG_SPARQL_PASSWORD, "
                    "or CMCKG_SPARQL_TOKEN"
                )
            )
            return f"authentication failed (HTTP 401): {given}"
        if status == 403:
            return f"access denied (HTTP 403){detail}"
        if status == 404:
            return "no SPARQL service at this URL (HTTP 404); check the endpoint settings"
        return f"the server answered HTTP {status}{detail}"


def _http_status(exc: BaseException) -> tuple[int | None, str]:
    """HTTP status and the server's message (one line), if the failure was an HTTP answer."""
    if isinstance(exc, urllib.error.HTTPError):
        try:
            body = exc.read()
        except OSError:
            body = b""
        return exc.code, _one_line(body.decode("utf-8", "replace"))
    if isinstance(exc, SPARQLWrapperException):
        status = next((code for cls, code in _WRAPPER_STATUS.items() if isinstance(exc, cls)), 0)
        _, _, response = str(exc).partition("Response:\n")
        try:
            body = ast.literal_eval(response) if response else b""
        except (ValueError, SyntaxError):
            body = response.encode()
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        return status, _one_line(text)
    return None, ""


def _one_line(value: object, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _query_result(data: dict[str, Any]) -> QueryResult:
    """SPARQL 1.1 JSON results → rdflib terms (xsd:string literals as plain, like Oxigraph's)."""
    if "boolean" in data:
        return QueryResult([], [], bool(data["boolean"]))
    columns = list(data["head"].get("vars", []))
    rows = [
        tuple(_term(binding[c]) if c in binding else None for c in columns)
        for binding in data["results"]["bindings"]
    ]
    return QueryResult(columns, rows)


def _term(value: Mapping[str, str]) -> Identifier:
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if kind in {"literal", "typed-literal"}:
        language = value.get("xml:lang")
        if language:
            return Literal(value["value"], lang=language)
        datatype = value.get("datatype")
        if datatype in {None, _XSD_STRING, _RDF_LANG_STRING}:
            return Literal(value["value"])
        return Literal(value["value"], datatype=URIRef(datatype))
    raise ValueError(f"unsupported RDF term type '{kind}'")
