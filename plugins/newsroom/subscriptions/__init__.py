"""The subscription service: sign-up with double opt-in, preferences, unsubscribe."""
