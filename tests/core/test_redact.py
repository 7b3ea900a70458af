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
