"""The portal service."""
