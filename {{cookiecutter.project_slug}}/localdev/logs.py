"""runserver's request log, without the secrets that travel in query strings.

The local gateway calls ``/ws/connect?channel=...&ws_token=...`` (the single-use token
is mapped into the query string, as on AWS). runserver logs every request line, so
this filter drops the query string of those callbacks before the line is written.
"""

import logging
import re

REQUEST_LINE = re.compile(r"^(?P<method>\S+) (?P<path>[^?\s]*)\?\S* (?P<version>HTTP/\S+)$")


class HideCallbackQueryStrings(logging.Filter):
    def filter(self, record):
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            found = REQUEST_LINE.match(record.args[0])
            if found and (found["path"].startswith("/ws/") or "ws_token=" in record.args[0]):
                line = f"{found['method']} {found['path']} {found['version']}"
                record.args = (line, *record.args[1:])
        return True
