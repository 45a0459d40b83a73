"""Who is responsible at a point: the City of Los Angeles, another city in the County, or the County."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from geo311.locate_result import Jurisdiction

__all__ = ["decide_jurisdiction", "CITY_CONTACT", "COUNTY_CONTACT"]

CITY_CONTACT = "MyLA311: call 3-1-1 (or (213) 473-3231 from outside the City) or use the MyLA311 app"
COUNTY_CONTACT = (
    "Los Angeles County: LA County Public Works, 1-800-675-4357 (HELP), or The Works app; "
    "for other County services call 2-1-1"
)

#: What a resident reads, per language; names stay as the data has them.
_WORDS = {
    "en": {
        "city_contact": CITY_CONTACT,
        "county_contact": COUNTY_CONTACT,
        "inside": "Inside the City of Los Angeles.",
        "island": "{name}, an unincorporated County island surrounded by the City of Los Angeles",
        "unincorporated": "{name}, unincorporated Los Angeles County",
        "county_responsible": "Not a City of Los Angeles location: {where}. The County is responsible.",
        "county_city": "Not a City of Los Angeles location: this is in the City of {name}, "
                       "which handles its own requests.",
        "county_city_contact": "the City of {name}'s own service request line or website",
        "outside": "This point is outside the City of Los Angeles and outside the areas we know "
                   "(ocean, or beyond LA County).",
        "outside_contact": "the local city or county",
    },
    "es": {
        "city_contact": "MyLA311: llame al 3-1-1 (o al (213) 473-3231 desde fuera de la Ciudad) o use "
                        "la aplicación MyLA311",
        "county_contact": "Condado de Los Ángeles: Obras Públicas del Condado (LA County Public Works), "
                          "1-800-675-4357 (HELP), o la aplicación The Works; para otros servicios del "
                          "Condado llame al 2-1-1",
        "inside": "Dentro de la Ciudad de Los Ángeles.",
        "island": "{name}, una isla no incorporada del Condado rodeada por la Ciudad de Los Ángeles",
        "unincorporated": "{name}, zona no incorporada del Condado de Los Ángeles",
        "county_responsible": "No es un lugar de la Ciudad de Los Ángeles: {where}. El responsable es "
                              "el Condado.",
        "county_city": "No es un lugar de la Ciudad de Los Ángeles: está en la Ciudad de {name}, "
                       "que atiende sus propias solicitudes.",
        "county_city_contact": "la línea o el sitio web de solicitudes de servicio de la Ciudad de "
                               "{name}",
        "outside": "Este punto está fuera de la Ciudad de Los Ángeles y de las zonas que conocemos "
                   "(el océano, o más allá del Condado de Los Ángeles).",
        "outside_contact": "la ciudad o el condado del lugar",
    },
}

# A county island is an unincorporated hole inside the City's outer limit.
_INSIDE_CITY_OUTLINE = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM area a JOIN boundary_set s ON s.id = a.set_id AND s.type_code = 'CITY',
             LATERAL ST_Dump(a.geom) AS part
        WHERE ST_Covers(ST_MakePolygon(ST_ExteriorRing(part.geom)),
                        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    )
    """
)


def decide_jurisdiction(conn: Connection, lon: float, lat: float,
                        covering: Mapping[str, Sequence[Mapping[str, str]]],
                        lang: str = "en") -> Jurisdiction:
    """Say whose problem this is, in words a resident can act on.

    :param conn: database connection (to test for a county island).
    :param lon: longitude of the location.
    :param lat: latitude of the location.
    :param covering: areas covering the location, by type code (``CITY``, ``COUNTY_CITY``,
        ``UNINCORPORATED``...).
    :param lang: ``en`` or ``es`` for ``message`` and ``contact`` (other fields are names).
    :returns: the jurisdiction.
    """
    words = _WORDS.get(lang, _WORDS["en"])
    if covering.get("CITY"):
        return Jurisdiction(
            inside_city=True, kind="city", name="City of Los Angeles",
            responsible="City of Los Angeles", contact=words["city_contact"],
            message=words["inside"],
        )
    unincorporated = covering.get("UNINCORPORATED") or []
    county_city = covering.get("COUNTY_CITY") or []
    if unincorporated:
        name = unincorporated[0]["name"]
        island = bool(conn.execute(_INSIDE_CITY_OUTLINE, {"lon": lon, "lat": lat}).scalar())
        where = words["island" if island else "unincorporated"].format(name=name)
        return Jurisdiction(
            inside_city=False, kind="county_island" if island else "unincorporated", name=name,
            responsible="County of Los Angeles", contact=words["county_contact"],
            message=words["county_responsible"].format(where=where),
        )
    if county_city:
        name = county_city[0]["name"]
        return Jurisdiction(
            inside_city=False, kind="county_city", name=name, responsible=f"City of {name}",
            contact=words["county_city_contact"].format(name=name),
            message=words["county_city"].format(name=name),
        )
    return Jurisdiction(
        inside_city=False, kind="outside_county", name="outside the mapped area",
        responsible="unknown", contact=words["outside_contact"], message=words["outside"],
    )
