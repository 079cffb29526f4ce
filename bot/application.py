"""Build the python-telegram-bot Application and wire it to the conversation flow."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, overload

from sqlalchemy.engine import Engine
from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot.attachments import fetch_attachments
from bot.ordering import ChatOrderedProcessor, WriteGate
from bot.telegram_io import deliver, to_inbound
from conversations.engine import FlowConfig, Outcome
from conversations.flow import handle
from conversations.i18n import t
from core.chat.state import claim_message
from core.people.models import Channel
from core.policies import Policies, build
from core.shared.config import Settings
from core.shared.db import make_engine, session_scope

log = logging.getLogger(__name__)
ENGINE_KEY = "engine"
FLOW_KEY = "flow_config"
ATTACHMENTS_KEY = "attachments"
GATE_KEY = "write_gate"
POLICIES_KEY = "policies"
ANSWERED_KEY = "answered"
BotApplication = Application[Any, Any, Any, Any, Any, Any]


@overload
def build_application(
    policies: Policies,
    /,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication: ...
@overload
def build_application(
    settings: Settings,
    engine: Engine | None = None,
    /,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication: ...
def build_application(
    first: Policies | Settings,
    engine: Engine | None = None,
    /,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> BotApplication:
    """The bot, from the policies the composition root built (`build_application(policies)`);
    `build_application(settings[, engine])` builds them here (tests, benchmarks). `request`
    replaces the HTTP transport (tests); otherwise HTTPX is used."""
    policies = _policies(first, engine)
    settings, engine = policies.settings, policies.engine
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = ApplicationBuilder().token(settings.telegram_bot_token)
    if settings.telegram_api_base_url:
        root = settings.telegram_api_base_url
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    if request is not None:
        builder = builder.request(request)
        builder = builder.get_updates_request(get_updates_request or request)
    builder = builder.concurrent_updates(ChatOrderedProcessor(settings.bot_concurrent_updates))
    app = builder.build()
    app.bot_data[POLICIES_KEY] = policies
    app.bot_data[ENGINE_KEY] = engine
    app.bot_data[GATE_KEY] = WriteGate(serialise=engine.dialect.name == "sqlite")
    app.bot_data[FLOW_KEY] = FlowConfig(
        tz=settings.tz,
        area_name=settings.area_name,
        case_policy=policies.cases,
        pseudonym_key=settings.pseudonym_key,
        outbox_retention_days=settings.outbox_retention_days,
        clock=policies.clock,
    )
    app.bot_data[ATTACHMENTS_KEY] = (Path(settings.attachments_dir), settings.attachment_max_bytes)
    app.bot_data[ANSWERED_KEY] = Answered()
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app


def _policies(first: Policies | Settings, engine: Engine | None) -> Policies:
    if isinstance(first, Policies):
        if engine is not None:
            raise TypeError(
                "build_application(policies) takes no engine: the policies carry theirs"
            )
        return first
    return build(first, engine or make_engine(first.database_url))


async def set_bot_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu in both languages (call after `initialize`)."""
    for lang in ("id", "en"):
        commands = [
            BotCommand("start", t(lang, "menu.title")[:256]),
            BotCommand("cancel", t(lang, "cancel.done")[:256]),
            BotCommand("language", t(lang, "menu.language")[:256]),
            BotCommand("help", t(lang, "help.text").splitlines()[0][:256]),
        ]
        try:
            await app.bot.set_my_commands(commands, language_code=None if lang == "id" else lang)
        except Exception:  # a missing command menu must not stop the bot
            log.warning("setMyCommands failed", exc_info=True)


def _handle_in_db(engine: Engine, gate: WriteGate, cfg: FlowConfig, inbound: Any) -> Outcome:
    with gate, session_scope(engine, write=True) as session:
        return handle(session, cfg, inbound)  # its claim deletes the stored copy


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    inbound = to_inbound(update, context.bot.username if context.bot else None)
    engine: Engine = context.bot_data[ENGINE_KEY]
    if inbound is None:  # not for us (a group, a channel): remember it was seen
        await asyncio.to_thread(_mark_seen, engine, context.bot_data[GATE_KEY], update.update_id)
        return
    cfg: FlowConfig = context.bot_data[FLOW_KEY]
    gate: WriteGate = context.bot_data[GATE_KEY]
    outcome = await asyncio.to_thread(_handle_in_db, engine, gate, cfg, inbound)
    answered: Answered = context.bot_data[ANSWERED_KEY]
    if outcome.duplicate or (outcome.again and answered.knows(update.update_id)):
        return
    await deliver(update, outcome)
    answered.add(update.update_id)
    if outcome.attachments:
        root, max_bytes = context.bot_data[ATTACHMENTS_KEY]
        await fetch_attachments(context.bot, engine, root, max_bytes, outcome.attachments)


class Answered:
    """Updates this process has answered (the newest few thousand). Telegram delivering one
    again to the same process means its answer went out; after a restart the set is empty,
    so a redelivered update whose answer died with the old process is answered again."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, update_id: int) -> None:
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def knows(self, update_id: int) -> bool:
        return update_id in self._ids


def _mark_seen(engine: Engine, gate: WriteGate, update_id: int) -> None:
    with gate, session_scope(engine, write=True) as session:
        claim_message(session, Channel.telegram, str(update_id))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            text = f"{t('id', 'error.generic')}\n\n{t('en', 'error.generic')}"
            await update.effective_chat.send_message(text)
        except Exception:
            log.warning("could not tell the user about the error", exc_info=True)
