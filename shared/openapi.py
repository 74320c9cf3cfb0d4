"""What both services' OpenAPI documents say beyond Litestar's defaults, so the documents are true.

* Every operation lists the error statuses it can answer, each an RFC 9457 problem document
  (``application/problem+json``, schema ``Problem``), instead of Litestar's generic 400 only. The statuses
  follow from the route (a body: 400/413/415/422; parameters: 422; path parameters: 404; guards: 401/403;
  state-changing admin routes: 409; stores behind it: 503) plus what a handler declares in
  ``opt={"problems": (...)}`` (e.g. the vote's 403/409/429). ``ProblemResponses`` attaches them, in one place,
  as Litestar ``ResponseSpec``s when a route is registered.
* Request bodies that refuse unknown fields (``forbid_unknown_fields``) say ``additionalProperties: false``
  (``StrictStructSchemaPlugin``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.openapi.spec.enums import OpenAPIType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from shared.litestar_internal import StructSchemaPlugin
from shared.problem import PROBLEM_JSON

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator  # a type only (see shared/litestar_internal.py)
    from litestar.routes import BaseRoute
    from litestar.typing import FieldDefinition


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details. ``code`` is the stable machine-readable reason (API.md); some problems add
    members, e.g. ``errors`` (what failed validation) or ``checks`` (readiness)."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class Challenge(msgspec.Struct, kw_only=True):
    """An ALTCHA-compatible proof-of-work challenge: find ``n`` in ``0..maxnumber`` with
    ``SHA-256(salt + n) == challenge``; send ``X-Challenge-Solution: base64(JSON {algorithm, challenge, number,
    salt, signature})`` with the repeated request."""

    algorithm: str
    challenge: str
    salt: str
    maxnumber: int
    signature: str


class ChallengeProblem(Problem, kw_only=True):
    """428 ``challenge_required``: the problem document carries the challenge to solve."""

    challenge: Challenge


_WHY = {
    400: "Malformed request (e.g. a body that is not JSON).",
    401: "Not authenticated, or wrong credentials or code.",
    403: "Not allowed (role, CSRF token, campaign state, or a wrong, stale or replayed proof of work: "
         "`challenge_failed`).",
    404: "No such resource.",
    409: "Conflicts with the resource's current state.",
    413: "Request body too large.",
    415: "The body is not application/json.",
    422: "Invalid request: a field is missing, of the wrong type, out of range, blank or with forbidden "
         "characters (the problem names it).",
    428: "`challenge_required`: solve the proof-of-work `challenge` and repeat the request with the header "
         "`X-Challenge-Solution`.",
    429: "Too many requests; see Retry-After.",
    503: "A store (Redis or Postgres) is not answering; see Retry-After.",
}

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Handler parameters that are not request parameters.
_RESERVED = frozenset({"self", "request", "data", "state", "scope", "headers", "cookies", "socket", "body"})


def problem_spec(status: int) -> ResponseSpec:
    return ResponseSpec(data_container=ChallengeProblem if status == 428 else Problem, media_type=PROBLEM_JSON,
                        generate_examples=False,
                        description=_WHY.get(status) or HTTPStatus(status).phrase)


def statuses_of(handler: HTTPRouteHandler, path: str) -> set[int]:
    """The error statuses that follow from the route itself. Injected dependencies (``services``, from
    shared/wiring.py) are not request parameters: the handler's own resolved dependencies are subtracted
    (known once the route is registered, which is when ``ProblemResponses`` runs)."""
    params = set(handler.parsed_fn_signature.parameters) - _RESERVED - set(handler.resolve_dependencies())
    out: set[int] = set()
    if "data" in handler.parsed_fn_signature.parameters or handler.http_methods & STATE_CHANGING:
        out |= {400, 413, 415, 422}  # a body is read (or refused) on every state-changing request
    if params:
        out |= {400, 422}  # 400 replaces Litestar's generic (non-problem) one
    if "{" in path:
        out.add(404)
    return out


class ProblemResponses(ReceiveRoutePlugin):
    """Attach problem responses to every documented operation (see the module docstring). ``rules`` adds the
    statuses a service's conventions imply (authentication, conflicts); a handler's ``opt["problems"]``
    adds its own."""

    def __init__(self, rules: Callable[[HTTPRouteHandler, str], Iterable[int]] = lambda *_: ()) -> None:
        self._rules = rules

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            wanted = (statuses_of(handler, route.path) | set(self._rules(handler, route.path))
                      | set(handler.opt.get("problems", ())))
            declared = dict(handler.responses or {})
            for status in sorted(wanted):
                declared.setdefault(status, problem_spec(status))
            handler.responses = declared


def _arm(t: Any) -> Schema | None:
    """The schema of one constrained scalar arm of a union, as msgspec enforces it."""
    if isinstance(t, msgspec.inspect.StrType):
        return Schema(type=OpenAPIType.STRING, pattern=t.pattern, min_length=t.min_length, max_length=t.max_length)
    if isinstance(t, msgspec.inspect.IntType):
        return Schema(type=OpenAPIType.INTEGER, minimum=t.ge, maximum=t.le, exclusive_minimum=t.gt,
                      exclusive_maximum=t.lt)
    if isinstance(t, msgspec.inspect.NoneType):  # an optional constrained scalar (``Annotated[int, ...] | None``)
        return Schema(type=OpenAPIType.NULL)
    return None


def _constrain_union(schema: Any, t: Any) -> None:
    """Litestar writes ``oneOf`` for ``Annotated[str, Meta(...)] | Annotated[int, Meta(...)]`` without the arms'
    constraints; put them back (also for the items of a list of such unions)."""
    if isinstance(t, msgspec.inspect.ListType):
        _constrain_union(getattr(schema, "items", None), t.item_type)
        return
    if not isinstance(t, msgspec.inspect.UnionType) or schema is None or not getattr(schema, "one_of", None):
        return
    arms = [_arm(a) for a in t.types]
    if all(a is not None for a in arms) and len(arms) == len(schema.one_of):
        schema.one_of = arms


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """msgspec Structs with ``forbid_unknown_fields`` are objects with ``additionalProperties: false``; unions
    of constrained scalars keep their constraints."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info: Any = msgspec.inspect.type_info(field_definition.type_)
        if getattr(info, "forbid_unknown_fields", False):
            schema.additional_properties = False
        for f in getattr(info, "fields", ()):
            _constrain_union((schema.properties or {}).get(f.encode_name), f.type)
        return schema


def openapi_plugins(rules: Callable[[HTTPRouteHandler, str], Iterable[int]] = lambda *_: ()) -> list[Any]:
    """The plugins both app factories pass to ``Litestar(plugins=...)``."""
    return [ProblemResponses(rules), StrictStructSchemaPlugin()]
