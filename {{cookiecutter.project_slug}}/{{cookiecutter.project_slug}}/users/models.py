from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's user. A custom model from the start makes later changes a
    migration instead of a rewrite."""
