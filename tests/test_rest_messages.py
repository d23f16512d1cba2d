"""Every scoped REST API answers bad input in the user's language, from core
(ScopedModelRestApi): a required field that is missing or null is named by
its label, type errors say what to write, over-long text says the limit.
422, and nothing written. Checked on the memo plugin and on a plugin API
(training camps) that declares nothing about messages of its own."""

import re
import uuid

import pytest
import sqlalchemy as sa

NOTES = "/api/v1/memonote/"
CAMPS = "/api/v1/trainingcamp/"


def count_titled(app, model, title) -> int:
    with app.app_context():
        session = app.appbuilder.session
        try:
            return session.execute(sa.select(sa.func.count()).select_from(model).where(model.title == title)).scalar_one()
        finally:
            session.rollback()


def texts(messages) -> list[str]:
    """Every message of an answer: a list of them per field, or per item of a
    list field ({"lecturers": {"0": [...]}})."""
    if isinstance(messages, dict):
        return [t for m in messages.values() for t in texts(m)]
    assert isinstance(messages, list), messages
    return messages


def refused(r) -> dict:
    """The 422 answer's messages, none with English words."""
    assert r.status_code == 422, r.text
    messages = r.json()["message"]
    assert not re.findall(r"[A-Za-z]+ [A-Za-z]+", " / ".join(texts(messages))), messages
    return messages


def note(unit_ids, **changes):
    data = {"title": f"记事{uuid.uuid4().hex[:8]}", "body": "正文", "noted_on": "2012-03-05", "unit": unit_ids["440600"]}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(title=...), "title", "“标题”为必填项"),
        (dict(title=None), "title", "“标题”为必填项"),
        (dict(noted_on=...), "noted_on", "“日期”为必填项"),
        (dict(unit=...), "unit", "“单位”为必填项"),
        (dict(noted_on="2012-13-45"), "noted_on", "不是有效的日期，请按2012-03-31的格式填写"),
        (dict(noted_on=20120305), "noted_on", "不是有效的日期"),
        (dict(title="长" * 201), "title", "最多 200 个字符"),
        (dict(title=["一", "二"]), "title", "不是有效的文本"),
        (dict(unit="佛山"), "unit", "请从列表中选择记录"),
        (dict(unit=7.5), "unit", "请从列表中选择记录"),
        (dict(colour="red"), "colour", "没有这个字段"),
    ],
)
def test_memo_note_api_refuses_in_chinese_and_writes_nothing(app, as_user, unit_ids, changes, field, words):
    from tests.memo_plugin.models import MemoNote

    payload = note(unit_ids, **changes)
    r = as_user("fs_clerk").post(NOTES, json=payload)
    messages = refused(r)
    assert words in "".join(messages.get(field, [])), messages
    title = payload.get("title")
    if isinstance(title, str):
        assert count_titled(app, MemoNote, title) == 0


def test_several_mistakes_are_answered_together(as_user, unit_ids):
    r = as_user("fs_clerk").post(NOTES, json=note(unit_ids, title=..., noted_on="someday", unit=None))
    messages = refused(r)
    assert set(messages) == {"title", "noted_on", "unit"}, messages


def test_an_edit_is_refused_the_same_way_and_changes_nothing(as_user, unit_ids):
    fs = as_user("fs_clerk")
    payload = note(unit_ids)
    r = fs.post(NOTES, json=payload)
    assert r.status_code == 201, r.text
    pk = r.json()["id"]
    try:
        messages = refused(fs.put(f"{NOTES}{pk}", json={"title": None, "noted_on": "31.3.2012"}))
        assert "“标题”为必填项" in messages["title"][0] and "不是有效的日期" in messages["noted_on"][0]
        got = fs.get(f"{NOTES}{pk}").json()["result"]
        assert got["title"] == payload["title"] and got["noted_on"] == "2012-03-05"
    finally:
        assert fs.delete(f"{NOTES}{pk}").status_code == 200


def test_a_body_that_is_not_a_record_is_refused(as_user):
    messages = refused(as_user("fs_clerk").post(NOTES, json=["标题", "2012-03-05"]))
    assert "请以JSON对象的形式提交记录" in str(messages)


def test_the_message_follows_the_users_language(as_user, unit_ids):
    fs = as_user("fs_clerk")
    fs.get("/lang/en")
    r = fs.post(NOTES, json=note(unit_ids, title=..., noted_on="2012-13-45"))
    assert r.status_code == 422
    messages = r.json()["message"]
    assert messages["title"] == ["Title is required."]
    assert messages["noted_on"] == ["Not a valid date: write it as 2012-03-31."]


def camp(unit_ids, **changes):
    data = {
        "title": f"训练营{uuid.uuid4().hex[:8]}", "session_no": 1, "unit": unit_ids["440300"], "starts_on": "2012-04-20",
        "ends_on": "2012-04-22", "place": "佛山市南海区桂城街道", "capacity": 30, "status": "open",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(place=...), "place", "“举办地点”为必填项"),
        (dict(starts_on=None), "starts_on", "“开始日期”为必填项"),
        (dict(ends_on="2012-04-31"), "ends_on", "不是有效的日期"),
        (dict(capacity="三十"), "capacity", "不是有效的整数"),
        (dict(session_no=1.5), "session_no", "不是有效的整数"),
        (dict(session_no=10**30), "session_no", "数值过大"),
        (dict(capacity=-(10**30)), "capacity", "数值过小"),
        (dict(place="路" * 201), "place", "最多 200 个字符"),
        (dict(lecturers="王老师"), "lecturers", "请填写列表"),
        (dict(lecturers=["王老师"]), "lecturers", "请从列表中选择记录"),
    ],
)
def test_a_plugin_api_refuses_in_chinese_and_writes_nothing(app, as_user, unit_ids, changes, field, words):
    from plugins.training.models import Camp

    payload = camp(unit_ids, **changes)
    messages = refused(as_user("sz_clerk").post(CAMPS, json=payload))
    assert words in "".join(texts(messages.get(field, []))), messages
    assert count_titled(app, Camp, payload["title"]) == 0
