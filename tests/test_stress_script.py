"""The stress loop for flaky tests (tests/stress_generated_suite.sh) is only run by hand,
for minutes at a time; here it is linted and its option checks are exercised."""

import os

from .conftest import TEMPLATE_DIR, VENV_BIN, run

SCRIPT = TEMPLATE_DIR / "tests" / "stress_generated_suite.sh"


def test_the_stress_script_is_executable_and_passes_shellcheck():
    assert os.access(SCRIPT, os.X_OK)
    completed = run([VENV_BIN / "shellcheck", "--shell=bash", "--severity=style", SCRIPT], cwd=TEMPLATE_DIR)
    assert completed.returncode == 0, completed.stdout


def test_the_stress_script_explains_itself_and_refuses_a_bad_run_count(tmp_path):
    helped = run([SCRIPT, "--help"], cwd=tmp_path)
    assert helped.returncode == 0
    assert "--with-load" in helped.stdout
    refused = run([SCRIPT, "--runs", "0"], cwd=tmp_path)
    assert refused.returncode == 2
    assert "--runs needs a positive number" in refused.stderr
