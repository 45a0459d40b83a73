"""The resident's type chooser: request types and their questions in one language, searchable.

Open311 ``services.json`` speaks English only; the report page needs Spanish names, questions
and answer choices too. Rows come from ``service_type`` (what ``geo311 catalogue sync`` stored),
so the page asks exactly what :func:`geo311.request_validation.validate_attributes` checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo311.errors import BadRequest
from geo311.models import ServiceType

__all__ = ["TYPE_LANGS", "TypeChoice", "choose_types", "fold"]

TYPE_LANGS = ("en", "es")
_QUERY_MAX_CHARS = 100


@dataclass(frozen=True)
class TypeChoice:
    """One request type as the chooser shows it, in one language."""

    code: str
    name: str
    description: str
    group: str
    duplicate_radius_m: float
    duplicate_window_days: int
    attributes: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**self.__dict__, "attributes": list(self.attributes)}


def fold(text: str) -> str:
    """Lower case without accents or punctuation, for matching what residents type.

    >>> fold("Colchón/Sofá")
    'colchon sofa'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def choose_types(conn: Connection, lang: str, query: str | None = None) -> list[TypeChoice]:
    """Request types in ``lang``; with ``query``, those matching it in either language, best first.

    A type matches when every word typed starts a word of its name or keywords (English or
    Spanish, accents ignored); a type whose name or a keyword starts with the whole text ranks
    first.

    :param lang: ``en`` or ``es``: the language of names, questions and choices.
    :param query: what the resident typed (``bache``, ``bulky``); None or blank for all types.
    :raises BadRequest: unknown ``lang`` or an over-long query.
    """
    if lang not in TYPE_LANGS:
        raise BadRequest(f"parameter 'lang' must be one of {', '.join(TYPE_LANGS)}")
    if query is not None and len(query) > _QUERY_MAX_CHARS:
        raise BadRequest(f"parameter 'q' must be at most {_QUERY_MAX_CHARS} characters")
    rows = conn.execute(select(ServiceType).order_by(ServiceType.group, ServiceType.code))
    words = fold(query or "").split()
    ranked = []
    for st in rows:
        rank = _rank(st, words)
        if rank is not None:
            ranked.append((rank, st.name_es if lang == "es" else st.name_en, st))
    ranked.sort(key=lambda r: (r[0], fold(r[1])) if words else (0, ""))
    return [_choice(st, lang) for _, _, st in ranked]


def _rank(st: Any, words: list[str]) -> int | None:
    if not words:
        return 0
    terms = [fold(t) for t in (st.name_en, st.name_es, st.code.replace("_", " "),
                               *(st.keywords_en or []), *(st.keywords_es or []))]
    vocabulary = {w for t in terms for w in t.split()}
    if not all(any(v.startswith(w) for v in vocabulary) for w in words):
        return None
    phrase = " ".join(words)
    return 0 if any(t.startswith(phrase) for t in terms) else 1


def _choice(st: Any, lang: str) -> TypeChoice:
    name = st.name_es if lang == "es" else st.name_en
    description = (st.description_es if lang == "es" else st.description_en) or ""
    attributes = sorted((_attribute(a, lang) for a in st.attributes or []),
                        key=lambda a: a["order"])
    return TypeChoice(st.code, name, description, st.group or "", float(st.duplicate_radius_m),
                      int(st.duplicate_window_days), tuple(attributes))


def _attribute(raw: dict[str, Any], lang: str) -> dict[str, Any]:
    other = "en" if lang == "es" else "es"
    attribute = {
        "code": raw["code"], "datatype": raw["datatype"],
        "required": bool(raw.get("required", False)),
        "variable": bool(raw.get("variable", True)), "order": int(raw.get("order", 0)),
        "description": raw.get(f"description_{lang}") or raw.get(f"description_{other}") or "",
        # the hint in the reader's language: datatype_description (English) or its _es twin
        "datatype_description": (raw.get("datatype_description") or "") if lang == "en"
        else (raw.get(f"datatype_description_{lang}") or ""),
    }
    for rule in ("minimum", "maximum", "whole_number"):  # for the form's own number checks
        if raw.get(rule) is not None:
            attribute[rule] = raw[rule]
    if raw.get("values"):
        attribute["values"] = [
            {"key": v["key"], "name": v.get(f"name_{lang}") or v.get(f"name_{other}") or v["key"]}
            for v in raw["values"]]
    return attribute
