"""Validation, parsing and formatting of the values a Chinese office deals with.

Pure functions, no Flask needed to call them (messages are translated lazily
through Flask-Babel when an application context exists):

* ``credit_code``   统一社会信用代码 (GB 32100-2015)
* ``resident_id``   居民身份证号码 (GB 11643-1999), plus masking helpers
* ``phone``         mainland mobile or landline with area code
* ``parse_date``    the date notations offices use, and Excel serial numbers
* ``parse_amount``  sums in 元 / 万元 as ``Decimal`` with two places
* ``format_*``      the way a Chinese office writes dates and sums

Every refusal raises :class:`ValidationError` (a ``ValueError``).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from core.values import clock

from flask_babel import lazy_gettext as _l

__all__ = [
    "ValidationError",
    "too_big",
    "CREDIT_CODE_ALPHABET",
    "credit_code",
    "credit_code_check_char",
    "resident_id",
    "resident_id_check_char",
    "mask_resident_id",
    "mask_phone",
    "phone",
    "parse_date",
    "parse_amount",
    "format_date_zh",
    "format_amount",
    "format_wan",
    "format_int",
]


class ValidationError(ValueError):
    """A refused value.

    ``msgid`` is the English message id, ``params`` its ``%(name)s`` values.
    ``message`` is a lazy string, translated (and formatted) each time it is
    turned into text; ``str(exc)`` does the same and falls back to the plain
    English text if translation is impossible.
    """

    def __init__(self, msgid, **params):
        # Call sites write ``ValidationError(_l("..."), ...)`` so that the
        # message extractor sees the msgid; keep the raw English text.
        if not isinstance(msgid, str):
            args = getattr(msgid, "_args", None)
            msgid = args[0] if args else str(msgid)
        self.msgid = msgid
        self.params = params
        self.message = _l(msgid, **params)
        super().__init__(self._plain())

    def _plain(self) -> str:
        return self.msgid % self.params if self.params else self.msgid

    def __str__(self) -> str:
        try:
            return str(self.message)
        except Exception:  # no usable Babel setup: English is fine
            return self._plain()

    def __repr__(self) -> str:
        return f"ValidationError({self._plain()!r})"


def _text(value) -> str:
    """Normalise full-width characters (NFKC) and strip outer whitespace."""
    return unicodedata.normalize("NFKC", str(value)).strip()


_SPACES = re.compile(r"\s+")


def _compact(value) -> str:
    """``_text`` and also drop every inner whitespace character."""
    return _SPACES.sub("", _text(value))


# --------------------------------------------------------------------------
# 统一社会信用代码 GB 32100-2015
# --------------------------------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _credit_check_illegal(code: str) -> None:
    for pos, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_ALPHABET:
            raise ValidationError(
                _l('Credit code contains the illegal character "%(char)s" at position %(pos)d'),
                char=char, pos=pos)


def credit_code_check_char(first17) -> str:
    """The check character (18th) for the first 17 characters of a credit code."""
    code = _compact(first17).upper()
    if len(code) != 17:
        raise ValidationError(
            _l("Need the first 17 characters of a credit code, got %(n)d"), n=len(code))
    _credit_check_illegal(code)
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code(value) -> str | None:
    """Validate a 统一社会信用代码; returns it normalised, or None if empty."""
    if value is None:
        return None
    code = _compact(value).upper()
    if not code:
        return None
    if len(code) != 18:
        raise ValidationError(
            _l("Credit code must be 18 characters, got %(n)d"), n=len(code))
    _credit_check_illegal(code)
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        # never tell the expected character: a typo elsewhere would be "fixed" by changing the last one
        raise ValidationError(
            _l("The credit code is wrong (its check character does not match): "
               "check every character against the certificate."))
    return code


# --------------------------------------------------------------------------
# 居民身份证号码 GB 11643-1999
# --------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _id_check_digits(code: str, *, last_x: bool) -> None:
    for pos, char in enumerate(code, start=1):
        if not ("0" <= char <= "9" or (last_x and pos == 18 and char == "X")):
            raise ValidationError(
                _l('ID number may contain only digits (X only as the last character); '
                   'found "%(char)s" at position %(pos)d'),
                char=char, pos=pos)


def resident_id_check_char(first17) -> str:
    """The check character (18th) for the first 17 digits of an ID number."""
    code = _compact(first17).upper()
    if len(code) != 17:
        raise ValidationError(
            _l("Need the first 17 digits of an ID number, got %(n)d characters"), n=len(code))
    _id_check_digits(code, last_x=False)
    return _ID_CHECK[sum(int(c) * w for c, w in zip(code, _ID_WEIGHTS)) % 11]


def resident_id(value, *, today: _dt.date | None = None) -> str:
    """Validate an 18-character 居民身份证号码; returns it with an upper-case X."""
    code = _compact("" if value is None else value).upper()
    if len(code) != 18:
        raise ValidationError(
            _l("ID number must be 18 characters, got %(n)d"), n=len(code))
    _id_check_digits(code, last_x=True)
    expected = resident_id_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _l("The ID number is wrong (its check character does not match): "
               "check every digit against the identity card."))
    birth = code[6:14]
    try:
        born = _dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise ValidationError(
            _l("ID number contains the birth date %(date)s, which does not exist"),
            date=birth) from None
    if born > (today or clock.today()):
        raise ValidationError(
            _l("ID number contains the birth date %(date)s, which is in the future"),
            date=born.isoformat())
    return code


def mask_resident_id(value) -> str:
    """440106********123X: first 6 and last 4 kept. Never raises."""
    code = _compact("" if value is None else value).upper()
    if len(code) <= 10:
        return "*" * len(code)
    return code[:6] + "*" * (len(code) - 10) + code[-4:]


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------

# the stored (normalised) forms, as regular expressions for the OpenAPI document;
# input is normalised first (spaces, full-width characters, a lower-case x, +86)
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
RESIDENT_ID_PATTERN = r"^[0-9]{17}[0-9X]$"
PHONE_PATTERN = r"^(1[3-9][0-9]{9}|0(10|2[0-9]|[3-9][0-9]{2})-[0-9]{7,8}(-[0-9]{1,6})?)$"

_MOBILE_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
# 3-digit area codes are 010 and 02X; every other area code has 4 digits.
_AREA = r"0(?:10|2\d|[3-9]\d\d)"
_LANDLINE_RE = re.compile(
    r"(?:\((?P<area1>" + _AREA + r")\)|(?P<area2>" + _AREA + r"))-?"
    r"(?P<local>\d{3,4}-?\d{4})"
    r"(?:(?:转|分机|ext\.?|x|#|-)(?P<ext>\d{1,6}))?",
    re.IGNORECASE,
)


def phone(value) -> str:
    """Validate a phone number.

    Mobile → ``13812345678``; landline → ``020-12345678`` or
    ``020-12345678-123`` with an extension.
    """
    text = _compact("" if value is None else value)
    if not text:
        raise ValidationError(_l("Phone number is empty"))
    plain = text.replace("-", "")
    m = _MOBILE_RE.fullmatch(plain)
    if m:
        return m.group(1)
    m = _LANDLINE_RE.fullmatch(text)
    if m:
        local = m.group("local").replace("-", "")
        if 7 <= len(local) <= 8:
            number = f"{m.group('area1') or m.group('area2')}-{local}"
            return f"{number}-{m.group('ext')}" if m.group("ext") else number
    raise ValidationError(
        _l('"%(value)s" is not a valid phone number: give an 11-digit mobile number '
           '(e.g. 13812345678) or a landline with area code (e.g. 020-12345678)'),
        value=_text(value))


def mask_phone(value) -> str:
    """138****5678 for mobiles, 020-****5678 for landlines. Never raises."""
    try:
        number = phone(value)
    except ValidationError:
        raw = _compact("" if value is None else value)
        if len(raw) < 8:
            return "*" * len(raw)
        return raw[:3] + "*" * (len(raw) - 7) + raw[-4:]
    if "-" not in number:
        return number[:3] + "****" + number[-4:]
    area, local, *ext = number.split("-")
    masked = f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return "-".join([masked, *ext])


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_TIME = r"(?:\s*[ T]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_RES = [
    # 2012-03-31, 2012/3/31, 2012.3.31 (one separator throughout), time ignored
    re.compile(r"(?P<y>\d{4})\s*(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})" + _TIME),
    # 2012年3月31日
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?"),
    # 20120331
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
]


def _unrecognised_date(shown):
    return ValidationError(
        _l('Not a recognised date: "%(value)s" (write e.g. 2012-03-31 or 2012年3月31日)'),
        value=shown)


def _from_excel_serial(serial, shown) -> _dt.date:
    """Excel's 1900 date system: 1 is 1900-01-01, 60 the fictitious 1900-02-29."""
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        raise ValidationError(
            _l("Excel date serial %(value)s is out of range (1 to 2958465)"), value=shown)
    days = int(serial)  # a fraction is the time of day
    if days == 60:
        raise ValidationError(
            _l("Excel date serial 60 stands for 1900-02-29, a day that does not exist"))
    if days < 60:
        return _dt.date(1899, 12, 31) + _dt.timedelta(days=days)
    return _dt.date(1899, 12, 30) + _dt.timedelta(days=days)


def parse_date(value) -> _dt.date | None:
    """Read a date; returns None for an empty value.

    Accepts date/datetime objects, 2012-03-31, 2012/3/31, 2012.3.31,
    2012年3月31日, 20120331 and Excel serial numbers (int, float or numeric
    string; 40999 is 2012-03-31).
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _unrecognised_date(str(value))
    if isinstance(value, (int, float, Decimal)):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise _unrecognised_date(str(value))
        if isinstance(value, int) and 10000101 <= value <= 99991231:
            value = str(value)  # 20120331 read as a number
        else:
            return _from_excel_serial(value, str(value))
    text = _text(value)
    if not text:
        return None
    if re.fullmatch(r"\d{1,7}(?:\.\d+)?", text):
        return _from_excel_serial(Decimal(text), text)
    for pattern in _DATE_RES:
        m = pattern.fullmatch(text)
        if m:
            try:
                return _dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                raise ValidationError(_l('No such date: "%(value)s"'), value=text) from None
    raise _unrecognised_date(text)


# --------------------------------------------------------------------------
# Amounts (元)
# --------------------------------------------------------------------------

_CENT = Decimal("0.01")
_AMOUNT_RE = re.compile(r"([+-])?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?")
_NON_FINITE_RE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


_AMOUNT_FORMAT = _l('Not a valid amount: "%(value)s" (write it in yuan, e.g. 50000, 50,000.00, 5万 or 5万元)')


def _not_finite():
    return ValidationError(_l("Amount must be a finite number"))


def parse_amount(value, *, allow_negative: bool = False) -> Decimal | None:
    """Read a sum of money in 元 as a Decimal with two places; None if empty.

    Strings may carry thousands commas, a leading ¥, a trailing 元, or 万元 / 万
    (× 10 000). Floats go through ``str`` so 0.1 stays 0.1; float noise such as
    0.30000000000000004 is rounded away, real extra decimals are refused.
    """
    if value is None:
        return None
    shown = _text(value)
    float_noise_ok = False
    if isinstance(value, bool):
        raise ValidationError(_AMOUNT_FORMAT, value=shown)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(str(value))
        float_noise_ok = True
    elif isinstance(value, str):
        text = _compact(value).replace("\u2212", "-")
        if not text:
            return None
        factor = 1
        if text.endswith("万元") or text.endswith("万"):
            text = text[:-2] if text.endswith("万元") else text[:-1]
            factor = 10000
        elif text.endswith("元"):
            text = text[:-1]
        sign = ""
        if text[:1] in "+-" and text[1:2] == "¥":
            sign, text = text[0], text[2:]
        elif text.startswith("¥"):
            text = text[1:]
        text = sign + text
        if _NON_FINITE_RE.fullmatch(text):
            raise _not_finite()
        m = _AMOUNT_RE.fullmatch(text)
        if not m or not (m.group(2) or m.group(3)):
            raise ValidationError(_AMOUNT_FORMAT, value=shown)
        amount = Decimal(text.replace(",", "")) * factor
    else:
        raise ValidationError(_AMOUNT_FORMAT, value=shown)

    if not amount.is_finite():
        raise _not_finite()
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise ValidationError(_AMOUNT_FORMAT, value=shown) from None
        if rounded != amount and not (float_noise_ok and abs(rounded - amount) < Decimal("1e-9")):
            raise ValidationError(
                _l("Amount %(value)s has more than two decimal places"), value=shown)
    if rounded < 0 and not allow_negative:
        raise ValidationError(_l("Amount must not be negative: %(value)s"), value=shown)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return rounded


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def format_date_zh(d) -> str:
    """2012年3月31日 (empty string for an empty value)."""
    d = parse_date(d)
    if d is None:
        return ""
    return f"{d.year}年{d.month}月{d.day}日"


def _to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        amount = Decimal(str(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        return parse_amount(value, allow_negative=True)
    if not amount.is_finite():
        raise _not_finite()
    return amount


def _group2(amount: Decimal) -> str:
    with localcontext() as ctx:
        ctx.prec = 60
        rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.2f}"


def format_amount(d) -> str:
    """5,000,000.00 (元, two decimals, rounded half up)."""
    amount = _to_decimal(d)
    return "" if amount is None else _group2(amount)


def format_wan(d) -> str:
    """A sum in 元 written in 万元: 5000000 → 500.00万元."""
    amount = _to_decimal(d)
    if amount is None:
        return ""
    with localcontext() as ctx:
        ctx.prec = 60
        wan = amount / 10000
    return _group2(wan) + "万元"


def format_int(n) -> str:
    """1,757 (rounded half up if not whole)."""
    if n is None or n == "":
        return ""
    if isinstance(n, int) and not isinstance(n, bool):
        return f"{n:,}"
    amount = _to_decimal(n)
    return f"{int(amount.to_integral_value(rounding=ROUND_HALF_UP)):,}"


DB_INT_MAX = 2**63 - 1
_WHOLE_NUMBER = re.compile(r"^\s*[-+]?\d+\s*$")


def too_big(value) -> bool:
    """A number (or a string of digits) no 64-bit database integer holds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -DB_INT_MAX - 1 <= value <= DB_INT_MAX
    if isinstance(value, float):
        return value != value or abs(value) > DB_INT_MAX  # NaN or beyond
    if isinstance(value, str) and _WHOLE_NUMBER.match(value):
        return too_big(int(value))
    return False
