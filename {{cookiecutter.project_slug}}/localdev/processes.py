"""Start, watch and stop the two children of ``manage.py dev``."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request


class ChildFailed(Exception):
    """A child process exited or never became ready."""


class Child:
    """One child process in its own process group (so it can be stopped with its own children)."""

    def __init__(self, name, arguments, env=None, stdout=None):
        """``stdout``: where the child's standard output goes (None: this terminal;
        ``subprocess.DEVNULL`` to hide it). Its standard error always reaches the terminal."""
        self.name = name
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, *arguments],
            env=env,
            stdout=stdout,
            start_new_session=True,
        )

    @property
    def title(self):
        """The name at the start of a sentence."""
        return self.name[:1].upper() + self.name[1:]

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.poll() is None

    def wait_until_answering(self, url, timeout=60):
        """Poll ``url`` until it answers over HTTP at all (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ChildFailed(f"{self.title} exited with status {self.process.returncode} while starting")
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a 127.0.0.1 URL we built
                    return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise ChildFailed(f"{self.title} did not answer on {url} within {timeout} s")

    def stop(self, timeout=15):
        """SIGTERM to the child's process group, then SIGKILL if it lingers.

        SIGTERM, not SIGINT: the local gateway handles both alike (it closes its
        sockets, each getting its $disconnect), and the others then end without a
        KeyboardInterrupt traceback, even one still starting up."""
        if not self.running():
            return self.process.returncode
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout)
        except ProcessLookupError:
            return self.process.wait(timeout)
