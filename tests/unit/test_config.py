import pytest

from bitchange.config import ConfigurationError, Settings, check_production, production_problems

STRONG = "k" * 20 + "Q9x7LmN2pR4tV6wY8zA1"


def _settings(**overrides) -> Settings:
    values = {"BITCHANGE_ENV": "production", "SECRET_KEY": STRONG,
              "PUBLIC_URL": "https://exchange.example.org", "SMTP_HOST": "smtp.example.org"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def test_sound_production_settings_pass():
    assert production_problems(_settings()) == []
    check_production(_settings())


@pytest.mark.parametrize(("override", "fragment"), [
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": "change-me-generate-with-python-secrets-token-urlsafe-48"}, "SECRET_KEY"),
    ({"PUBLIC_URL": "http://exchange.example.org"}, "https://"),
    ({"SMTP_HOST": ""}, "SMTP_HOST"),
    ({"S3_BUCKET": "b", "S3_SECRET_ACCESS_KEY": "change-me"}, "S3_SECRET_ACCESS_KEY"),
])
def test_production_refuses_missing_weak_or_example_secrets(override, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        check_production(_settings(**override))


def test_development_does_not_demand_production_secrets():
    check_production(Settings(_env_file=None, BITCHANGE_ENV="development", SECRET_KEY="x"))


def test_example_file_is_refused_as_production_config():
    from dotenv import dotenv_values

    from bitchange.config import PROJECT_ROOT

    example = dotenv_values(PROJECT_ROOT / "deploy" / ".env.production.example")
    settings = Settings(_env_file=None, **{k: v for k, v in example.items() if v is not None})
    problems = production_problems(settings)
    assert any("SECRET_KEY" in p for p in problems)
    assert any("SMTP_PASSWORD" in p for p in problems)
