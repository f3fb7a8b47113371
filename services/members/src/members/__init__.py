"""The members service: who is in the community and what they offer."""
