"""What an error says to a person, in the reader's language: one page, one language.

Errors carry a stable ``code`` (the API's contract) and, for people, ``key`` and ``params``
(shared/errors.py). A page shows ``msg.<key>`` from the catalogue with the params filled in, translated where
they name something the catalogue knows: a field (``field.<path>``), a candidate status, a campaign state,
roles, a language, a group of a selection policy (region, sphere, gender, ethnicity). The English ``detail``
is never shown on a page; an error without a key falls back to the text of its code, then to its status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from admin_service.web.i18n import catalogue, name_in, translator
from shared import reference
from shared.errors import AppError

# Params whose value is looked up in the catalogue: param name -> key prefix.
LOOKED_UP = {"to": "status.", "from": "status.", "status": "status.", "state": "campaign.state.",
             "lang": "lang.", "nomination_status": "nomination.", "outcome": "verification."}
# Codes that have a text of their own (error.code.<code>); error.html shows the same.
CODES = ("forbidden", "csrf_failed", "not_found", "invalid_transition", "conflict", "invalid_request", "not_ready",
         "internal_error", "unavailable")


def field_name(path: str, lang: str) -> str:
    """``field.<path>`` (``field.title.kk``), else ``field.<last part>``, else the path itself."""
    own = catalogue(lang)
    for key in (f"field.{path}", f"field.{path.rsplit('.', 1)[-1]}"):
        if key in own:
            return own[key]
    return path


def group_name(dimension: str, value: str, lang: str) -> str:
    """A group of a selection policy as a person names it: "Регион: Абайская область"."""
    t = translator(lang)
    if dimension == "region":
        names = {r["code"]: name_in(r["name"], lang) for r in reference.regions()}
        shown = names.get(value, value)
    elif dimension == "sphere":
        names = {s["code"]: name_in(s["name"], lang) for s in reference.spheres()}
        shown = names.get(value, value)
    elif f"{dimension}.{value}" in catalogue(lang):
        shown = t(f"{dimension}.{value}")
    else:
        shown = value
    dim = f"results.dimension_{dimension}"
    return f"{t(dim) if dim in catalogue(lang) else dimension}: {shown}"


def localised(params: Mapping[str, Any], lang: str) -> dict[str, str]:
    t, own = translator(lang), catalogue(lang)
    out: dict[str, str] = {}
    for name, value in params.items():
        if name == "field":
            out[name] = field_name(str(value), lang)
        elif name == "roles":
            out[name] = ", ".join(t(f"role.{r}") for r in value)
        elif name == "groups":
            out[name] = "; ".join(group_name(d, v, lang) for d, v in value)
        elif name in LOOKED_UP and f"{LOOKED_UP[name]}{value}" in own:
            out[name] = t(f"{LOOKED_UP[name]}{value}")
        elif isinstance(value, (list, tuple)):
            out[name] = ", ".join(str(v) for v in value)
        elif isinstance(value, dt.datetime):
            out[name] = value.strftime("%Y-%m-%d %H:%M UTC")
        else:
            out[name] = str(value)
    if "dimension" in params and "value" in params:
        out["group"] = group_name(str(params["dimension"]), str(params["value"]), lang)
    return out


def message(exc: AppError | None, lang: str) -> str:
    """The sentence a page shows for ``exc`` in ``lang`` (never the English detail)."""
    if exc is None:
        return ""
    t, own = translator(lang), catalogue(lang)
    key = f"msg.{exc.key}" if exc.key else ""
    field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
    if key in own:
        params = {"field": field, **exc.params} if field else exc.params
        try:
            return own[key].format(**localised(params, lang))
        except (KeyError, IndexError, ValueError):  # a text naming a value this error lacks: the generic text
            pass
    if field:
        return t("msg.invalid", field=field_name(str(field), lang))
    if f"error.code.{exc.code}" in own and exc.code in CODES:
        return t(f"error.code.{exc.code}")
    return t("error.generic")


def explainer(lang: str) -> Callable[[AppError | None], str]:
    """The templates' ``say(error)``."""
    return lambda exc: message(exc, lang)


def _n(x: Any) -> str:
    return f"{round(float(x), 2):g}" if x is not None else ""


def signal_text(signal: Mapping[str, Any], cluster: Mapping[str, Any], lang: str) -> str:
    """A fraud signal's explanation in the reader's language (the API's ``reason`` is English), from the
    numbers the signal and its cluster carry."""
    kind = str(signal.get("signal", ""))
    key = "fraud.reason.many_voters" if kind.startswith("many_voters") else f"fraud.reason.{kind}"
    own = catalogue(lang)
    if key not in own:
        return ""
    values = {"value": _n(signal.get("value")), "baseline": _n(signal.get("baseline")),
              "threshold": _n(signal.get("threshold")), "votes": cluster.get("votes", ""),
              "voters": cluster.get("voters", ""),
              "candidate": (cluster.get("top_candidate") or {}).get("candidate_id", ""),
              "share": _n(100 * float(signal.get("value") or 0)),
              "base_share": _n(100 * float(signal.get("baseline") or 0)),
              "share_threshold": _n(100 * float(signal.get("threshold") or 0))}
    return own[key].format(**values)
