"""004 Settings: "Recommended production settings"."""

DEBUG = False

ALLOWED_HOSTS = [
    "www.example.com",
]

CSRF_TRUSTED_ORIGINS = [
    "https://www.example.com",
    "https://ws.example.com",
]

CSRF_COOKIE_DOMAIN = ".example.com"
SESSION_COOKIE_DOMAIN = ".example.com"

CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"

CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SECURE = True

AWS_GATEWAY_REGION_NAME = "eu-west-1"
