"""The public web site: citizens rate services, report problems and follow their reports
without an account; everyone reads the transparency page and its open data."""

from web.app import create_web

__all__ = ["create_web"]
