"""WhatsApp Business Cloud API channel for citizens: the same conversations as the bot."""
