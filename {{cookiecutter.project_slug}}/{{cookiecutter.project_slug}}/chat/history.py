"""Pages of a room's history, by message id (ids only grow, so pages never shift)."""

HISTORY_PAGE_SIZE = 50


def page_of_messages(room, *, before=None, after=None, limit=HISTORY_PAGE_SIZE):
    """Up to ``limit`` messages of ``room``, oldest first, and whether there are more.

    - neither: the newest messages (a page being opened);
    - ``before=<id>``: the ones just older than that message (paging back), ``has_more``
      telling whether even older ones exist;
    - ``after=<id>``: the ones newer than that message (catching up after a
      reconnect), ``has_more`` telling whether more new ones are waiting.
    """
    messages = room.messages.select_related("author", "room")
    if after is not None:
        rows = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
        return rows[:limit], len(rows) > limit
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(messages.order_by("-id")[: limit + 1])
    return list(reversed(rows[:limit])), len(rows) > limit
