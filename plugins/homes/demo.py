"""Deterministic demo data for plan year 2012: 亲青家园 across the real cities
and counties of Guangdong (the province's first, 广州市青年社会组织孵化基地,
opened 2012-03-15 on the 7th floor of 广州市青年文化宫 with 35 resident
organizations), the standard-building checklist and what each base meets,
residencies of cultivation's demo organizations, 小组基地一对一 pairings, the
provincial fund of 500万元 and city funds with their grants. Late in the
plan year, some cities and counties have met their 亲青家园 and fund targets
on time and others not (see ``STRONG_SHARE``).

Idempotent: a record whose natural key exists is left alone. Every random
draw comes from a stream seeded by the record's own key, so what exists
already never shifts the rest.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sqlalchemy import insert, select

from core.api import Unit
from plugins.cultivation.models import YouthOrg
from plugins.homes.checklist import DEFAULT_ITEMS
from plugins.homes.models import (
    APPROVED,
    ENTERED,
    GRADUATED,
    HOME_SERVICES,
    INCUBATING,
    LEFT,
    PENDING,
    REJECTED,
    ChecklistEntry,
    ChecklistItem,
    Grant,
    Home,
    IncubationFund,
    Pairing,
    Residency,
    Sector,
)

YEAR = 2012
SEED = 2012
D = datetime.date
END = D(YEAR, 12, 31)
ALL_SERVICES = tuple(HOME_SERVICES)
BASIC = ("offers_venue", "offers_network", "offers_logistics")

# (unit code, name, kind, address, area m², opened, sign hung, services, manager)
REAL_HOMES = [
    ("440100", "广州市青年社会组织孵化基地", "youth_centre", "广州市越秀区北京路广州市青年文化宫7楼", 800,
     D(2012, 3, 15), D(2012, 3, 15), ALL_SERVICES, "陈晓婷"),
    ("440100", "广州1850创意园亲青家园", "partner_base", "广州市荔湾区1850创意园", 1200,
     D(2012, 5, 4), D(2012, 5, 20), BASIC + ("offers_training",), "黄俊杰"),
    ("440605", "南海桂城创益中心", "partner_base", "佛山市南海区桂城街道", 1500,
     D(2012, 3, 23), D(2012, 4, 10), ALL_SERVICES, "梁嘉欣"),
    ("440606006", "容桂“飞扬地带”青少年社工服务站", "youth_zone", "佛山市顺德区容桂街道", 320,
     D(2011, 9, 1), D(2012, 5, 4), BASIC + ("offers_counselling",), "何咏琳"),
    ("440300", "深圳市青少年活动中心亲青家园", "youth_centre", "深圳市福田区深圳市青少年活动中心", 900,
     D(2012, 4, 28), D(2012, 5, 4), ALL_SERVICES, "林志强"),
    ("440400", "珠海市新豫亲青家园", "volunteer_station", "珠海市香洲区新豫青少年综合服务中心", 450,
     D(2012, 4, 20), D(2012, 5, 18), BASIC + ("offers_custody",), "吴敏仪"),
    ("442000", "中山市青年社区学院亲青家园", "community", "中山市石岐区青年社区学院", 380,
     D(2012, 5, 12), None, BASIC + ("offers_training",), "郑锦辉"),
    ("441900", "东莞市松山湖大型楼盘亲青家园", "housing_estate", "东莞市松山湖园区", 260,
     D(2012, 6, 8), D(2012, 6, 20), BASIC, "叶诗琪"),
    ("440000", "华南理工大学学生活动中心亲青家园", "campus_centre", "广州市天河区五山路381号华南理工大学学生活动中心", 600,
     D(2012, 4, 12), D(2012, 5, 4), ALL_SERVICES, "朱振华"),
    ("440000", "中山大学学生社团“终端门店”", "campus_room", "广州市海珠区新港西路135号中山大学学生活动室", 80,
     D(2012, 9, 20), None, BASIC, "许文斌"),
]
GENERATED_KINDS = ["youth_centre", "youth_zone", "volunteer_station", "community", "housing_estate"]
KIND_WORDS = {
    "youth_centre": "青年中心", "youth_zone": "青年地带", "volunteer_station": "志愿服务站",
    "community": "社区", "housing_estate": "楼盘",
}

PROVINCE_SECTORS = [("经济界", "sector"), ("文化艺术界", "sector"), ("教育界", "sector"), ("科技界", "sector"),
                    ("社会福利界", "sector"), ("新闻出版界", "sector"), ("第一小组", "group"), ("第二小组", "group")]
CITY_SECTORS = {
    "440100": [("经济界", "sector"), ("社会工作界", "sector"), ("青年企业家小组", "group")],
    "440600": [("经济界", "sector"), ("文化体育界", "sector"), ("社会工作界", "sector")],
    "440300": [("科技界", "sector"), ("社会工作界", "sector")],
}
ACTIVITIES = ["共建座谈会", "入驻组织骨干沙龙", "公益项目诊断会", "委员结对辅导", "资源对接会", "委员开放日"]

PROVINCIAL_FUND = ("440000", "广东省青年社会组织培育发展基金", D(2012, 3, 20),
                   {"from_youth_foundation": 2_000_000, "from_volunteer_foundation": 1_000_000,
                    "from_federation_members": 1_000_000, "from_entrepreneurs": 1_000_000},
                   "用于省级“亲青家园”建设，并配套扶持市县“亲青家园”建设。")
NO_FUND_YET = {"441500", "445300"}  # 汕尾, 云浮: none in 2012 (the dashboard shows them overdue)
LATE_FUND = {"441900": D(2012, 6, 12), "441400": D(2012, 7, 16)}  # 东莞 after 5-end, 梅州 after 6-end
NO_HOME_YET = {"441500"}
LATE_HOME = {"445200": D(2012, 8, 1)}
# A living demo: 45 % of the cities and of the counties (drawn per unit) have a
# 亲青家园 with its sign hung and every item of the handbook met by their due
# date (PRD 5-end, others 6-end); the others' bases fall short of the handbook
# or come late. About half the cities set up their fund on time, the others late.
STRONG_SHARE = {"homes": 0.45, "funds": 0.5}
# late whatever the draw: no base, or a real one without its sign by the due date (中山, 东莞)
LATE = {"homes": NO_HOME_YET | set(LATE_HOME) | {"442000", "441900"}, "funds": NO_FUND_YET | set(LATE_FUND)}


# Towns (the notice: one 亲青家园 per town by the end of the year): by late 2012 about
# a third of them have a base; most of those meet the handbook with their sign hung
# (达标), the others not yet (进行中 until the year ends, then 逾期, like the towns with none)
TOWN_SHARE, TOWN_COMPLETE = 0.32, 0.75


def strong_units(units, what: str) -> set[str]:
    """The codes of the units that meet their ``what`` target in the demo:
    of the cities and the counties, PRD and not, each group apart, the share
    ``STRONG_SHARE[what]`` drawn in a deterministic random order from those
    not late whatever the draw."""
    groups: dict[tuple, list] = {}
    for u in units:
        if u is not None and u.level in ("city", "county"):
            groups.setdefault((u.level, bool(u.prd)), []).append(u.code)
    out = set()
    for codes in groups.values():
        n = round(len(codes) * STRONG_SHARE[what])
        codes = [c for c in codes if c not in LATE[what]]
        codes.sort(key=lambda c: random.Random(f"{SEED}:strong:{what}:{c}").random())
        out.update(codes[:n])
    return out


def due_of(unit: Unit) -> datetime.date:
    """The due date of a city's or county's 亲青家园 and fund targets."""
    return D(YEAR, 5, 31) if unit.prd else D(YEAR, 6, 30)


def short_place(name: str) -> str:
    if "自治县" in name:
        return name[:2]
    for suffix in ("街道", "市", "区", "县", "镇"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def stream(*key) -> random.Random:
    return random.Random(":".join(str(k) for k in (SEED,) + key))


def day_between(rnd: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    if last <= first:
        return first
    return first + datetime.timedelta(days=rnd.randint(0, (last - first).days))


def yuan(n) -> Decimal:
    return Decimal(n).quantize(Decimal("0.01"))


class Loader:
    def __init__(self, session):
        self.s = session
        self.added = 0
        self.units = {u.code: u for u in session.execute(
            select(Unit).where(Unit.level.in_(("province", "city", "county")))).scalars()}
        self.strong = {what: strong_units(self.units.values(), what) for what in STRONG_SHARE}

    def meets_handbook(self, home: Home) -> bool:
        """A city's or county's base that meets the handbook on time in the demo."""
        unit = home.unit
        return (unit.code in self.strong["homes"] and home.kind != "campus_room" and home.opened_on is not None
                and home.opened_on < due_of(unit))

    def unit(self, code):
        if code not in self.units:
            self.units[code] = self.s.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        return self.units[code]

    def add(self, *records):
        self.s.add_all(records)
        self.added += len(records)

    # -- the checklist -----------------------------------------------------------------
    def checklist(self) -> list[ChecklistItem]:
        have = {i.code: i for i in self.s.execute(select(ChecklistItem)).scalars()}
        for pos, (code, section, title, description) in enumerate(DEFAULT_ITEMS, start=1):
            if code not in have:
                item = ChecklistItem(code=code, section=section, title=title, description=description,
                                     position=pos * 10, active=True)
                self.add(item)
                have[code] = item
        self.s.flush()
        return [have[c] for c, *_ in DEFAULT_ITEMS]

    # -- bases --------------------------------------------------------------------------------
    def homes(self) -> list[Home]:
        existing = {(h.unit_id, h.name): h for h in self.s.execute(select(Home)).scalars()}
        out = []

        def home(code, name, kind, address, area, opened, signage, services, manager, rnd):
            unit = self.unit(code)
            if unit is None:
                return
            h = existing.get((unit.id, name))
            if h is None:
                phone = f"1{rnd.choice('358')}{rnd.randint(0, 9)}{rnd.randint(0, 99999999):08d}"
                h = Home(unit=unit, name=name, kind=kind, address=address, area=yuan(area), opened_on=opened,
                         signage_on=signage, manager=manager, phone=phone,
                         **{a: a in services for a in ALL_SERVICES})
                self.add(h)
                existing[(unit.id, name)] = h
            out.append(h)

        for code, name, kind, address, area, opened, signage, services, manager in REAL_HOMES:
            home(code, name, kind, address, area, opened, signage, services, manager, stream("home", code, name))
        with_real_home = {c for c, *_ in REAL_HOMES if c != "440000"}  # a city with one of its own gets no other
        for code, unit in sorted(self.units.items()):
            if unit is None or unit.level not in ("city", "county") or code in NO_HOME_YET:
                continue
            rnd = stream("home", code)
            if unit.level == "city":
                if code in with_real_home:
                    continue
                first, last = (D(YEAR, 3, 25), D(YEAR, 5, 31)) if unit.prd else (D(YEAR, 4, 10), D(YEAR, 6, 30))
                opened = LATE_HOME.get(code) or day_between(rnd, first, last)
            else:
                pilot, unopened = rnd.random() <= (0.6 if unit.prd else 0.35), rnd.random() < 0.1
                opened = None if unopened else day_between(rnd, D(YEAR, 4, 1), D(YEAR, 11, 30))
                if unit.code in self.strong["homes"]:  # opened in time to meet the handbook by the due date
                    opened = day_between(rnd, D(YEAR, 3, 20), due_of(unit) - datetime.timedelta(days=20))
                elif not pilot:
                    continue  # no pilot yet
            kind = rnd.choice(GENERATED_KINDS)
            place = short_place(unit.name)
            name = f"{place}{KIND_WORDS[kind]}亲青家园" + ("（试点）" if unit.level == "county" else "")
            signage = None
            if opened is not None and rnd.random() < 0.7:
                signage = min(END, opened + datetime.timedelta(days=rnd.randint(0, 40)))
            if opened is not None and opened < due_of(unit) and unit.code in self.strong["homes"]:
                signage = day_between(rnd, opened, due_of(unit))  # hung by the due date
            services = tuple(a for a in ALL_SERVICES if a in BASIC or rnd.random() < 0.4)
            manager = rnd.choice("陈李黄张梁林刘吴罗何") + rnd.choice(["嘉欣", "子豪", "晓婷", "伟杰", "敏仪", "志强"])
            address = f"{unit.name}{rnd.choice(['人民路', '青年路', '文化路', '中山路', '建设路'])}{rnd.randint(1, 300)}号"
            home(code, name, kind, address, rnd.randint(60, 600), opened, signage, services, manager, rnd)
        self.s.flush()
        return out

    def entries(self, homes, items):
        have = set(self.s.execute(select(ChecklistEntry.home_id, ChecklistEntry.item_id)).all())
        for h in homes:
            if h.opened_on is None:
                continue
            rnd = stream("checklist", h.unit.code, h.name)
            share = 0.95 if h.name == "广州市青年社会组织孵化基地" else rnd.uniform(0.2, 0.9)
            complete = self.meets_handbook(h)  # every item met by the due date
            for item in items:
                # draw first: what exists already must not shift the stream
                meets, met, page = rnd.random() <= share, day_between(rnd, h.opened_on, END), rnd.randint(1, 40)
                if complete:
                    meets, met = True, min(met, day_between(rnd, h.opened_on, due_of(h.unit)))
                if item.code == "A1":
                    meets, met = meets and h.signage_on is not None, h.signage_on
                if not meets or (h.id, item.id) in have:
                    continue
                self.add(ChecklistEntry(home=h, item=item, met_on=met,
                                        evidence=f"{h.name}{item.title[:12]}……（台账第{page}页）"))
                have.add((h.id, item.id))

    def town_homes(self, items) -> None:
        """The towns' bases and their checklist entries, set-based: one INSERT
        of the bases, one SELECT of their ids, one INSERT of the entries."""
        towns = self.s.execute(select(Unit.id, Unit.code, Unit.name, Unit.path).where(Unit.level == "town")
                               .order_by(Unit.code)).all()
        existing = set(self.s.execute(select(Home.unit_id, Home.name).join(Unit, Unit.id == Home.unit_id)
                                      .where(Unit.level == "town")).all())
        with_home = {unit_id for unit_id, _name in existing}
        rows, plans = [], {}
        for t in towns:
            rnd = stream("town-home", t.code)
            if rnd.random() >= TOWN_SHARE or t.id in with_home:
                continue
            complete = rnd.random() < TOWN_COMPLETE
            kind = rnd.choice(GENERATED_KINDS)
            name = f"{short_place(t.name)}{KIND_WORDS[kind]}亲青家园"
            opened = day_between(rnd, D(YEAR, 3, 1), D(YEAR, 10, 31))
            signage = day_between(rnd, opened, D(YEAR, 12, 10)) if complete or rnd.random() < 0.5 else None
            manager = rnd.choice("陈李黄张梁林刘吴罗何") + rnd.choice(["嘉欣", "子豪", "晓婷", "伟杰", "敏仪", "志强"])
            rows.append(dict(
                unit_id=t.id, name=name, kind=kind, opened_on=opened, signage_on=signage, manager=manager,
                address=f"{t.name}{rnd.choice(['人民路', '青年路', '文化路', '中山路', '建设路'])}{rnd.randint(1, 300)}号",
                area=yuan(rnd.randint(40, 300)),
                phone=f"1{rnd.choice('358')}{rnd.randint(0, 9)}{rnd.randint(0, 99999999):08d}",
                **{a: a in BASIC or rnd.random() < 0.3 for a in ALL_SERVICES},
            ))
            plans[(t.id, name)] = (complete, opened, signage, rnd.random())
        if not rows:
            return
        self.s.execute(insert(Home), rows)
        self.added += len(rows)
        ids = {(u, n): i for i, u, n in self.s.execute(
            select(Home.id, Home.unit_id, Home.name).join(Unit, Unit.id == Home.unit_id).where(Unit.level == "town"))}
        entries = []
        for key, (complete, opened, signage, seed) in plans.items():
            rnd = random.Random(f"{SEED}:town-checklist:{seed}")
            share = 1.0 if complete else rnd.uniform(0.3, 0.85)
            mine = []
            for item in items:
                met = day_between(rnd, opened, D(YEAR, 12, 15))
                if item.code == "A1":
                    if signage is None:
                        continue
                    met = signage
                elif rnd.random() > share:
                    continue
                mine.append(dict(home_id=ids[key], unit_id=key[0], item_id=item.id, met_on=met,
                                 evidence=f"{key[1]}{item.title[:12]}……（台账第{rnd.randint(1, 40)}页）"))
            if not complete and len(mine) == len(items):
                mine.pop()  # short of the handbook: an item is still missing
            entries += mine
        if entries:
            self.s.execute(insert(ChecklistEntry), entries)
            self.added += len(entries)

    # -- residencies -------------------------------------------------------------------------
    def residencies(self, homes):
        have = set(self.s.execute(select(Residency.org_id, Residency.home_id, Residency.entered_on)).all())
        open_ = set(self.s.execute(select(Residency.org_id, Residency.home_id).where(Residency.ended_on.is_(None))).all())
        orgs = self.s.execute(
            select(YouthOrg.id, YouthOrg.name, Unit.path).join(Unit, Unit.id == YouthOrg.unit_id).order_by(YouthOrg.name)
        ).all()
        for h in homes:
            if h.opened_on is None:
                continue
            rnd = stream("residents", h.unit.code, h.name)
            local = [o for o in orgs if o.path.startswith(h.unit.path)]
            if h.name == "广州市青年社会组织孵化基地":
                chosen, graduated = local[:35], []  # 35 resident by late 2012 (中国青年报, 2012-12-24)
            else:
                n = min(len(local), rnd.randint(2, 7))
                picked = rnd.sample(local, n) if n else []
                graduated = picked[: rnd.randint(0, min(2, n))]
                chosen = picked[len(graduated):]
            for o in chosen + graduated:
                entered = day_between(rnd, h.opened_on, min(END, h.opened_on + datetime.timedelta(days=240)))
                if o in graduated:
                    status = rnd.choice([GRADUATED, GRADUATED, LEFT])
                    ended = day_between(rnd, entered + datetime.timedelta(days=30), END)
                else:
                    status, ended = rnd.choice([ENTERED, INCUBATING, INCUBATING]), None
                if (o.id, h.id, entered) in have or (ended is None and (o.id, h.id) in open_):
                    continue
                self.add(Residency(org_id=o.id, home=h, status=status, entered_on=entered, ended_on=ended))
                have.add((o.id, h.id, entered))
                if ended is None:
                    open_.add((o.id, h.id))

    # -- 小组基地一对一 --------------------------------------------------------------------------
    def sectors_and_pairings(self, homes):
        have = {(s.unit_id, s.name): s for s in self.s.execute(select(Sector)).scalars()}
        paired = set(self.s.execute(select(Pairing.sector_id).where(Pairing.ended_on.is_(None))).scalars())
        opened = [h for h in homes if h.opened_on is not None]
        plan = [("440000", PROVINCE_SECTORS)] + sorted(CITY_SECTORS.items())
        for code, sectors in plan:
            unit = self.unit(code)
            if unit is None:
                continue
            # province: one city-level base each; a city: the bases below it
            candidates = [h for h in opened if h.unit.path.startswith(unit.path) and h.unit_id != unit.id
                          and (code != "440000" or h.unit.level == "city")]
            candidates.sort(key=lambda h: (h.opened_on, h.name))
            used_homes = set()
            for i, (name, kind) in enumerate(sectors):
                rnd = stream("sector", code, name)
                convenor = rnd.choice("陈李黄张梁林") + rnd.choice(["伟", "敏", "杰", "婷", "华"])
                sector = have.get((unit.id, name))
                if sector is None:
                    sector = Sector(unit=unit, name=name, kind=kind, convenor=convenor)
                    self.add(sector)
                    have[(unit.id, name)] = sector
                    self.s.flush()
                if sector.id in paired:
                    continue
                free = [h for h in candidates if h.id not in used_homes]
                if not free:
                    continue
                h = free[i % len(free)]
                used_homes.add(h.id)
                started = day_between(rnd, max(h.opened_on, D(YEAR, 4, 1)), D(YEAR, 10, 31))
                acts = "；".join(f"{format_md(day_between(rnd, started, END))}{rnd.choice(ACTIVITIES)}"
                                 for _ in range(rnd.randint(1, 4)))
                self.add(Pairing(sector=sector, home=h, started_on=started, activities=acts))
                paired.add(sector.id)

    # -- funds and grants -------------------------------------------------------------------------
    def funds(self) -> list[IncubationFund]:
        existing = {(f.unit_id, f.name): f for f in self.s.execute(select(IncubationFund)).scalars()}
        out = []

        def fund(code, name, established, amounts, purpose, other_source=None):
            unit = self.unit(code)
            if unit is None:
                return
            f = existing.get((unit.id, name))
            if f is None:
                f = IncubationFund(unit=unit, name=name, established_on=established, purpose=purpose,
                                   other_source=other_source, **{k: yuan(v) for k, v in amounts.items()})
                self.add(f)
                existing[(unit.id, name)] = f
            out.append(f)

        code, name, established, amounts, purpose = PROVINCIAL_FUND
        fund(code, name, established, amounts, purpose)
        for code, unit in sorted(self.units.items()):
            if unit is None or unit.level != "city" or code in NO_FUND_YET:
                continue
            rnd = stream("fund", code)
            first, last = (D(YEAR, 3, 25), D(YEAR, 5, 31)) if unit.prd else (D(YEAR, 4, 15), D(YEAR, 6, 30))
            established = LATE_FUND.get(code) or day_between(rnd, first, last)
            if code not in LATE_FUND and code not in self.strong["funds"]:  # set up after its due date
                established = day_between(rnd, last + datetime.timedelta(days=10), D(YEAR, 10, 31))
            scale = 10_000 * (rnd.randint(50, 300) if unit.prd else rnd.randint(20, 100))
            amounts = {
                "from_youth_foundation": scale,
                "from_volunteer_foundation": scale // 2 if rnd.random() < 0.7 else 0,
                "from_federation_members": 10_000 * rnd.randint(5, 30),
                "from_entrepreneurs": 10_000 * rnd.randint(5, 50),
            }
            other = {}
            if rnd.random() < 0.3:
                other = {"from_other": 10_000 * rnd.randint(1, 20)}
            fund(code, f"{short_place(unit.name)}市青年社会组织孵化基金", established, {**amounts, **other},
                 "扶持本市“亲青家园”建设和入驻青年社会组织发展。", "爱心企业捐赠" if other else None)
        self.s.flush()
        return out

    def grants(self, funds):
        have = set(self.s.execute(select(Grant.fund_id, Grant.org_id, Grant.applied_on)).all())
        orgs = self.s.execute(
            select(YouthOrg.id, YouthOrg.name, Unit.path).join(Unit, Unit.id == YouthOrg.unit_id).order_by(YouthOrg.name)
        ).all()
        purposes = ["项目启动资金", "骨干培训经费", "场地设备购置", "公益项目运营", "注册登记费用", "年度服务项目配套"]
        for f in funds:
            rnd = stream("grants", f.unit.code, f.name)
            local = [o for o in orgs if o.path.startswith(f.unit.path)]
            if not local:
                continue
            n = 12 if f.unit.level == "province" else rnd.randint(2, 6)
            picked = rnd.sample(local, min(n, len(local)))
            room = f.committed * Decimal("0.6")  # leave part of every fund unspent
            for o in picked:
                applied = day_between(rnd, f.established_on, D(YEAR, 11, 30))
                amount = yuan(10_000 * rnd.randint(2, 30 if f.unit.level == "province" else 10))
                x = rnd.random()
                status = APPROVED if x < 0.65 else (PENDING if x < 0.85 else REJECTED)
                decided = day_between(rnd, applied, min(END, applied + datetime.timedelta(days=45)))
                purpose = f"{o.name}{rnd.choice(purposes)}"
                if status != REJECTED:
                    if amount > room:
                        continue
                    room -= amount
                if (f.id, o.id, applied) in have:
                    continue
                by = f"{f.unit.name}团委书记办公会" if f.unit.level != "province" else "团省委书记办公会"
                self.add(Grant(fund=f, org_id=o.id, purpose=purpose, applied_on=applied, amount=amount, status=status,
                               approved_on=None if status == PENDING else decided,
                               approved_by=by if status == APPROVED else None))
                have.add((f.id, o.id, applied))


def format_md(day: datetime.date) -> str:
    return f"{day.month}月{day.day}日"


def load(session) -> int:
    loader = Loader(session)
    items = loader.checklist()
    homes = loader.homes()
    loader.entries(homes, items)
    loader.town_homes(items)
    loader.residencies(homes)
    loader.sectors_and_pairings(homes)
    funds = loader.funds()
    loader.grants(funds)
    session.flush()
    return loader.added
