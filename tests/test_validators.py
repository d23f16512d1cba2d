"""Tests for core.values.validators (pure functions, no app needed)."""

import datetime as dt
from decimal import Decimal

import pytest

from core.values import validators as v
from core.values.validators import ValidationError


def refused(func, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------
# ValidationError
# --------------------------------------------------------------------------

def test_validation_error_is_value_error_with_msgid_and_params():
    exc = refused(v.credit_code, "123")
    assert isinstance(exc, ValueError)
    assert exc.msgid == "Credit code must be 18 characters, got %(n)d"
    assert exc.params == {"n": 3}
    assert str(exc) == "Credit code must be 18 characters, got 3"
    assert str(exc.message) == "Credit code must be 18 characters, got 3"
    assert exc.args == ("Credit code must be 18 characters, got 3",)


def test_validation_error_str_inside_app_context():
    flask = pytest.importorskip("flask")
    from flask_babel import Babel

    app = flask.Flask(__name__)
    Babel(app)
    with app.app_context():
        exc = refused(v.phone, "")
        assert str(exc) == "Phone number is empty"


# --------------------------------------------------------------------------
# 统一社会信用代码
# --------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "91350100M000100Y43", "91110108551385082Q", "91440300708461136T",
])
def test_credit_code_real_codes(code):
    assert v.credit_code(code) == code


def test_credit_code_normalises_spaces_and_case():
    assert v.credit_code(" 9144 0300 7084 6113 6t ") == "91440300708461136T"
    assert v.credit_code("９１４４０３００７０８４６１１３６Ｔ") == "91440300708461136T"


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_credit_code_empty_is_none(empty):
    assert v.credit_code(empty) is None


def test_credit_code_check_char_helper():
    assert v.credit_code_check_char("91350100M000100Y4") == "3"
    assert v.credit_code_check_char("91110108551385082") == "Q"
    assert v.credit_code_check_char("91440300708461136") == "T"
    # sum ≡ 0 (mod 31) gives 31 − 0 = 31 → check value 0: all zeros
    assert v.credit_code_check_char("0" * 17) == "0"


def test_credit_code_check_char_helper_wrong_length():
    exc = refused(v.credit_code_check_char, "9144030070846113")
    assert str(exc) == "Need the first 17 characters of a credit code, got 16"


def test_credit_code_wrong_length():
    exc = refused(v.credit_code, "91440300708461136T1")
    assert str(exc) == "Credit code must be 18 characters, got 19"


def test_credit_code_illegal_character():
    exc = refused(v.credit_code, "91440300708461I36T")
    assert str(exc) == 'Credit code contains the illegal character "I" at position 15'
    assert exc.params == {"char": "I", "pos": 15}


def test_credit_code_wrong_check_character():
    exc = refused(v.credit_code, "91110108551385082R")
    assert str(exc).startswith("The credit code is wrong")
    assert "Q" not in str(exc) and not exc.params  # never the expected character (issue 19)


# --------------------------------------------------------------------------
# 居民身份证
# --------------------------------------------------------------------------

def test_resident_id_check_char_by_hand():
    # 4·7+4·9+0·10+1·5+0·8+6·4+1·2+9·1+9·6+0·3+0·7+3·9+0·10+7·5+1·8+0·4+8·2
    # = 244; 244 mod 11 = 2; "10X98765432"[2] = "X"
    assert v.resident_id_check_char("44010619900307108") == "X"
    assert v.resident_id_check_char("44010619900307123") == "1"


def test_resident_id_valid_with_x_lowercase_normalised():
    assert v.resident_id("44010619900307108x") == "44010619900307108X"
    assert v.resident_id(" 440106 19900307 108X ") == "44010619900307108X"
    assert v.resident_id("440106199003071231") == "440106199003071231"


def test_resident_id_wrong_length():
    exc = refused(v.resident_id, "4401061990030710")
    assert str(exc) == "ID number must be 18 characters, got 16"
    assert str(refused(v.resident_id, None)) == "ID number must be 18 characters, got 0"


def test_resident_id_illegal_character():
    exc = refused(v.resident_id, "4401061990030710X8")
    assert str(exc) == ('ID number may contain only digits (X only as the last character); '
                        'found "X" at position 17')


def test_resident_id_wrong_check_character():
    exc = refused(v.resident_id, "440106199003071232")
    assert str(exc).startswith("The ID number is wrong")
    assert "1" not in str(exc) and not exc.params  # never the expected character (issue 19)


def test_resident_id_impossible_birth_date():
    first17 = "44010619900230100"  # 1990-02-30
    code = first17 + v.resident_id_check_char(first17)
    exc = refused(v.resident_id, code)
    assert str(exc) == "ID number contains the birth date 19900230, which does not exist"


def test_resident_id_birth_date_in_future():
    first17 = "44010620990101100"
    code = first17 + v.resident_id_check_char(first17)
    exc = refused(v.resident_id, code)
    assert str(exc) == "ID number contains the birth date 2099-01-01, which is in the future"
    # and the same number is fine once that day has come
    assert v.resident_id(code, today=dt.date(2099, 1, 1)) == code


def test_resident_id_check_char_helper_wrong_length():
    exc = refused(v.resident_id_check_char, "4401061990030710")
    assert str(exc) == "Need the first 17 digits of an ID number, got 16 characters"


def test_mask_resident_id():
    assert v.mask_resident_id("44010619900307123X") == "440106********123X"
    assert v.mask_resident_id("44010619900307123x") == "440106********123X"
    assert v.mask_resident_id("") == ""
    assert v.mask_resident_id("12345") == "*****"


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("19912345678", "19912345678"),
    ("020-12345678", "020-12345678"),
    ("02012345678", "020-12345678"),
    ("(020)12345678", "020-12345678"),
    ("（020）12345678", "020-12345678"),
    ("0755-8765432", "0755-8765432"),
    ("07578765432", "0757-8765432"),
    ("0769 2222 3333", "0769-22223333"),
    ("020-12345678转123", "020-12345678-123"),
    ("020-12345678-123", "020-12345678-123"),
    ("020-12345678 ext 123", "020-12345678-123"),
    ("0756-2123456 EXT. 8", "0756-2123456-8"),
])
def test_phone_valid(raw, expected):
    assert v.phone(raw) == expected


def test_phone_empty():
    assert str(refused(v.phone, "  ")) == "Phone number is empty"


@pytest.mark.parametrize("raw", [
    "12812345678",      # 12x is not a mobile prefix
    "1381234567",       # 10 digits
    "138123456789",     # 12 digits
    "020-123456",       # 6-digit local number
    "020-123456789",    # 9-digit local number
    "755-12345678",     # area code without 0
    "13812345678转12",  # mobiles have no extension
    "abc",
])
def test_phone_invalid(raw):
    exc = refused(v.phone, raw)
    assert str(exc) == (
        f'"{raw}" is not a valid phone number: give an 11-digit mobile number '
        '(e.g. 13812345678) or a landline with area code (e.g. 020-12345678)')


def test_mask_phone():
    assert v.mask_phone("13812345678") == "138****5678"
    assert v.mask_phone("+86 138-1234-5678") == "138****5678"
    assert v.mask_phone("020-12345678转123") == "020-****5678-123"
    assert v.mask_phone("") == ""


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

D = dt.date(2012, 3, 31)


@pytest.mark.parametrize("raw", [
    D, dt.datetime(2012, 3, 31, 15, 30),
    "2012-03-31", "2012-3-31", "2012/3/31", "2012/03/31", "2012.3.31",
    "2012年3月31日", "2012年03月31日", "2012 年 3 月 31 日", "2012年3月31",
    "20120331", 20120331, " 2012-03-31 ", "2012-03-31 00:00:00", "2012-03-31T08:15",
    "２０１２年３月３１日",
    40999, 40999.0, 40999.75, "40999", "40999.5", Decimal("40999"),
])
def test_parse_date_valid(raw):
    assert v.parse_date(raw) == D


def test_parse_date_excel_serial_edges():
    # Excel's 1900 system: 1 = 1900-01-01, 59 = 1900-02-28, 61 = 1900-03-01
    assert v.parse_date(1) == dt.date(1900, 1, 1)
    assert v.parse_date(59) == dt.date(1900, 2, 28)
    assert v.parse_date(61) == dt.date(1900, 3, 1)
    assert v.parse_date(40909) == dt.date(2012, 1, 1)
    assert v.parse_date(2958465) == dt.date(9999, 12, 31)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_parse_date_empty_is_none(empty):
    assert v.parse_date(empty) is None


def test_parse_date_impossible_date():
    assert str(refused(v.parse_date, "2012-02-30")) == 'No such date: "2012-02-30"'
    assert str(refused(v.parse_date, "2011年2月29日")) == 'No such date: "2011年2月29日"'
    assert str(refused(v.parse_date, "20121301")) == 'No such date: "20121301"'
    assert v.parse_date("2012-02-29") == dt.date(2012, 2, 29)


def test_parse_date_excel_serial_60():
    assert str(refused(v.parse_date, 60)) == (
        "Excel date serial 60 stands for 1900-02-29, a day that does not exist")
    assert refused(v.parse_date, "60").msgid == refused(v.parse_date, 60).msgid


@pytest.mark.parametrize("raw, shown", [(0, "0"), (2958466, "2958466"), (-5, "-5")])
def test_parse_date_excel_serial_out_of_range(raw, shown):
    assert str(refused(v.parse_date, raw)) == (
        f"Excel date serial {shown} is out of range (1 to 2958465)")


@pytest.mark.parametrize("raw", [
    "31/03/2012", "2012-03/31", "yesterday", "2012-3", True, float("nan"), float("inf"),
])
def test_parse_date_unrecognised(raw):
    assert str(refused(v.parse_date, raw)) == (
        f'Not a recognised date: "{raw}" (write e.g. 2012-03-31 or 2012年3月31日)')


# --------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("500万元", "5000000.00"),
    ("500万", "5000000.00"),
    ("60万元", "600000.00"),
    ("1.5万元", "15000.00"),
    ("0.0001万元", "1.00"),
    ("0.000001万元", "0.01"),
    ("5,000,000.00", "5000000.00"),
    ("5,000,000", "5000000.00"),
    ("1234.5元", "1234.50"),
    ("¥1,234.56", "1234.56"),
    ("  ８８８元 ", "888.00"),
    (".5", "0.50"),
    ("0", "0.00"),
    (1757, "1757.00"),
    (Decimal("12.3"), "12.30"),
    (Decimal("12.300"), "12.30"),
    (0.1, "0.10"),
    (0.1 + 0.2, "0.30"),
    (1234.56, "1234.56"),
    ("12345678901234567.89", "12345678901234567.89"),  # never through float
])
def test_parse_amount_valid(raw, expected):
    result = v.parse_amount(raw)
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_parse_amount_negative_allowed():
    assert v.parse_amount("-1,234.5", allow_negative=True) == Decimal("-1234.50")
    assert v.parse_amount("-3万元", allow_negative=True) == Decimal("-30000.00")
    assert str(v.parse_amount("-0", allow_negative=False)) == "0.00"


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_parse_amount_empty_is_none(empty):
    assert v.parse_amount(empty) is None


@pytest.mark.parametrize("raw, shown", [
    ("12.345", "12.345"), ("0.0000001万元", "0.0000001万元"), (0.125, "0.125"),
    (Decimal("1.001"), "1.001"),
])
def test_parse_amount_too_many_decimals(raw, shown):
    assert str(refused(v.parse_amount, raw)) == (
        f"Amount {shown} has more than two decimal places")


def test_parse_amount_negative_refused():
    assert str(refused(v.parse_amount, "-5")) == "Amount must not be negative: -5"
    assert str(refused(v.parse_amount, -5)) == "Amount must not be negative: -5"


@pytest.mark.parametrize("raw", [
    "NaN", "inf", "-Infinity", float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"),
])
def test_parse_amount_not_finite(raw):
    assert str(refused(v.parse_amount, raw, allow_negative=True)) == (
        "Amount must be a finite number")


@pytest.mark.parametrize("raw", [
    "abc", "1,23", "12,3456", "1.2.3", "5.", "元", "万元", "1e5", "--5", True, [1],
])
def test_parse_amount_invalid(raw):
    assert str(refused(v.parse_amount, raw)) == (
        f'Not a valid amount: "{raw}" (write it in yuan, e.g. 50000, 50,000.00, 5万 or 5万元)')


@pytest.mark.parametrize("raw, expected", [
    ("5万", "50000.00"), ("5万元", "50000.00"), ("50,000", "50000.00"), ("50000.00", "50000.00"), ("¥1.5万", "15000.00"),
])
def test_parse_amount_as_offices_write_it(raw, expected):
    assert str(v.parse_amount(raw)) == expected


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

def test_format_date_zh():
    assert v.format_date_zh(dt.date(2012, 3, 31)) == "2012年3月31日"
    assert v.format_date_zh(dt.datetime(2012, 12, 5, 9, 0)) == "2012年12月5日"
    assert v.format_date_zh("2012-03-15") == "2012年3月15日"
    assert v.format_date_zh(None) == ""


def test_format_amount():
    assert v.format_amount(Decimal("5000000")) == "5,000,000.00"
    assert v.format_amount(600000) == "600,000.00"
    assert v.format_amount(Decimal("1234.565")) == "1,234.57"  # half up
    assert v.format_amount(Decimal("-1234.5")) == "-1,234.50"
    assert v.format_amount(Decimal("-0.001")) == "0.00"
    assert v.format_amount(0.5) == "0.50"
    assert v.format_amount(None) == ""


def test_format_wan():
    assert v.format_wan(Decimal("5000000")) == "500.00万元"
    assert v.format_wan(600000) == "60.00万元"
    assert v.format_wan(Decimal("12345")) == "1.23万元"
    assert v.format_wan(Decimal("12350")) == "1.24万元"  # 1.235 half up
    assert v.format_wan(Decimal("123456789012")) == "12,345,678.90万元"
    assert v.format_wan(None) == ""


def test_format_int():
    assert v.format_int(1757) == "1,757"
    assert v.format_int(35) == "35"
    assert v.format_int(-1234567) == "-1,234,567"
    assert v.format_int(Decimal("1757.5")) == "1,758"
    assert v.format_int(None) == ""
