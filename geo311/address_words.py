"""Words of LA addresses: USPS suffixes, directions, units, ordinals, community names.

Tables plus the word-level helpers that read them (cleaning, ordinals, name forms, units);
:mod:`geo311.address_parse` owns the rules that put words together. Table entries are upper case
ASCII with punctuation removed (``"BEL AIR"``, not ``"Bel-Air"``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "USPS_SUFFIXES",
    "LA_STREET_SUFFIXES",
    "LA_MINOR_SUFFIXES",
    "DIRECTIONS",
    "UNIT_DESIGNATORS",
    "UNIT_FLAGS",
    "STATE_WORDS",
    "COUNTRY_WORDS",
    "ORDINAL_WORDS",
    "CARDINAL_WORDS",
    "LA_COMMUNITIES",
    "COMMUNITY_ALIASES",
    "OUTSIDE_CITY_PLACES",
    "PLACE_WORDS",
    "PRE_TYPE_NAMES",
    "NAME_WORD_FORMS",
    "SUFFIXLESS_NAMES",
    "NAME_DIRECTION_WORDS",
    "JOINED_INITIALS",
    "CONNECTOR_WORDS",
    "CONNECTORS",
    "BETWEEN_WORDS",
    "BETWEEN_JOINERS",
    "LEAD_PHRASES",
    "community_name",
    "ascii_upper",
    "clean_words",
    "ordinal",
    "spelled_ordinal",
    "name_form",
    "join_name_initials",
    "whole_unit",
    "UNIT_ID_RE",
]

# USPS Publication 28, Appendix C1: "STANDARD: every variant" (the standard maps to itself).
_C1 = """
ALY: ALLEE ALLEY ALLY | ANX: ANEX ANNEX ANNX | ARC: ARCADE | AVE: AV AVEN AVENU AVENUE AVN AVNUE
BYU: BAYOO BAYOU | BCH: BEACH | BND: BEND | BLF: BLUF BLUFF | BLFS: BLUFFS | BTM: BOT BOTTM BOTTOM
BLVD: BOUL BOULEVARD BOULV | BR: BRNCH BRANCH | BRG: BRDGE BRIDGE | BRK: BROOK | BRKS: BROOKS
BG: BURG | BGS: BURGS | BYP: BYPA BYPAS BYPASS BYPS | CP: CAMP CMP | CYN: CANYN CANYON CNYN
CPE: CAPE | CSWY: CAUSEWAY CAUSWA | CTR: CEN CENT CENTER CENTR CENTRE CNTER CNTR | CTRS: CENTERS
CIR: CIRC CIRCL CIRCLE CRCL CRCLE | CIRS: CIRCLES | CLF: CLIFF | CLFS: CLIFFS | CLB: CLUB
CMN: COMMON | CMNS: COMMONS | COR: CORNER | CORS: CORNERS | CRSE: COURSE | CT: COURT
CTS: COURTS | CV: COVE | CVS: COVES | CRK: CREEK | CRES: CRESCENT CRSENT CRSNT | CRST: CREST
XING: CROSSING CRSSNG | XRD: CROSSROAD | XRDS: CROSSROADS | CURV: CURVE | DL: DALE | DM: DAM
DV: DIV DIVIDE DVD | DR: DRIV DRIVE DRV | DRS: DRIVES | EST: ESTATE | ESTS: ESTATES
EXPY: EXP EXPR EXPRESS EXPRESSWAY EXPW | EXT: EXTENSION EXTN EXTNSN | EXTS: EXTENSIONS
FALL: FALL | FLS: FALLS | FRY: FERRY FRRY | FLD: FIELD | FLDS: FIELDS | FLT: FLAT | FLTS: FLATS
FRD: FORD | FRDS: FORDS | FRST: FOREST FORESTS | FRG: FORG FORGE | FRGS: FORGES | FRK: FORK
FRKS: FORKS | FT: FORT FRT | FWY: FREEWAY FREEWY FRWAY FRWY | GDN: GARDEN GARDN GRDEN GRDN
GDNS: GARDENS GRDNS | GTWY: GATEWAY GATEWY GATWAY GTWAY | GLN: GLEN | GLNS: GLENS | GRN: GREEN
GRNS: GREENS | GRV: GROV GROVE | GRVS: GROVES | HBR: HARB HARBOR HARBR HRBOR | HBRS: HARBORS
HVN: HAVEN | HTS: HT HEIGHTS | HWY: HIGHWAY HIGHWY HIWAY HIWY HWAY | HL: HILL | HLS: HILLS
HOLW: HLLW HOLLOW HOLLOWS HOLWS | INLT: INLET | IS: ISLAND ISLND | ISS: ISLANDS ISLNDS
ISLE: ISLES | JCT: JCTION JCTN JUNCTION JUNCTN JUNCTON | JCTS: JCTNS JUNCTIONS | KY: KEY
KYS: KEYS | KNL: KNOL KNOLL | KNLS: KNOLLS | LK: LAKE | LKS: LAKES | LAND: LAND
LNDG: LANDING LNDNG | LN: LANE | LGT: LIGHT | LGTS: LIGHTS | LF: LOAF | LCK: LOCK | LCKS: LOCKS
LDG: LDGE LODG LODGE | LOOP: LOOPS | MALL: MALL | MNR: MANOR | MNRS: MANORS | MDW: MEADOW
MDWS: MEADOWS MEDOWS | MEWS: MEWS | ML: MILL | MLS: MILLS | MSN: MISSN MSSN MISSION
MTWY: MOTORWAY | MT: MNT MOUNT | MTN: MNTAIN MNTN MOUNTAIN MOUNTIN MTIN | MTNS: MNTNS MOUNTAINS
NCK: NECK | ORCH: ORCHARD ORCHRD | OVAL: OVL | OPAS: OVERPASS | PARK: PRK PARKS
PKWY: PARKWAY PARKWY PKWAY PKY PARKWAYS PKWYS | PASS: PASS | PSGE: PASSAGE | PATH: PATHS
PIKE: PIKES | PNE: PINE | PNES: PINES | PL: PLACE | PLN: PLAIN | PLNS: PLAINS | PLZ: PLAZA PLZA
PT: POINT | PTS: POINTS | PRT: PORT | PRTS: PORTS | PR: PRAIRIE PRR | RADL: RAD RADIAL RADIEL
RAMP: RAMP | RNCH: RANCH RANCHES RNCHS | RPD: RAPID | RPDS: RAPIDS | RST: REST
RDG: RDGE RIDGE | RDGS: RIDGES | RIV: RIVER RVR RIVR | RD: ROAD | RDS: ROADS | RTE: ROUTE
ROW: ROW | RUE: RUE | RUN: RUN | SHL: SHOAL | SHLS: SHOALS | SHR: SHOAR SHORE | SHRS: SHOARS SHORES
SKWY: SKYWAY | SPG: SPNG SPRING SPRNG | SPGS: SPNGS SPRINGS SPRNGS | SPUR: SPURS
SQ: SQR SQRE SQU SQUARE | SQS: SQRS SQUARES | STA: STATION STATN STN
STRA: STRAV STRAVEN STRAVENUE STRAVN STRVN STRVNUE | STRM: STREAM STREME
ST: STREET STRT STR | STS: STREETS | SMT: SUMIT SUMITT SUMMIT | TER: TERR TERRACE
TRWY: THROUGHWAY | TRCE: TRACE TRACES | TRAK: TRACK TRACKS TRK TRKS | TRFY: TRAFFICWAY
TRL: TRAIL TRAILS TRLS | TRLR: TRAILER TRLRS | TUNL: TUNEL TUNLS TUNNEL TUNNELS TUNNL
TPKE: TRNPK TURNPIKE TURNPK | UPAS: UNDERPASS | UN: UNION | UNS: UNIONS
VLY: VALLEY VALLY VLLY | VLYS: VALLEYS | VIA: VDCT VIADCT VIADUCT | VW: VIEW | VWS: VIEWS
VLG: VILL VILLAG VILLAGE VILLG VILLIAGE | VLGS: VILLAGES | VL: VILLE | VIS: VIST VISTA VST VSTA
WALK: WALKS | WALL: WALL | WAY: WY | WAYS: WAYS | WL: WELL | WLS: WELLS
"""

# LA datasets add a few of their own: LADOT meter block faces write "SUNSET BL", Hollywood Hills
# trails are "TR" in MyLA311, and Venice canals are "CL" ("LINNIE CL" is Linnie Canal).
# Playa Vista streets end in "CK" (creek) and Hollywood Hills ones in "PZ" (plaza) in MyLA311.
# A few older C1 spellings still typed (CRT, HGTS, LP) are accepted too.
_LA_EXTRA = {
    "BL": "BLVD", "BV": "BLVD", "TR": "TRL", "CL": "CL", "CANAL": "CL", "CK": "CRK", "PZ": "PLZ",
    "CRT": "CT", "HGTS": "HTS", "LP": "LOOP",
}  # fmt: skip


def _build_suffixes() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in _C1.replace("\n", " | ").split("|"):
        if ":" not in entry:
            continue
        std, variants = entry.split(":")
        std = std.strip()
        table[std] = std
        for variant in variants.split():
            table[variant] = std
    table.update(_LA_EXTRA)
    return table


def _names(block: str) -> frozenset[str]:
    return frozenset(name.strip() for name in block.replace("\n", "|").split("|")) - {""}


USPS_SUFFIXES: dict[str, str] = _build_suffixes()

# Street types that mark a street even with no house number ("Wilshire Blvd" is a street).
LA_STREET_SUFFIXES = frozenset(
    "ST AVE BLVD DR PL WAY CT TER LN RD PKWY HWY FWY CIR TRL WALK ALY LOOP PATH ROW EXPY".split()
)
# Types LA uses that are also ordinary place words ("Griffith Park", "Pershing Square"): a suffix
# only after a house number ("4946 W MELROSE HILL"). Other C1 words ("LAUREL CANYON") stay in the
# name: typed without a house number they are nearly always part of one ("Laurel Canyon / Pierce").
LA_MINOR_SUFFIXES = frozenset("HL PARK GRN SQ PLZ MALL CL XING CRES CRK".split())

DIRECTIONS: dict[str, str] = {
    "N": "N", "NORTH": "N", "NORTE": "N",
    "S": "S", "SOUTH": "S", "SUR": "S",
    "E": "E", "EAST": "E", "ESTE": "E",
    "W": "W", "WEST": "W", "OESTE": "W",
    "NE": "NE", "NORTHEAST": "NE", "NW": "NW", "NORTHWEST": "NW",
    "SE": "SE", "SOUTHEAST": "SE", "SW": "SW", "SOUTHWEST": "SW",
}  # fmt: skip
#: The direction words a street's own name can open with, by the letter a direction written apart
#: uses (MyLA311's E SOUTH VENICE BLVD is the County's S VENICE BLVD; NORTH BROADWAY).
NAME_DIRECTION_WORDS: dict[str, str] = {"N": "NORTH", "S": "SOUTH", "E": "EAST", "W": "WEST"}

# USPS Publication 28 C2 secondary unit designators (and spellings residents use) -> standard.
UNIT_DESIGNATORS: dict[str, str] = {
    "APT": "APT", "APARTMENT": "APT", "APTO": "APT", "UNIT": "UNIT", "STE": "STE", "SUITE": "STE",
    "SPC": "SPC", "SPACE": "SPC", "SP": "SPC", "RM": "RM", "ROOM": "RM", "FL": "FL", "FLOOR": "FL",
    "BLDG": "BLDG", "BUILDING": "BLDG", "DEPT": "DEPT", "LOT": "LOT", "TRLR": "TRLR", "OFC": "OFC",
    "#": "#", "NO": "#", "NUM": "#", "NUMBER": "#",
}  # fmt: skip
UNIT_ID_RE = re.compile(r"[A-Z]?\d{1,6}[A-Z]?|[A-Z]|\d{1,6}-[A-Z0-9]{1,4}")
# Designators that take no identifier; only recognised as the last word ("OCEAN FRONT WALK").
UNIT_FLAGS: dict[str, str] = {
    "REAR": "REAR", "FRNT": "FRNT", "UPPR": "UPPR", "UPPER": "UPPR", "LOWR": "LOWR",
    "LOWER": "LOWR", "BSMT": "BSMT", "BASEMENT": "BSMT", "PH": "PH", "PENTHOUSE": "PH",
}  # fmt: skip

STATE_WORDS = frozenset({"CA", "CALIF", "CALIFORNIA", "CAL"})
COUNTRY_WORDS = frozenset({"USA", "US", "U S A", "UNITED STATES", "UNITED STATES OF AMERICA"})

ORDINAL_WORDS: dict[str, int] = {
    "FIRST": 1, "SECOND": 2, "THIRD": 3, "FOURTH": 4, "FIFTH": 5, "SIXTH": 6, "SEVENTH": 7,
    "EIGHTH": 8, "NINTH": 9, "TENTH": 10, "ELEVENTH": 11, "TWELFTH": 12, "THIRTEENTH": 13,
    "FOURTEENTH": 14, "FIFTEENTH": 15, "SIXTEENTH": 16, "SEVENTEENTH": 17, "EIGHTEENTH": 18,
    "NINETEENTH": 19, "TWENTIETH": 20, "THIRTIETH": 30, "FORTIETH": 40, "FOURTIETH": 40,
    "FIFTIETH": 50, "SIXTIETH": 60, "SEVENTIETH": 70, "EIGHTIETH": 80, "NINETIETH": 90,
}  # fmt: skip
CARDINAL_WORDS: dict[str, int] = {
    "ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5, "SIX": 6, "SEVEN": 7, "EIGHT": 8,
    "NINE": 9, "TWENTY": 20, "THIRTY": 30, "FORTY": 40, "FOURTY": 40, "FIFTY": 50, "SIXTY": 60,
    "SEVENTY": 70, "EIGHTY": 80, "NINETY": 90,
}  # fmt: skip

# The 114 City of LA neighbourhoods of the LA Times "Mapping L.A." set (hyphens and slashes split),
# plus the USPS "city" names and everyday district names residents write for addresses in the City.
LA_COMMUNITIES = _names(
    """
    LOS ANGELES|LA|ADAMS NORMANDIE|ARLETA|ARLINGTON HEIGHTS|ATWATER VILLAGE|BALDWIN HILLS|CRENSHAW
    BEL AIR|BEVERLY CREST|BEVERLY GROVE|BEVERLYWOOD|BOYLE HEIGHTS|BRENTWOOD|BROADWAY MANCHESTER
    CANOGA PARK|CARTHAY|CENTRAL ALAMEDA|CENTURY CITY|CHATSWORTH|CHATSWORTH RESERVOIR
    CHESTERFIELD SQUARE|CHEVIOT HILLS|CHINATOWN|CYPRESS PARK|DEL REY|DOWNTOWN|EAGLE ROCK
    EAST HOLLYWOOD|ECHO PARK|EL SERENO|ELYSIAN PARK|ELYSIAN VALLEY|ENCINO|EXPOSITION PARK|FAIRFAX
    FLORENCE|GLASSELL PARK|GRAMERCY PARK|GRANADA HILLS|GREEN MEADOWS|GRIFFITH PARK|HANCOCK PARK
    HANSEN DAM|HARBOR CITY|HARBOR GATEWAY|HARVARD HEIGHTS|HARVARD PARK|HIGHLAND PARK
    HISTORIC SOUTH CENTRAL|HOLLYWOOD|HOLLYWOOD HILLS|HOLLYWOOD HILLS WEST|HYDE PARK|JEFFERSON PARK
    KOREATOWN|LAKE BALBOA|LAKE VIEW TERRACE|LARCHMONT|LEIMERT PARK|LINCOLN HEIGHTS|LOS FELIZ
    MANCHESTER SQUARE|MAR VISTA|MID CITY|MID WILSHIRE|MISSION HILLS|MONTECITO HEIGHTS
    MOUNT WASHINGTON|NORTH HILLS|NORTH HOLLYWOOD|NORTHRIDGE|PACIFIC PALISADES|PACOIMA|PALMS
    PANORAMA CITY|PICO ROBERTSON|PICO UNION|PLAYA VISTA|PLAYA DEL REY|PORTER RANCH|RANCHO PARK
    RESEDA|SAN PEDRO|SAWTELLE|SEPULVEDA BASIN|SHADOW HILLS|SHERMAN OAKS|SILVER LAKE|SOUTH PARK
    STUDIO CITY|SUN VALLEY|SUNLAND|SYLMAR|TARZANA|TOLUCA LAKE|TUJUNGA|UNIVERSITY PARK|VALLEY GLEN
    VALLEY VILLAGE|VAN NUYS|VENICE|VERMONT KNOLLS|VERMONT SQUARE|VERMONT VISTA|VERMONT SLAUSON
    WATTS|WEST ADAMS|WEST HILLS|WEST LOS ANGELES|WESTCHESTER|WESTLAKE|WESTWOOD|WILMINGTON
    WINDSOR SQUARE|WINNETKA|WOODLAND HILLS
    ANGELINO HEIGHTS|ARTS DISTRICT|BALDWIN VILLAGE|BENEDICT CANYON|CAHUENGA PASS|EASTSIDE
    FASHION DISTRICT|GARVANZA|HERMON|HISTORIC FILIPINOTOWN|HOLMBY HILLS|LA TUNA CANYON
    LAUREL CANYON|LITTLE ARMENIA|LITTLE TOKYO|MANDEVILLE CANYON|MARINA PENINSULA|MIRACLE MILE
    MONTEREY HILLS|NORTH UNIVERSITY PARK|SOUTH CENTRAL|SOUTH LOS ANGELES|SUNLAND TUJUNGA
    TERMINAL ISLAND|THAI TOWN|WEST VAN NUYS|WESTWOOD VILLAGE|WILSHIRE CENTER|FROGTOWN|ROSE HILL
    """
)

COMMUNITY_ALIASES: dict[str, str] = {
    "LA": "LOS ANGELES", "L A": "LOS ANGELES", "LOS ANGELES CITY": "LOS ANGELES",
    "CITY OF LOS ANGELES": "LOS ANGELES", "NOHO": "NORTH HOLLYWOOD",
    "N HOLLYWOOD": "NORTH HOLLYWOOD",
    "KTOWN": "KOREATOWN", "K TOWN": "KOREATOWN", "DTLA": "DOWNTOWN", "SILVERLAKE": "SILVER LAKE",
    "WEST LA": "WEST LOS ANGELES", "WLA": "WEST LOS ANGELES", "BELAIR": "BEL AIR",
    "MT WASHINGTON": "MOUNT WASHINGTON", "MIDCITY": "MID CITY", "SO CENTRAL": "SOUTH CENTRAL",
    "PLAYA DEL RAY": "PLAYA DEL REY", "PAC PALISADES": "PACIFIC PALISADES",
    "EAST LA": "EAST LOS ANGELES", "SOUTH LA": "SOUTH LOS ANGELES",
}  # fmt: skip

# Cities and unincorporated places in LA County that residents confuse with the City of LA.
OUTSIDE_CITY_PLACES = _names(
    """
    BEVERLY HILLS|WEST HOLLYWOOD|SANTA MONICA|CULVER CITY|BURBANK|GLENDALE|PASADENA|INGLEWOOD
    SAN FERNANDO|LONG BEACH|TORRANCE|CARSON|GARDENA|EL SEGUNDO|HAWTHORNE|COMPTON|SOUTH PASADENA
    ALHAMBRA|MONTEREY PARK|VERNON|HUNTINGTON PARK|MALIBU|CALABASAS|HIDDEN HILLS|LA CANADA FLINTRIDGE
    LOMITA|LYNWOOD|SOUTH GATE|COMMERCE|SAN MARINO|EAST LOS ANGELES|MARINA DEL REY|UNIVERSAL CITY
    TOPANGA|ALTADENA|LADERA HEIGHTS|VIEW PARK|WINDSOR HILLS|WILLOWBROOK|WESTMONT|LENNOX|ATHENS
    WEST CARSON|WALNUT PARK|FLORENCE FIRESTONE|LA CRESCENTA|MONTROSE|AGOURA HILLS|SANTA CLARITA
    """
)

# Words that make a no-number query a named place rather than a bare street name.
PLACE_WORDS = frozenset(
    """PARK LIBRARY STATION SCHOOL HOSPITAL MUSEUM CENTER CENTRE ZOO STADIUM THEATRE THEATER
    HALL BEACH PIER AIRPORT COLLEGE UNIVERSITY CHURCH MARKET MALL OBSERVATORY SQUARE PLAZA BOWL
    ARENA POOL RECREATION REC CEMETERY LAPD LAFD LAPL LAUSD USC UCLA CSUN LAX DEPOT TERMINAL
    COURTHOUSE TOWER HOTEL TEMPLE PLAYGROUND GARDEN GARDENS RESERVOIR DAM TRAILHEAD OFFICE
    BUILDING CAMPUS STORE RESTAURANT CAFE GROVE SIGN PORT HARBOR""".split()
)

# "AVENUE 50", "TERRACE 49" (Highland Park) and "AVENUE SAN LUIS" are names, not "50 AVE", and
# residents type "Ave 50".
PRE_TYPE_NAMES = {
    "AVENUE": "AVENUE", "AVE": "AVENUE", "AV": "AVENUE", "TERRACE": "TERRACE", "TER": "TERRACE",
}  # fmt: skip
# One form per name word; MyLA311 writes "MT WASHINGTON" and "ST ANDREWS".
NAME_WORD_FORMS = {"MOUNT": "MT", "SAINT": "ST", "JUNIOR": "JR"}
SUFFIXLESS_NAMES = frozenset({"BROADWAY", "NORTH BROADWAY", "SPEEDWAY"})
# Irish O' and French d' lose the apostrophe ("O'FARRELL" -> OFARRELL), but County address points,
# parking citations and OSM often write it as a space ("O FARRELL", "COEUR D ALENE", "D ESTE"):
# such a lone letter is joined to the next name word. Only these two: "L RON HUBBARD" is an
# initial, and "O ST", "D ST", "L ST" are Wilmington/San Pedro lettered streets.
JOINED_INITIALS = frozenset({"O", "D"})
# Words joining two streets ("Sunset and Vine", Spanish "Sunset y Vine") and symbols doing the same.
CONNECTOR_WORDS = frozenset({"AND", "Y", "AT", "NEAR"})
CONNECTORS = CONNECTOR_WORDS | {"&", "/", "@", "+"}
BETWEEN_WORDS = frozenset("BETWEEN BTWN BTW BET BETWN BETW BTWEEN ENTRE FROM".split())
BETWEEN_JOINERS = frozenset({"AND", "&", "Y", "/", "TO", "+"})
# Leading phrases dropped before parsing, longest first.
LEAD_PHRASES = tuple(
    phrase.split()
    for phrase in (
        "AT THE CORNER OF|ON THE CORNER OF|THE CORNER OF|CORNER OF|THE INTERSECTION OF|"
        "INTERSECTION OF|EN LA ESQUINA DE|LA ESQUINA DE|ESQUINA DE|ESQUINA|CRUCE DE|"
        "CERCA DE|NEAR|CORNER|ON|AT"
    ).split("|")
)

_ORDINAL_RE = re.compile(r"(\d{1,6})(ST|ND|RD|TH)?")
_GLYPHS = (("½", " 1/2"), ("¼", " 1/4"), ("¾", " 3/4"), ("⁄", "/"), ("’", "'"), ("‘", "'"))


def community_name(words: str) -> str | None:
    """Return the canonical community or city name for cleaned words, or ``None``.

    :param words: upper-case words without punctuation, e.g. ``"NOHO"``.
    :returns: the canonical name (``"NORTH HOLLYWOOD"``), including places outside the City.

    >>> community_name("LA"), community_name("VAN NUYS"), community_name("BERENDO")
    ('LOS ANGELES', 'VAN NUYS', None)
    """
    canonical = COMMUNITY_ALIASES.get(words, words)
    if canonical in LA_COMMUNITIES or canonical in OUTSIDE_CITY_PLACES:
        return canonical
    return None


def ordinal(number: int) -> str:
    """Write a number as a street ordinal.

    :param number: a non-negative integer.
    :returns: e.g. ``"3RD"``, ``"11TH"``, ``"101ST"``.

    >>> ordinal(3), ordinal(11), ordinal(101)
    ('3RD', '11TH', '101ST')
    """
    if number % 100 in (11, 12, 13):
        return f"{number}TH"
    return f"{number}{ {1: 'ST', 2: 'ND', 3: 'RD'}.get(number % 10, 'TH') }"


def spelled_ordinal(words: list[str]) -> int | None:
    """Read a spelled-out ordinal up to 999 ("THIRD", "TWENTY FIRST", "ONE HUNDRED AND THIRD").

    :param words: upper-case words, hyphens already split.
    :returns: the number, or ``None`` unless all the words form one ordinal.

    >>> spelled_ordinal(["ONE", "HUNDRED", "THIRD"]), spelled_ordinal(["THIRD", "ST"])
    (103, None)
    """
    total = 0
    for i, word in enumerate(words):
        last = i == len(words) - 1
        if last and word in ORDINAL_WORDS:
            total += ORDINAL_WORDS[word]
        elif last and word == "HUNDREDTH":
            total = max(total, 1) * 100
        elif not last and word in CARDINAL_WORDS:
            total += CARDINAL_WORDS[word]
        elif not last and word == "HUNDRED" and total < 10:
            total = max(total, 1) * 100
        elif not (not last and word == "AND" and total >= 100):
            return None
    return total if 0 < total < 1000 else None


def ascii_upper(text: str) -> str:
    """Upper-case ASCII version of text: accents dropped, other non-ASCII characters spaced out.

    Vulgar fractions become ``1/2``-style words and curly apostrophes straight ones.

    :param text: any text.
    :returns: the cleaned text (same words, no accents).

    >>> ascii_upper("1234½ Cañon Dr"), ascii_upper("O’Farrell")
    ('1234 1/2 CANON DR', "O'FARRELL")
    """
    for glyph, plain in _GLYPHS:
        text = text.replace(glyph, plain)
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char if char.isascii() else " " for char in kept).upper()


def clean_words(text: str) -> list[str]:
    """Split text into upper-case words; apostrophes are dropped, other punctuation splits.

    :param text: any text.
    :returns: the words.

    >>> clean_words("O'Farrell St."), clean_words("Martin Luther King, Jr.")
    (['OFARRELL', 'ST'], ['MARTIN', 'LUTHER', 'KING', 'JR'])
    """
    cleaned = re.sub(r"['`]", "", ascii_upper(text))
    return re.sub(r"[^A-Z0-9]+", " ", cleaned).split()


def name_form(words: list[str]) -> tuple[str, bool]:
    """Join the words of a core street name in their matching form.

    Numbered streets become ordinals (``3``, ``3TH``, ``THIRD`` -> ``3RD``), a leading ``AVE``
    or ``TER`` is spelled out (``AVENUE 50``, ``AVENUE SAN LUIS``, ``TERRACE 49``) and
    :data:`NAME_WORD_FORMS` apply (``MOUNT`` -> ``MT``) and a lone ``O`` or ``D`` joins the next
    word (:func:`join_name_initials`: ``O FARRELL`` -> ``OFARRELL``, as ``O'FARRELL`` gives).

    :param words: upper-case words from :func:`clean_words`.
    :returns: the name and whether a number was rewritten.

    >>> name_form(["THIRD"]), name_form(["AVE", "50"]), name_form(["SAINT", "ANDREWS"])
    (('3RD', True), ('AVENUE 50', False), ('ST ANDREWS', False))
    >>> name_form(["COEUR", "D", "ALENE"]), name_form(["O"]), name_form(["L", "RON", "HUBBARD"])
    (('COEUR DALENE', False), ('O', False), ('L RON HUBBARD', False))
    """
    if len(words) == 1 and (match := _ORDINAL_RE.fullmatch(words[0])):
        numbered = ordinal(int(match.group(1)))
        return numbered, numbered != words[0]
    spelled = spelled_ordinal(words)
    if spelled is not None:
        return ordinal(spelled), True
    if len(words) >= 2 and words[0] in PRE_TYPE_NAMES:  # "AVE 50", "AV SAN LUIS"
        rest = [str(int(words[1]))] if len(words) == 2 and words[1].isdigit() else words[1:]
        words = [PRE_TYPE_NAMES[words[0]], *rest]
    return " ".join(join_name_initials([NAME_WORD_FORMS.get(word, word) for word in words])), False


def join_name_initials(words: list[str]) -> list[str]:
    """Join a lone ``O`` or ``D`` to the name word after it (``D ESTE`` -> ``DESTE``).

    The letter stays alone when nothing follows it (``O`` of ``O ST``), or when the next word is
    a street suffix (``O ST``, ``D PARK``) or has one or two letters (``D W GRIFFITH``, a post
    direction ``O NE``), so the rule can also run on whole keys and labels (``COEUR D ALENE AVE``)
    with the same result as on the bare name.

    :param words: upper-case words of a name, key or label.
    :returns: the words, initials joined.

    >>> join_name_initials(["O", "FARRELL", "ST"]), join_name_initials(["O", "ST"])
    (['OFARRELL', 'ST'], ['O', 'ST'])
    >>> join_name_initials(["832", "COEUR", "D", "ALENE", "AVE"])
    ['832', 'COEUR', 'DALENE', 'AVE']
    """
    joined: list[str] = []
    i = 0
    while i < len(words):
        word, after = words[i], words[i + 1] if i + 1 < len(words) else ""
        if word in JOINED_INITIALS and _joinable(after):
            joined.append(word + after)
            i += 2
        else:
            joined.append(word)
            i += 1
    return joined


def whole_unit(words: list[str]) -> tuple[str, str | None] | None:
    """Read words that are nothing but a secondary unit ("APT 5", "# 5", "REAR").

    :param words: upper-case words.
    :returns: (standard designator, identifier or ``None``), or ``None`` if not a unit.

    >>> whole_unit(["APARTMENT", "5"]), whole_unit(["#", "12B"]), whole_unit(["MAIN", "ST"])
    (('APT', '5'), ('#', '12B'), None)
    """
    if len(words) == 1 and words[0] in UNIT_FLAGS:
        return UNIT_FLAGS[words[0]], None
    if len(words) >= 2 and words[0] in UNIT_DESIGNATORS:
        ident = [word for word in words[1:] if word != "#"]
        if len(ident) == 1 and UNIT_ID_RE.fullmatch(ident[0]):
            return UNIT_DESIGNATORS[words[0]], ident[0]
    return None


def _joinable(word: str) -> bool:
    return len(word) > 2 and word.isalpha() and word not in USPS_SUFFIXES
