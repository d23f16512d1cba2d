import datetime

from sqlalchemy import select

from core.api import Unit
from tests.memo_plugin.models import MemoNote

DEMO = [
    ("440100", "广州市团委启动“亲青汇”计划", datetime.date(2012, 3, 1)),
    ("440600", "佛山市团委成立工作领导小组", datetime.date(2012, 3, 5)),
    ("440300", "深圳市团委上报直接联系名单", datetime.date(2012, 3, 28)),
]


def load(session) -> int:
    units = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_([d[0] for d in DEMO]))).all())
    existing = set(session.execute(select(MemoNote.title)).scalars())
    n = 0
    for code, title, day in DEMO:
        if title in existing or code not in units:
            continue
        session.add(MemoNote(unit_id=units[code], title=title, noted_on=day))
        n += 1
    return n
