"""MkDocs hook: include a file from elsewhere in the repository into a page.

A line of its own ``<!-- include: path/from/the/repository/root -->`` is replaced
by that file's text before the page is rendered. The site uses it for documents
that live next to what they describe (the JavaScript client guide that baked
projects carry, the recorded benchmark figures), so they are written once.

A missing file, or a path that leaves the repository, stops the build.
"""

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

INCLUDE = re.compile(r"^<!--\s*include:\s*(?P<path>\S+)\s*-->[ \t]*$", re.MULTILINE)


def on_page_markdown(markdown, page, config, files):
    root = Path(config.config_file_path).resolve().parent

    def included_text(match):
        relative = match.group("path")
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise PluginError(f"{page.file.src_path}: include '{relative}' is outside the repository")
        if not path.is_file():
            raise PluginError(f"{page.file.src_path}: included file '{relative}' does not exist")
        return path.read_text(encoding="utf-8").rstrip("\n")

    return INCLUDE.sub(included_text, markdown)
