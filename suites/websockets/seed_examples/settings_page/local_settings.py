"""004 Settings: "Recommended local settings"."""

DEBUG = True

ALLOWED_HOSTS = [
    "localhost",
    "127.0.0.1",
    "example-tunnel.ngrok-free.app",
]

CSRF_TRUSTED_ORIGINS = [
    "https://example-tunnel.ngrok-free.app",
]

AWS_IAM_PROFILE = "default"
AWS_GATEWAY_REGION_NAME = "eu-west-1"
