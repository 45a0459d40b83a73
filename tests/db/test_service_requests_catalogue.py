"""The catalogue in the database: sync from data/catalogue, routing (most specific rule wins)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geo311.boundaries import AreaHit
from geo311.catalogue import (
    catalogue_is_empty,
    myla311_name_map,
    owner_department_map,
    route_department,
    sync_catalogue,
)
from geo311.errors import BadRequest
from geo311.models import Department, RoutingRule, ServiceType


@pytest.fixture
def synced(conn):
    sync_catalogue(conn)
    return conn


def test_sync_writes_every_type_department_and_rule(conn):
    assert catalogue_is_empty(conn)
    report = sync_catalogue(conn)
    assert report.service_types == conn.execute(
        select(func.count()).select_from(ServiceType)).scalar_one() >= 19
    assert report.departments == conn.execute(
        select(func.count()).select_from(Department)).scalar_one()
    assert report.routing_rules == conn.execute(
        select(func.count()).select_from(RoutingRule)).scalar_one()
    bulky = conn.execute(select(ServiceType).where(ServiceType.code == "bulky_items")).one()
    assert bulky.attributes[0]["code"] == "items"
    assert {"key", "name_en", "name_es"} <= set(bulky.attributes[0]["values"][0])
    assert not catalogue_is_empty(conn)


def test_sync_twice_is_idempotent(synced):
    again = sync_catalogue(synced)
    assert synced.execute(select(func.count()).select_from(RoutingRule)).scalar_one() == (
        again.routing_rules)


def test_default_rule_routes_graffiti_to_ocb(synced):
    assert route_department(synced, "graffiti", {"CD": "1"}) == "OCB"
    assert route_department(synced, "bulky_items") == "LASAN"


def test_area_rule_beats_the_everywhere_rule_only_inside_its_area(synced):
    synced.execute(RoutingRule.__table__.insert().values(
        service_code="graffiti", area_type="CD", area_code="10", department="BSS", priority=0))
    assert route_department(synced, "graffiti", [AreaHit("CD", "10", "CD 10", "2012")]) == "BSS"
    assert route_department(synced, "graffiti", [{"type": "CD", "code": "9"}]) == "OCB"
    assert route_department(synced, "graffiti", {"CD": "10", "NC": "55"}) == "BSS"


def test_higher_priority_wins_over_area_specificity(synced):
    synced.execute(RoutingRule.__table__.insert().values(
        service_code="graffiti", area_type="CD", area_code="10", department="BSS", priority=0))
    synced.execute(RoutingRule.__table__.insert().values(
        service_code="graffiti", area_type="NC", area_code="55", department="LASAN", priority=5))
    assert route_department(synced, "graffiti", {"CD": "10", "NC": "55"}) == "LASAN"


def test_unknown_service_code_is_a_bad_request(synced):
    with pytest.raises(BadRequest, match="nope"):
        route_department(synced, "nope")


def test_myla311_names_and_owner_codes_map_to_codes(synced):
    names = myla311_name_map(synced)
    assert names["bulky items"] == "bulky_items"
    assert names["graffiti"] == "graffiti"  # Hack for LA's short name
    owners = owner_department_map(synced)
    assert owners["bos"] == owners["sanitation bureau"] == "LASAN"
    assert owners["ocb"] == "OCB"
