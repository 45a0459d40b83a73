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
                        covering: Mapping[str, Sequence[Mapping[str, str]]]) -> Jurisdiction:
    """Say whose problem this is, in words a resident can act on.

    :param conn: database connection (to test for a county island).
    :param lon: longitude of the location.
    :param lat: latitude of the location.
    :param covering: areas covering the location, by type code (``CITY``, ``COUNTY_CITY``,
        ``UNINCORPORATED``...).
    :returns: the jurisdiction.
    """
    if covering.get("CITY"):
        return Jurisdiction(
            inside_city=True, kind="city", name="City of Los Angeles",
            responsible="City of Los Angeles", contact=CITY_CONTACT,
            message="Inside the City of Los Angeles.",
        )
    unincorporated = covering.get("UNINCORPORATED") or []
    county_city = covering.get("COUNTY_CITY") or []
    if unincorporated:
        name = unincorporated[0]["name"]
        island = bool(conn.execute(_INSIDE_CITY_OUTLINE, {"lon": lon, "lat": lat}).scalar())
        where = (f"{name}, an unincorporated County island surrounded by the City of Los Angeles"
                 if island else f"{name}, unincorporated Los Angeles County")
        return Jurisdiction(
            inside_city=False, kind="county_island" if island else "unincorporated", name=name,
            responsible="County of Los Angeles", contact=COUNTY_CONTACT,
            message=f"Not a City of Los Angeles location: {where}. The County is responsible.",
        )
    if county_city:
        name = county_city[0]["name"]
        return Jurisdiction(
            inside_city=False, kind="county_city", name=name, responsible=f"City of {name}",
            contact=f"the City of {name}'s own service request line or website",
            message=f"Not a City of Los Angeles location: this is in the City of {name}, "
                    f"which handles its own requests.",
        )
    return Jurisdiction(
        inside_city=False, kind="outside_county", name="outside the mapped area",
        responsible="unknown", contact="the local city or county",
        message="This point is outside the City of Los Angeles and outside the areas we know "
                "(ocean, or beyond LA County).",
    )
