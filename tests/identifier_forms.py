"""The identifiers a Korean hospital's systems write, in the forms they write them.

Planted in every field by the privacy tests of the scrubbers and the audit
(tests/test_korean_forms.py, tests/test_audit_record_values.py,
tests/test_record_shapes_contract.py): a name in Hangul, a resident registration number
with and without its hyphen, record numbers, dates of birth, a phone number, an e-mail
address, Windows and UNC paths, URLs, and the same values percent-encoded or escaped.
"""

from __future__ import annotations

FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hangul": ("김지현", ("김지현", "지현")),
    "hangul-2": ("이서연", ("이서연",)),
    "rrn": ("900101-1234567", ("1234567", "900101")),
    "rrn-without-hyphen": ("9001011234567", ("1234567", "900101")),
    "mrn": ("MRN:12345678", ("12345678",)),
    "mrn-hospital": ("H-2023-000123", ("000123",)),
    "birth-date": ("1990-01-01", ("1990-01-01",)),
    "birth-date-compact": ("19900101", ("19900101",)),
    "birth-date-dots": ("1990.01.01", ("1990.01.01",)),
    "birth-date-month-name": ("01-JAN-1990", ("01-JAN-1990",)),  # Oracle's DD-MON-YYYY, as LIMS export it
    "collection-date-month-name": ("29OCT2023", ("29OCT2023",)),
    "birth-date-month-name-year-first": ("1990-Jan-01", ("1990-Jan-01",)),
    "birth-date-month-name-compact-year-first": ("1990JAN01", ("1990JAN01",)),
    "birth-date-ordinal-day": ("1st-January-1990", ("1st-January-1990",)),
    "birth-date-abbreviation-period": ("Dec.-1-1990", ("Dec.-1-1990",)),
    "birth-date-onto-letters": ("DOB01JAN1990", ("01JAN1990",)),
    "birth-date-month-first-two-digit-year": ("Jan-01-90", ("Jan-01-90",)),
    "phone": ("010-1234-5678", ("1234-5678",)),
    "phone-underscores": ("010_1234_5678", ("1234_5678",)),
    "email": ("kimjh@snuh.org", ("kimjh", "snuh")),
    "windows-path": ("C:\\Users\\kimjh\\", ("kimjh",)),
    "unc-path": ("\\\\nas01\\genome\\", ("nas01",)),
    "url-credentials": ("https://user:pw@host/", ("user:pw",)),
    "s3-url": ("s3://bucket/kimjh/", ("kimjh",)),
    "percent-encoded": ("%EA%B9%80%EC%A7%80%ED%98%84", ("%EA%B9%80",)),
    "backslash-escaped": ("\\xea\\xb9\\x80\\xec\\xa7\\x80", ("\\xea",)),
    "unicode-escaped": ("\\uAE40\\uC9C0\\uD604", ("\\uAE40",)),
    "html-entities": ("&#44608;&#51648;&#54788;", ("44608",)),
}
"""form -> (the value as written, what of it must never survive or be printed: searched as bytes, any ASCII case)."""
