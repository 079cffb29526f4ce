"""E-mail: the outboxs sender over the offices SMTP server."""
