"""Reliable messaging: broker factory, topology, outbox relay, inbox, retries and the DLQ."""
