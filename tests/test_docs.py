"""The documentation site (mkdocs.yml, docs/): it builds with no warning, no internal
link in it is broken, and every command of the getting-started page works.

Getting started, how its commands are run
-----------------------------------------
Every fenced block whose info string is ``sh`` in ``docs/getting-started.md`` is
run, in page order, as a reader would type it: in one scratch folder that holds the
template as ``apigw-template`` (the name the page uses), with the template's tools
(cookiecutter, uv) on PATH, each block in ``bash -e`` and each block starting in the
folder where the previous one ended (so ``cd`` carries over, like one terminal).
Standard input answers every prompt with Enter (cookiecutter's defaults).

``make dev`` runs until Ctrl-C, so a line that is exactly ``make dev`` starts it in
the background on free ports (``DJANGO_PORT``, ``LOCAL_GATEWAY_PORT``); the test
waits for the site and the gateway's ``/@local/health``, runs the remaining blocks
(the page's "second terminal" commands) with ``127.0.0.1:8000``/``8001`` replaced by
those ports, then sends SIGINT to it, as Ctrl-C would, and checks that everything
stopped. Output that the page shows is fenced as ``text``, never ``sh``.
"""

import ast
import contextlib
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import TEMPLATE_DIR, VENV_BIN

DOCS_DIR = TEMPLATE_DIR / "docs"
MKDOCS_CONFIG = TEMPLATE_DIR / "mkdocs.yml"
GETTING_STARTED = DOCS_DIR / "getting-started.md"
TEMPLATE_FOLDER_NAME = "apigw-template"
INCLUDE = re.compile(r"^<!--\s*include:\s*(\S+)\s*-->", re.MULTILINE)
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def build_site(config, site_dir):
    """``mkdocs build --strict`` of ``config`` into ``site_dir``; the completed process."""
    return subprocess.run(
        [VENV_BIN / "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site_dir)],
        cwd=Path(config).parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    built = build_site(MKDOCS_CONFIG, site_dir)
    assert built.returncode == 0, built.stdout + built.stderr
    return site_dir, built


def test_the_site_builds_strictly_with_no_warning(site):
    site_dir, built = site
    assert "WARNING" not in built.stderr, built.stderr
    assert (site_dir / "index.html").is_file()
    assert (site_dir / "getting-started" / "index.html").is_file()


def test_included_documents_appear_in_full(site):
    """A page that includes a file from elsewhere in the repository shows all of it:
    the words of the file's last line are in the built page."""
    site_dir, _ = site
    includes = 0
    for page in DOCS_DIR.rglob("*.md"):
        for relative in INCLUDE.findall(page.read_text()):
            includes += 1
            last_line = [line for line in (TEMPLATE_DIR / relative).read_text().splitlines() if line.strip()][-1]
            words = re.findall(r"[A-Za-z]{3,}", last_line)[:8]
            built = page.relative_to(DOCS_DIR).with_suffix("")
            html_file = site_dir / (built.parent if built.name == "index" else built) / "index.html"
            text = html.unescape(re.sub(r"<[^>]+>", " ", html_file.read_text()))
            assert words and all(word in text for word in words), (page, relative, words)
    assert includes, "no page includes a file (the JavaScript client guide should be included)"


def copy_docs_project(destination):
    """The config, docs and every included file, in a scratch copy."""
    shutil.copy(MKDOCS_CONFIG, destination / "mkdocs.yml")
    shutil.copytree(DOCS_DIR, destination / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    for page in DOCS_DIR.rglob("*.md"):
        for relative in INCLUDE.findall(page.read_text()):
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(TEMPLATE_DIR / relative, destination / relative)
    # The paths mkdocs.yml watches must exist.
    (destination / "{{cookiecutter.project_slug}}" / "docs").mkdir(parents=True, exist_ok=True)
    (destination / "bench" / "results").mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize(
    ("bad_markdown", "complaint"),
    [
        ("[gone](no-such-page.md)", "no-such-page.md"),
        ("[gone](faq.md#no-such-anchor)", "no-such-anchor"),
        ("[gone](/faq/)", "/faq/"),
    ],
)
def test_a_broken_link_or_anchor_fails_the_build(tmp_path, bad_markdown, complaint):
    copy_docs_project(tmp_path)
    page = tmp_path / "docs" / "faq.md"
    page.write_text(page.read_text() + f"\n\nSee {bad_markdown}.\n")
    built = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert complaint in built.stderr


def test_a_page_missing_from_the_navigation_fails_the_build(tmp_path):
    copy_docs_project(tmp_path)
    (tmp_path / "docs" / "stray.md").write_text("# Stray\n")
    built = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "stray.md" in built.stderr


# -- the link checker over the built HTML -------------------------------------------------


class _LinksAndIds(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append(attributes[name])


def broken_internal_links(site_dir):
    """``(page, link, problem)`` for every href/src in the built site that points inside
    it and does not resolve to a file, or to an element id for a ``#fragment``."""
    site_dir = Path(site_dir).resolve()
    parsed = {}
    for page in site_dir.rglob("*.html"):
        parser = _LinksAndIds()
        parser.feed(page.read_text(encoding="utf-8"))
        parsed[page] = parser
    problems = []
    for page, parser in parsed.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # external (http, https, mailto, data, ...)
            path = unquote(parts.path)
            if not path:
                target = page
            elif path.startswith("/"):
                target = site_dir / path.lstrip("/")
            else:
                target = (page.parent / path).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site_dir) or not target.is_file():
                problems.append((str(page.relative_to(site_dir)), link, "no such file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in parsed[target].ids:
                problems.append((str(page.relative_to(site_dir)), link, "no such anchor"))
    return problems


def test_no_internal_link_of_the_built_site_is_broken(site):
    site_dir, _ = site
    assert broken_internal_links(site_dir) == []


def test_the_link_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2><a href="../b/">b</a>')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "index.html").write_text(
        '<a href="../a/#here">fine</a> <a href="../a/#gone">anchor</a> <a href="../c/">file</a> '
        '<img src="../img/none.png"> <a href="https://example.com/x">external</a> <a href="#">top</a>'
    )
    assert sorted(broken_internal_links(tmp_path)) == [
        ("b/index.html", "../a/#gone", "no such anchor"),
        ("b/index.html", "../c/", "no such file"),
        ("b/index.html", "../img/none.png", "no such file"),
    ]


# -- getting started, run as written ------------------------------------------------------


def command_blocks(markdown):
    """The ``sh`` blocks of a page, in order."""
    return [match["body"] for match in FENCE.finditer(markdown) if match["info"].strip() == "sh"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url, timeout=2):
    """The HTTP status of a GET of ``url`` (None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a 127.0.0.1 URL
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, b""


def wait_for(predicate, what, process, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make dev exited with {process.returncode} before {what}")
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout} s")


def test_the_page_marks_the_commands_it_runs():
    blocks = command_blocks(GETTING_STARTED.read_text())
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    assert any(line.startswith("cookiecutter ") and TEMPLATE_FOLDER_NAME in line for line in lines)
    assert "make dev" in lines


@pytest.mark.slow
def test_every_command_of_getting_started_works(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / TEMPLATE_FOLDER_NAME).symlink_to(TEMPLATE_DIR, target_is_directory=True)
    django_port = free_port()
    gateway_port = free_port()
    while gateway_port == django_port:
        gateway_port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AWS_", "DATABASE_URL", "VIRTUAL_ENV", "LOCAL_GATEWAY"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        DJANGO_PORT=str(django_port),
        LOCAL_GATEWAY_PORT=str(gateway_port),
    )
    site_url = f"http://127.0.0.1:{django_port}/"
    health = f"http://127.0.0.1:{gateway_port}/@local/health"
    ports = {"127.0.0.1:8000": f"127.0.0.1:{django_port}", "127.0.0.1:8001": f"127.0.0.1:{gateway_port}"}
    cwd = workdir
    dev = None
    dev_log = tmp_path / "make-dev.log"
    dev_output = dev_log.open("w")
    where = tmp_path / "cwd"
    try:
        for number, block in enumerate(command_blocks(GETTING_STARTED.read_text()), start=1):
            for old, new in ports.items():
                block = block.replace(old, new)
            lines = block.splitlines()
            if "make dev" in [line.strip() for line in lines]:
                position = [line.strip() for line in lines].index("make dev")
                assert not "\n".join(lines[position + 1 :]).strip(), "make dev must end its block"
                if lines[:position]:
                    cwd = run_block("\n".join(lines[:position]), cwd, env, where, number)
                dev = subprocess.Popen(  # noqa: S603
                    ["make", "dev"],
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=dev_output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                wait_for(lambda: answers(site_url)[0] == 200, "the site answers", dev)
                wait_for(lambda: answers(health)[0] == 200, "the gateway answers", dev)
                wait_for(lambda: "Press Ctrl-C" in dev_log.read_text(), "make dev is ready", dev)
                assert json.loads(answers(health)[1])["status"] == "ok"
            else:
                cwd = run_block(block, cwd, env, where, number)
    finally:
        dev_output.close()  # make dev writes through its own copy of the descriptor
        if dev is not None and dev.poll() is None:
            os.killpg(dev.pid, signal.SIGINT)  # Ctrl-C in the terminal that runs make dev
            try:
                dev.wait(60)
            except subprocess.TimeoutExpired:
                stop_for_good(dev, dev_log)
                pytest.fail("make dev did not stop on Ctrl-C:\n" + dev_log.read_text()[-5000:])
    assert dev is not None, "getting started never ran make dev"
    log = dev_log.read_text()
    assert "Local development is running" in log
    assert "Stopped." in log[-600:], log[-3000:]  # manage.py dev stopped its children
    assert answers(health)[0] is None
    assert answers(site_url)[0] is None


def stop_for_good(dev, dev_log):
    """SIGKILL ``make dev`` and the processes it started (each in a process group of its
    own, with the pids it printed), so that a failed test leaves nothing running."""
    os.killpg(dev.pid, signal.SIGKILL)
    dev.wait(10)
    for pid in re.findall(r"^Started .*, pid (\d+)\.$", dev_log.read_text(), re.MULTILINE):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)


def run_block(block, cwd, env, where, number):
    """Run one block in bash from ``cwd``; return the folder it ended in."""
    script = f"set -e\n{block}\npwd > {where}\n"
    completed = subprocess.run(  # noqa: S603
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        input="\n" * 100,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, (
        f"block {number} failed ({completed.returncode}):\n{block}\n--- stdout\n{completed.stdout[-5000:]}"
        f"\n--- stderr\n{completed.stderr[-5000:]}"
    )
    return Path(where.read_text().strip())


def test_make_docs_builds_the_site_strictly():
    makefile = (TEMPLATE_DIR / "Makefile").read_text()
    recipe = re.search(r"^docs:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the template's Makefile has no docs target"
    assert "mkdocs build --strict" in recipe.group(1)


# A stand-in such as <template repository URL> or <you>/<this-repository>: the reader
# cannot type it, and does not know what to put there.
ADDRESS_PLACEHOLDER = re.compile(r"<(?!!--)[^<>\n]*(?:repositor|url\b|<you>)[^<>\n]*>", re.IGNORECASE)


def test_no_page_asks_for_a_placeholder_address():
    pages = [TEMPLATE_DIR / "README.md", *DOCS_DIR.rglob("*.md"), PROJECT_TEMPLATE / "README.md"]
    found = [
        (str(page.relative_to(TEMPLATE_DIR)), hit)
        for page in pages
        for hit in ADDRESS_PLACEHOLDER.findall(page.read_text())
    ]
    assert found == []
    assert ADDRESS_PLACEHOLDER.findall("cookiecutter https://github.com/<you>/<this-repository>")
    assert ADDRESS_PLACEHOLDER.findall("git clone <template repository URL> apigw-template")


def test_the_readme_bakes_from_a_local_path_first(tmp_path):
    """The README's first cookiecutter command names a local path, and it works as written
    from the template's folder (answers given with --no-input)."""
    readme = (TEMPLATE_DIR / "README.md").read_text()
    commands = [
        line.split("#")[0].split()
        for block in command_blocks(readme)
        for line in block.splitlines()
        if line.startswith("cookiecutter ")
    ]
    assert commands, "the README shows no cookiecutter command"
    first = commands[0]
    assert first == ["cookiecutter", "."]
    baked = subprocess.run(
        [VENV_BIN / "cookiecutter", "--no-input", "--output-dir", str(tmp_path), *first[1:]],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert baked.returncode == 0, baked.stderr
    assert (tmp_path / "realtime_site" / "manage.py").is_file()


def test_the_readme_links_the_docs_and_says_how_to_build_them():
    readme = (TEMPLATE_DIR / "README.md").read_text()
    assert "docs/index.md" in readme
    assert "make docs" in readme


# -- the reference stays complete ---------------------------------------------------------

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
WEBSOCKET_APP = PROJECT_TEMPLATE / "django_aws_api_gateway_websockets"


def page_text(relative):
    return (DOCS_DIR / relative).read_text()


def test_every_cookiecutter_answer_is_documented():
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    answers = [name for name in context if not name.startswith("_")]
    headings = re.findall(r"^## (.+)$", page_text("answers.md"), re.MULTILINE)
    undocumented = [name for name in answers if not any(name in heading for heading in headings)]
    assert undocumented == []


def test_every_websockets_setting_and_view_attribute_is_documented():
    conf = ast.parse((WEBSOCKET_APP / "conf.py").read_text())
    defaults = next(
        node.value for node in conf.body if isinstance(node, ast.Assign) and node.targets[0].id == "DEFAULTS"
    )
    settings_names = [key.value for key in defaults.keys]
    views = ast.parse((WEBSOCKET_APP / "views.py").read_text())
    view_class = next(node for node in views.body if isinstance(node, ast.ClassDef) and node.name == "WebSocketView")
    attributes = [
        target.id
        for node in view_class.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]
    page = page_text("websocket-app/views-and-settings.md")
    assert len(settings_names) > 10 and len(attributes) > 10
    assert [name for name in settings_names if f"| `{name}` |" not in page] == []
    assert [name for name in attributes if f"`{name}`" not in page and f"`self.{name}`" not in page] == []


def test_every_management_command_is_documented():
    commands = sorted(
        path.stem
        for path in PROJECT_TEMPLATE.rglob("management/commands/*.py")
        if not path.name.startswith("_") and "__pycache__" not in path.parts
    )
    page = page_text("websocket-app/commands.md")
    assert len(commands) > 5
    assert [name for name in commands if not re.search(rf"^### {name}\b", page, re.MULTILINE)] == []


# `suites/messaging/test_sending.py` or `tests/e2e/test_chat.py::test_name[param]`, in backticks.
TEST_REFERENCE = re.compile(r"`((?:suites|tests)/[\w/]+\.py)(?:::(\w+)(?:\[[^\]`]*\])?)?`")


def missing_test_references(text):
    """The test files and test functions that ``text`` names and that do not exist.
    ``suites/`` is the template's; ``tests/`` is the template's own or the generated
    project's (a page says which), so either will do."""
    missing = []
    for match in TEST_REFERENCE.finditer(text):
        path, name = match.groups()
        roots = [TEMPLATE_DIR] if path.startswith("suites/") else [TEMPLATE_DIR, PROJECT_TEMPLATE]
        files = [root / path for root in roots if (root / path).is_file()]
        if not files:
            missing.append(path)
        elif name and not any(re.search(rf"^\s*(?:async )?def {name}\(", f.read_text(), re.MULTILINE) for f in files):
            missing.append(f"{path}::{name}")
    return missing


def test_every_test_a_page_names_exists():
    # Tests move and get renamed; a page that proves a point by naming a test must name
    # one that still runs.
    pages = [*sorted(DOCS_DIR.rglob("*.md")), TEMPLATE_DIR / "README.md", PROJECT_TEMPLATE / "README.md"]
    named = {page.relative_to(TEMPLATE_DIR).as_posix(): missing_test_references(page.read_text()) for page in pages}
    assert sum(len(TEST_REFERENCE.findall(page.read_text())) for page in pages) > 20
    assert {page: missing for page, missing in named.items() if missing} == {}


def test_the_test_reference_check_finds_missing_files_and_functions():
    text = (
        "`suites/websockets/test_connect.py::test_a_token_works_once`, "
        "`tests/e2e/test_chat.py` (the generated project's), "
        "`tests/test_docs.py::test_every_test_a_page_names_exists` (the template's), "
        "`suites/websockets/test_connect.py::test_that_was_renamed[chromium]`, `tests/websockets/test_concurrency.py`"
    )
    assert missing_test_references(text) == [
        "suites/websockets/test_connect.py::test_that_was_renamed",
        "tests/websockets/test_concurrency.py",
    ]
