"""Credentials and region come from settings in the documented order, read when used."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_aws_api_gateway_websockets import aws


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch, tmp_path):
    """No real AWS configuration leaks in: empty config files, no AWS_* variables."""
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    ]:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text(
        "\n".join(
            [
                "[profile deploy]",
                "region = ap-southeast-2",
                "aws_access_key_id = PROFILEKEY",
                "aws_secret_access_key = PROFILESECRET",
            ]
        )
    )
    credentials = tmp_path / "credentials"
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    aws.clear_caches()
    yield
    aws.clear_caches()


def test_gateway_region_setting_wins_over_the_generic_one(settings):
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-2"
    settings.AWS_REGION_NAME = "us-east-1"
    assert aws.get_region() == "eu-west-2"


def test_generic_region_is_the_fallback(settings):
    settings.AWS_GATEWAY_REGION_NAME = None
    settings.AWS_REGION_NAME = "us-east-1"
    assert aws.get_region() == "us-east-1"


def test_missing_region_is_a_clear_error_naming_both_settings(settings):
    settings.AWS_GATEWAY_REGION_NAME = None
    settings.AWS_REGION_NAME = None
    settings.AWS_IAM_PROFILE = None
    with pytest.raises(ImproperlyConfigured) as error:
        aws.get_session()
    assert "AWS_GATEWAY_REGION_NAME" in str(error.value)
    assert "AWS_REGION_NAME" in str(error.value)


def test_profile_comes_first_and_may_supply_the_region(settings):
    settings.AWS_IAM_PROFILE = "deploy"
    settings.AWS_GATEWAY_REGION_NAME = None
    settings.AWS_REGION_NAME = None
    settings.AWS_ACCESS_KEY_ID = "IGNOREDKEY"
    settings.AWS_SECRET_ACCESS_KEY = "IGNOREDSECRET"
    assert aws.get_region() == "ap-southeast-2"
    assert aws.get_frozen_credentials().access_key == "PROFILEKEY"


def test_keys_come_next(settings):
    settings.AWS_IAM_PROFILE = None
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    settings.AWS_ACCESS_KEY_ID = "SETTINGSKEY"
    settings.AWS_SECRET_ACCESS_KEY = "SETTINGSSECRET"
    assert aws.get_frozen_credentials().access_key == "SETTINGSKEY"


def test_then_the_environment_or_the_instance_role(settings, monkeypatch):
    settings.AWS_IAM_PROFILE = None
    settings.AWS_ACCESS_KEY_ID = None
    settings.AWS_SECRET_ACCESS_KEY = None
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ENVKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET")
    assert aws.get_frozen_credentials().access_key == "ENVKEY"


def test_no_credentials_anywhere_is_a_clear_error(settings):
    settings.AWS_IAM_PROFILE = None
    settings.AWS_ACCESS_KEY_ID = None
    settings.AWS_SECRET_ACCESS_KEY = None
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    with pytest.raises(ImproperlyConfigured, match="No AWS credentials"):
        aws.get_frozen_credentials()


def test_clients_are_reused_per_endpoint_and_rebuilt_when_settings_change(settings):
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    first = aws.get_client("apigatewaymanagementapi", endpoint_url="https://a.example.com/production")
    assert aws.get_client("apigatewaymanagementapi", endpoint_url="https://a.example.com/production") is first
    assert aws.get_client("apigatewaymanagementapi", endpoint_url="https://b.example.com/production") is not first
    settings.AWS_ACCESS_KEY_ID = "ROTATED"
    assert aws.get_client("apigatewaymanagementapi", endpoint_url="https://a.example.com/production") is not first


def test_endpoint_override_setting_is_used_for_the_control_plane(settings):
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = "http://127.0.0.1:8001"
    client = aws.get_client("apigatewayv2")
    assert client.meta.endpoint_url == "http://127.0.0.1:8001"
    settings.AWS_ENDPOINT_URL_APIGATEWAYV2 = None
    assert aws.get_client("apigatewayv2").meta.endpoint_url.startswith("https://apigateway.eu-west-1.")


@pytest.mark.parametrize(
    ("api_endpoint", "stage", "expected"),
    [
        (
            "wss://abc.execute-api.eu-west-1.amazonaws.com",
            "production",
            "https://abc.execute-api.eu-west-1.amazonaws.com/production",
        ),
        ("ws://127.0.0.1:8001", "local", "http://127.0.0.1:8001/local"),
        (
            "wss://abc.execute-api.eu-west-1.amazonaws.com/",
            "/dev/",
            "https://abc.execute-api.eu-west-1.amazonaws.com/dev",
        ),
    ],
)
def test_management_endpoint_is_derived_from_the_api_endpoint_and_stage(api_endpoint, stage, expected):
    assert aws.management_endpoint(api_endpoint, stage) == expected
