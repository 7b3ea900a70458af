from pathlib import Path

import pytest

from forgekit.core.config import LOCAL_ALIAS, load_config
from forgekit.core.errors import ConfigError, UnknownAlias


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "forgekit.yaml"
    p.write_text(text)
    return p


def test_defaults_without_a_file_give_the_embedded_local_alias(project):
    cfg = load_config(env={})
    assert cfg.models.default == LOCAL_ALIAS
    assert cfg.models.aliases[LOCAL_ALIAS].embedded
    assert cfg.root == Path.cwd()


def test_aliases_routing_and_fallbacks_load(tmp_path):
    p = write(tmp_path, """
schema_version: 1
models:
  default: fast
  aliases:
    fast: {model: openai/gpt-4o-mini, api_key_env: OPENAI_API_KEY,
           price: {input_per_1k: 0.1, output_per_1k: 0.2}}
    coder: {model: ollama/qwen2.5-coder, api_base: "http://127.0.0.1:11434"}
  fallbacks: {fast: [local]}
  routing: {code: coder, default: fast}
""")
    cfg = load_config(p, env={})
    assert cfg.models.aliases["fast"].price.output_per_1k == 0.2
    assert cfg.models.routing["code"] == "coder"
    assert cfg.models.fallbacks["fast"] == ["local"]
    assert cfg.root == tmp_path


def test_malformed_yaml_names_file_and_line(tmp_path):
    p = write(tmp_path, "models:\n  aliases:\n    x: {model: a\n  bad: [\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, env={})
    assert e.value.file == str(p)
    assert e.value.line is not None
    assert "invalid YAML" in str(e.value)


def test_wrong_type_names_file_line_key_and_expectation(tmp_path):
    p = write(tmp_path, """models:
  aliases:
    fast:
      model: openai/gpt-4o-mini
      timeout_s: soon
""")
    with pytest.raises(ConfigError) as e:
        load_config(p, env={})
    err = e.value
    assert err.line == 5
    assert err.key == "models.aliases.fast.timeout_s"
    assert "valid number" in str(err) and "soon" in str(err)


def test_unknown_key_is_a_typo_error(tmp_path):
    p = write(tmp_path, "models:\n  defualt: local\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, env={})
    assert e.value.line == 2 and "unknown key" in str(e.value)


def test_unknown_alias_in_routing_is_reported_with_its_line(tmp_path):
    p = write(tmp_path, "models:\n  routing:\n    code: nosuch\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, env={})
    assert e.value.line == 3 and "nosuch" in str(e.value)


def test_unknown_alias_lookup_lists_known_ones(project):
    cfg = load_config(env={})
    with pytest.raises(UnknownAlias) as e:
        cfg.alias("gpt-9")
    assert "gpt-9" in str(e.value) and "local" in str(e.value)


def test_api_key_env_must_be_a_name_not_a_key(tmp_path):
    p = write(tmp_path, "models:\n  aliases:\n    x: {model: m, api_key_env: 'sk-abc.def/ghi'}\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, env={})
    assert "NAME of an environment variable" in str(e.value)
    assert e.value.line == 3


def test_environment_overrides(project):
    env = {"FORGEKIT_MODEL__CLOUD": "openai/gpt-4o-mini", "FORGEKIT_DEFAULT_MODEL": "cloud",
           "FORGEKIT_API_BASE__CLOUD": "http://127.0.0.1:9/v1"}
    cfg = load_config(env=env)
    assert cfg.models.default == "cloud"
    assert cfg.alias("cloud").model == "openai/gpt-4o-mini"
    assert cfg.alias("cloud").api_base == "http://127.0.0.1:9/v1"


def test_env_default_to_unknown_alias_is_an_error(project):
    with pytest.raises(ConfigError, match="default alias 'ghost'"):
        load_config(env={"FORGEKIT_DEFAULT_MODEL": "ghost"})


def test_unsupported_schema_version(tmp_path):
    p = write(tmp_path, "schema_version: 7\n")
    with pytest.raises(ConfigError, match="schema_version 7") as e:
        load_config(p, env={})
    assert e.value.line == 1


def test_validation_errors_never_echo_a_key_fields_value(tmp_path) -> None:
    f = tmp_path / "forgekit.yaml"
    f.write_text(
        "models:\n  aliases:\n    gpt:\n      model: openai/gpt-4o\n"
        "      api_key_env: sk-live-abcdefghijklmnop0123\n"
    )
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert "sk-live-abcdefghijklmnop0123" not in str(e.value)
    assert "api_key_env" in str(e.value) and "not shown" in str(e.value)
    assert e.value.line == 5


def test_project_root_is_found_from_anywhere_in_the_project(tmp_path, monkeypatch):
    from forgekit.core.config import project_root

    monkeypatch.delenv("FORGEKIT_HOME", raising=False)
    proj = tmp_path / "proj"
    deep = proj / "notebooks" / "sub"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert project_root() == deep  # no marker anywhere: the cwd
    (proj / ".forgekit").mkdir()
    assert project_root() == proj  # the nearest folder up with a store
    (proj / "notebooks" / "forgekit.yaml").write_text("schema_version: 1\n")
    assert project_root() == proj / "notebooks"  # or with a forgekit.yaml
    assert load_config().root == proj / "notebooks"
    assert project_root({"FORGEKIT_HOME": str(tmp_path)}) == tmp_path  # the variable wins
    assert load_config(env={"FORGEKIT_HOME": str(tmp_path)}).root == tmp_path
