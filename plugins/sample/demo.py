"""Demo records (``qqh demo``): idempotent — a second run adds nothing."""

import datetime

from sqlalchemy import select

from core.api import Unit
from plugins.sample.models import SampleEvent, SampleSignup

EVENTS = [
    ("440100", "广州市青年社会组织开放日", datetime.date(2012, 3, 10), "广州市青年文化宫"),
    ("440600", "佛山市青年志愿服务交流会", datetime.date(2012, 4, 8), "佛山市青少年宫"),
]
SIGNUPS = [
    ("广州市青年社会组织开放日", "陈小明", datetime.date(2012, 3, 1)),
    ("广州市青年社会组织开放日", "李晓华", datetime.date(2012, 3, 2)),
    ("佛山市青年志愿服务交流会", "黄丽", datetime.date(2012, 4, 1)),
]


def load(session) -> int:
    """Add what is missing (set-based: one query per table); return how many records were added."""
    units = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_([e[0] for e in EVENTS]))).all())
    events = {e.title: e for e in session.execute(select(SampleEvent)).scalars()}
    n = 0
    for code, title, day, place in EVENTS:
        if title not in events and code in units:
            events[title] = SampleEvent(unit_id=units[code], title=title, held_on=day, place=place)
            session.add(events[title])
            n += 1
    session.flush()
    have = set(session.execute(select(SampleSignup.event_id, SampleSignup.name)).tuples())
    for title, name, day in SIGNUPS:
        event = events.get(title)
        if event is not None and (event.id, name) not in have:
            session.add(SampleSignup(event=event, name=name, signed_on=day))
            n += 1
    return n
