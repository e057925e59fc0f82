"""Channel names at and past the limits, on a view with loose channel rules.

``WideChannelView`` asks for channel names of up to 10,000 characters matching
``^\\S+$`` (almost anything). The column holds 191 characters, so the view must still
refuse longer names with a 400 instead of failing in the database, and any name it
accepts must come back from the database exactly as sent (unicode included). The
site's own rules (1 to 191 of ``[A-Za-z0-9_-]``) are fuzzed with the rest of the
handshake in ``test_fuzz_connect.py``.
"""

import re
import unicodedata

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets import channel_access
from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import WebSocketTestClient
from tests.database_state import changes, database_state

from . import hostile
from .conftest import fuzz_settings
from .views import WideChannelView

AREA = "Hostile input"

pytestmark = pytest.mark.urls("tests.reliability.urls")

COLUMN_LENGTH = WebSocketSession._meta.get_field("channel_name").max_length

wide_names = st.one_of(
    hostile.channel_names,
    st.integers(min_value=COLUMN_LENGTH - 3, max_value=COLUMN_LENGTH + 3).flatmap(
        lambda n: st.text(alphabet=st.characters(exclude_categories=["Zs", "Cc", "Cs"]), min_size=n, max_size=n)
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
    st.sampled_from(["a\x00b", "\x00", "tab\there", "zero\u200bwidth", "\ufeffbom", "e\u0301", "🙂" * 191, "🙂" * 192]),
)


def accepted(name):
    """Within the column, free of control characters, and matching the view's pattern."""
    return (
        0 < len(name) <= COLUMN_LENGTH
        and not any(unicodedata.category(character) == "Cc" for character in name)
        and re.fullmatch(WideChannelView.CHANNEL_NAME_PATTERN, name) is not None
    )


@fuzz_settings(max_examples=300)
@given(name=wide_names)
def test_channel_names_past_the_column_are_refused_not_crashed(api_gateway, cases, name):
    """Channel names of any length and characters, loose rules: stored exactly, or a 400; never a database error."""
    ws = WebSocketTestClient(api_gateway, base_path="/wide/")
    with cases.isolated():
        before = database_state()
        response = ws.connect(query={"channel": name})
        event(f"answered {response.status_code}")
        assert response.status_code < 500
        if not name:
            # An empty channel means "the API's default channel".
            assert response.status_code == 200
            assert WebSocketSession.objects.get().channel_name == api_gateway.default_channel_name
        elif accepted(name) and channel_access.policies_for(name):
            # A channel an app decides on (a chat room, the dashboard...): its policy answers.
            assert response.status_code in (200, 403), (name, response.content)
        elif accepted(name):
            assert response.status_code == 200, response.content
            assert WebSocketSession.objects.get().channel_name == name
        else:
            assert response.status_code == 400, (name, response.content)
        if response.status_code != 200:
            assert changes(before, database_state()) == {}
