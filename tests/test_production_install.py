"""What production gets: ``pip install .`` of a bake (no extras) and the container image
carry the project and the WebSocket app, never the development tooling (the local API
Gateway, ``localdev``), its dependency aiohttp, or the tests; production settings
cannot load ``localdev``."""

import json
import secrets
import subprocess

import pytest

from .conftest import VENV_BIN, bake_interpreter, project_env, run

DEV_ONLY_PACKAGES = ("localgateway", "localdev", "tests")


@pytest.mark.slow
def test_a_production_install_has_no_dev_tooling_and_no_aiohttp(bake, tmp_path):
    project = bake()
    venv = tmp_path / "production-venv"
    # The interpreter the bake's own make install would choose (Python 3.12+ for Django 6.1).
    python = bake_interpreter(project)
    assert run([str(VENV_BIN / "uv"), "venv", "--quiet", "--python", python, str(venv)], tmp_path).returncode == 0
    installed = run(
        [str(VENV_BIN / "uv"), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(project)],
        tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    # Run from elsewhere, so that only what was installed can be imported.
    names = ["aiohttp", *DEV_ONLY_PACKAGES, "config", "django_aws_api_gateway_websockets", "realtime_site"]
    probe = (
        "import importlib.util, json; "
        f"print(json.dumps({{name: importlib.util.find_spec(name) is not None for name in {names!r}}}))"
    )
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    importable = json.loads(found.stdout)
    assert importable == {
        "aiohttp": False,
        **dict.fromkeys(DEV_ONLY_PACKAGES, False),
        "config": True,
        "django_aws_api_gateway_websockets": True,
        "realtime_site": True,
    }
    # The templates and static files travel with the packages.
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert (site_packages / "realtime_site" / "templates" / "base.html").is_file()
    static = site_packages / "django_aws_api_gateway_websockets" / "static" / "django_aws_api_gateway_websockets"
    assert (static / "apigw-socket.js").is_file()

    # Production settings, run from the checkout (as the Linux service does): the
    # development commands do not exist there, even with their code on disk.
    production = project_env(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{tmp_path}/production.sqlite3",
        }
    )
    for command in ("dev", "localgateway"):
        refused = run([str(venv / "bin" / "python"), "manage.py", command, "--help"], project, production)
        assert refused.returncode != 0
        assert f"Unknown command: '{command}'" in refused.stderr


def test_the_container_image_leaves_dev_tooling_and_tests_out(bake):
    project = bake(deploy_target="container")
    ignored = (project / ".dockerignore").read_text().split()
    for name in DEV_ONLY_PACKAGES:
        assert name in ignored
