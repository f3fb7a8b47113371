"""The opportunities service."""
