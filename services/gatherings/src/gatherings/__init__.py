"""The gatherings service."""
