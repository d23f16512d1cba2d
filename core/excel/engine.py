"""The import engine: headers, units, validation, duplicates and the set-based write."""

from __future__ import annotations



import contextlib
import functools
import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from flask_babel import gettext
from sqlalchemy import insert, inspect as sa_inspect, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import lazyload, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from core.tenancy.scope import ALL, InvalidInput, Scope
from core.tenancy.records import check_item, friendly_integrity_error
from core.tenancy.unique import batch_checked, check_unique_rows
from core.tenancy.units import Unit
from core.excel.cells import (
    CellError, _NAME_AND_CODE, _english, _norm, cell_text, enum_lookup, example_cell, parse_cell, unit_label,
)
from core.excel.declarations import Column, Importable, Limits
from core.excel.files import ImportFileError, read_table

# -- the report -----------------------------------------------------------------
@dataclass
class Problem:
    """One message about a row (``row`` None: the whole file)."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    name: str
    filename: str
    on_duplicate: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> int:
        return len({p.row for p in self.errors if p.row is not None})

    def error(self, row, column, message) -> None:
        self.errors.append(Problem(row, str(column or ""), str(message)))

    def note(self, row, column, message) -> None:
        self.notes.append(Problem(row, str(column or ""), str(message)))

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "filename": self.filename,
            "on_duplicate": self.on_duplicate,
            "ok": self.ok,
            "written": self.written,
            "rows": self.rows,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "error_rows": self.error_rows,
            "errors": [p.as_dict() for p in self.errors],
            "notes": [p.as_dict() for p in self.notes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ImportReport":
        r = cls(d["name"], d["filename"], d["on_duplicate"])
        for k in ("rows", "new", "updated", "unchanged", "skipped", "written"):
            setattr(r, k, d[k])
        r.errors = [Problem(**p) for p in d["errors"]]
        r.notes = [Problem(**p) for p in d["notes"]]
        return r


def in_scope(path: str, scope) -> bool:
    return Scope.of(scope).contains(path)


def resolve_units(session, texts: Iterable[str], scope) -> dict[str, Unit | str]:
    """Units written as code, full name or ``name（code）`` → Unit, or the
    error message. Two queries at most, whatever the number of rows."""
    texts = set(texts)
    codes, names = set(), set()
    for t in texts:
        m = _NAME_AND_CODE.fullmatch(t)
        if m:
            codes.add(m["code"])
        else:
            codes.add(t)
            names.add(t)
    by_code: dict[str, Unit] = {}
    by_name: dict[str, list[Unit]] = {}
    for chunk in _chunks(sorted(codes | names), 400):
        for u in session.execute(select(Unit).where(or_(Unit.code.in_(chunk), Unit.name.in_(chunk)))).scalars():
            by_code[u.code] = u
            by_name.setdefault(u.name, []).append(u)
    out: dict[str, Unit | str] = {}
    for t in texts:
        m = _NAME_AND_CODE.fullmatch(t)
        if m:
            unit = by_code.get(m["code"])
            if unit is None:
                out[t] = gettext("No unit has the code %(code)s.", code=m["code"])
                continue
        elif t in by_code:
            unit = by_code[t]
        else:
            found = {u.id: u for u in by_name.get(t, [])}.values()
            if len(found) > 1:
                mine = [u for u in found if in_scope(u.path, scope)]
                found = mine if len(mine) == 1 else found
            if not found:
                out[t] = gettext('No unit has the code or name "%(value)s".', value=t)
                continue
            if len(found) > 1:
                out[t] = gettext('Several units are named "%(value)s": write the unit code instead.', value=t)
                continue
            unit = next(iter(found))
        if not in_scope(unit.path, scope):
            out[t] = gettext(
                "%(unit)s is outside your units: you may only import records of your own unit and the units below it.",
                unit=unit_label(unit),
            )
            continue
        out[t] = unit
    return out


def scope_unit(session, scope) -> Unit | None:
    """The unit at the top of ``scope`` (the root for an unrestricted scope)."""
    scope = Scope.of(scope)
    if scope.everything:
        return session.execute(select(Unit).where(Unit.depth == 0).order_by(Unit.code).limit(1)).scalar_one_or_none()
    if scope.nothing:
        return None
    return session.execute(select(Unit).where(Unit.path == scope.path)).scalar_one_or_none()


def _chunks(seq, n):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# -- import ----------------------------------------------------------------------
UPDATE, SKIP = "update", "skip"


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    target: Any = None
    key: tuple | None = None


def _header_forms(column: Column) -> set[str]:
    forms = {_norm(str(column.header)), _norm(column.attr)}
    en = _english(column.header)
    if en:
        forms.add(_norm(en))
    return forms


def _match_headers(imp: Importable, headers: list, report: ImportReport) -> dict[int, Column] | None:
    lookup: dict[str, Column] = {}
    for c in imp.columns:
        for f in _header_forms(c):
            lookup.setdefault(f, c)
    ignored = {_norm(gettext("Errors in the row")), _norm("Errors in the row")}
    mapping: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for idx, h in enumerate(headers):
        text = cell_text(h).rstrip("*＊ ")
        key = _norm(text)
        if not key or key in ignored:
            continue
        col = lookup.get(key)
        if col is None:
            report.note(None, text, gettext("Column %(column)s is not part of this list and was ignored.", column=text))
            continue
        if col.attr in seen:
            report.error(None, text, gettext("Column %(column)s appears twice in the header.", column=text))
            continue
        seen[col.attr] = idx
        mapping[idx] = col
    if not mapping:
        expected = "、".join(str(c.header) for c in imp.columns)
        report.error(None, "", gettext(
            "The header row has none of the expected columns (%(expected)s): use the template.", expected=expected))
        return None
    missing = [str(c.header) for c in imp.columns if c.required and c.attr not in seen]
    if missing:
        report.error(None, "", gettext("Required column missing: %(columns)s", columns="、".join(missing)))
    return mapping if report.ok else None


def _key_label(imp: Importable) -> str:
    return "、".join(str(imp.column(k).header) for k in imp.natural_key)


def run_import(
    session,
    imp: Importable,
    filename: str,
    data: bytes,
    *,
    scope=ALL,
    on_duplicate: str = UPDATE,
    commit: bool = False,
    user_id: int | None = None,
    limits: Limits | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    batch_size: int = 1000,
) -> ImportReport:
    """Check every row of the file and, when ``commit`` and every row is
    valid, write them in one transaction. Nothing is written otherwise.

    ``scope``: the :class:`~core.tenancy.scope.Scope` the rows must lie in (``ALL``: anywhere);
    ``on_duplicate``: what to do with a row whose natural key exists already
    (in the database within reach, or earlier in the file): ``update`` or
    ``skip``; ``progress(stage, done, total)`` is called while reading
    ("read"), checking ("check") and writing ("write") — an exception it
    raises aborts the import and rolls everything back; ``user_id`` is
    recorded as the creator/changer (a request's user is the default).

    The session ends committed (import written) or rolled back (check only,
    or refused): it must not hold other pending changes.
    """
    with _collector_paused():
        return _run_import(session, imp, filename, data, scope=scope, on_duplicate=on_duplicate, commit=commit,
                           user_id=user_id, limits=limits, progress=progress, batch_size=batch_size)


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while an import runs, on again
    after (unless it was off already: another import in another thread).
    Checking 10,000 rows allocates about a million objects that all live
    until the import ends; the collector would walk them again and again
    and find nothing to free: a quarter to a third of the import's time."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _run_import(session, imp, filename, data, *, scope, on_duplicate, commit, user_id, limits, progress,
                batch_size) -> ImportReport:
    scope = Scope.of(scope)  # a unit path still works
    if isinstance(session, scoped_session):
        session = session()  # the same session, without the registry lookup on each of 10,000 rows' calls
    if on_duplicate not in (UPDATE, SKIP):
        raise ValueError(on_duplicate)
    limits = limits or Limits()
    report = ImportReport(imp.name, filename, on_duplicate)
    try:
        table = read_table(filename, data, limits, progress)
    except ImportFileError as exc:
        report.error(None, "", str(exc))
        return report
    mapping = _match_headers(imp, table.headers, report)
    if mapping is None:
        return report
    try:
        with session.no_autoflush, batch_checked(session):  # uniqueness: per batch, not per row
            rows = _check_rows(session, imp, table, mapping, report, scope, on_duplicate, user_id, progress)
        if report.rows == 0 and report.ok:
            report.error(None, "", gettext("The file has no rows of data."))
        if not report.ok or not commit:
            session.rollback()  # forget what the check changed on loaded records
            return report
        _write(session, rows, report, progress, batch_size)
    except (IntegrityError, DataError) as exc:  # what only the database could tell
        session.rollback()
        reason = (str(friendly_integrity_error(exc)) if isinstance(exc, IntegrityError)
                  else gettext("a value does not fit its database column"))
        report.error(None, "", gettext("The import failed and nothing was saved: %(reason)s", reason=reason))
        return report
    except BaseException:
        session.rollback()
        raise
    report.written = True
    return report


def _check_rows(session, imp, table, mapping, report, scope, on_duplicate, user_id, progress) -> list[_Row]:
    mapper = sa_inspect(imp.model)
    headers = {c.attr: str(c.header) for c in imp.columns}
    lengths = {c.attr: _max_length(mapper, c) for c in imp.columns}
    ints = {c.attr: _max_int(mapper, c) for c in imp.columns}
    lookups = {c.attr: enum_lookup(c) for c in imp.columns if c.kind == "enum"}
    present = list(mapping.items())
    refs = [c for c in imp.columns if c.kind == "ref"]

    example_unit = scope_unit(session, scope)
    example = None
    if len(mapping) == len(imp.columns):
        example = {}
        for c in imp.columns:
            try:
                example[c.attr] = parse_cell(c, example_cell(c, example_unit), max_length=lengths[c.attr],
                                             lookup=lookups.get(c.attr), max_int=ints[c.attr])
            except CellError:
                example = None
                break

    # 1. cells → values; collect the unit and reference texts
    rows: list[_Row] = []
    unit_texts: set[str] = set()
    ref_texts: dict[str, set[str]] = {c.attr: set() for c in refs}
    total = len(table.rows)
    for n, (number, raw) in enumerate(table.rows, start=1):
        values, bad = {}, False
        for idx, col in present:
            cell = raw[idx] if idx < len(raw) else None
            try:
                v = parse_cell(col, cell, max_length=lengths[col.attr], lookup=lookups.get(col.attr),
                               max_int=ints[col.attr])
            except CellError as exc:
                report.error(number, col.header, str(exc))
                bad = True
                continue
            if v is None and col.required:
                report.error(number, col.header, gettext("Required: this cell must not be empty."))
                bad = True
            values[col.attr] = v
        if example is not None and values == example:
            report.note(number, "", gettext("This is the template's example row: ignored."))
            continue
        report.rows += 1
        if values.get("unit"):
            unit_texts.add(values["unit"])
        for c in refs:
            if values.get(c.attr):
                ref_texts[c.attr].add(values[c.attr])
        rows.append(_Row(number, values, target=None if not bad else False))

    # 2. units and references, set-based
    units = resolve_units(session, unit_texts, scope)
    found_refs: dict[str, dict[str, Any]] = {}
    for c in refs:
        if c.ref_many is not None:
            found_refs[c.attr] = c.ref_many(session, ref_texts[c.attr], scope) or {}
        else:
            found_refs[c.attr] = {t: c.ref(session, t, scope) for t in ref_texts[c.attr]}
    for row in rows:
        text = row.values.get("unit")
        if text:
            u = units[text]
            if isinstance(u, str):
                report.error(row.number, headers["unit"], u)
                row.target = False
            else:
                row.values["unit"] = u
        for c in refs:
            text = row.values.get(c.attr)
            if text:
                obj = found_refs[c.attr].get(text)
                if obj is None:
                    report.error(row.number, c.header, gettext('Not found: "%(value)s"', value=text))
                    row.target = False
                else:
                    row.values[c.attr] = obj

    # 3. natural keys: within the file and against the database
    key_attrs = imp.natural_key
    plan = _Plan(imp)
    for row in rows:
        if row.target is False:
            continue
        key = tuple(_key_part(row.values.get(a), a, imp, plan) for a in key_attrs)
        row.key = None if any(k is None for k in key) else key
    existing = _existing(session, imp, {r.key for r in rows if r.key is not None})
    existing_paths = {}
    if existing and not Scope.of(scope).everything:
        ids = {o.unit_id for o in existing.values()}
        for chunk in _chunks(ids, 400):
            existing_paths.update(session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(chunk))).all())

    prepare = getattr(imp.model, "prepare_checks", None)
    if callable(prepare):  # what validate() needs from the database, read for all rows at once
        prepare(session, [r.values for r in rows if r.target is not False])

    key_label = _key_label(imp)
    first_row: dict[tuple, _Row] = {}
    status: dict[int, str] = {}  # id(target) → new, updated or unchanged
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    for n, row in enumerate(rows, start=1):
        if progress and n % 1000 == 0:
            progress("check", n, total)
        if row.target is False:
            continue
        earlier = first_row.get(row.key) if row.key is not None else None
        if earlier is not None:
            if on_duplicate == SKIP:
                report.note(row.number, "", gettext("Same %(key)s as row %(row)d: skipped.",
                                                    key=key_label, row=earlier.number))
                report.skipped += 1
                row.target = None
                continue
            report.note(row.number, "", gettext("Same %(key)s as row %(row)d: this row replaces it.",
                                                key=key_label, row=earlier.number))
            if earlier.target is False or earlier.target is None:
                row.target = earlier.target
                continue
            target = row.target = earlier.target
            if _apply(target, row.values, imp, plan) and status[id(target)] == "unchanged":
                status[id(target)] = "updated"
            _validate(session, row, imp, headers, report, scope)
            continue
        if row.key is not None:
            first_row[row.key] = row
        current = existing.get(row.key) if row.key is not None else None
        if current is not None:
            if not Scope.of(scope).everything and not in_scope(existing_paths.get(current.unit_id, ""), scope):
                report.error(row.number, "", gettext(
                    "A record with the same %(key)s exists in a unit outside your units.", key=key_label))
                row.target = False
                continue
            if on_duplicate == SKIP:
                report.skipped += 1
                row.target = None
                continue
            status[id(current)] = "updated" if _apply(current, row.values, imp, plan) else "unchanged"
            row.target = current
        else:
            row.target = imp.model(**imp.defaults)
            _apply(row.target, row.values, imp, plan)
            status[id(row.target)] = "new"
        _validate(session, row, imp, headers, report, scope)
    _check_unique_of_rows(session, imp, rows, headers, report)
    for row in rows:
        t = row.target
        if t is not None and t is not False and id(t) in status:
            kind = status.pop(id(t))
            counts[kind] += 1
            if user_id is not None and kind != "unchanged":
                if kind == "new":
                    t.created_by_fk = user_id
                t.changed_by_fk = user_id
    report.new, report.updated, report.unchanged = counts["new"], counts["updated"], counts["unchanged"]
    if progress:
        progress("check", total, total)
    return rows


def _check_unique_of_rows(session, imp, rows, headers, report) -> None:
    """The model's uniqueness declarations for every row checked valid: one
    query per declaration per chunk of rows, and the rows of the file that
    share values (core/tenancy/unique.py)."""
    valid = [(n, r.target) for n, r in enumerate(rows) if r.target is not None and r.target is not False]
    refused = check_unique_rows(session, imp.model, valid)
    for n, messages in sorted(refused.items()):
        row = rows[n]
        for fieldname, msgs in messages.items():
            for m in msgs:
                report.error(row.number, headers.get(fieldname, ""), m)
        row.target = False
    if refused:  # in row order, as if checked row by row
        report.errors.sort(key=lambda p: -1 if p.row is None else p.row)


def _max_length(mapper, col: Column) -> int | None:
    if col.kind != "str" or col.parse is not None or col.attr not in mapper.column_attrs:
        return None
    return getattr(mapper.column_attrs[col.attr].columns[0].type, "length", None)


def _max_int(mapper, col: Column) -> int | None:
    from sqlalchemy import BigInteger, SmallInteger

    if col.kind != "int" or col.attr not in mapper.column_attrs:
        return None
    kind = mapper.column_attrs[col.attr].columns[0].type
    if isinstance(kind, BigInteger):
        return 2**63 - 1
    if isinstance(kind, SmallInteger):
        return 2**15 - 1
    return 2**31 - 1


def _key_part(value, attr, imp, plan: "_Plan | None" = None):
    if value is None:
        return None
    col = imp.column(attr)
    if col.kind in ("unit", "ref"):
        ident = plan.identity(value) if plan is not None else sa_inspect(value).identity
        return ident[0] if ident and len(ident) == 1 else ident
    if isinstance(value, str):
        return value.strip()
    return value


@functools.lru_cache(maxsize=256)
def _fk_attrs(model, rel_name) -> tuple[str, ...]:
    """The attributes of the foreign key behind relationship ``rel_name``,
    in the order of the target's primary key."""
    mapper = sa_inspect(model)
    rel = mapper.relationships[rel_name]
    pairs = {remote: local for local, remote in rel.local_remote_pairs}
    try:
        return tuple(mapper.get_property_by_column(pairs[c]).key for c in rel.mapper.primary_key)
    except KeyError:
        return tuple(mapper.get_property_by_column(c).key for c in rel.local_columns)


def _existing(session, imp: Importable, keys: set[tuple]) -> dict[tuple, Any]:
    """Records whose natural key is among ``keys`` (all units: a record of
    another unit with the same key is a conflict). Queried in chunks on the
    most selective key attribute; matched in Python."""
    if not keys:
        return {}
    model = imp.model
    attrs = list(imp.natural_key)
    pos = next((i for i, a in enumerate(attrs) if imp.column(a).kind not in ("unit", "ref")), 0)
    attr = attrs[pos]
    if imp.column(attr).kind in ("unit", "ref"):
        fks = _fk_attrs(model, attr)
        colattr = getattr(model, fks[0])
    else:
        colattr = getattr(model, attr)
    values = {k[pos] for k in keys}
    out = {}
    getters = []
    for a in attrs:
        if imp.column(a).kind in ("unit", "ref"):
            fk = _fk_attrs(model, a)
            getters.append(lambda o, fk=fk: getattr(o, fk[0]) if len(fk) == 1 else tuple(getattr(o, f) for f in fk))
        else:
            getters.append(lambda o, a=a: (getattr(o, a).strip() if isinstance(getattr(o, a), str) else getattr(o, a)))
    # the references the file names are loaded already (resolve_units, the columns' ref_many), and a row sets
    # its own: no eager join of them per stored record (a camp's joined counts were computed once per enrolment)
    options = [lazyload(getattr(model, c.attr)) for c in imp.columns if c.kind in ("unit", "ref")]
    for chunk in _chunks(values, 400):
        for obj in session.execute(select(model).options(*options).where(colattr.in_(chunk))).scalars():
            key = tuple(g(obj) for g in getters)
            if key in keys:
                out.setdefault(key, obj)
    return out


def _same(a, b) -> bool:
    if (a is None or a == "") and (b is None or b == ""):
        return True
    return a == b


def _apply(obj, values: dict, imp: Importable, plan: "_Plan | None" = None) -> bool:
    """Set the row's values on ``obj``; True when something changed."""
    plan = plan or _Plan(imp)
    changed = False
    transient = sa_inspect(obj).transient  # a new record: what it holds is in its __dict__, nothing to load
    state = obj.__dict__
    for attr, v in values.items():
        fks = plan.refs.get(attr)
        if fks is not None:
            current_ids = tuple(getattr(obj, f) for f in fks)
            if current_ids != (plan.identity(v) if v is not None else (None,) * len(fks)):
                setattr(obj, attr, v)
                changed = True
            elif transient:
                setattr(obj, attr, v)  # a new record's: its events run (a unit taken from a parent)
            elif state.get(attr) is not v:
                set_committed_value(obj, attr, v)  # the same record as stored: loaded, so that validate()
                # reads it without a query, and not a change (an unchanged row leaves its record clean)
        elif not _same(state.get(attr) if transient and attr in plan.columns else getattr(obj, attr), v):
            setattr(obj, attr, v)
            changed = True
    return changed


class _Plan:
    """What :func:`_apply` needs to know of each column, worked out once per
    import instead of once per cell: the foreign keys behind the unit and
    references, which attributes are plain mapped columns, and the identity
    of each referenced record (a few units and organizations for 10,000
    rows)."""

    def __init__(self, imp: Importable):
        mapper = sa_inspect(imp.model)
        self.refs = {c.attr: _fk_attrs(imp.model, c.attr) for c in imp.columns if c.kind in ("unit", "ref")}
        self.columns = frozenset(c.attr for c in imp.columns if c.attr in mapper.column_attrs)
        self._identities: dict[int, tuple] = {}

    def identity(self, record) -> tuple:
        found = self._identities.get(id(record))
        if found is None or found[0] is not record:
            ident = sa_inspect(record).identity  # None for a record not stored
            found = self._identities[id(record)] = (record, tuple(ident) if ident is not None else None)
        return found[1]


def _validate(session, row: _Row, imp, headers, report, scope) -> None:
    try:
        check_item(session, row.target, scope)
    except InvalidInput as exc:
        for fieldname, msgs in exc.messages.items():
            for m in msgs:
                report.error(row.number, headers.get(fieldname, ""), m)
        row.target = False


@functools.lru_cache(maxsize=64)
def _insert_plan(model):
    mapper = sa_inspect(model)
    columns = tuple(p.key for p in mapper.column_attrs)
    refs = []
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            pairs = tuple(
                (mapper.get_property_by_column(local).key, rel.mapper.get_property_by_column(remote).key)
                for local, remote in rel.local_remote_pairs
            )
            refs.append((rel.key, pairs))
    return columns, tuple(refs)


@functools.lru_cache(maxsize=64)
def _defaulted_columns(model) -> frozenset:
    """Attributes whose column has a default, a server default, is the primary key or holds JSON
    (an explicit None there would be stored as JSON null): None is left out of their INSERT."""
    from sqlalchemy import JSON

    mapper = sa_inspect(model)
    out = set()
    for prop in mapper.column_attrs:
        col = prop.columns[0]
        if getattr(col, "table", None) is None:
            continue
        if col.default is not None or col.server_default is not None or col.primary_key or isinstance(col.type, JSON):
            out.add(prop.key)
    return frozenset(out)


def _insert_values(obj) -> dict:
    """The column values of a new record, for a bulk INSERT: what the row,
    the model's constructor, its @validates hooks and validate() set,
    including the keys of many-to-one references."""
    columns, refs = _insert_plan(type(obj))
    state = obj.__dict__
    values = {k: state[k] for k in columns if k in state}
    for key, pairs in refs:
        if key in state:
            target = state[key]
            for local, remote in pairs:
                values[local] = None if target is None else getattr(target, remote)
    return values


def _write(session, rows: list[_Row], report: ImportReport, progress, batch_size: int) -> None:
    """Flush the updates, insert the new records in batches (one bulk
    INSERT each, progress after each), then commit once. Any exception is
    rolled back by the caller, so a failure half way leaves nothing.

    New records go through SQLAlchemy's ORM bulk INSERT (five times faster
    than a unit-of-work flush): column defaults apply, mapper
    ``before_insert``/``after_insert`` events are not fired."""
    new, seen = [], set()
    for r in rows:
        t = r.target
        if t is None or t is False or id(t) in seen:
            continue
        seen.add(id(t))
        if sa_inspect(t).transient:
            new.append(t)
    total = len(new)
    if progress:
        progress("write", 0, total)
    session.flush()  # the updates
    if new:
        model = type(new[0])
        # SQLAlchemy leaves a None out of the INSERT (for the column's default), so rows with None in
        # different columns would each be a statement: None is kept, and sent as NULL, for every column
        # without a default (what a flush does), which keeps a batch one statement, in the file's order
        defaulted = _defaulted_columns(model)
        for i in range(0, total, batch_size):
            chunk = [{k: v for k, v in _insert_values(o).items() if v is not None or k not in defaulted}
                     for o in new[i : i + batch_size]]
            given = set().union(*chunk) - defaulted  # a row that never set a column has no key for it
            for values in chunk:
                for k in given - values.keys():
                    values[k] = None
            session.execute(insert(model), chunk, execution_options={"render_nulls": True})
            if progress:
                progress("write", min(i + batch_size, total), total)
    session.commit()
