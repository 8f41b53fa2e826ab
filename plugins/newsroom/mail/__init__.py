"""Subscribers, the outbox and sending: everything that leaves by email or webhook."""
