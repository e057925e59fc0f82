"""The documentation shows the real demo: the banner of ``make dev`` and the screenshots
come from a fresh bake running ``make dev``, so they cannot drift from it.

The test bakes the default project, installs it, runs ``make dev`` on free ports,
reads its banner, then runs ``tests/docs_demo/screenshots.py`` with the bake's Python:
headless Chromium logs in with the logins the banner printed and visits each example.
Then:

- the banner block of ``docs/getting-started.md`` (between the ``make-dev-banner``
  markers) must be the banner ``make dev`` printed, ports shown as 8000 and 8001;
- each screenshot's fingerprint (the page's visible text with times and figures
  masked, and a hash of each stylesheet) must be the one recorded in
  ``tests/docs_demo/fingerprints.json`` when the image in ``docs/img/`` was taken,
  and that image must be the one recorded there (its hash), so an image is never
  older than the page it shows;
- no page had a JavaScript error, a console error or a failed request.

After changing the banner or a page, take everything again with::

    UPDATE_DOCS_DEMO=1 .venv/bin/python -m pytest tests/test_docs_demo.py
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from .conftest import TEMPLATE_DIR, VENV_BIN, bake_project, project_env, run

DOCS = TEMPLATE_DIR / "docs"
PAGE = DOCS / "getting-started.md"
IMAGES = DOCS / "img"
RECORD = TEMPLATE_DIR / "tests" / "docs_demo" / "fingerprints.json"
SCRIPT = TEMPLATE_DIR / "tests" / "docs_demo" / "screenshots.py"
START, END = "<!-- make-dev-banner:start -->", "<!-- make-dev-banner:end -->"
BLOCK = re.compile(re.escape(START) + r"\n```text\n(.*?)```\n" + re.escape(END), re.DOTALL)
BANNER_HEADING = "Local development is running."
LOGIN = re.compile(r"^  (\S+) / (\S+)\s+\((.*)\)$")
STARTUP_SECONDS = 300
UPDATE_HINT = "take them again with UPDATE_DOCS_DEMO=1 .venv/bin/python -m pytest tests/test_docs_demo.py"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def banner_of(output):
    """The banner: from its heading to the last login line (what stays on screen)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(BANNER_HEADING))
    end = start + 1
    while end < len(lines) and lines[end] != "Log in as:":
        end += 1
    end += 1
    while end < len(lines) and LOGIN.match(lines[end]):
        end += 1
    return lines[start:end]


def wait_for_banner(dev, log, timeout=STARTUP_SECONDS):
    """Wait until ``make dev`` printed its whole banner (its last line is a login);
    the banner is written in one piece."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if BANNER_HEADING in text and "Log in as:" in text:
            banner = banner_of(text)
            if LOGIN.match(banner[-1]):
                return banner
        if dev.poll() is not None:
            pytest.fail(f"make dev exited with {dev.returncode}:\n{text[-5000:]}")
        time.sleep(0.5)
    pytest.fail(f"no banner from make dev within {timeout} s:\n{log.read_text()[-5000:]}")


def stop(dev, log):
    """Ctrl-C to make dev's process group (by its PID), as in a terminal; SIGKILL to it
    and to what it started if it does not stop."""
    if dev.poll() is None:
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait(10)
    for pid in re.findall(r"^Started .*, pid (\d+)\.$", log.read_text(), re.MULTILINE):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A fresh default bake running ``make dev`` on free ports, toured by the screenshot
    script; returns (banner with ports 8000/8001, screenshot folder, make dev's log)."""
    work = tmp_path_factory.mktemp("docs-demo")
    project = bake_project(work / "bake")
    django_port, gateway_port = free_port(), free_port()
    while gateway_port == django_port:
        gateway_port = free_port()
    env = project_env(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "DJANGO_PORT": str(django_port),
            "LOCAL_GATEWAY_PORT": str(gateway_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env = {key: value for key, value in env.items() if not key.startswith(("LOCAL_GATEWAY_STATE", "VIRTUAL_ENV"))}
    installed = run(["make", "install"], project, env)
    assert installed.returncode == 0, installed.stderr[-5000:]

    log = work / "make-dev.log"
    with log.open("w") as output:
        dev = subprocess.Popen(
            ["make", "dev"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        banner = wait_for_banner(dev, log)
        logins = [LOGIN.match(line) for line in banner if LOGIN.match(line)]
        demo_user = next(login for login in logins if "staff" not in login[3])
        staff_user = next(login for login in logins if "staff" in login[3])
        shots = work / "shots"
        toured = run(
            [
                str(project / ".venv" / "bin" / "python"),
                str(SCRIPT),
                "--site",
                f"http://127.0.0.1:{django_port}",
                "--project",
                str(project),
                "--out",
                str(shots),
                "--login",
                f"{demo_user[1]}:{demo_user[2]}",
                "--login",
                f"{staff_user[1]}:{staff_user[2]}",
            ],
            project,
            env,
            timeout=600,
        )
        assert toured.returncode == 0, toured.stderr[-5000:]
    finally:
        stop(dev, log)
    ports = {f"127.0.0.1:{django_port}": "127.0.0.1:8000", f"127.0.0.1:{gateway_port}": "127.0.0.1:8001"}
    for old, new in ports.items():
        banner = [line.replace(old, new) for line in banner]
    return banner, shots, log.read_text()


def docs_images():
    """Every image the documentation shows from docs/img/."""
    return sorted(
        {
            name
            for page in DOCS.rglob("*.md")
            for name in re.findall(r"\]\((?:\.\./)*img/([\w-]+)\.png\)", page.read_text())
        }
    )


def update_docs(banner, shots):
    page = PAGE.read_text()
    found = BLOCK.search(page)
    PAGE.write_text(page[: found.start(1)] + "\n".join(banner) + "\n" + page[found.end(1) :])
    fingerprints = json.loads((shots / "fingerprints.json").read_text())
    for name, fingerprint in fingerprints.items():
        shutil.copyfile(shots / f"{name}.png", IMAGES / f"{name}.png")
        fingerprint["image_sha256"] = sha256(IMAGES / f"{name}.png")
    RECORD.write_text(json.dumps(fingerprints, indent=2, sort_keys=True) + "\n")


@pytest.mark.slow
def test_the_docs_show_the_real_banner_and_screenshots_of_the_demo(demo):
    banner, shots, log = demo
    problems = json.loads((shots / "problems.json").read_text())
    assert problems == [], "the demo's pages had errors"
    assert "Stopped." in log[-600:], log[-3000:]
    page = PAGE.read_text()
    assert BLOCK.search(page), f"{PAGE.name} has no {START} ... {END} block with a text fence"
    if os.environ.get("UPDATE_DOCS_DEMO"):
        update_docs(banner, shots)

    # The banner, as make dev prints it.
    assert BLOCK.search(PAGE.read_text()).group(1).splitlines() == banner, (
        f"the banner in {PAGE.name} is not what make dev prints; {UPDATE_HINT}"
    )
    # Each image the docs show was taken from the demo, and the demo still looks so.
    taken = json.loads((shots / "fingerprints.json").read_text())
    recorded = json.loads(RECORD.read_text())
    assert docs_images() == sorted(taken), f"the docs show images the demo tour does not take: {docs_images()}"
    for name, fingerprint in taken.items():
        assert sha256(IMAGES / f"{name}.png") == recorded[name]["image_sha256"], (
            f"docs/img/{name}.png is not the screenshot recorded for it; {UPDATE_HINT}"
        )
        expected = {key: value for key, value in recorded[name].items() if key != "image_sha256"}
        assert fingerprint == expected, (
            f"the demo's {name} page changed since docs/img/{name}.png was taken; {UPDATE_HINT}"
        )


def test_a_banner_block_is_found_and_read_whole():
    """The banner reader stops after the last login, whatever follows."""
    output = "\n".join(
        [
            "Started x, pid 1.",
            "",
            "Local development is running. Press Ctrl-C to stop everything.",
            "  Site:       http://127.0.0.1:8000/",
            "Log in as:",
            "  demo / demo-password    (a demo user)",
            "  admin / admin-password  (staff: the admin site)",
            "Stopping x, pid 1...",
        ]
    )
    assert banner_of(output)[0].startswith(BANNER_HEADING)
    assert banner_of(output)[-1] == "  admin / admin-password  (staff: the admin site)"
    assert len(banner_of(output)) == 5
