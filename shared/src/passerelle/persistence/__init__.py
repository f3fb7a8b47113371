"""Databases: async engines, units of work, migrations and the embedded PostgreSQL launcher."""
