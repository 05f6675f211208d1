"""Where domain events go after pbx/events.py raised them: the durable outbox (a
per-tenant seq), the live WebSocket stream, and signed webhooks with their deliveries."""
