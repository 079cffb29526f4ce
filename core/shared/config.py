"""Settings from the environment and `.env`, validated once at start."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "changethis"})


# Tests set this for cheap password hashes (core.people.passwords); production refuses it.
CHEAP_ARGON2_ENV = "ASN_FEEDBACK_CHEAP_ARGON2"


def cheap_requested(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(CHEAP_ARGON2_ENV, "").strip().lower() not in ("", "0", "false", "no")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the key."""


ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
              "Asia/Jayapura": "WIT"}  # fmt: skip


# The pseudonym key of development and tests when none is set: public, refused in production
# (and by migration 0014 on answers it would key for good).
DEVELOPMENT_PSEUDONYM_KEY = "asn-feedback development pseudonym key, public, not for production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///data/asn-feedback.db"
    timezone: str = "Asia/Makassar"

    log_format: Literal["text", "json"] = "text"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: str = ""
    jwt_expire_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    # /docs, /redoc and /openapi.json (false: 404, e.g. in production).
    api_docs_enabled: bool = True
    # Admin API logins: argon2 password checks (64 MiB each) run at once per API process;
    # further logins wait their turn.
    password_checks_at_once: int = Field(default=2, ge=1, le=64)
    # Reverse proxies (comma-separated IPs or CIDR ranges) whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    # Alert the admins when one username gets wrong passwords from this many addresses
    # within an hour (the account is not locked: each address is slowed down on its own).
    login_alert_addresses: int = Field(default=5, ge=2, le=10_000)

    # Staff console (/staff/): a session ends after this many idle minutes (shared office
    # computers), and the inbox refreshes its counts this often.
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_refresh_seconds: int = Field(default=60, ge=5, le=3600)
    # The staff console and the JSON API on a listener of their own (0: the same listener as
    # the public site), so an office can put only the public site on the internet.
    staff_port: int = Field(default=0, ge=0, le=65535)

    telegram_bot_token: str = ""
    telegram_api_base_url: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    bot_host: str = "127.0.0.1"
    bot_port: int = Field(default=8001, ge=1, le=65535)
    public_bot_username: str = "asn_feedback_bot"
    # Updates of different chats handled at once (one chat's updates always in order).
    bot_concurrent_updates: int = Field(default=16, ge=1, le=256)
    # A dispatcher that dies mid-send leaves its claimed messages locked this long.
    outbox_lease_seconds: int = Field(default=60, ge=5, le=3600)
    # Days a sent (or failed) outbox message is kept before the nightly prune deletes it.
    outbox_retention_days: int = Field(default=90, ge=1, le=3650)
    # /readyz answers 503 when more messages than this wait in the outbox, or when the oldest
    # has waited longer than this (core.health; 0 turns the check off).
    outbox_ready_max_pending: int = Field(default=1000, ge=0, le=10_000_000)
    outbox_ready_max_age_seconds: int = Field(default=900, ge=0, le=7 * 24 * 3600)
    area_name: str = Field(default="Kota Kupang", min_length=1, max_length=100)

    default_service_population: int = Field(default=1000, ge=1)
    # Fewer responses than this: an IKM is shown as "belum cukup data (n = ...)", not a grade.
    ikm_min_responses: int = Field(default=10, ge=1, le=10_000)

    case_reference_prefix: str = Field(default="KPG", pattern=r"^[A-Z]{2,6}$")
    sla_verify_working_days: int = Field(default=3, ge=1, le=60)
    sla_followup_working_days: int = Field(default=5, ge=1, le=60)
    sla_resolve_days: int = Field(default=60, ge=1, le=365)
    # Cuti bersama (the yearly SKB 3 Menteri) are days off for the SLA clock (false: only
    # public holidays and the office's closed days are).
    sla_cuti_bersama: bool = True
    # What starts the resolution clock: "complete" (the file is complete: verification,
    # Perpres 76/2013) or "received" (the day the complaint arrived).
    sla_resolve_from: Literal["received", "complete"] = "complete"
    reopen_window_days: int = Field(default=14, ge=1, le=90)
    autoclose_days: int = Field(default=14, ge=1, le=90)
    complaints_per_day: int = Field(default=5, ge=1, le=100)
    officer_score_prior_weight: float = Field(default=10.0, ge=0, le=1000)
    officer_score_min_n: int = Field(default=5, ge=1, le=1000)
    officer_score_citizen_cap: int = Field(default=3, ge=1, le=1000)
    behaviour_above_score: float = Field(default=3.5, ge=1, le=4)
    behaviour_below_score: float = Field(default=2.5, ge=1, le=4)
    behaviour_below_substantiated: int = Field(default=2, ge=1, le=100)
    # Complaint categories (codes, comma-separated) of which one substantiated complaint
    # suggests "di bawah ekspektasi" (core.evaluations.rules.serious_categories checks them).
    behaviour_serious_categories: str = Field(
        default="pungli,penyalahgunaan_wewenang,diskriminasi", max_length=500
    )
    # Place written before the date in the signature block of evaluation exports.
    evaluation_signature_place: str = Field(default="Kupang", min_length=1, max_length=100)
    # New-complaint alerts in Telegram (core.cases.alerts): at most one batched message per
    # supervisor or unit head this often; these categories (codes, comma-separated) reach the
    # unit's supervisors and the admins at once instead.
    case_alert_minutes: int = Field(default=15, ge=1, le=24 * 60)
    case_alert_serious_categories: str = Field(
        default="pungli,penyalahgunaan_wewenang", max_length=500
    )
    digest_cron: str = "0 7 * * mon"
    reminder_cron: str = "0 8 * * *"
    autoclose_cron: str = "30 8 * * *"
    attachments_dir: str = "data/attachments"
    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=10_000, le=20 * 1024 * 1024)
    # The console's backup page warns when the last `asn-feedback db backup` is older than
    # this many hours (app/backup.py).
    backup_max_age_hours: int = Field(default=26, ge=1, le=24 * 366)
    # The public web channel for citizens and the transparency page (web/).
    # The address citizens reach the site at, used in e-mails and on QR sheets (empty: the
    # links name only their path and QR sheets offer only the bot).
    public_base_url: str = Field(default="", max_length=200)
    # A citizen's form sent sooner than this many seconds after its page was shown is taken
    # for a robot's and refused with an answer to try again.
    web_min_fill_seconds: int = Field(default=3, ge=0, le=600)
    # A loose flood cap per client address (many citizens share one): web form posts a
    # minute; the one-rating-a-day and complaints-a-day rules count per device.
    web_posts_per_minute: int = Field(default=60, ge=1, le=100_000)
    # Wrong follow-up codes for one reference before it is locked for that many minutes.
    web_code_max_failures: int = Field(default=5, ge=1, le=100)
    web_code_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # How long the public transparency figures are kept before they are computed again.
    public_cache_seconds: int = Field(default=600, ge=0, le=24 * 3600)
    # A case waiting on the citizen's answer closes after this many days without one.
    waiting_citizen_close_days: int = Field(default=14, ge=1, le=365)
    # The office's SMTP server for e-mail to citizens and staff (empty host: no e-mail).
    smtp_host: str = Field(default="", max_length=200)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = Field(default="", max_length=200)
    smtp_password: str = Field(default="", max_length=500)
    smtp_from: str = Field(default="", max_length=320)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # WhatsApp Business Cloud API (whatsapp/): on when the phone number id is set.
    whatsapp_phone_number_id: str = Field(default="", max_length=64)
    whatsapp_access_token: str = Field(default="", max_length=1000)
    whatsapp_app_secret: str = Field(default="", max_length=200)
    whatsapp_verify_token: str = Field(default="", max_length=200)
    # The business number in international form without "+" (for wa.me links on QR cards).
    whatsapp_business_number: str = Field(default="", pattern=r"^([1-9][0-9]{6,14})?$")
    whatsapp_api_base_url: str = Field(default="https://graph.facebook.com/v21.0", max_length=200)
    whatsapp_webhook_path: str = Field(
        default="/whatsapp/webhook", pattern=r"^/[A-Za-z0-9/_-]{1,100}$"
    )
    # Approved message templates for notices outside the 24-hour window: "notice=template_name"
    # pairs, comma-separated (notice: case_verified, case_info_requested, case_resolved, ...),
    # and the template language codes per citizen language.
    whatsapp_templates: str = Field(
        default="case_verified=laporan_diverifikasi,case_info_requested=pertanyaan_petugas,"
        "case_resolved=laporan_selesai,case_rejected=laporan_ditolak",
        max_length=1000,
    )
    whatsapp_template_languages: str = Field(default="id=id,en=en", max_length=100)
    # Messages a second to the Cloud API from this number, and to one citizen a minute.
    whatsapp_messages_per_second: int = Field(default=20, ge=1, le=1000)
    whatsapp_per_citizen_per_minute: int = Field(default=10, ge=1, le=600)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///path/to/file.db or postgresql://user@host/db")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        return ",".join(str(net) for net in parse_networks(value))

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("use an IANA time zone name such as Asia/Makassar") from exc
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(
                "use the site's address as citizens reach it, e.g. https://skm.kupangkota.go.id"
            )
        return value

    @model_validator(mode="after")
    def _whatsapp_needs_its_secrets(self) -> Settings:
        if self.whatsapp_phone_number_id and not (
            self.whatsapp_access_token
            and len(self.whatsapp_app_secret) >= 16
            and len(self.whatsapp_verify_token) >= 16
        ):
            raise ValueError(
                "WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN (16 "
                "characters or more) must be set when WHATSAPP_PHONE_NUMBER_ID is set"
            )
        return self

    @model_validator(mode="after")
    def _smtp_needs_sender(self) -> Settings:
        if self.smtp_host and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", self.smtp_from):
            raise ValueError(
                "SMTP_FROM must be the address e-mails are sent from, e.g. "
                "skm@kupangkota.go.id, when SMTP_HOST is set"
            )
        return self

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("use the root URL of a Bot API server, e.g. http://127.0.0.1:8081")
        return value

    @field_validator("digest_cron", "reminder_cron", "autoclose_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"use a crontab line like '0 7 * * mon' ({exc})") from None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: str) -> str:
        value = value.strip()
        if value and (":" not in value or " " in value):
            raise ValueError("use the token @BotFather gave you, like 123456:ABC-DEF...")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(
                "use the public HTTPS URL Telegram should call, e.g. https://bot.example.go.id/telegram/webhook"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        secret = self.telegram_webhook_secret
        if self.telegram_webhook_url and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z a-z 0-9 _ - "
                "when TELEGRAM_WEBHOOK_URL is set"
            )
        return self

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.telegram_webhook_url).path or "/telegram/webhook"

    @model_validator(mode="after")
    def _require_real_secret(self) -> Settings:
        if self.jwt_secret.lower() in PLACEHOLDER_SECRETS:
            if self.environment == "production":
                raise ValueError(
                    "JWT_SECRET must be set to a random value in production "
                    '(python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            # Development and tests: a per-process secret; tokens die with the process.
            object.__setattr__(self, "jwt_secret", secrets.token_urlsafe(48))
        elif len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters long")
        return self

    # Secret of the survey respondents' pseudonymous keys (core.surveys.respondents). Unlike
    # JWT_SECRET it must stay the same across processes, restarts and `db upgrade`.
    pseudonym_key: str = ""

    @model_validator(mode="after")
    def _require_pseudonym_key(self) -> Settings:
        development_key = DEVELOPMENT_PSEUDONYM_KEY
        if self.pseudonym_key.lower() in PLACEHOLDER_SECRETS:
            if self.environment == "production":
                raise ValueError(
                    "PSEUDONYM_KEY must be set to a random value in production, and kept "
                    '(python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            # Development and tests: a fixed, public key (a per-process one would split each
            # respondent in two across a restart); production refuses it.
            object.__setattr__(self, "pseudonym_key", development_key)
        elif len(self.pseudonym_key) < 32:
            raise ValueError("PSEUDONYM_KEY must be at least 32 characters long")
        elif self.environment == "production" and self.pseudonym_key == development_key:
            raise ValueError("PSEUDONYM_KEY must not be the public development key in production")
        return self

    @model_validator(mode="after")
    def _no_cheap_passwords_in_production(self) -> Settings:
        # Checked after the other keys, so their errors come first.
        if self.environment == "production" and cheap_requested(os.environ):
            raise ValueError(
                f"{CHEAP_ARGON2_ENV} makes password hashes cheap to guess and is only for "
                "tests: remove it from the environment"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def console_idle(self) -> timedelta:
        return timedelta(minutes=self.console_idle_minutes)

    @property
    def zone_name(self) -> str:
        """The zone's name as people in Indonesia say it (WIB, WITA, WIT), else its key."""
        return ZONE_NAMES.get(self.timezone, self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=16)
def parse_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """'10.0.0.5, 10.1.0.0/16' as networks; ValueError names the entry that is neither."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"use comma-separated IP addresses or CIDR ranges, e.g. 10.0.0.5,10.1.0.0/16 "
                f"({entry!r} is neither)"
            ) from None
    return tuple(networks)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first bad key and what it needs."""
    err = exc.errors()[0]
    loc = [str(part) for part in err.get("loc", ())]
    msg = err["msg"].removeprefix("Value error, ")
    if loc:
        return f"Configuration error: {loc[0].upper()}: {msg}"
    named = re.match(r"([A-Z_]{3,}) ", msg)  # model checks name their key first
    if named:
        return f"Configuration error: {named.group(1)}: {msg.removeprefix(named.group(0))}"
    return f"Configuration error: {msg}"


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
