"""Validation of identifiers and dates, with messages a user can act on.

Rules:
- NHS number: 10 digits with a valid modulus 11 check digit (``nhs-number``).
- PNC ID: YYYY/NNNNNNNA; the check letter is the remainder of the 2-digit
  year followed by the 7-digit serial, divided by 23, looked up in
  'ZABCDEFGHJKLMNPQRTUVWXY' (the letters I, O and S are never used).
- Prison number: one letter, four digits, two letters (A1234BC).
- CRO number: serial of up to 6 digits, slash, 2-digit year, check letter
  (123456/89X). Only the format is checked: the CRO check-letter algorithm is
  not public enough to implement with confidence.
- Date of birth: not in the future, and age between 10 and 110.
"""

from __future__ import annotations

import datetime as dt
import re

import nhs_number
from django.core.exceptions import ValidationError

from records.normalise import canonical_nhs_number, canonical_pnc_id, canonical_upper

PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"


def pnc_check_letter(year: str, serial: str) -> str:
    return PNC_LETTERS[int(f"{year[-2:]}{int(serial):07d}") % 23]


def validate_nhs_number(raw: str) -> str:
    value = canonical_nhs_number(raw)
    if not re.fullmatch(r"\d{10}", value):
        raise ValidationError("Enter the NHS number as 10 digits, for example 999 123 4560.")
    if not nhs_number.is_valid(value):
        raise ValidationError("This is not a valid NHS number: the check digit does not match. Check each digit.")
    return value


def validate_pnc_id(raw: str) -> str:
    value = canonical_pnc_id(raw)
    match = re.fullmatch(r"(\d{4})/(\d{7})([A-Z])", value)
    if not match:
        raise ValidationError("Enter the PNC ID as year, slash, serial number and check letter, for example 2012/0001234X.")
    year, serial, letter = match.groups()
    expected = pnc_check_letter(year, serial)
    if letter != expected:
        raise ValidationError(
            f"This PNC ID's check letter does not match its number (the number {year}/{serial} needs the letter {expected})."
        )
    return value


def validate_prison_number(raw: str) -> str:
    value = canonical_upper(raw)
    if not re.fullmatch(r"[A-Z]\d{4}[A-Z]{2}", value):
        raise ValidationError("Enter the prison number as one letter, four digits and two letters, for example A1234BC.")
    return value


def validate_cro_number(raw: str) -> str:
    value = canonical_upper(raw)
    if not re.fullmatch(r"\d{1,6}/\d{2}[A-Z]", value):
        raise ValidationError("Enter the CRO number as serial number, slash, two-digit year and check letter, for example 123456/89X.")
    return value


def validate_date_of_birth(value: dt.date, *, today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    if value > today:
        raise ValidationError("Date of birth must be in the past.")
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age < 10:
        raise ValidationError("Date of birth gives an age under 10: check the year.")
    if age > 110:
        raise ValidationError("Date of birth gives an age over 110: check the year.")
    return value


def validate_not_future(value: dt.date) -> dt.date:
    if value > dt.date.today():
        raise ValidationError("This date cannot be in the future.")
    return value


IDENTIFIER_VALIDATORS = {
    "identity.nhs_number": validate_nhs_number,
    "identity.pnc_id": validate_pnc_id,
    "identity.prison_number": validate_prison_number,
    "identity.cro_number": validate_cro_number,
}
