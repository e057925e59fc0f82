from django.apps import AppConfig


class LocalDevConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.localdev"
    label = "localdev"
    verbose_name = "Local development"
