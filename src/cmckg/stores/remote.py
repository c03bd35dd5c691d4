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
import email.utils
import http.client
import json
import logging
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier
from SPARQLWrapper import (
    CONSTRUCT,
    INSERT,
    JSON,
    POST,
    SELECT,
    TURTLE,
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
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from ..errors import StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .endpoints import (
    _PROFILES,
    GENERIC,
    REQUEST_FORMS,
    VIRTUOSO,
    EndpointSettings,
    ServerProfile,
)
from .terms import check_iri, inline_values, to_sparql
from .update import LineChanges, update_text

T = TypeVar("T")
_log = logging.getLogger(__name__)

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
        quad has IRIs only, since servers may print a literal differently (Virtuoso: doubles).
        Its graph may be one a change set kept out of the union copy (``outside_union``): then
        any triple of a named graph visible without GRAPH will do (asked from the default
        graph's side, so an empty one answers at once)."""
        if self._union_checked:
            return
        hidden = self._without_hidden("?g")
        sample = self._select(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(isIRI(?s) && isIRI(?o)) {hidden} }} LIMIT 1"
        )
        if sample.rows:
            s, p, o = (to_sparql(term) for term in sample.rows[0])  # type: ignore[arg-type]
            if (
                not self._select(f"ASK {{ {s} {p} {o} }}").boolean
                and not self._select(f"ASK {{ ?s ?p ?o GRAPH ?g {{ ?s ?p ?o }} {hidden} }}").boolean
            ):
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
        Reads are retried on transient failures (tenacity: exponential backoff with full
        jitter, or the wait a 429/503 answer's ``Retry-After`` asks for, if no longer than the
        read timeout); writes never are."""
        retrying = Retrying(
            stop=stop_after_attempt(1 if writing else 1 + self.settings.retries),
            retry=retry_if_exception(lambda exc: self._retry_may_help(exc, writing)),
            wait=_RetryAfterOrJitter(self.settings.backoff),
            before_sleep=_log_retry(endpoint),
            sleep=lambda seconds: _sleep(seconds),
            reraise=True,
        )
        try:
            return retrying(send)
        except _EXCHANGE_ERRORS as exc:
            raise StoreError(self._describe(exc, writing), endpoint) from exc

    def _retry_may_help(self, exc: BaseException, writing: bool) -> bool:
        """Whether a failed exchange is worth trying again: HTTP 429/502/503/504 (not with a
        ``Retry-After`` beyond the read timeout) or a refused or lost connection of a read."""
        if not isinstance(exc, _EXCHANGE_ERRORS) or writing:
            return False
        if isinstance(exc, urllib.error.HTTPError):
            after = retry_after(exc)
            return exc.code in _TRANSIENT_HTTP and (after is None or after <= self.settings.timeout)
        if isinstance(exc, SPARQLWrapperException):
            return False  # SPARQLWrapper wraps only 400, 401, 404, 414 and 500
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return not isinstance(reason, TimeoutError | socket.gaierror | ssl.SSLError)

    def _describe(self, exc: BaseException, writing: bool) -> str:
        """A one-line message for a failed exchange."""
        status, text = _http_status(exc)
        if status is not None:
            return self._describe_status(status, text)
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            limit = self.settings.update_timeout if writing else self.settings.timeout
            if writing:
                return (
                    f"no answer within {limit:g} s; the server applies an update completely "
                    "or not at all and may still be running it: check with 'cmckg stats' and "
                    "re-run the ingest if needed (it is idempotent)"
                )
            return (
                f"no answer within {limit:g} s (raise CMCKG_SPARQL_TIMEOUT if the server "
                "is just slow)"
            )
        if isinstance(reason, ConnectionRefusedError):
            return "cannot connect: connection refused (is the SPARQL server running?)"
        if isinstance(reason, socket.gaierror):
            return f"cannot resolve the server's host name: {reason.strerror}"
        if isinstance(reason, ssl.SSLError):
            return f"the TLS connection failed: {_one_line(reason)}"
        if writing:
            return (
                f"the connection was lost during the update ({_one_line(reason)}); the server "
                "applies an update completely or not at all, so re-run the ingest (it is "
                "idempotent)"
            )
        return f"the connection failed: {_one_line(reason)}"

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


_EXCHANGE_ERRORS = (SPARQLWrapperException, OSError, http.client.HTTPException)
_sleep = time.sleep  # the retries' sleep (tests replace it to see the waits)


def retry_after(exc: urllib.error.HTTPError) -> float | None:
    """The seconds an HTTP answer's ``Retry-After`` asks to wait (delay-seconds or an
    HTTP-date, RFC 9110 §10.2.3), or None without a readable one."""
    value = (exc.headers.get("Retry-After") or "").strip() if exc.headers else ""
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _RetryAfterOrJitter(wait_base):
    """The wait before a retry: what ``Retry-After`` asks plus up to ``backoff`` of jitter,
    else exponential backoff with full jitter (uniform in [0, backoff·2ⁿ⁻¹] before retry n)."""

    def __init__(self, backoff: float) -> None:
        self.backoff = backoff
        self.jitter = wait_random_exponential(multiplier=backoff, exp_base=2)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        after = retry_after(exc) if isinstance(exc, urllib.error.HTTPError) else None
        if after is not None:
            return after + random.uniform(0, self.backoff)
        return float(self.jitter(retry_state))


def _log_retry(endpoint: str) -> Callable[[RetryCallState], None]:
    def log(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        _log.info(
            "%s: %s; retrying in %.2f s (attempt %d)",
            endpoint,
            _one_line(outcome.exception() if outcome is not None else "failed"),
            wait,
            retry_state.attempt_number + 1,
        )

    return log


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
