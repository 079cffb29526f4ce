"""The test kit waits on state: a wait ends when what it waits for arrives, however busy the
bot is elsewhere, and a wait that fails says how far things got. Property tests run under a
bounded profile without deadlines."""

from __future__ import annotations

import os
import threading

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from tests.bot_api_server import TOKEN, BotApiServer
from tests.waiting import eventually


def test_property_tests_are_bounded_and_have_no_deadline() -> None:
    ci = hypothesis_settings.get_profile("ci")
    assert ci.deadline is None and ci.max_examples <= 100
    loaded = hypothesis_settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    current = hypothesis_settings()  # what a test without its own settings runs with
    assert current.max_examples == loaded.max_examples and current.deadline is None


def test_a_wait_gives_the_first_true_value_and_a_failed_one_says_how_far_it_got() -> None:
    values = iter([0, 0, 7])
    assert eventually(lambda: next(values)) == 7
    rows = 3
    with pytest.raises(AssertionError, match="waiting for 10 rows; 3 so far"):
        eventually(lambda: rows >= 10, lambda: f"10 rows; {rows} so far", timeout=0.05)


def test_a_screen_is_awaited_while_the_bot_keeps_talking_to_other_chats(
    bot_api: BotApiServer,
) -> None:
    """The bot never goes quiet here (it keeps writing to chat 1): waiting for a quiet
    moment would never end, waiting for chat 2's screen ends when it comes."""
    done = threading.Event()
    mark = bot_api.mark()

    def send(chat_id: int, text: str) -> None:
        httpx.post(f"{bot_api.url}/bot{TOKEN}/sendMessage", json={"chat_id": chat_id, "text": text})

    def chatter() -> None:
        while not done.is_set():
            send(1, "busy")

    def answer_chat_2() -> None:
        bot_api.wait_until(lambda: len(bot_api.screens_since(mark, 1)) >= 20, "20 busy calls")
        send(2, "Pilih bahasa / Choose your language")

    threads = [threading.Thread(target=chatter), threading.Thread(target=answer_chat_2)]
    for t in threads:
        t.start()
    try:
        [screen] = bot_api.wait_until(lambda: bot_api.screens_since(mark, 2), "chat 2's screen")
        assert screen["text"] == "Pilih bahasa / Choose your language"
        assert len(bot_api.screens_since(mark, 1)) >= 20  # busy all along
    finally:
        done.set()
        for t in threads:
            t.join()
