"""Cell parsing and neutralising formulas."""

from __future__ import annotations



import datetime as dt
import re
import unicodedata
from decimal import Decimal

from flask_babel import gettext

from core.tenancy.units import Unit
from core.values.validators import ValidationError, parse_amount, parse_date
from core.excel.declarations import Column

# -- cells -----------------------------------------------------------------------
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")
TRUE_WORDS = {"是", "y", "yes", "true", "t", "1", "√", "✓", "对", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "f", "0", "×", "✗", "x", "无", "不是"}


def neutralise(value):
    """The one neutraliser of every cell of every workbook the app writes: a
    text that a spreadsheet would run as a formula (= + - @, tab, CR, LF at
    its start) gets a leading apostrophe (OWASP's advice against CSV
    injection); any other value is returned as it is."""
    if isinstance(value, str) and value and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def safe_row(values) -> list:
    """A row for a write-only sheet with every cell neutralised (values and
    ``WriteOnlyCell`` objects alike)."""
    out = []
    for v in values:
        if hasattr(v, "value") and hasattr(v, "data_type"):
            if isinstance(v.value, str):
                v.value = neutralise(v.value)
        else:
            v = neutralise(v)
        out.append(v)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def cell_text(value) -> str:
    """The text of a cell: numbers without a useless .0, a leading
    apostrophe added by :func:`neutralise` removed again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1:].startswith(DANGEROUS_START):
        text = text[1:]
    return text


class CellError(ValueError):
    pass


def parse_int(value) -> int | None:
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise CellError(gettext('Not a whole number: "%(value)s"', value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", cell_text(value)))
    if not text:
        return None
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    raise CellError(gettext('Not a whole number: "%(value)s"', value=cell_text(value)))


def parse_bool(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _norm(cell_text(value))
    if not text:
        return None
    if text in TRUE_WORDS or text == _norm(gettext("Yes")):
        return True
    if text in FALSE_WORDS or text == _norm(gettext("No")):
        return False
    raise CellError(gettext('Write 是 or 否, not "%(value)s"', value=cell_text(value)))


def _english(label) -> str | None:
    args = getattr(label, "_args", None)
    return args[0] if args else None


def enum_lookup(column: Column) -> dict[str, str]:
    """Every way a choice may be written (label in the current language,
    English label, stored value) → stored value."""
    out: dict[str, str] = {}
    for key, label in (column.choices or {}).items():
        for form in (key, _english(label), str(label)):
            if form:
                out.setdefault(_norm(str(form)), key)
    return out


def parse_enum(column: Column, value, lookup: dict[str, str] | None = None):
    text = cell_text(value)
    if not text:
        return None
    lookup = lookup if lookup is not None else enum_lookup(column)
    key = lookup.get(_norm(text))
    if key is None:
        allowed = "、".join(str(v) for v in column.choices.values())
        raise CellError(gettext('"%(value)s" is not one of the allowed values: %(allowed)s', value=text, allowed=allowed))
    return key


def parse_cell(column: Column, value, *, max_length: int | None = None, lookup: dict | None = None,
               max_int: int | None = None):
    """The value of one cell for ``column`` (None when empty). Units and
    references come back as their text (they are looked up set-based).
    ``max_length``/``max_int``: what the database column holds."""
    try:
        if column.parse is not None:
            text = cell_text(value)
            return column.parse(text) if text else None
        kind = column.kind
        if kind == "date":
            if isinstance(value, str):
                value = cell_text(value)
            return parse_date(value if value != "" else None)
        if kind == "decimal":
            if isinstance(value, str):
                value = cell_text(value)
            return parse_amount(value if value != "" else None)
        if kind == "int":
            number = parse_int(value)
            if number is not None and max_int is not None and abs(number) > max_int:
                raise CellError(gettext("Number out of range: %(value)s", value=number))
            return number
        if kind == "bool":
            return parse_bool(value)
        if kind == "enum":
            return parse_enum(column, value, lookup)
        text = cell_text(value)
        if kind in ("unit", "ref"):
            return unicodedata.normalize("NFKC", text).strip() or None
        if max_length and len(text) > max_length:
            raise CellError(gettext("At most %(n)d characters (this cell has %(got)d).", n=max_length, got=len(text)))
        return text or None
    except CellError:
        raise
    except ValueError as exc:  # ValidationError, or a plugin parser's own
        raise CellError(str(exc)) from None


# -- units -------------------------------------------------------------------------
_NAME_AND_CODE = re.compile(r"(?P<name>.*?)\s*[（(]\s*(?P<code>[0-9A-Za-z_-]+)\s*[）)]")


def unit_label(unit: Unit) -> str:
    """How a unit is written in files: 佛山市（440600）. Read back by code."""
    return f"{unit.name}（{unit.code}）"


# -- examples ------------------------------------------------------------------
EXAMPLE_DATE = dt.date(2012, 3, 31)


def example_cell(column: Column, unit: Unit | None):
    """The example row's cell for ``column`` (as written in the template):
    ``Column.example`` if given (an enum's stored value is written as its
    label, True/False as 是/否), else a value of the column's kind."""
    kind, ex = column.kind, column.example
    if ex is not None:
        if kind == "enum" and ex in (column.choices or {}):
            return str(column.choices[ex])
        if kind == "bool" and isinstance(ex, bool):
            return gettext("Yes") if ex else gettext("No")
        if kind == "decimal" and not isinstance(ex, Decimal):
            try:
                return parse_amount(str(ex))
            except ValidationError:
                return str(ex)
        if isinstance(ex, (int, float, Decimal, dt.date)):
            return ex
        return str(ex)
    if kind == "unit":
        return unit_label(unit) if unit is not None else ""
    if kind == "date":
        return EXAMPLE_DATE
    if kind == "decimal":
        return Decimal("1000.00")
    if kind == "int":
        return 1
    if kind == "bool":
        return gettext("Yes")
    if kind == "enum":
        return str(next(iter(column.choices.values())))
    if kind == "ref":
        return ""
    return gettext("Example text")
