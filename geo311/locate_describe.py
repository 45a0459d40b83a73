"""The locate answer in one sentence a resident can read, in English or Spanish."""

from __future__ import annotations

from geo311.locate_result import LocateResult, display_case

__all__ = ["describe"]

_WORDS = {
    "en": {
        "in_front": "In front of {address}",
        "on_street": "On {street}",
        "near": "Near {address}",
        "in_zip": "Somewhere in ZIP code {zip}",
        "not_found_in_zip": " (the street was not found there)",
        "side": "{side} side",
        "between": "between {a} and {b}",
        "at": "at {a}",
        "corner": "At {a} & {b}",
        "cd": "Council District {code}",
        "handled": "handled by {name}",
        "score": "match score {score}/100",
        "no_match": "No location found for this input",
        "north": "north", "south": "south", "east": "east", "west": "west",
        "outside": "{message} Contact: {contact}",
        "ambiguous": "near the line between {names}",
    },
    "es": {
        "in_front": "Frente a {address}",
        "on_street": "En {street}",
        "near": "Cerca de {address}",
        "in_zip": "En algún lugar del código postal {zip}",
        "not_found_in_zip": " (no se encontró la calle allí)",
        "side": "lado {side}",
        "between": "entre {a} y {b}",
        "at": "en {a}",
        "corner": "En la esquina de {a} y {b}",
        "cd": "Distrito del Concejo {code}",
        "handled": "atendido por {name}",
        "score": "puntuación {score}/100",
        "no_match": "No se encontró ninguna ubicación para este texto",
        "north": "norte", "south": "sur", "east": "este", "west": "oeste",
        "outside": "Fuera de la Ciudad de Los Ángeles ({name}). Contacto: {contact}",
        "ambiguous": "cerca del límite entre {names}",
    },
}


def describe(result: LocateResult, lang: str = "en") -> str:
    """Say the answer in words: where, which side, between which streets, districts, department.

    :param result: the locate answer.
    :param lang: ``en`` or ``es`` (anything else falls back to English).
    :returns: e.g. "In front of 356 S Berendo St, east side, between 3rd St and 4th St;
        Council District 10; Wilshire Center - Koreatown NC; handled by LA Sanitation".
    """
    words = _WORDS.get(lang, _WORDS["en"])
    if not result.found:
        return words["no_match"]
    parts: list[str] = []
    first = _where(result, words)
    if first:
        parts.append(first)
    areas = {a["type"]: a for a in result.areas}
    if result.jurisdiction and not result.jurisdiction.inside_city:
        parts.append(words["outside"].format(message=result.jurisdiction.message,
                                             name=result.jurisdiction.name,
                                             contact=result.jurisdiction.contact))
    else:
        if "CD" in areas:
            parts.append(words["cd"].format(code=areas["CD"]["code"]))
        if "NC" in areas:
            parts.append(display_case(areas["NC"]["name"]))
        lines = [a for a in result.ambiguities if a.kind == "district_line" and a.type == "CD"]
        if len(lines) > 1:
            parts.append(words["ambiguous"].format(
                names=" / ".join(f"CD {a.code} ({a.distance_m:.0f} m)" for a in lines)))
        if result.department and result.department.get("code"):
            name = result.department.get("name_es" if lang == "es" else "name") or \
                result.department["code"]
            parts.append(words["handled"].format(name=name))
    parts.append(words["score"].format(score=result.score))
    return "; ".join(parts)


def _where(result: LocateResult, words: dict[str, str]) -> str:
    segment = result.segment
    address = result.address
    block = _described_block(result)
    if block:  # the block typed, not the ends of the segment its middle snapped to
        street, first, second = (display_case(name) for name in block)
        return ", ".join((words["on_street"].format(street=street),
                          words["between"].format(a=first, b=second)))
    corner = _corner_streets(result)
    if corner:
        # The corner itself: the segment it was read from may run for kilometres (a High
        # Injury Network line from Crescent Heights to Virgil), so its ends say nothing here.
        return words["corner"].format(a=display_case(corner[0]), b=display_case(corner[1]))
    pieces: list[str] = []
    if address and address.house_number and address.street:
        key = "in_front" if result.precision in ("address_point", "interpolated_range",
                                                 "interpolated_points") else "near"
        number_street = f"{address.house_number} {address.street}"
        pieces.append(words[key].format(address=display_case(number_street)))
    elif address and address.street:
        pieces.append(words["on_street"].format(street=display_case(address.street)))
    elif address and address.source == "zip_centre" and address.zip:
        not_found = any(r.endswith("_not_found_in_zip") for r in result.reasons)
        pieces.append(words["in_zip"].format(zip=address.zip)
                      + (words["not_found_in_zip"] if not_found else ""))
    elif address and address.text:
        pieces.append(words["near"].format(address=address.text))
    if segment and segment.side_compass and result.pin is not None:
        pieces.append(words["side"].format(side=words[segment.side_compass]))
    if segment and segment.from_street and segment.to_street \
            and segment.from_street != segment.to_street:
        pieces.append(words["between"].format(a=display_case(segment.from_street),
                                              b=display_case(segment.to_street)))
    elif segment and (segment.from_street or segment.to_street):
        end = segment.from_street or segment.to_street or ""
        pieces.append(words["at"].format(a=display_case(end)))
    return ", ".join(pieces)


def _described_block(result: LocateResult) -> tuple[str, str, str] | None:
    """The street and two cross streets of a block typed as "X between Y and Z", else None."""
    address = result.address
    if result.precision != "street_block" or address is None or address.source != "intersection":
        return None
    street, between, crosses = (address.text or "").partition(" between ")
    first, _, second = crosses.rpartition(" and ")
    if not (between and street.strip() and first.strip() and second.strip()):
        return None
    return street.strip(), first.strip(), second.strip()


def _corner_streets(result: LocateResult) -> tuple[str, str] | None:
    """The two streets of an intersection answer ("SUNSET BLVD & VINE ST"), else None."""
    if result.precision != "intersection" or result.address is None:
        return None
    names = [name.strip() for name in (result.address.text or "").split("&")]
    if len(names) != 2 or not all(names):
        return None
    return names[0], names[1]

