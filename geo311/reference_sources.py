"""Where observed addresses come from: one interface over MyLA311 files, citations, requests.

Every source yields :class:`Observation` rows (a house number on a street, seen at a point) and
counts what it read and why it skipped rows in its :class:`SourceStats`. The reference build
(:mod:`geo311.reference_build`) only sees observations, so a new source is one small class.

Trust is the chance, before any merging, that an observation's point is the address's point:
the City geocoded and verified MyLA311 addresses itself; LADOT citations are typed by officers at
the kerb ("600 WILSHIRE PL", often a rounded number) and geocoded by LADOT.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from pyproj import Transformer
from sqlalchemy import column, select, table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from geo311.address_parse import parse_query
from geo311.geometry import CA_SP5_FT, WGS84
from geo311.myla311 import LA_COUNTY_BBOX, LA_TZ, MyLA311Record, iter_records

__all__ = [
    "Observation",
    "SourceStats",
    "ObservationSource",
    "MyLA311FileSource",
    "ParkingCitationSource",
    "RequestTableSource",
    "AddressFileSource",
    "TRUST",
    "source_for_path",
    "default_sources",
    "select_sources",
]

#: Trust by kind of evidence (see the module docstring); the build combines these per address.
TRUST = {
    "myla311_verified": 0.9,  # City geocode, AddressVerified=Y
    "myla311_unflagged": 0.85,  # City geocode from an extract without the flag (Hack for LA API)
    "myla311_approximate": 0.6,  # ApproximateAddress=Y: the address was the nearest one to a pin
    "request_import": 0.85,  # service_request rows imported from the City (pin_source 'import')
    "request_gps": 0.3,  # a resident's GPS pin next to a typed address
    "parking_citation": 0.5,
    "address_file": 0.95,  # the City's (or County's) own address points
}
#: Rows of ``service_request`` whose pin says something independent of our own geocoder.
REQUEST_PIN_SOURCES = ("import", "gps")
_CITATION_JUNK = {0.0, 99999.0}
_CHUNK = 5000


@dataclass(frozen=True)
class Observation:
    """One address seen at one point: parts as the source wrote them (normalised), WGS84 lon/lat."""

    house_number: int
    number_suffix: str | None
    pre_dir: str | None
    street_name: str
    suffix: str | None
    zip: str | None
    lon: float
    lat: float
    source: str  # kind of source: myla311 | parking_citation | service_request | addresses
    source_id: str | None  # the row's id in its source (SR number, ticket number)
    observed_at: datetime | None
    dataset: str = ""  # which file or table, e.g. "myla311_2018_sample_10k_a"
    trust: float = 0.5


@dataclass
class SourceStats:
    """What one read of a source found: rows read, observations yielded, skips by reason."""

    read: int = 0
    usable: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@runtime_checkable
class ObservationSource(Protocol):
    """Anything that yields observations and counts its rows (``stats`` is reset by each read)."""

    name: str
    kind: str
    path: Path | None
    stats: SourceStats

    def observations(self) -> Iterator[Observation]:
        """Yield the usable observations, counting read rows and skips in ``stats``."""
        ...


class MyLA311FileSource:
    """A MyLA311 export (any layout :mod:`geo311.myla311` reads) with the City's own geocode.

    The address text is parsed with :func:`~geo311.address_parse.parse_query` (the structured
    StreetName drops pre-types: ``VIA COLINA`` is stored as ``COLINA``), falling back to the
    HouseNumber/Direction/StreetName/Suffix fields. Where the file has AddressVerified, only ``Y``
    rows are used.
    """

    kind = "myla311"

    def __init__(self, path: str | Path) -> None:
        self.path: Path | None = Path(path)
        self.name = _stem(self.path)
        self.stats = SourceStats()

    def observations(self) -> Iterator[Observation]:
        """Yield one observation per usable record.

        :raises ValueError: if the file's header matches no MyLA311 layout.
        :raises OSError: if the file cannot be read.
        """
        assert self.path is not None
        self.stats = stats = SourceStats()
        has_flag: bool | None = None
        for record in iter_records(self.path):
            stats.read += 1
            if not isinstance(record, MyLA311Record):
                stats.skipped["unreadable row"] += 1
                continue
            if has_flag is None:
                has_flag = "addressverified" in {k.lower() for k in record.raw}
            if has_flag and record.address_verified is not True:
                stats.skipped["address not verified"] += 1
                continue
            if record.lon is None or record.lat is None:
                stats.skipped["no point"] += 1
                continue
            if not (record.address or record.house_number):
                stats.skipped["no house number and street"] += 1
                continue
            observation = self._observation(record, has_flag)
            if observation is None:
                stats.skipped["no house number and street"] += 1
                continue
            stats.usable += 1
            yield observation

    def _observation(self, record: MyLA311Record, has_flag: bool) -> Observation | None:
        parsed = _parse(record.address or "")
        number: int | None
        if parsed.kind == "address" and parsed.street and parsed.house_number:
            number, fraction = parsed.house_number, parsed.house_fraction
            pre_dir, name, suffix = parsed.street.pre_dir, parsed.street.name, parsed.street.suffix
        else:
            number = _leading_int(record.house_number)
            if number is None or not record.street_name:
                return None
            fields = _parse(f"{number} {record.street_name} {record.suffix or ''}")
            if fields.street is None:
                return None
            fraction, name, suffix = None, fields.street.name, fields.street.suffix
            pre_dir = record.direction or fields.street.pre_dir
        if record.approximate_address:
            trust = TRUST["myla311_approximate"]
        else:
            trust = TRUST["myla311_verified" if has_flag else "myla311_unflagged"]
        assert record.lon is not None and record.lat is not None
        return Observation(
            house_number=number, number_suffix=fraction, pre_dir=pre_dir, street_name=name,
            suffix=suffix, zip=(record.zip or parsed.zip or "")[:5] or None,
            lon=record.lon, lat=record.lat, source=self.kind, source_id=record.sr_number,
            observed_at=record.created_at, dataset=self.name, trust=trust,
        )


class ParkingCitationSource:
    """LADOT parking citations: ``location`` text, EPSG:2229 x/y in the latitude/longitude columns.

    LADOT writes the direction after the street (``800 ARDMORE AVE S``); it is moved to the front,
    as the City's addresses carry it. 99999 and 0 are LADOT's "no coordinates".
    """

    kind = "parking_citation"

    def __init__(self, path: str | Path) -> None:
        self.path: Path | None = Path(path)
        self.name = _stem(self.path)
        self.stats = SourceStats()

    def observations(self) -> Iterator[Observation]:
        """Yield one observation per citation with an address and real coordinates.

        :raises ValueError: if the file lacks the location/latitude/longitude columns.
        :raises OSError: if the file cannot be read.
        """
        assert self.path is not None
        self.stats = SourceStats()
        transformer = Transformer.from_crs(CA_SP5_FT, WGS84, always_xy=True)
        with _open_text(self.path) as handle:
            reader = csv.DictReader(handle)
            missing = {"location", "latitude", "longitude"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{self.path}: not a parking citation file (no {sorted(missing)})")
            chunk: list[tuple[dict[str, str], float, float]] = []
            for row in reader:
                self.stats.read += 1
                feet = _feet(row.get("latitude"), row.get("longitude"))
                if feet is None:
                    self.stats.skipped["no coordinates"] += 1
                    continue
                chunk.append((row, *feet))
                if len(chunk) >= _CHUNK:
                    yield from self._convert(chunk, transformer)
                    chunk = []
            yield from self._convert(chunk, transformer)

    def _convert(self, chunk: list[tuple[dict[str, str], float, float]],
                 transformer: Transformer) -> Iterator[Observation]:
        if not chunk:
            return
        lons, lats = transformer.transform([c[1] for c in chunk], [c[2] for c in chunk])
        min_lon, min_lat, max_lon, max_lat = LA_COUNTY_BBOX
        for (row, _x, _y), lon, lat in zip(chunk, lons, lats, strict=True):
            if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
                self.stats.skipped["point outside LA County"] += 1
                continue
            parsed = _parse(row.get("location") or "")
            if parsed.kind != "address" or parsed.street is None or not parsed.house_number:
                self.stats.skipped["no house number and street"] += 1
                continue
            street = parsed.street
            self.stats.usable += 1
            yield Observation(
                house_number=parsed.house_number, number_suffix=parsed.house_fraction,
                pre_dir=street.pre_dir or street.post_dir, street_name=street.name,
                suffix=street.suffix, zip=parsed.zip, lon=float(lon), lat=float(lat),
                source=self.kind, source_id=(row.get("ticket_number") or "").strip() or None,
                observed_at=_citation_time(row), dataset=self.name,
                trust=TRUST["parking_citation"],
            )


class RequestTableSource:
    """Rows of the ``service_request`` table: address text and raw pin (``pin_lon``, ``pin_lat``).

    Only pins independent of our geocoder are read (:data:`REQUEST_PIN_SOURCES`): a pin placed by
    locating the typed address would feed the build its own output. Imported rows the City marked
    ``AddressVerified=N`` (kept in ``external``) are skipped, as in the files. Yields nothing (with
    a note in ``stats``) while the table does not exist.
    """

    kind = "service_request"

    def __init__(self, conn: Connection, pin_sources: Sequence[str] = REQUEST_PIN_SOURCES) -> None:
        self.conn = conn
        self.pin_sources = tuple(pin_sources)
        self.path: Path | None = None
        self.name = "service_request"
        self.stats = SourceStats()

    def observations(self) -> Iterator[Observation]:
        """Yield one observation per stored request with an address and a usable pin."""
        self.stats = SourceStats()
        exists = self.conn.execute(text("SELECT to_regclass('service_request') IS NOT NULL"))
        if not exists.scalar_one():
            self.stats.skipped["no service_request table"] += 1
            return
        requests = table("service_request", column("external_id"), column("address"),
                         column("zip"), column("pin_lon"), column("pin_lat"),
                         column("pin_source"), column("requested_at"), column("id"),
                         column("external", JSONB))
        labels = requests.c.external
        query = select(requests.c.id, requests.c.external_id, requests.c.address, requests.c.zip,
                       requests.c.pin_lon, requests.c.pin_lat, requests.c.pin_source,
                       requests.c.requested_at,
                       labels["address_verified"].astext.label("verified"),
                       labels["approximate_address"].astext.label("approximate"))
        # Per statement: Connection.execution_options would change the caller's connection.
        rows = self.conn.execute(query.execution_options(yield_per=_CHUNK))
        for row in rows:
            self.stats.read += 1
            if row.pin_source not in self.pin_sources:
                self.stats.skipped[f"pin source {row.pin_source}"] += 1
                continue
            if row.pin_lon is None or row.pin_lat is None or not row.address:
                self.stats.skipped["no address or pin"] += 1
                continue
            if row.verified == "false":
                self.stats.skipped["address not verified"] += 1
                continue
            parsed = _parse(row.address)
            if parsed.kind != "address" or parsed.street is None or not parsed.house_number:
                self.stats.skipped["no house number and street"] += 1
                continue
            trust = TRUST["request_import" if row.pin_source == "import" else "request_gps"]
            if row.approximate == "true":
                trust = TRUST["myla311_approximate"]
            self.stats.usable += 1
            yield Observation(
                house_number=parsed.house_number, number_suffix=parsed.house_fraction,
                pre_dir=parsed.street.pre_dir, street_name=parsed.street.name,
                suffix=parsed.street.suffix, zip=(row.zip or parsed.zip or "")[:5] or None,
                lon=float(row.pin_lon), lat=float(row.pin_lat), source=self.kind,
                source_id=row.external_id or f"request:{row.id}",
                observed_at=row.requested_at, dataset=self.name, trust=trust,
            )


class AddressFileSource:
    """A City Addresses or County CAMS layer, read with :func:`geo311.address_loader.read_batches`.

    ``geo311 load addresses`` already stores these as ``address`` points; reading them here too
    lets their numbers anchor the inferred ranges between them (and next to observed addresses).
    Not a default source: pass the file with ``--source``.
    """

    kind = "addresses"
    #: (part, field names) in the CAMS and City layers, first present wins.
    FIELDS = {
        "number": ("Number", "HSE_NBR"), "fraction": ("NumSuffix", "HSE_FRAC_NBR"),
        "pre_dir": ("PreDir", "HSE_DIR_CD"), "name": ("StreetName", "STR_NM"),
        "suffix": ("PostType", "STR_SFX_CD"), "post_dir": ("PostDir", "STR_SFX_DIR_CD"),
        "zip": ("ZipCode", "ZIP_CD"), "id": ("OBJECTID", "HSE_ID", "SourceID"),
    }  # fmt: skip
    NAME_PARTS = ("PreMod", "PreType", "StArticle")  # CAMS splits "VIA DOLCE" and "DEL REY"

    def __init__(self, path: str | Path) -> None:
        self.path: Path | None = Path(path)
        self.name = _stem(self.path)
        self.stats = SourceStats()

    def observations(self) -> Iterator[Observation]:
        """Yield one observation per addressed point (a building's units repeat its point).

        :raises ValueError: if the file is not an address layer (CAMS or City fields).
        :raises OSError: if the file cannot be read.
        """
        from geo311.address_loader import detect_address_format, read_batches
        from geo311.street_loader import street_parts

        assert self.path is not None
        self.stats = stats = SourceStats()
        for batch in read_batches(self.path):
            cols = batch.columns
            if detect_address_format(list(cols.names)) != "cams":
                raise ValueError(f"{self.path}: not an address layer (CAMS or City fields)")
            text_of = {part: cols.text(*names) for part, names in self.FIELDS.items()}
            leading = [cols.text(name) for name in self.NAME_PARTS if cols.has(name)]
            names = [" ".join(p for p in parts if p) for parts in zip(
                *leading, text_of["name"], strict=True)]
            rows = zip(cols.ints(*self.FIELDS["number"]), text_of["fraction"],
                       text_of["pre_dir"], names, text_of["suffix"], text_of["post_dir"],
                       text_of["zip"], text_of["id"], batch.lon.tolist(), batch.lat.tolist(),
                       batch.problems, strict=True)
            for number, fraction, pre, name, suffix, post, zip_code, ident, lon, lat, problem \
                    in rows:
                stats.read += 1
                street = street_parts(pre, name, suffix, post) if number else None
                if street is None or problem:
                    stats.skipped[problem or "no house number and street"] += 1
                    continue
                stats.usable += 1
                yield Observation(
                    house_number=number, number_suffix=fraction, pre_dir=street.pre_dir,
                    street_name=street.name, suffix=street.suffix,
                    zip=(zip_code or "").split(".")[0].zfill(5)[:5] if zip_code else None,
                    lon=lon, lat=lat, source=self.kind, source_id=ident, observed_at=None,
                    dataset=self.name, trust=TRUST["address_file"],
                )


def source_for_path(path: str | Path) -> ObservationSource:
    """Pick the source class for a file from its header (never its name).

    :param path: a MyLA311 export, a parking-citation CSV (plain or gzip), or an address layer
        (CAMS or City fields; CSV or any vector format).
    :returns: a :class:`MyLA311FileSource`, :class:`ParkingCitationSource` or
        :class:`AddressFileSource`.
    :raises OSError: if the file cannot be read.
    """
    path = Path(path)
    if not path.name.lower().endswith((".csv", ".csv.gz", ".json", ".json.gz")):
        return AddressFileSource(path)
    with _open_text(path) as handle:
        header = handle.readline().lower()
    if "ticket_number" in header and "location" in header:
        return ParkingCitationSource(path)
    fields = {f.strip().strip('"') for f in header.split(",")}
    if {"number", "streetname"} <= fields or {"hse_nbr", "str_nm"} <= fields:
        return AddressFileSource(path)
    return MyLA311FileSource(path)


def default_sources(data_dir: str | Path,
                    conn: Connection | None = None) -> list[ObservationSource]:
    """The default build inputs: every MyLA311 file, the citation sample, the request table.

    :param data_dir: the ``DATA_DIR`` setting (holding ``la/myla311`` and ``la/address_points``).
    :param conn: when given, the ``service_request`` table is read too.
    :returns: sources in a fixed order (files sorted by name, then the table).
    """
    root = Path(data_dir) / "la"
    sources: list[ObservationSource] = [
        MyLA311FileSource(path) for path in sorted((root / "myla311").glob("*"))
        if path.is_file() and path.name.endswith((".csv", ".csv.gz", ".json", ".json.gz"))
    ]
    sources += [ParkingCitationSource(path)
                for path in sorted((root / "address_points").glob("*parking_citations*.csv*"))]
    if conn is not None:
        sources.append(RequestTableSource(conn))
    return sources


def select_sources(data_dir: str | Path, conn: Connection | None, *,
                   files: Sequence[str | Path] = (), only: Sequence[str | Path] = (),
                   exclude: Sequence[str | Path] = ()
                   ) -> tuple[list[ObservationSource], list[ObservationSource]]:
    """The sources of one build and the held-out ones, as ``geo311 build reference`` picks them.

    :param data_dir: the ``DATA_DIR`` setting, for the defaults.
    :param conn: connection for the request table (``None`` leaves it out).
    :param files: files read instead of the default files (the request table is still read).
    :param only: files read and nothing else (overrides ``files``).
    :param exclude: held-out files: dropped from the sources and passed back as the second item,
        for :func:`geo311.reference_build.build_reference`'s ``exclude``.
    :returns: ``(sources, held_out)``.
    :raises ValueError: if a file is neither a MyLA311 export nor a citation file.
    :raises OSError: if a file cannot be read.
    """
    held_paths = {Path(p).resolve() for p in exclude}
    if only:
        sources = [source_for_path(p) for p in only]
    elif files:
        sources = [source_for_path(p) for p in files]
        sources += [s for s in default_sources(data_dir, conn) if s.path is None]
    else:
        sources = default_sources(data_dir, conn)
    kept = [s for s in sources if s.path is None or s.path.resolve() not in held_paths]
    return kept, [source_for_path(p) for p in exclude]


#: Parsing dominates reading time and a third of the addresses in a file repeat.
_parse = lru_cache(maxsize=200_000)(parse_query)


def _stem(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    for ending in (".csv", ".json", ".geojson", ".gpkg", ".shp", ".txt"):
        name = name.removesuffix(ending)
    return name


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _feet(lat_text: str | None, lon_text: str | None) -> tuple[float, float] | None:
    """(x, y) in US feet from the misnamed columns: x is the ~6.4 million one, whichever it is."""
    try:
        a, b = float(lat_text or 0), float(lon_text or 0)
    except ValueError:
        return None
    if a in _CITATION_JUNK or b in _CITATION_JUNK:
        return None
    return (a, b) if a > b else (b, a)


def _citation_time(row: dict[str, str]) -> datetime | None:
    day, clock = (row.get("issue_date") or "").strip(), (row.get("issue_time") or "").strip()
    try:
        stamp = datetime.fromisoformat(f"{day[:10]} {clock.zfill(5)}" if clock else day[:10])
    except ValueError:
        return None
    return stamp.replace(tzinfo=LA_TZ)


def _leading_int(text: str | None) -> int | None:
    digits = ""
    for char in (text or "").strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None
