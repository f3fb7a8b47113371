"""Passerelle's shared contracts and plumbing. Services share only this package."""
