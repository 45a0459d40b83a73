"""Tests for geo311.catalogue_data: the shipped catalogue, its lookups and its validation."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geo311.catalogue_data import (
    DEFAULT_CATALOGUE_DIR,
    OPEN311_DATATYPES,
    Catalogue,
    CatalogueError,
    load_catalogue,
)

SHARED_LA = Path(__file__).parents[2].parent / "shared/data/la"
MYLA311 = SHARED_LA / "myla311"
FILES = ("departments.json", "service_types.json", "routing_rules.json")

Docs = dict[str, Any]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _docs() -> Docs:
    return {f: json.loads((DEFAULT_CATALOGUE_DIR / f).read_text(encoding="utf-8")) for f in FILES}


def _write(directory: Path, docs: Docs) -> Path:
    for name, doc in docs.items():
        (directory / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return directory


def _service(docs: Docs, code: str) -> dict[str, Any]:
    return next(s for s in docs["service_types.json"]["service_types"] if s["code"] == code)


def _attribute(docs: Docs, code: str, attr: str) -> dict[str, Any]:
    return next(a for a in _service(docs, code)["attributes"] if a["code"] == attr)


# --- the shipped catalogue ------------------------------------------------------------------


def test_default_directory_is_repo_data_catalogue() -> None:
    assert DEFAULT_CATALOGUE_DIR == Path(__file__).resolve().parents[2] / "data" / "catalogue"


def test_shipped_catalogue_has_the_issue_codes(catalogue: Catalogue) -> None:
    codes = {s.code for s in catalogue.service_types}
    assert codes >= {
        "bulky_items",
        "graffiti",
        "illegal_dumping",
        "metal_appliances",
        "e_waste",
        "dead_animal",
        "homeless_encampment",
        "streetlight_single",
        "streetlight_multiple",
        "water_waste",
        "feedback",
        "other",
        "pothole",
        "sidewalk_repair",
        "tree_trimming",
        "traffic_signal",
        "abandoned_vehicle",
        "catch_basin",
    }
    depts = {d.code for d in catalogue.departments}
    assert depts >= {"LASAN", "BSS", "BSL", "OCB", "LADWP", "LADOT", "RAP", "ITA"}


def test_every_attribute_uses_an_open311_datatype(catalogue: Catalogue) -> None:
    for st in catalogue.service_types:
        for attr in st.attributes:
            assert attr.datatype in OPEN311_DATATYPES, (st.code, attr.code)
            if attr.datatype.endswith("valuelist"):
                assert attr.values, (st.code, attr.code)
            else:
                assert attr.values == (), (st.code, attr.code)
        assert [a.order for a in st.attributes] == sorted(a.order for a in st.attributes)


def test_every_type_has_one_default_rule_to_its_default_department(catalogue: Catalogue) -> None:
    for st in catalogue.service_types:
        defaults = [
            r for r in catalogue.routing_rules if r.service_code == st.code and r.is_default
        ]
        assert [r.department for r in defaults] == [st.default_department]
        assert catalogue.department_for_service(st.code).code == st.default_department


def test_abandoned_vehicle_asks_what_ladot_asks_for(catalogue: Catalogue) -> None:
    st = catalogue.find_service_type("abandoned_vehicle")
    assert st is not None and st.default_department == "LADOT"
    required = {a.code for a in st.attributes if a.required}
    assert required == {"vehicle_make", "vehicle_color", "license_plate"}


# --- lookups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Bulky Items", "bulky_items"),
        ("bulky items", "bulky_items"),
        ("  Single   Streetlight Issue ", "streetlight_single"),
        ("Metal/Appliances", "metal_appliances"),
        ("Metal/Household Appliances", "metal_appliances"),
        ("Animal Remains", "dead_animal"),
        ("Dead Animal Removal", "dead_animal"),
        ("Water Waste", "water_waste"),
        ("Graffiti Removal", "graffiti"),
    ],
)
def test_code_for_myla311_name_ignores_case_and_spacing(
    catalogue: Catalogue, name: str, code: str
) -> None:
    assert catalogue.code_for_myla311_name(name) == code


def test_code_for_unknown_myla311_name_is_none(catalogue: Catalogue) -> None:
    assert catalogue.code_for_myla311_name("Flying Saucer") is None


@pytest.mark.parametrize(
    ("owner", "dept"),
    [
        ("BOS", "LASAN"),
        ("lasan", "LASAN"),
        ("Sanitation Bureau", "LASAN"),
        ("OCB", "OCB"),
        ("BSL", "BSL"),
        ("Street Lighting Bureau", "BSL"),
        ("BSS", "BSS"),
        ("ITA", "ITA"),
        ("LADWP", "LADWP"),
        ("Department of Water & Power", "LADWP"),
    ],
)
def test_department_for_owner(catalogue: Catalogue, owner: str, dept: str) -> None:
    found = catalogue.department_for_owner(owner)
    assert found is not None and found.code == dept


def test_department_for_unknown_owner_is_none(catalogue: Catalogue) -> None:
    assert catalogue.department_for_owner("NOPE") is None


def _codes(catalogue: Catalogue, text: str, lang: str | None = None) -> list[str]:
    return [s.code for s in catalogue.search(text, lang)]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("bache", "pothole"),
        ("baches", "pothole"),
        ("muebles", "bulky_items"),
        ("colchón", "bulky_items"),
        ("colchon", "bulky_items"),
        ("sofá", "bulky_items"),
        ("SOFA", "bulky_items"),
        ("grafiti", "graffiti"),
        ("pintas", "graffiti"),
        ("semáforo", "traffic_signal"),
        ("pothole", "pothole"),
        ("colch", "bulky_items"),
    ],
)
def test_search_puts_the_obvious_type_first(catalogue: Catalogue, text: str, first: str) -> None:
    assert _codes(catalogue, text)[0] == first


def test_search_basura_includes_bulky_items_and_dumping(catalogue: Catalogue) -> None:
    codes = _codes(catalogue, "basura")
    assert {"bulky_items", "illegal_dumping"} <= set(codes[:2])


@pytest.mark.parametrize("text", ["luz", "farola", "alumbrado", "Alumbrado público"])
def test_search_light_words_find_streetlights_first(catalogue: Catalogue, text: str) -> None:
    codes = _codes(catalogue, text)
    assert set(codes[:2]) == {"streetlight_single", "streetlight_multiple"}


def test_search_by_language(catalogue: Catalogue) -> None:
    assert _codes(catalogue, "bache", "es")[0] == "pothole"
    assert _codes(catalogue, "bache", "en") == []
    assert _codes(catalogue, "pothole", "en")[0] == "pothole"


def test_search_with_nothing_to_match_is_empty(catalogue: Catalogue) -> None:
    assert catalogue.search("") == []
    assert catalogue.search("de la") == []
    assert catalogue.search("zzzz") == []


def test_search_rejects_unknown_language(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="lang"):
        catalogue.search("bache", "fr")


def test_area_rule_overrides_default(tmp_path: Path) -> None:
    docs = _docs()
    docs["routing_rules.json"]["rules"].append(
        {
            "service_code": "graffiti",
            "area_type": "CD",
            "area_code": "10",
            "department": "BSS",
            "priority": 10,
        }
    )
    catalogue = load_catalogue(_write(tmp_path, docs))
    assert catalogue.department_for_service("graffiti", {"CD": "10"}).code == "BSS"
    assert catalogue.department_for_service("graffiti", {"CD": "9"}).code == "OCB"
    assert catalogue.department_for_service("graffiti").code == "OCB"
    with pytest.raises(KeyError):
        catalogue.department_for_service("no_such_type")


def test_area_rule_with_lower_priority_than_default_does_not_apply(tmp_path: Path) -> None:
    docs = _docs()
    docs["routing_rules.json"]["rules"].append(
        {
            "service_code": "pothole",
            "area_type": "NC",
            "area_code": "55",
            "department": "LADOT",
            "priority": -1,
        }
    )
    catalogue = load_catalogue(_write(tmp_path, docs))
    assert catalogue.department_for_service("pothole", {"NC": "55"}).code == "BSS"


# --- every value in the real MyLA311 data is covered -----------------------------------------


def _csv_values(path: Path, column: str) -> set[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f) if row[column]}


def _myla311_values() -> dict[str, set[str]]:
    if not MYLA311.is_dir():
        pytest.skip(f"{MYLA311} not present")
    types = _csv_values(MYLA311 / "myla311_2018_sample_10k_a.csv", "RequestType")
    types |= _csv_values(MYLA311 / "myla311_2020_sample_10k.csv", "requesttype")
    types |= _csv_values(MYLA311 / "myla311_2022_09_hfla_api_20k.csv", "typeName")
    with gzip.open(MYLA311 / "open_requests_2020_07.json.gz", "rt", encoding="utf-8") as f:
        types |= {r["requesttype"] for r in json.load(f) if r.get("requesttype")}
    owners = _csv_values(MYLA311 / "myla311_2018_sample_10k_a.csv", "Owner")
    owners |= _csv_values(MYLA311 / "myla311_2020_sample_10k.csv", "owner")
    owners |= _csv_values(MYLA311 / "myla311_2022_09_hfla_api_20k.csv", "agencyName")
    return {"types": types, "owners": owners}


def test_every_myla311_request_type_in_shared_data_maps_to_a_code(catalogue: Catalogue) -> None:
    values = _myla311_values()["types"]
    assert len(values) >= 12
    unmapped = sorted(v for v in values if catalogue.code_for_myla311_name(v) is None)
    assert unmapped == []


def test_every_myla311_owner_in_shared_data_maps_to_a_department(catalogue: Catalogue) -> None:
    values = _myla311_values()["owners"]
    unmapped = sorted(v for v in values if catalogue.department_for_owner(v) is None)
    assert unmapped == []


# --- validation -------------------------------------------------------------------------------


def _dup_service(d: Docs) -> None:
    d["service_types.json"]["service_types"].append(dict(_service(d, "graffiti")))


def _dup_myla311_name(d: Docs) -> None:
    _service(d, "illegal_dumping")["myla311_names"].append("BULKY ITEMS")


def _dup_owner(d: Docs) -> None:
    d["departments.json"]["departments"][1]["myla311_owner_codes"].append("bos")


def _bad_rule_area(d: Docs) -> None:
    d["routing_rules.json"]["rules"][0]["area_type"] = "CD"


def _unknown_rule_dept(d: Docs) -> None:
    d["routing_rules.json"]["rules"][0]["department"] = "LAPD"


def _unknown_rule_service(d: Docs) -> None:
    d["routing_rules.json"]["rules"][0]["service_code"] = "ufo_sighting"


def _version(d: Docs) -> None:
    d["routing_rules.json"]["version"] = "1999-01-01"


Mutation = Callable[[Docs], None]
BROKEN: list[tuple[str, Mutation, str, str | None, str | None, str]] = [
    (
        "duplicate service code",
        _dup_service,
        "service_types.json",
        "service type 'graffiti'",
        "code",
        "duplicate",
    ),
    (
        "unknown default department",
        lambda d: _service(d, "graffiti").update(default_department="NOPE"),
        "service_types.json",
        "service type 'graffiti'",
        "default_department",
        "unknown department",
    ),
    (
        "illegal datatype",
        lambda d: _attribute(d, "graffiti", "is_offensive").update(datatype="boolean"),
        "service_types.json",
        "service type 'graffiti' attribute 'is_offensive'",
        "datatype",
        "not one of",
    ),
    (
        "list without values",
        lambda d: _attribute(d, "pothole", "size").update(values=[]),
        "service_types.json",
        "service type 'pothole' attribute 'size'",
        "values",
        "non-empty",
    ),
    (
        "values on a string",
        lambda d: _attribute(d, "streetlight_single", "pole_number").update(
            values=[{"key": "a", "name_en": "A", "name_es": "A"}]
        ),
        "service_types.json",
        "service type 'streetlight_single' attribute 'pole_number'",
        "values",
        "only list datatypes",
    ),
    (
        "missing spanish name",
        lambda d: _service(d, "pothole").pop("name_es"),
        "service_types.json",
        "service type 'pothole'",
        "name_es",
        "missing",
    ),
    (
        "empty spanish keywords",
        lambda d: _service(d, "pothole").update(keywords_es=[]),
        "service_types.json",
        "service type 'pothole'",
        "keywords_es",
        "must not be empty",
    ),
    (
        "blank english description",
        lambda d: _service(d, "pothole").update(description_en="  "),
        "service_types.json",
        "service type 'pothole'",
        "description_en",
        "must not be empty",
    ),
    (
        "spanish value name missing",
        lambda d: _attribute(d, "pothole", "size")["values"][0].pop("name_es"),
        "service_types.json",
        "service type 'pothole' attribute 'size' value 'small'",
        "name_es",
        "missing",
    ),
    (
        "upper-case service code",
        lambda d: _service(d, "pothole").update(code="Pothole"),
        "service_types.json",
        "service type 'Pothole'",
        "code",
        "lower_snake",
    ),
    (
        "typo in a field name",
        lambda d: _service(d, "pothole").update(name_sp="x"),
        "service_types.json",
        "service type 'pothole'",
        "name_sp",
        "unknown field",
    ),
    (
        "bounds on a text attribute",
        lambda d: _attribute(d, "pothole", "size").update(minimum=1),
        "service_types.json",
        "service type 'pothole' attribute 'size'",
        "minimum",
        "only number attributes",
    ),
    (
        "minimum above maximum",
        lambda d: _attribute(d, "bulky_items", "item_count").update(minimum=5, maximum=2),
        "service_types.json",
        "service type 'bulky_items' attribute 'item_count'",
        "minimum",
        "above maximum",
    ),
    (
        "required but not variable",
        lambda d: _attribute(d, "fallen_tree", "safety_notice").update(required=True),
        "service_types.json",
        "service type 'fallen_tree' attribute 'safety_notice'",
        "required",
        "variable=false",
    ),
    (
        "string for a boolean",
        lambda d: _attribute(d, "pothole", "size").update(required="yes"),
        "service_types.json",
        "service type 'pothole' attribute 'size'",
        "required",
        "true or false",
    ),
    (
        "negative radius",
        lambda d: _service(d, "pothole").update(duplicate_radius_m=-1),
        "service_types.json",
        "service type 'pothole'",
        "duplicate_radius_m",
        "0 or more",
    ),
    (
        "myla311 name on two types",
        _dup_myla311_name,
        "service_types.json",
        "service type 'illegal_dumping'",
        "myla311_names",
        "already used by service type 'bulky_items'",
    ),
    (
        "owner code on two departments",
        _dup_owner,
        "departments.json",
        "department 'BSS'",
        "myla311_owner_codes",
        "already used by department 'LASAN'",
    ),
    (
        "department without phone",
        lambda d: d["departments.json"]["departments"][0].update(phone=""),
        "departments.json",
        "department 'LASAN'",
        "phone",
        "must not be empty",
    ),
    (
        "rule to unknown department",
        _unknown_rule_dept,
        "routing_rules.json",
        "rules[0]",
        "department",
        "unknown department 'LAPD'",
    ),
    (
        "rule for unknown service",
        _unknown_rule_service,
        "routing_rules.json",
        "rules[0]",
        "service_code",
        "unknown service type",
    ),
    (
        "area type without code",
        _bad_rule_area,
        "routing_rules.json",
        "rules[0]",
        "area_code",
        "go together",
    ),
    ("version mismatch", _version, "routing_rules.json", None, "version", "differs"),
]


@pytest.mark.parametrize(
    ("mutate", "file", "item", "field", "problem"),
    [b[1:] for b in BROKEN],
    ids=[b[0] for b in BROKEN],
)
def test_broken_catalogue_names_file_item_and_field(
    tmp_path: Path, mutate: Mutation, file: str, item: str | None, field: str | None, problem: str
) -> None:
    docs = _docs()
    mutate(docs)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(_write(tmp_path, docs))
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.file, err.item, err.field) == (file, item, field)
    assert problem in err.problem
    assert file in str(err) and (item or "") in str(err)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, _docs())
    (tmp_path / "service_types.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"service_types\.json.*invalid JSON at line 1"):
        load_catalogue(tmp_path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    docs = _docs()
    del docs["routing_rules.json"]
    with pytest.raises(ValueError, match=r"routing_rules\.json: not found"):
        load_catalogue(_write(tmp_path, docs))


def test_counts_are_whole_positive_numbers_and_every_hint_has_spanish(catalogue: Catalogue) -> None:
    """'How many items' takes 1-100 whole items, not -3 or 2.5; every answer hint reads in
    Spanish too."""
    counts = {(st.code, a.code): a for st in catalogue.service_types for a in st.attributes
              if a.code.endswith("_count")}
    assert counts and all(a.whole_number and a.minimum == 1 for a in counts.values())
    assert counts[("bulky_items", "item_count")].maximum == 100
    for st in catalogue.service_types:
        for attr in st.attributes:
            assert bool(attr.datatype_description_es) == bool(attr.datatype_description), attr.code
