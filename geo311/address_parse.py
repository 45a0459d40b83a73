"""Turn what LA residents type into structured query parts (pure Python, no database).

:func:`parse_query` returns a :class:`ParsedQuery` of one kind: ``address`` (house number and
street), ``intersection`` (street and cross streets), ``block`` (a street between two others),
``street`` (a street and nothing else), ``place`` (named place, community or ZIP) or ``empty``.
LA rules come first; ``usaddress`` decides only what trails a street after its suffix
(``"123 MAIN ST GLENDALE"``: a city; ``"123 MAIN ST 5"``: a unit), and a failure there falls back
to our own rule. Canonical forms: upper case, no punctuation, USPS suffixes, numbered streets as
ordinals (``"3RD"``), ``MOUNT`` as ``MT`` and ``SAINT`` as ``ST`` (the forms MyLA311 uses), and
``O FARRELL`` as ``OFARRELL`` (what ``O'Farrell`` gives once the apostrophe is dropped).

Reason codes in ``ParsedQuery.notes``: ``street_suffix_missing``, ``spelled_number_normalized``,
``community_as_city``, ``community_outside_city``, ``unit_ignored``, ``house_number_range``,
``house_number_suffix``, ``hundred_block``, ``cross_street_hint``, ``near``, ``phrase_removed``,
``zip_only``, ``number_only``, ``may_be_street``, ``block_incomplete``, ``trailing_words_ignored``,
``street_side_ignored``, ``usaddress_failed``, ``text_truncated``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import usaddress

from geo311.address_words import (
    BETWEEN_JOINERS,
    BETWEEN_WORDS,
    CONNECTOR_WORDS,
    CONNECTORS,
    COUNTRY_WORDS,
    DIRECTIONS,
    LA_COMMUNITIES,
    LA_MINOR_SUFFIXES,
    LA_STREET_SUFFIXES,
    LEAD_PHRASES,
    PLACE_WORDS,
    PRE_TYPE_NAMES,
    STATE_WORDS,
    SUFFIXLESS_NAMES,
    UNIT_DESIGNATORS,
    UNIT_FLAGS,
    UNIT_ID_RE,
    USPS_SUFFIXES,
    ascii_upper,
    clean_words,
    community_name,
    name_form,
    whole_unit,
)

__all__ = [
    "StreetRef",
    "ParsedQuery",
    "parse_query",
    "normalize_street_name",
    "normalize_suffix",
    "normalize_direction",
    "street_key",
    "USPS_SUFFIXES",
    "LA_COMMUNITIES",
    "MAX_QUERY_CHARS",
]

MAX_QUERY_CHARS = 400  # nobody types a longer address; bounds the work done on pasted text

_HOUSE_RE = re.compile(r"(\d{1,6})(?:-(\d{1,6}|[A-Z]))?([A-Z])?")
_FRACTION_RE = re.compile(r"[1-9]/[1-9]\d?")
_ZIP_RE = re.compile(r"(\d{5})(?:-\d{4})?")
_SIDE_RE = re.compile(r"\(\s*[NSEWnsew]\s*\)")
_HUNDRED_BLOCK = (["BLOCK", "OF"], ["BLK", "OF"], ["BLOCK"], ["BLK"])
_STREET_NOTES = ("street_suffix_missing", "spelled_number_normalized")


@dataclass(frozen=True)
class StreetRef:
    """One street as typed, normalized (``name`` never includes the direction or suffix)."""

    name: str
    pre_dir: str | None = None
    suffix: str | None = None
    post_dir: str | None = None

    def label(self) -> str:
        """Return the street written out the way LA datasets print it.

        :returns: e.g. ``"S BERENDO ST"``.

        >>> StreetRef("BERENDO", "S", "ST").label()
        'S BERENDO ST'
        """
        return " ".join(p for p in (self.pre_dir, self.name, self.suffix, self.post_dir) if p)


@dataclass(frozen=True)
class ParsedQuery:
    """Structured parts of one query; see the module docstring for kinds and note codes.

    For ``place`` queries with no place word (``"Wilshire"``), ``street`` holds the street
    reading as a fallback and ``notes`` contains ``may_be_street``.
    """

    kind: str
    text: str
    house_number: int | None = None
    house_fraction: str | None = None
    street: StreetRef | None = None
    cross_streets: tuple[StreetRef, ...] = ()
    unit: str | None = None
    zip: str | None = None
    community: str | None = None
    place_text: str | None = None
    notes: tuple[str, ...] = ()


def normalize_direction(word: str) -> str | None:
    """Return the one- or two-letter direction for a direction word, or ``None``.

    :param word: ``"north"``, ``"N."``, ``"Southwest"``...
    :returns: ``"N"``, ``"S"``, ``"E"``, ``"W"``, ``"NE"``... or ``None``.

    >>> normalize_direction("north"), normalize_direction("N."), normalize_direction("Main")
    ('N', 'N', None)
    """
    return DIRECTIONS.get(_squash(word))


def normalize_suffix(word: str) -> str | None:
    """Return the USPS standard suffix abbreviation (Publication 28, C1) for any variant.

    LA spellings are accepted too: ``BL`` (LADOT) is ``BLVD``, ``TR`` is ``TRL``, ``CL`` is a
    Venice canal.

    :param word: ``"Boulevard"``, ``"Blvd."``, ``"av"``...
    :returns: the standard abbreviation, or ``None`` if the word is not a suffix.

    >>> normalize_suffix("Boulevard"), normalize_suffix("BL"), normalize_suffix("Berendo")
    ('BLVD', 'BLVD', None)
    """
    return USPS_SUFFIXES.get(_squash(word))


def normalize_street_name(name: str) -> str:
    """Normalize a core street name (no direction, no suffix) to its matching form.

    Upper case; punctuation becomes a space except apostrophes, which are dropped
    (``O'FARRELL`` -> ``OFARRELL``), and a lone ``O`` or ``D`` written for the apostrophe joins
    the next word (``O FARRELL`` -> ``OFARRELL``, ``COEUR D ALENE`` -> ``COEUR DALENE``; not the
    lettered ``O ST``); numbered streets become ordinals (``Third``, ``3``, ``3th`` -> ``3RD``;
    up to 999TH); ``MOUNT``/``MT.`` -> ``MT``, ``SAINT`` -> ``ST``; ``Ave 50`` -> ``AVENUE 50``.

    :param name: the name as typed or as stored by a dataset.
    :returns: the normalized name, ``""`` if nothing is left.

    >>> normalize_street_name("Third"), normalize_street_name("mt. washington")
    ('3RD', 'MT WASHINGTON')
    >>> normalize_street_name("Martin Luther King, Jr."), normalize_street_name("twenty-first")
    ('MARTIN LUTHER KING JR', '21ST')
    >>> normalize_street_name("Coeur d'Alene"), normalize_street_name("Coeur d Alene")
    ('COEUR DALENE', 'COEUR DALENE')
    """
    return name_form(clean_words(name))[0]


def street_key(name: str, suffix: str | None = None) -> str:
    """Return the key loaders and lookups use to match a street: normalized name plus suffix.

    :param name: the core street name.
    :param suffix: the suffix in any spelling; unknown suffixes are kept as cleaned words.
    :returns: e.g. ``"BERENDO ST"``; just the name when there is no suffix.

    >>> street_key("Berendo", "Street"), street_key("Avenue 50"), street_key("Sunset", "BL")
    ('BERENDO ST', 'AVENUE 50', 'SUNSET BLVD')
    >>> street_key("O Farrell", "St"), street_key("O'Farrell", "St"), street_key("O", "St")
    ('OFARRELL ST', 'OFARRELL ST', 'O ST')
    """
    base = normalize_street_name(name)
    words = " ".join(clean_words(suffix or ""))
    if not words:
        return base
    return f"{base} {normalize_suffix(words) or words}".strip()


def parse_query(text: str) -> ParsedQuery:
    """Parse free text typed by a resident into query parts. Never raises.

    :param text: e.g. ``"356 s. berendo st., los angeles ca"`` or ``"sunset and vine"``.
    :returns: a :class:`ParsedQuery`; ``kind == "empty"`` for blank text.

    >>> q = parse_query("1234 1/2 W 3rd St Apt 5, Van Nuys, CA 91401")
    >>> q.kind, q.house_number, q.house_fraction, q.street.label(), q.unit, q.zip, q.community
    ('address', 1234, '1/2', 'W 3RD ST', 'APT 5', '91401', 'VAN NUYS')
    >>> q = parse_query("corner of sunset and vine")
    >>> q.kind, q.street.name, [s.name for s in q.cross_streets]
    ('intersection', 'SUNSET', ['VINE'])
    """
    found = _Found()
    raw = text
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        found.note("text_truncated")
    raw, sides = _SIDE_RE.subn(" ", raw)
    if sides:
        found.note("street_side_ignored")  # LADOT meter block faces: "1400 MAIN ST (S)"
    parts = [part.split() for part in _clean_query(raw).split(",")]
    parts = [part for part in parts if part]
    if not parts:
        return ParsedQuery(kind="empty", text=text, notes=tuple(found.notes))
    tokens = _take_tail_parts(parts, found)
    tokens = _take_trailing_words(tokens, found)
    tokens = _drop_lead_phrase(tokens, found)
    return _parse_core(text, tokens, found)


@dataclass
class _Found:
    """Mutable accumulator for the parts found while the text is consumed."""

    zip: str | None = None
    community: str | None = None
    unit: str | None = None
    notes: list[str] = field(default_factory=list)

    def note(self, code: str) -> None:
        if code not in self.notes:
            self.notes.append(code)

    def set_community(self, words: str) -> None:
        if self.community is None:
            self.community = community_name(words) or words
            if self.community not in LA_COMMUNITIES:
                self.note("community_outside_city")
            elif self.community != "LOS ANGELES":
                self.note("community_as_city")

    def set_unit(self, designator: str, ident: str | None) -> None:
        if self.unit is None:
            self.unit = f"{designator} {ident}" if ident else designator
            self.note("unit_ignored")

    def result(
        self,
        text: str,
        kind: str,
        street: StreetRef | None = None,
        cross_streets: tuple[StreetRef, ...] = (),
        house: tuple[int, str | None] | None = None,
        place_text: str | None = None,
        community: str | None = None,
    ) -> ParsedQuery:
        notes = self.notes
        if kind == "place":
            notes = [n for n in notes if n not in _STREET_NOTES]
        return ParsedQuery(
            kind=kind,
            text=text,
            house_number=house[0] if house else None,
            house_fraction=house[1] if house else None,
            street=street,
            cross_streets=cross_streets,
            unit=self.unit,
            zip=self.zip,
            community=community or self.community,
            place_text=place_text,
            notes=tuple(notes),
        )


def _parse_core(text: str, tokens: list[str], found: _Found) -> ParsedQuery:
    if len(tokens) == 1 and _ZIP_RE.fullmatch(tokens[0]):
        found.zip, tokens = found.zip or tokens[0][:5], []
    if not tokens:
        if not (found.zip or found.community):
            return found.result(text, "empty")
        if not found.community:
            found.note("zip_only")
        return found.result(text, "place", place_text=found.community)
    kind, main, crosses = _split_streets(tokens, found)
    house = _house_number(main, found)
    if house is not None:
        number, fraction, rest = house
        if len(rest) == 1 and USPS_SUFFIXES.get(rest[0]) in LA_STREET_SUFFIXES:
            main = [str(number), *rest]  # "3 St" is 3rd Street, not number 3 of a street "ST"
        elif rest:
            street = _street(_split_after_suffix(number, rest, found), True, found)
            if crosses:
                found.note("cross_street_hint")
            return found.result(
                text, "address", street, _streets(crosses, found), house=(number, fraction)
            )
    street = _street(main, False, found)
    if crosses and street is not None:
        return found.result(text, kind, street, _streets(crosses, found))
    words = " ".join(tokens)
    as_community = community_name(words)
    number_only = bool(_HOUSE_RE.fullmatch(words))  # "123" alone is not 123rd Street
    if street is not None and not (as_community or number_only) and _looks_like_street(street):
        return found.result(text, "street", street)
    hint = None
    if number_only:
        found.note("number_only")
    elif street is not None and not set(tokens) & PLACE_WORDS:
        hint = street  # "Wilshire": a place to look up, or maybe a street
        found.note("may_be_street")
    return found.result(text, "place", hint, place_text=words, community=as_community)


def _split_streets(tokens: list[str], found: _Found) -> tuple[str, list[str], list[list[str]]]:
    """Split "A between B and C" (block) or "A & B" (intersection) into street word lists."""
    for i, word in enumerate(tokens):
        if word in BETWEEN_WORDS and i > 0:
            tail = tokens[i + 1 :]
            for j, joiner in enumerate(tail):
                ok = joiner == "TO" if word == "FROM" else joiner in BETWEEN_JOINERS - {"TO"}
                if ok and 0 < j < len(tail) - 1:
                    return "block", tokens[:i], [tail[:j], tail[j + 1 :]]
            if word != "FROM" and tail:
                found.note("block_incomplete")
                return "intersection", tokens[:i], [tail]
            break
    sides: list[list[str]] = [[]]
    used: set[str] = set()
    for i, word in enumerate(tokens):
        if word in CONNECTORS and not (word == "AND" and tokens[i - 1 : i] == ["HUNDRED"]):
            sides.append([])
            used.add(word)
        else:
            sides[-1].append(word)
    sides = [side for side in sides if side]
    if len(sides) < 2:
        return "", tokens, []
    # "Museum of Science and Industry" is a place; "Sunset Blvd and Vine" is not.
    if used & CONNECTOR_WORDS and set(tokens) & PLACE_WORDS:
        if not any(_ends_with_suffix(side) for side in sides):
            return "", tokens, []
    if "NEAR" in used:
        found.note("near")
    return "intersection", sides[0], sides[1:]


def _house_number(tokens: list[str], found: _Found) -> tuple[int, str | None, list[str]] | None:
    match = _HOUSE_RE.fullmatch(tokens[0]) if len(tokens) > 1 else None
    if match is None:
        return None
    number, rest, fraction = int(match.group(1)), tokens[1:], None
    other, letter = match.group(2), match.group(3)
    if other and other.isdigit():
        found.note("house_number_range")  # "5649-5647 TAMPA AVE": keep the first number
    elif other or letter:
        found.note("house_number_suffix")
        found.set_unit("#", other or letter)
    if rest and _FRACTION_RE.fullmatch(rest[0]):
        fraction, rest = rest[0], rest[1:]
    for lead in _HUNDRED_BLOCK:
        if rest[: len(lead)] == lead:
            found.note("hundred_block")
            rest = rest[len(lead) :]
            break
    return number, fraction, rest


def _split_after_suffix(number: int, rest: list[str], found: _Found) -> list[str]:
    """Cut words that trail a street suffix; ``usaddress`` says if they are a city or a unit."""
    if len(rest) < 3 or _suffix_of(rest[-1], True) or rest[-1] in DIRECTIONS:
        return rest
    for j in range(len(rest) - 2, 0, -1):
        if USPS_SUFFIXES.get(rest[j]) in LA_STREET_SUFFIXES:
            if all(word in DIRECTIONS for word in rest[:j]):
                return rest  # "N AVE 50": the suffix word starts the name
            _classify_trailing(number, rest[: j + 1], rest[j + 1 :], found)
            return rest[: j + 1]
    return rest


def _classify_trailing(number: int, street: list[str], trailing: list[str], found: _Found) -> None:
    words = " ".join(trailing)
    try:
        tagged, _ = usaddress.tag(" ".join([str(number), *street, *trailing]))
    except usaddress.RepeatedLabelError:
        found.note("usaddress_failed")  # our own rule below decides
        tagged = {}
    ident = str(tagged.get("OccupancyIdentifier", "")).replace("#", "").strip()
    place = str(tagged.get("PlaceName", ""))
    if place and words.startswith(place):
        found.set_community(place)  # "123 MAIN ST BOSTON MA": the state is dropped
    elif ident and words.endswith(ident):
        found.set_unit(UNIT_DESIGNATORS.get(str(tagged.get("OccupancyType")), "#"), ident)
    elif len(trailing) == 1 and UNIT_ID_RE.fullmatch(words) and any(c.isdigit() for c in words):
        found.set_unit("#", words)
    else:
        found.note("trailing_words_ignored")


def _street(tokens: list[str], has_number: bool, found: _Found) -> StreetRef | None:
    """Apply LA rules to the words of one street: direction, name, suffix, direction."""
    words = list(tokens)
    pre = post = suffix = None
    # Trailing direction first: "HUNTINGTON DR NORTH", LADOT's "ARDMORE AVE S", "901 E ST W".
    if len(words) >= 2 and words[-1] in DIRECTIONS:
        if words[-2] in USPS_SUFFIXES or len(words[-1]) <= 2:
            post, words = DIRECTIONS[words[-1]], words[:-1]
    if len(words) >= 2 and words[0] in DIRECTIONS:
        if len(words) >= 3 or _suffix_of(words[1], has_number) is None:
            pre, words = DIRECTIONS[words[0]], words[1:]  # but "WEST BLVD" is a name
    pretype = len(words) == 2 and words[0] in PRE_TYPE_NAMES and words[1].isdigit()
    if len(words) >= 2 and not pretype:
        suffix = _suffix_of(words[-1], has_number)
        if suffix is not None:
            words = words[:-1]
    name, changed = name_form(words)
    if not name:
        return None
    if changed:
        found.note("spelled_number_normalized")
    if suffix is None and not pretype and name not in SUFFIXLESS_NAMES:
        found.note("street_suffix_missing")
    return StreetRef(name=name, pre_dir=pre, suffix=suffix, post_dir=post)


def _streets(sides: list[list[str]], found: _Found) -> tuple[StreetRef, ...]:
    streets = (_street(side, False, found) for side in sides)
    return tuple(street for street in streets if street is not None)


def _suffix_of(word: str, has_number: bool) -> str | None:
    standard = USPS_SUFFIXES.get(word)
    if standard in LA_STREET_SUFFIXES or (has_number and standard in LA_MINOR_SUFFIXES):
        return standard
    return None


def _looks_like_street(street: StreetRef) -> bool:
    return bool(
        street.suffix in LA_STREET_SUFFIXES
        or street.pre_dir
        or street.post_dir
        or street.name in SUFFIXLESS_NAMES
        or re.fullmatch(r"\d+(ST|ND|RD|TH)|(AVENUE|TERRACE) \d+", street.name)
    )


def _ends_with_suffix(words: list[str]) -> bool:
    return bool(words) and USPS_SUFFIXES.get(words[-1]) in LA_STREET_SUFFIXES


def _take_tail_parts(parts: list[list[str]], found: _Found) -> list[str]:
    """Consume comma-separated trailing parts: country, state, ZIP, community, unit."""
    street_first = len(parts[0]) > 1 and bool(_HOUSE_RE.fullmatch(parts[0][0]))
    street_first = street_first or _ends_with_suffix(parts[0])
    while len(parts) > 1:
        part = list(parts[-1])
        _pop_zip_state(part, found, keep=0)
        words = " ".join(part)
        unit = whole_unit(part)
        city_like = street_first and len(part) <= 4 and all(word.isalpha() for word in part)
        city_like = city_like and not set(part) & (CONNECTORS | BETWEEN_WORDS)
        if not part:
            pass
        elif community_name(words):
            found.set_community(words)
        elif unit is not None:
            found.set_unit(*unit)
        elif city_like and not _ends_with_suffix(part):
            found.set_community(words)  # "123 Main St, Glendale": a city we do not know
        else:
            parts[-1] = part
            break
        parts.pop()
    return [token for part in parts for token in part]


def _take_trailing_words(tokens: list[str], found: _Found) -> list[str]:
    """Consume a ZIP, state, unit and community written without commas."""
    tokens = list(tokens)
    _pop_zip_state(tokens, found, keep=1)
    boundary = len(tokens)
    for i in range(2, len(tokens) - 1):
        designator = UNIT_DESIGNATORS.get(tokens[i])
        skip = 2 if tokens[i + 1] == "#" and designator != "#" else 1
        if designator and i + skip < len(tokens) and UNIT_ID_RE.fullmatch(tokens[i + skip]):
            found.set_unit(designator, tokens[i + skip])
            tokens, boundary = tokens[:i] + tokens[i + skip + 1 :], i
            break
    if len(tokens) >= 3 and tokens[-1] in UNIT_FLAGS and found.unit is None:
        found.set_unit(UNIT_FLAGS[tokens.pop()], None)
        boundary = len(tokens)
    for n in (4, 3, 2, 1):
        start = len(tokens) - n
        if start < 2 or not community_name(" ".join(tokens[start:])):
            continue
        before = tokens[start - 1]
        post_dir = before in DIRECTIONS and start >= 3 and tokens[start - 2] in USPS_SUFFIXES
        if start == boundary or before in USPS_SUFFIXES or post_dir:
            found.set_community(" ".join(tokens[start:]))
            del tokens[start:]
            _pop_zip_state(tokens, found, keep=1)
            break
    return tokens


def _pop_zip_state(tokens: list[str], found: _Found, keep: int) -> None:
    while len(tokens) > keep:
        zip_match = _ZIP_RE.fullmatch(tokens[-1])
        if zip_match:
            found.zip = found.zip or zip_match.group(1)
        elif tokens[-1] not in STATE_WORDS and tokens[-1] not in COUNTRY_WORDS:
            for n in (4, 3, 2):
                if len(tokens) - n >= keep and " ".join(tokens[-n:]) in COUNTRY_WORDS:
                    del tokens[-n:]
                    break
            else:
                return
            continue
        tokens.pop()


def _drop_lead_phrase(tokens: list[str], found: _Found) -> list[str]:
    for phrase in LEAD_PHRASES:
        if tokens[: len(phrase)] == phrase and len(tokens) > len(phrase):
            found.note("near" if phrase[0] in ("NEAR", "CERCA") else "phrase_removed")
            return tokens[len(phrase) :]
    return tokens


def _squash(word: str) -> str:
    return re.sub(r"[^A-Z0-9#]", "", ascii_upper(word))


def _clean_query(text: str) -> str:
    s = re.sub(r"['`]", "", ascii_upper(text)).replace(";", ",")
    s = re.sub(r",\s*(JR|SR)\b", r" \1", s)  # "MARTIN LUTHER KING, JR BLVD" (MyLA311)
    s = re.sub(r"\bB\s*/\s*T\b", " BTWN ", s)
    s = re.sub(r"(?<!\d)/|/(?!\d)", " / ", s)  # keep "1/2", split "Sunset/Vine"
    s = re.sub(r"(?<!\d)-|-(?!\d)", " ", s)  # keep "5649-5647" and ZIP+4
    s = re.sub(r"([&@+#])", r" \1 ", s)
    return re.sub(r"[^A-Z0-9/&@+#,\- ]", " ", s)
