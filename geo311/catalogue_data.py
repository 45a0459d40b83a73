"""The service catalogue: read and validate ``data/catalogue/*.json`` into frozen dataclasses.

Pure: no database, no Flask. ``load_catalogue()`` reads ``departments.json``,
``service_types.json`` and ``routing_rules.json`` (all three carry the same ``version``) and
returns a :class:`Catalogue` that answers the lookups the rest of geo311 needs: a MyLA311
RequestType or Hack for LA ``typeName`` to a service code, a MyLA311 ``Owner`` code to a
department, accent-insensitive keyword search in English and Spanish, and routing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "DEFAULT_CATALOGUE_DIR",
    "LANGUAGES",
    "LIST_DATATYPES",
    "OPEN311_DATATYPES",
    "AttributeValue",
    "Catalogue",
    "CatalogueError",
    "Department",
    "RoutingRule",
    "ServiceAttribute",
    "ServiceType",
    "load_catalogue",
]

DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "data" / "catalogue"
DEPARTMENTS_FILE = "departments.json"
SERVICE_TYPES_FILE = "service_types.json"
ROUTING_RULES_FILE = "routing_rules.json"

#: Attribute datatypes allowed by Open311 GeoReport v2 service definitions.
OPEN311_DATATYPES = frozenset(
    {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
)
LIST_DATATYPES = frozenset({"singlevaluelist", "multivaluelist"})
LANGUAGES = ("en", "es")

_SNAKE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_UPPER_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Function words dropped from search queries so "recogida de basura" matches on its nouns.
_STOPWORDS = frozenset(
    "a an and the of on in at for to my is it".split()
    + "de del la las el los en un una y o por con mi al".split()
)


class CatalogueError(ValueError):
    """A catalogue file is missing, malformed or inconsistent; names file, item and field."""

    def __init__(self, file: str, item: str | None, field_name: str | None, problem: str):
        """Keep the parts for callers that want them; the message joins them."""
        self.file = file
        self.item = item
        self.field = field_name
        self.problem = problem
        where = ": ".join(
            p for p in (file, item, f"field {field_name!r}" if field_name else None) if p
        )
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Department:
    """A City department or bureau that work is routed to."""

    code: str
    name_en: str
    name_es: str
    parent: str | None
    myla311_owner_codes: tuple[str, ...]
    myla311_agency_names: tuple[str, ...]
    phone: str
    email: str | None
    url: str


@dataclass(frozen=True)
class AttributeValue:
    """One choice of a singlevaluelist/multivaluelist attribute (Open311 ``values``)."""

    key: str
    name_en: str
    name_es: str


@dataclass(frozen=True)
class ServiceAttribute:
    """One Open311 GeoReport v2 service-definition attribute."""

    code: str
    datatype: str
    required: bool
    variable: bool
    order: int
    description_en: str
    description_es: str
    datatype_description: str
    values: tuple[AttributeValue, ...] = ()
    datatype_description_es: str = ""
    #: Bounds and wholeness of a ``number`` answer (None / False: any finite number).
    minimum: float | None = None
    maximum: float | None = None
    whole_number: bool = False


@dataclass(frozen=True)
class ServiceType:
    """A request type (Open311 service) with its names, keywords and attributes."""

    code: str
    name_en: str
    name_es: str
    description_en: str
    description_es: str
    keywords_en: tuple[str, ...]
    keywords_es: tuple[str, ...]
    group: str
    group_es: str
    myla311_names: tuple[str, ...]
    default_department: str
    duplicate_radius_m: float
    duplicate_window_days: int
    attributes: tuple[ServiceAttribute, ...] = ()


@dataclass(frozen=True)
class RoutingRule:
    """Send ``service_code`` requests (optionally only inside one area) to ``department``."""

    service_code: str
    department: str
    priority: int = 0
    area_type: str | None = None
    area_code: str | None = None

    @property
    def is_default(self) -> bool:
        """True for a rule that applies everywhere (no area)."""
        return self.area_type is None


@dataclass(frozen=True)
class _Terms:
    """Accent-folded search terms of one service type in one language."""

    phrases: frozenset[str]
    keyword_words: frozenset[str]
    name_words: frozenset[str]
    description_words: frozenset[str]


@dataclass(frozen=True)
class Catalogue:
    """The validated catalogue, with lookups by code, MyLA311 name, owner and keyword."""

    version: str
    departments: tuple[Department, ...]
    service_types: tuple[ServiceType, ...]
    routing_rules: tuple[RoutingRule, ...]
    _by_name: dict[str, str] = field(init=False, repr=False, compare=False)
    _by_owner: dict[str, Department] = field(init=False, repr=False, compare=False)
    _terms: dict[str, dict[str, _Terms]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the lookup indexes once; the catalogue is immutable."""
        by_name = {_key(n): st.code for st in self.service_types for n in st.myla311_names}
        by_owner: dict[str, Department] = {}
        for dept in self.departments:
            for owner in (dept.code, *dept.myla311_owner_codes, *dept.myla311_agency_names):
                by_owner.setdefault(_key(owner), dept)
        terms = {
            st.code: {lang: _terms_for(st, lang) for lang in LANGUAGES} for st in self.service_types
        }
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_owner", by_owner)
        object.__setattr__(self, "_terms", terms)

    def find_service_type(self, code: str) -> ServiceType | None:
        """Return the service type with this code, or ``None``."""
        return next((st for st in self.service_types if st.code == code), None)

    def find_department(self, code: str) -> Department | None:
        """Return the department with this code, or ``None``."""
        return next((d for d in self.departments if d.code == code), None)

    def code_for_myla311_name(self, name: str) -> str | None:
        """Map a MyLA311 RequestType or Hack for LA ``typeName`` to a service code.

        :param name: e.g. ``"Bulky Items"`` or ``"metal/appliances"``; case and runs of
            whitespace are ignored.
        :returns: the service code, or ``None`` if no type lists that name.
        """
        return self._by_name.get(_key(name))

    def department_for_owner(self, owner_code: str) -> Department | None:
        """Map a MyLA311 ``Owner`` code (``BOS``), HfLA ``agencyName`` or department code.

        :param owner_code: matched case-insensitively.
        :returns: the department, or ``None`` if none lists it.
        """
        return self._by_owner.get(_key(owner_code))

    def department_for_service(
        self, service_code: str, areas: Mapping[str, str] | None = None
    ) -> Department:
        """Route a request: the department of the best routing rule that applies.

        A rule applies if it has no area, or if ``areas[rule.area_type] == rule.area_code``.
        The highest ``priority`` wins; on a tie an area rule beats the default and then the
        earlier rule in the file wins. With no rule, the type's ``default_department``.

        :param service_code: a service type code.
        :param areas: the request's areas as ``{area_type: area_code}``, e.g. ``{"CD": "10"}``.
        :returns: the department.
        :raises KeyError: if ``service_code`` is not in the catalogue.
        """
        service = self.find_service_type(service_code)
        if service is None:
            raise KeyError(service_code)
        areas = areas or {}
        applicable = [
            rule
            for rule in self.routing_rules
            if rule.service_code == service_code
            and (rule.is_default or areas.get(rule.area_type or "") == rule.area_code)
        ]
        # max() keeps the first of equal keys, so file order breaks the remaining ties.
        best = max(applicable, key=lambda r: (r.priority, not r.is_default), default=None)
        code = best.department if best else service.default_department
        dept = self.find_department(code)
        if dept is None:  # only reachable for a Catalogue built without load_catalogue()
            raise KeyError(code)
        return dept

    def search(self, text: str, lang: str | None = None) -> list[ServiceType]:
        """Find service types by keyword or name, ignoring case and accents, best first.

        :param text: what a resident typed, e.g. ``"bache"``, ``"colchon"``, ``"street light"``.
        :param lang: ``"en"`` or ``"es"`` to match one language only; ``None`` for both.
        :returns: matching service types ranked by score, ties by code; empty if none.
        :raises ValueError: for an unknown ``lang``.
        """
        if lang is not None and lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES} or None, not {lang!r}")
        phrase = " ".join(_words(text))
        if not phrase:
            return []
        langs = LANGUAGES if lang is None else (lang,)
        scored = []
        for st in self.service_types:
            score = 10.0 if _key(text) == st.code else 0.0
            for lg in langs:
                score += _score(self._terms[st.code][lg], phrase)
            if score > 0:
                scored.append((-score, st.code, st))
        return [st for _, _, st in sorted(scored, key=lambda t: (t[0], t[1]))]


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Read and validate the three catalogue files.

    :param directory: folder holding the JSON files; default the repo's ``data/catalogue``.
    :returns: the catalogue.
    :raises CatalogueError: (a ``ValueError``) naming file, item and field of the first problem.
    """
    folder = DEFAULT_CATALOGUE_DIR if directory is None else Path(directory)
    version, dept_rows = _read(folder, DEPARTMENTS_FILE, "departments")
    st_version, st_rows = _read(folder, SERVICE_TYPES_FILE, "service_types")
    rule_version, rule_rows = _read(folder, ROUTING_RULES_FILE, "rules")
    for file, other in ((SERVICE_TYPES_FILE, st_version), (ROUTING_RULES_FILE, rule_version)):
        if other != version:
            _fail(file, None, "version", f"{other!r} differs from {DEPARTMENTS_FILE} {version!r}")
    departments = tuple(_department(row, i) for i, row in enumerate(dept_rows))
    service_types = tuple(_service_type(row, i) for i, row in enumerate(st_rows))
    rules = tuple(_rule(row, i) for i, row in enumerate(rule_rows))
    _check_references(departments, service_types, rules)
    return Catalogue(version, departments, service_types, rules)


def _check_references(
    departments: tuple[Department, ...],
    service_types: tuple[ServiceType, ...],
    rules: tuple[RoutingRule, ...],
) -> None:
    """Cross-file checks: unique codes and names, and every department reference resolves."""
    _check_unique(DEPARTMENTS_FILE, [(d.code, f"department {d.code!r}") for d in departments])
    owners = [
        (o, f"department {d.code!r}")
        for d in departments
        for o in (d.code, *d.myla311_owner_codes, *d.myla311_agency_names)
    ]
    _check_unique_names(DEPARTMENTS_FILE, owners, "myla311_owner_codes")
    _check_unique(SERVICE_TYPES_FILE, [(s.code, f"service type {s.code!r}") for s in service_types])
    names = [(n, f"service type {s.code!r}") for s in service_types for n in s.myla311_names]
    _check_unique_names(SERVICE_TYPES_FILE, names, "myla311_names")

    dept_codes = {d.code for d in departments}
    groups: dict[str, str] = {}
    for st in service_types:
        item = f"service type {st.code!r}"
        if st.default_department not in dept_codes:
            problem = f"unknown department {st.default_department!r}"
            _fail(SERVICE_TYPES_FILE, item, "default_department", problem)
        if groups.setdefault(st.group, st.group_es) != st.group_es:
            problem = f"group {st.group!r} is {groups[st.group]!r} in Spanish elsewhere"
            _fail(SERVICE_TYPES_FILE, item, "group_es", problem)

    st_codes = {s.code for s in service_types}
    seen: set[tuple[str, str | None, str | None]] = set()
    for i, rule in enumerate(rules):
        item = f"rules[{i}]"
        if rule.service_code not in st_codes:
            problem = f"unknown service type {rule.service_code!r}"
            _fail(ROUTING_RULES_FILE, item, "service_code", problem)
        if rule.department not in dept_codes:
            problem = f"unknown department {rule.department!r}"
            _fail(ROUTING_RULES_FILE, item, "department", problem)
        key = (rule.service_code, rule.area_type, rule.area_code)
        if key in seen:
            _fail(ROUTING_RULES_FILE, item, "area_code", f"duplicate rule for {key}")
        seen.add(key)


# --- reading and validating ---------------------------------------------------------------


class _Row:
    """Typed access to one JSON object; every error names the file, the item and the field."""

    def __init__(self, file: str, item: str, data: Any, allowed: frozenset[str]):
        self.file, self.item = file, item
        if not isinstance(data, dict):
            _fail(file, item, None, "must be a JSON object")
        unknown = sorted(set(data) - allowed)
        if unknown:
            _fail(file, item, unknown[0], "unknown field")
        self.data: dict[str, Any] = data

    def fail(self, name: str, problem: str) -> NoReturn:
        _fail(self.file, self.item, name, problem)

    def text(self, name: str, *, optional: bool = False, empty_ok: bool = False) -> str:
        value = self.data.get(name)
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            self.fail(name, "missing" if value is None else "must be a string")
        if not empty_ok and not value.strip():
            self.fail(name, "must not be empty")
        return value.strip()

    def texts(self, name: str, *, empty_ok: bool = False) -> tuple[str, ...]:
        value = self.data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(name, "must be a list of non-empty strings")
        if not value and not empty_ok:
            self.fail(name, "must not be empty")
        keys = [_key(v) for v in value]
        if len(set(keys)) != len(keys):
            self.fail(name, "has duplicate entries")
        return tuple(v.strip() for v in value)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
        return value

    def integer(self, name: str, minimum: int | None = None) -> int:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be an integer")
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}")
        return value

    def code(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(name)
        if not pattern.match(value):
            self.fail(name, f"{value!r} is not {what}")
        return value


def _read(folder: Path, file: str, list_key: str) -> tuple[str, list[Any]]:
    path = folder / file
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(file, None, None, f"not found in {folder}")
    except json.JSONDecodeError as exc:
        _fail(file, None, None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    row = _Row(file, "top level", doc, frozenset({"version", list_key}))
    version = row.text("version")
    rows = row.data.get(list_key)
    if not isinstance(rows, list):
        row.fail(list_key, "must be a list")
    return version, rows


def _item_name(kind: str, data: Any, index: int) -> str:
    code = data.get("code") if isinstance(data, dict) else None
    return f"{kind} {code!r}" if isinstance(code, str) and code else f"{kind} #{index}"


def _department(data: Any, index: int) -> Department:
    r = _Row(DEPARTMENTS_FILE, _item_name("department", data, index), data, _fields_of(Department))
    email = r.text("email", optional=True)
    if email and "@" not in email:
        r.fail("email", f"{email!r} is not an e-mail address")
    url = r.text("url")
    if not url.startswith(("https://", "http://")):
        r.fail("url", f"{url!r} must start with https://")
    return Department(
        code=r.code("code", _UPPER_CODE_RE, "an upper-case code like LASAN"),
        name_en=r.text("name_en"),
        name_es=r.text("name_es"),
        parent=r.text("parent", optional=True) or None,
        myla311_owner_codes=r.texts("myla311_owner_codes", empty_ok=True),
        myla311_agency_names=r.texts("myla311_agency_names", empty_ok=True),
        phone=r.text("phone"),
        email=email or None,
        url=url,
    )


def _service_type(data: Any, index: int) -> ServiceType:
    r = _Row(
        SERVICE_TYPES_FILE, _item_name("service type", data, index), data, _fields_of(ServiceType)
    )
    code = r.code("code", _SNAKE_RE, "a lower_snake code like bulky_items")
    radius = r.data.get("duplicate_radius_m")
    if isinstance(radius, bool) or not isinstance(radius, int | float) or radius < 0:
        r.fail("duplicate_radius_m", "must be a number of metres, 0 or more")
    attrs = r.data.get("attributes")
    if not isinstance(attrs, list):
        r.fail("attributes", "must be a list")
    attributes = tuple(_attribute(a, i, r.item) for i, a in enumerate(attrs))
    pairs = [(a, f"{r.item} attribute {a.code!r}") for a in attributes]
    _check_unique(SERVICE_TYPES_FILE, [(a.code, where) for a, where in pairs])
    _check_unique(SERVICE_TYPES_FILE, [(str(a.order), where) for a, where in pairs], "order")
    return ServiceType(
        code=code,
        name_en=r.text("name_en"),
        name_es=r.text("name_es"),
        description_en=r.text("description_en"),
        description_es=r.text("description_es"),
        keywords_en=r.texts("keywords_en"),
        keywords_es=r.texts("keywords_es"),
        group=r.text("group"),
        group_es=r.text("group_es"),
        myla311_names=r.texts("myla311_names", empty_ok=True),
        default_department=r.text("default_department"),
        duplicate_radius_m=float(radius),
        duplicate_window_days=r.integer("duplicate_window_days", minimum=0),
        attributes=tuple(sorted(attributes, key=lambda a: a.order)),
    )


def _attribute(data: Any, index: int, parent: str) -> ServiceAttribute:
    r = _Row(
        SERVICE_TYPES_FILE,
        f"{parent} {_item_name('attribute', data, index)}",
        data,
        _fields_of(ServiceAttribute),
    )
    datatype = r.text("datatype")
    if datatype not in OPEN311_DATATYPES:
        r.fail("datatype", f"{datatype!r} is not one of {sorted(OPEN311_DATATYPES)}")
    raw_values = r.data.get("values")
    if datatype in LIST_DATATYPES:
        if not isinstance(raw_values, list) or not raw_values:
            r.fail("values", f"a {datatype} needs a non-empty list of values")
        values = tuple(_value(v, i, r) for i, v in enumerate(raw_values))
        _check_unique(
            SERVICE_TYPES_FILE, [(v.key, f"{r.item} value {v.key!r}") for v in values], "key"
        )
    elif raw_values is not None:
        r.fail("values", f"only list datatypes take values, not {datatype}")
    else:
        values = ()
    required, variable = r.boolean("required"), r.boolean("variable")
    if required and not variable:
        r.fail("required", "an attribute with variable=false only informs and cannot be required")
    return ServiceAttribute(
        code=r.code("code", _SNAKE_RE, "a lower_snake code"),
        datatype=datatype,
        required=required,
        variable=variable,
        order=r.integer("order", minimum=1),
        description_en=r.text("description_en"),
        description_es=r.text("description_es"),
        datatype_description=r.text("datatype_description", empty_ok=True),
        values=values,
        datatype_description_es=r.text("datatype_description_es", optional=True, empty_ok=True),
        **_number_rules(r, datatype),
    )


def _number_rules(r: _Row, datatype: str) -> dict[str, Any]:
    """``minimum``, ``maximum`` and ``whole_number`` of a number attribute (all optional)."""
    rules: dict[str, Any] = {}
    for name in ("minimum", "maximum"):
        value = r.data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            r.fail(name, "must be a number")
        rules[name] = float(value)
    if "whole_number" in r.data:
        rules["whole_number"] = r.boolean("whole_number")
    if rules and datatype != "number":
        r.fail(next(iter(rules)), f"only number attributes take bounds, not {datatype}")
    if rules.get("minimum") is not None and rules.get("maximum") is not None \
            and rules["minimum"] > rules["maximum"]:
        r.fail("minimum", "is above maximum")
    return rules


def _value(data: Any, index: int, attribute: _Row) -> AttributeValue:
    key = data.get("key") if isinstance(data, dict) else None
    item = (
        f"{attribute.item} value {key!r}"
        if isinstance(key, str)
        else f"{attribute.item} value #{index}"
    )
    r = _Row(SERVICE_TYPES_FILE, item, data, _fields_of(AttributeValue))
    return AttributeValue(key=r.text("key"), name_en=r.text("name_en"), name_es=r.text("name_es"))


def _rule(data: Any, index: int) -> RoutingRule:
    r = _Row(ROUTING_RULES_FILE, f"rules[{index}]", data, _fields_of(RoutingRule))
    area_type = r.text("area_type", optional=True) or None
    area_code = r.text("area_code", optional=True) or None
    if (area_type is None) != (area_code is None):
        r.fail("area_code" if area_type else "area_type", "area_type and area_code go together")
    if area_type is not None and not _UPPER_CODE_RE.match(area_type):
        r.fail("area_type", f"{area_type!r} is not an upper-case area type like CD")
    return RoutingRule(
        service_code=r.text("service_code"),
        department=r.text("department"),
        priority=r.integer("priority"),
        area_type=area_type,
        area_code=area_code,
    )


def _fields_of(cls: type[Any]) -> frozenset[str]:
    """The JSON keys of an item: exactly the dataclass's field names."""
    return frozenset(f.name for f in fields(cls))


def _fail(file: str, item: str | None, field_name: str | None, problem: str) -> NoReturn:
    raise CatalogueError(file, item, field_name, problem)


def _check_unique(file: str, codes: list[tuple[str, str]], field_name: str = "code") -> None:
    """Fail on the second item (``(code, item)`` pairs) that repeats a code."""
    seen: set[str] = set()
    for code, item in codes:
        if code in seen:
            _fail(file, item, field_name, f"duplicate {code!r}")
        seen.add(code)


def _check_unique_names(file: str, names: list[tuple[str, str]], field_name: str) -> None:
    """Names matched case-insensitively must point at exactly one item."""
    owner: dict[str, str] = {}
    for name, item in names:
        first = owner.setdefault(_key(name), item)
        if first != item:
            _fail(file, item, field_name, f"{name!r} is already used by {first}")


# --- search ---------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Case- and whitespace-insensitive lookup key (accents kept: they are data)."""
    return " ".join(text.split()).casefold()


def _fold(text: str) -> str:
    """Lower-case, strip accents and punctuation: ``"Colchón/Sofá"`` -> ``"colchon sofa"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in _fold(text).split() if w not in _STOPWORDS)


def _terms_for(st: ServiceType, lang: str) -> _Terms:
    name = st.name_en if lang == "en" else st.name_es
    description = st.description_en if lang == "en" else st.description_es
    keywords = st.keywords_en if lang == "en" else st.keywords_es
    return _Terms(
        phrases=frozenset(" ".join(_words(t)) for t in (name, *keywords)),
        keyword_words=frozenset(w for k in keywords for w in _words(k)),
        name_words=frozenset(_words(name)),
        description_words=frozenset(_words(description)),
    )


def _same_word(a: str, b: str) -> bool:
    """Equal up to an English/Spanish plural ending: bache/baches, light/lights."""
    return a == b or a in (b + "s", b + "es") or b in (a + "s", a + "es")


def _score(terms: _Terms, phrase: str) -> float:
    # A whole-query match on a keyword or name outranks any number of word hits, so
    # "muebles" puts bulky_items (keyword "muebles") above illegal_dumping ("muebles tirados").
    score = 8.0 if phrase in terms.phrases else 0.0
    for word in phrase.split():
        if any(_same_word(word, k) for k in terms.keyword_words):
            score += 3.0
        elif len(word) >= 4 and any(k.startswith(word) for k in terms.keyword_words):
            score += 1.0  # type-ahead: "colch" -> "colchon"
        if any(_same_word(word, n) for n in terms.name_words):
            score += 2.0
        if any(_same_word(word, d) for d in terms.description_words):
            score += 0.5
    return score
