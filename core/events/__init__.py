"""Domain events: an outbox written in the same transaction as the change it describes."""
