from __future__ import annotations

import pytest
from pydantic import ValidationError

from forgekit.rag.pii import PIIConfig, PIIFilter, PIIPattern, iban_ok, luhn_ok


def test_each_detector_replaces_with_a_typed_placeholder():
    text = (
        "Mail jane.doe@example.org, call +1 (415) 555-0132, pay DE89 3704 0044 0532 0130 00 "
        "with card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwx."
    )
    out, hits = PIIFilter().apply(text)
    assert out == ("Mail [EMAIL], call [PHONE], pay [IBAN] with card [CREDIT_CARD], key [SECRET].")
    assert hits == {"EMAIL": 1, "PHONE": 1, "IBAN": 1, "CREDIT_CARD": 1, "SECRET": 1}


def test_checksums_keep_lookalikes():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    out, hits = PIIFilter().apply("order 4111 1111 1111 1112 and DE89 3704 0044 0532 0130 01")
    assert "[CREDIT_CARD]" not in out and "[IBAN]" not in out


def test_plain_numbers_dates_and_versions_stay():
    text = "In 2019 we saw 42 cases; version 3.11.2 released 2024-05-01 at 10:30."
    out, hits = PIIFilter().apply(text)
    assert out == text and not hits


def test_custom_patterns_and_detector_choice():
    cfg = PIIConfig(
        detectors=["email"], patterns=[PIIPattern(label="employee_id", regex=r"EMP-\d{5}")]
    )
    out, hits = PIIFilter(cfg).apply("EMP-12345 wrote a@b.io from +1 415 555 0132")
    assert out == "[EMPLOYEE_ID] wrote [EMAIL] from +1 415 555 0132"
    assert hits == {"EMPLOYEE_ID": 1, "EMAIL": 1}


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValidationError, match="unknown detector"):
        PIIConfig(detectors=["emails"])
    with pytest.raises(ValidationError, match="regular expression"):
        PIIPattern(label="x", regex="(")


def test_disabled_filter_is_identity():
    assert PIIFilter(PIIConfig(enabled=False)).apply("a@b.io")[0] == "a@b.io"


def test_key_value_secrets_but_not_code():
    out, hits = PIIFilter().apply("GET /x?apikey=ZZZ9aaaaaaaaaaaaaaaa&y=1 and api_key=api_key,")
    assert out == "GET /x?apikey=[SECRET]&y=1 and api_key=api_key,"
    assert hits == {"SECRET": 1}


def test_gates_skip_patterns_without_changing_any_result():
    import random
    from collections import Counter

    from forgekit.rag.pii import BUILTIN_DETECTORS, _sub_checked

    def ungated(text):
        hits = Counter()
        for name in PIIConfig().detectors:
            regex, label, check = BUILTIN_DETECTORS[name]
            text = _sub_checked(regex, label, check, text, hits)
        return text, hits

    parts = [
        "jane.doe@example.org",
        "+1 (415) 555-0132",
        "DE89 3704 0044 0532 0130 00",
        "4111 1111 1111 1111",
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "Bearer abcdefghijklmnop1234",
        "token=abcdefghij0123456789",
        "AKIAABCDEFGHIJKLMNOP",
        "ghp_" + "a" * 32,
        "hf_" + "b" * 31,
        "xoxb-1234567890ab",
        "AIza" + "c" * 31,
        "plain words",
        "version 3.11.2",
        "2024-05-01",
        "x = 1",
        "a @ b",
        "no digits here",
        "ünïcödé ٣٤٥ digits",
        "\n",
        "GET /x?apikey=Z9" + "z" * 20,
    ]
    rng = random.Random(0)
    texts = [" ".join(rng.choice(parts) for _ in range(rng.randint(1, 6))) for _ in range(400)]
    texts += parts
    changed = 0
    for t in texts:
        assert PIIFilter().apply(t) == ungated(t), t
        changed += PIIFilter().apply(t)[0] != t
    assert changed > 100  # the texts did exercise the detectors
