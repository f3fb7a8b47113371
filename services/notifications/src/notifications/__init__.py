"""The notifications service: tells the right people, once, in their language."""
