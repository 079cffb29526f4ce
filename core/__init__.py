"""The domain of asn-feedback: models, services and rules. No Telegram or HTTP code here."""
