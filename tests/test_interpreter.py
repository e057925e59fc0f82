"""A bake's ``make install`` finds an interpreter new enough for its Django version by
itself: ``PYTHON`` when given; else ``python3.13``, ``python3.12`` (and, for Django 5.2,
``python3.11``, ``python3``) on PATH, then the same names in pyenv's versions,
``/usr/local/bin`` and ``/usr/bin``, each one only if it really runs (a pyenv shim of a
version that is not active exits 127). With none, one line says what the project needs."""

import os
import subprocess

import pytest

from .conftest import MAKE, MINIMUM_PYTHON, bake_interpreter, bake_project, run

# What a pyenv shim prints when its version is installed but not the active one.
SHIM = '#!/bin/sh\necho "pyenv: $(basename "$0"): command not found" >&2\nexit 127\n'
# An interpreter whose version check fails, as an old Python's would.
TOO_OLD = "#!/bin/sh\nexit 1\n"


@pytest.fixture(scope="module")
def bakes(tmp_path_factory):
    """One bake per Django version (not installed)."""
    return {
        version: bake_project(tmp_path_factory.mktemp(f"django{version}"), django_version=version)
        for version in MINIMUM_PYTHON
    }


def version_of(interpreter):
    completed = subprocess.run(
        [interpreter, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, check=True
    )
    return tuple(int(part) for part in completed.stdout.split())


def script(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def link(folder, name, target):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).symlink_to(target)
    return folder / name


def isolated_env(path, home, **extra):
    """Only ``path`` on PATH (make itself is called by its full path), a HOME of our own
    and no PYENV_ROOT."""
    ignored = {"PYTHON", "PYENV_ROOT", "MAKEFLAGS", "MAKELEVEL"}
    env = {key: value for key, value in os.environ.items() if key not in ignored}
    env.update(PATH=str(path), HOME=str(home), **extra)
    return env


@pytest.mark.parametrize("version", MINIMUM_PYTHON)
def test_each_version_finds_an_interpreter_new_enough_on_this_machine(bakes, version):
    interpreter = bake_interpreter(bakes[version])
    assert interpreter, f"no Python {MINIMUM_PYTHON[version]}+ on this machine for Django {version}"
    assert version_of(interpreter) >= MINIMUM_PYTHON[version]


@pytest.mark.parametrize("pyenv_root", ["~/.pyenv", "$PYENV_ROOT"])
def test_shims_that_do_not_run_are_skipped_for_pyenvs_own_interpreter(bakes, tmp_path, pyenv_root):
    real = bake_interpreter(bakes["6.1"])
    shims = tmp_path / "shims"
    for name in ("python3.13", "python3.12"):
        script(shims, name, SHIM)
    root = tmp_path / "home/.pyenv" if pyenv_root == "~/.pyenv" else tmp_path / "pyenv"
    # An older version first, as pyenv lists them: too old for Django 6.1, so passed over.
    link(root / "versions/3.11.7/bin", "python3.12", script(tmp_path / "old", "python", TOO_OLD))
    pyenv_python = link(root / "versions/3.12.1/bin", "python3.12", real)
    env = isolated_env(shims, tmp_path / "home")
    if pyenv_root == "$PYENV_ROOT":
        env["PYENV_ROOT"] = str(root)
    assert bake_interpreter(bakes["6.1"], env) == str(pyenv_python)


def test_django_5_2_also_takes_python3_from_path(bakes, tmp_path):
    real = bake_interpreter(bakes["5.2"])
    shims = tmp_path / "shims"
    for name in ("python3.13", "python3.12", "python3.11"):
        script(shims, name, SHIM)
    python3 = link(shims, "python3", real)
    env = isolated_env(shims, tmp_path / "home")
    assert bake_interpreter(bakes["5.2"], env) == str(python3)


def test_python_given_is_used_before_anything_on_path(bakes, tmp_path):
    real = bake_interpreter(bakes["6.1"])
    chosen = link(tmp_path / "elsewhere", "my-python", real)
    assert bake_interpreter(bakes["6.1"], {**os.environ, "PYTHON": str(chosen)}) == str(chosen)


def one_line_refusal(project, env):
    completed = run([MAKE, "install"], project, env)
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert not (project / ".venv").exists()
    return lines[0]


def test_a_python_too_old_for_the_django_version_is_refused_in_one_line(bakes, tmp_path):
    old = script(tmp_path / "bin", "python3.11", TOO_OLD)
    line = one_line_refusal(bakes["6.1"], {**os.environ, "PYTHON": str(old)})
    assert f"PYTHON={old} does not run as Python 3.12 or newer, which Django 6.1 needs" in line
    assert "make install PYTHON=/path/to/python3.12" in line


def test_with_no_interpreter_new_enough_install_stops_with_one_line(bakes, tmp_path):
    fixed_places = [f"{folder}/python3.{minor}" for folder in ("/usr/local/bin", "/usr/bin") for minor in (12, 13)]
    if any(os.access(path, os.X_OK) and version_of(path) >= (3, 12) for path in fixed_places):
        pytest.skip("this machine has a Python 3.12+ in /usr/local/bin or /usr/bin, which is always searched")
    shims = tmp_path / "shims"
    for name in ("python3.13", "python3.12"):
        script(shims, name, SHIM)
    line = one_line_refusal(bakes["6.1"], isolated_env(shims, tmp_path / "home"))
    assert "This project needs Python 3.12 or newer (Django 6.1) and found none" in line
    assert f"{tmp_path}/home/.pyenv/versions/*/bin" in line
    assert "make install PYTHON=/path/to/python3.12" in line
