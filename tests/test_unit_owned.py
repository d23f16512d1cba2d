"""Core declarations on unit-owned models, checked on plugin models:

* ``__qqh_unit_from__``: a record whose unit is always its parent record's
  (a service its organization's): set when the parent is chosen and at
  flush, enforced by check_item, carried along when the parent moves;
* ``__qqh_remember__`` and ``stored_value``: what was stored before an edit,
  even after an autoflush has emptied the attribute history.

The ORM tests work in one transaction and roll it back: nothing stays."""

import datetime
import uuid

import pytest
from sqlalchemy import inspect as sa_inspect, select

from core.tenancy.scope import ALL, InvalidInput
from core.tenancy.records import check_item, stored_value
from core.tenancy.units import unit_by_code


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def session(app):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        s = app.appbuilder.session
        try:
            yield s
        finally:
            s.rollback()


def new_org(session, code="440606"):
    from plugins.cultivation.models import YouthOrg

    org = YouthOrg(name=unique("跟随测试组织"), unit=unit_by_code(session, code), category="interest",
                   service_field="other", reg_status="unregistered")
    session.add(org)
    session.flush()
    return org


def new_service(org, **kw):
    from plugins.cultivation.models import Service

    return Service(org=org, kind="venue", starts_on=datetime.date(2012, 4, 1), **kw)


def test_a_record_takes_its_parents_unit_when_the_parent_is_chosen(session):
    org = new_org(session)
    service = new_service(org)
    assert service.unit is org.unit
    other = new_org(session, "440605")
    service.org = other
    assert service.unit is other.unit


def test_check_item_fills_an_empty_unit_and_refuses_another(session):
    org = new_org(session)
    service = new_service(org)
    service.unit = None  # an empty cell of an import: the organization's
    check_item(session, service, ALL)
    assert service.unit is org.unit
    service.unit = unit_by_code(session, "440600")
    with pytest.raises(InvalidInput) as refused:
        check_item(session, service, ALL)
    assert list(refused.value.messages) == ["unit"]
    message = refused.value.messages["unit"][0]
    assert org.name in message and "顺德区" in message


def test_the_unit_follows_the_parent_at_flush_whatever_wrote_it(session):
    org = new_org(session)
    service = new_service(org, unit=unit_by_code(session, "440300"))  # set after the organization
    session.add(service)
    session.flush()
    assert service.unit_id == org.unit_id


def test_records_move_along_with_their_parent(session):
    from plugins.cultivation.models import Service

    org = new_org(session)
    loaded, not_loaded = new_service(org), new_service(org, note="不在会话中")
    session.add_all([loaded, not_loaded])
    session.flush()
    not_loaded_id = not_loaded.id
    session.expunge(not_loaded)
    nanhai = unit_by_code(session, "440605")
    org.unit = nanhai
    session.flush()
    assert session.execute(select(Service.unit_id).where(Service.id == not_loaded_id)).scalar_one() == nanhai.id
    assert loaded.unit_id == nanhai.id and loaded.unit is nanhai


def test_moving_an_organization_over_the_api_moves_its_services(as_user, app):
    sz = as_user("sz_clerk")
    with app.app_context():
        luohu, futian = (unit_by_code(app.appbuilder.session, c).id for c in ("440303", "440304"))
    r = sz.post("/api/v1/youthorg/", json={"name": unique("搬迁测试组织"), "unit": luohu, "category": "interest",
                                          "service_field": "other", "reg_status": "unregistered"})
    assert r.status_code == 201, r.text
    org = r.json()["id"]
    r = sz.post("/api/v1/youthorgservice/", json={"org": org, "kind": "venue", "starts_on": "2012-04-01"})
    assert r.status_code == 201, r.text
    service = r.json()["id"]
    try:
        assert sz.get(f"/api/v1/youthorgservice/{service}").json()["result"]["unit"]["code"] == "440303"
        assert sz.put(f"/api/v1/youthorg/{org}", json={"unit": futian}).status_code == 200
        assert sz.get(f"/api/v1/youthorgservice/{service}").json()["result"]["unit"]["code"] == "440304"
    finally:
        assert sz.delete(f"/api/v1/youthorg/{org}").status_code == 200


def new_camp(session, **kw):
    from plugins.training.models import Camp

    data = dict(unit=unit_by_code(session, "440600"), title=unique("记忆测试训练营"), session_no=1,
                starts_on=datetime.date(2012, 4, 20), ends_on=datetime.date(2012, 4, 22), place="佛山", capacity=30,
                status="open")
    data.update(kw)
    return Camp(**data)


def test_stored_value_is_what_was_loaded_even_after_an_autoflush(session):
    from plugins.training.models import Camp

    camp = new_camp(session)
    assert stored_value(camp, "status") is None  # a new record has nothing stored
    session.add(camp)
    session.flush()
    pk = camp.id
    session.expunge(camp)
    camp = session.get(Camp, pk)
    camp.status = "finished"
    assert stored_value(camp, "status") == "open"
    session.flush()  # what a query during the edit does: the history is gone
    assert not sa_inspect(camp).attrs.status.history.deleted
    assert stored_value(camp, "status") == "open"
    session.expire(camp, ["title"])  # reloading another attribute keeps it
    assert camp.title and stored_value(camp, "status") == "open"
    with pytest.raises(ValueError):
        stored_value(camp, "title")  # not declared in Camp.__qqh_remember__
