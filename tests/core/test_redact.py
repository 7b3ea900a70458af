from forgekit.core.redact import REDACTED, redact, redact_text


def test_env_secret_values_are_replaced(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-0123456789abcdef")
    text = "calling with tok-0123456789abcdef in the header"
    assert redact_text(text) == f"calling with {REDACTED} in the header"


def test_key_shapes_are_replaced_even_when_not_in_env():
    out = redact({"a": ["Bearer abcdefghijklmnop1234", "sk-proj-ABCDEFGHIJKLMNOPQRSTUV"]})
    assert "abcdefghijklmnop1234" not in str(out)
    assert "ABCDEFGHIJKLMNOPQRSTUV" not in str(out)


def test_ordinary_text_is_untouched(monkeypatch):
    monkeypatch.setenv("SHORT_KEY", "abc")  # too short to be a secret worth redacting
    assert redact_text("the abc of skills") == "the abc of skills"


def test_every_key_shape_is_replaced():
    # the substring pre-check in front of the shape regex must let each of them through
    shapes = [
        "sk-" + "a1" * 10,
        "sk-ant-" + "b2" * 10,
        "AIza" + "c" * 32,
        *[f"gh{c}_" + "d" * 32 for c in "pousr"],
        "AKIA" + "E" * 16,
        "hf_" + "f" * 32,
        *[f"xox{c}-" + "1234567890ab" for c in "abpr"],
    ]
    for key in shapes:
        assert redact_text(f"key={key}!") == f"key={REDACTED}!", key
    assert redact_text("Authorization: Bearer abcdefghijklmnop1234") == (
        f"Authorization: Bearer {REDACTED}"
    )


def test_a_secret_set_after_an_earlier_call_is_redacted(monkeypatch):
    # secret_values() reuses its scan while the environment is unchanged, never after
    assert redact_text("value-0123456789") == "value-0123456789"
    monkeypatch.setenv("LATE_API_KEY", "value-0123456789")
    assert redact_text("value-0123456789") == REDACTED
    monkeypatch.setenv("LATE_API_KEY", "other-0123456789")
    assert redact_text("value-0123456789") == "value-0123456789"
    assert redact_text("other-0123456789") == REDACTED
