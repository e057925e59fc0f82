"""004 Settings: "Project installation"."""

INSTALLED_APPS = [
    # ...
    "django_aws_api_gateway_websockets",
]
