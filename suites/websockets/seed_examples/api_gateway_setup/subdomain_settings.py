"""000 API Gateway setup: "Configure cookies for subdomains"."""

CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [
    "https://www.example.com",
    "https://ws.example.com",
]
CSRF_COOKIE_DOMAIN = ".example.com"

SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "mysessionid"
SESSION_COOKIE_DOMAIN = ".example.com"
