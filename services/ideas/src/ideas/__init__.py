"""The ideas service."""
