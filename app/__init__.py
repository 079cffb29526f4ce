"""Composition root: the `asn-feedback` command and process wiring."""
