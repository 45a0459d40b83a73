"""The one answer shape shared by forward (text) and reverse (pin) locating."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "display_case",
    "Pin",
    "AddressInfo",
    "SegmentInfo",
    "Jurisdiction",
    "Ambiguity",
    "Candidate",
    "LocateResult",
    "PRECISIONS",
]

#: The precision ladder, best first.
PRECISIONS = (
    "address_point",
    "interpolated_range",
    "interpolated_points",
    "intersection",
    "street_block",
    "place",
    "street",
    "area_centroid",
    "none",
)


@dataclass(frozen=True)
class Pin:
    """The raw pin exactly as submitted; nothing ever replaces it."""

    lon: float
    lat: float
    accuracy_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"lon": self.lon, "lat": self.lat, "accuracy_m": self.accuracy_m}


@dataclass(frozen=True)
class AddressInfo:
    """A postal address: number, street (as LA prints it), zip and one-line text."""

    house_number: str | None
    street: str | None
    zip: str | None
    text: str
    source: str | None = None
    distance_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "house_number": self.house_number, "street": self.street, "zip": self.zip,
            "text": self.text, "source": self.source,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
        }


@dataclass(frozen=True)
class SegmentInfo:
    """The street segment (block) the location is on, with side and cross streets."""

    id: int
    street: str
    from_street: str | None
    to_street: str | None
    side: str | None  # left | right (as digitised: the address-range side)
    side_compass: str | None  # north | east | south | west
    distance_m: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id, "street": self.street, "from_street": self.from_street,
            "to_street": self.to_street, "side": self.side, "side_compass": self.side_compass,
            "distance_m": round(self.distance_m, 1), "source": self.source,
        }


@dataclass(frozen=True)
class Jurisdiction:
    """Who is responsible here: the City, another county city, or the County."""

    inside_city: bool
    kind: str  # city | county_island | county_city | unincorporated | outside_county
    name: str
    responsible: str
    contact: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "inside_city": self.inside_city, "kind": self.kind, "name": self.name,
            "responsible": self.responsible, "contact": self.contact, "message": self.message,
        }


_KEPT_UPPER = frozenset({"NC", "N", "S", "E", "W", "CD", "LA", "LAPD"})


def display_case(value: str) -> str:
    """A stored upper-case name as a resident reads it.

    >>> display_case("S BERENDO ST"), display_case("3RD ST"), display_case("WESTLAKE NORTH NC")
    ('S Berendo St', '3rd St', 'Westlake North NC')
    """
    return " ".join(word if word in _KEPT_UPPER else word.lower() if word[:1].isdigit()
                    else word.capitalize() for word in value.split())


@dataclass(frozen=True)
class Ambiguity:
    """Another reasonable reading of the same input, and why it was not chosen."""

    kind: str  # district_line | equidistant_address | street_name | ...
    why: str
    type: str | None = None
    code: str | None = None
    name: str | None = None
    distance_m: float | None = None
    chosen: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form; ``label`` is the name as a resident reads it (an upper-case name cased as
        the ``description`` cases names, a mixed-case one kept: ``Sunland-Tujunga``)."""
        label = display_case(self.name) if self.name and self.name.isupper() else self.name
        return {
            "kind": self.kind, "why": self.why, "type": self.type, "code": self.code,
            "name": self.name, "label": label, "chosen": self.chosen,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
        }


@dataclass(frozen=True)
class Candidate:
    """One ranked reading of a query: where, how precisely, how sure, and why."""

    lon: float
    lat: float
    precision: str
    score: int
    reasons: tuple[str, ...]
    address: AddressInfo | None = None
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "location": {"lon": round(self.lon, 7), "lat": round(self.lat, 7)},
            "precision": self.precision,
            "score": self.score,
            "reasons": list(self.reasons),
            "address": self.address.as_dict() if self.address else None,
            "label": self.label,
        }


@dataclass(frozen=True)
class LocateResult:
    """The full self-explaining answer."""

    query: str | None
    pin: Pin | None
    lon: float | None
    lat: float | None
    precision: str
    score: int
    reasons: tuple[str, ...]
    address: AddressInfo | None
    segment: SegmentInfo | None
    areas: tuple[dict[str, str], ...]
    jurisdiction: Jurisdiction | None
    ambiguities: tuple[Ambiguity, ...]
    candidates: tuple[Candidate, ...]
    date: str
    department: dict[str, Any] | None = None
    description: str = ""

    @property
    def found(self) -> bool:
        """Whether any location was found."""
        return self.lon is not None

    def as_dict(self) -> dict[str, Any]:
        """The public JSON answer (the contract of /api/v1/locate)."""
        return {
            "query": self.query,
            "pin": self.pin.as_dict() if self.pin else None,
            "location": None if self.lon is None else {
                "lon": round(self.lon, 7), "lat": round(self.lat or 0.0, 7)},
            "precision": self.precision,
            "score": self.score,
            "reasons": list(self.reasons),
            "address": self.address.as_dict() if self.address else None,
            "segment": self.segment.as_dict() if self.segment else None,
            "areas": [dict(a) for a in self.areas],
            "jurisdiction": self.jurisdiction.as_dict() if self.jurisdiction else None,
            "ambiguities": [a.as_dict() for a in self.ambiguities],
            "candidates": [c.as_dict() for c in self.candidates],
            "date": self.date,
            "department": self.department,
            "description": self.description,
        }
