"""The staff console: server-rendered pages (Jinja2 + HTMX) where supervisors, unit heads
and admins work. An adapter on core like the bot and the JSON API; it never imports them."""

from console.app import create_console

__all__ = ["create_console"]
