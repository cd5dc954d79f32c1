"""Communes (tenants): their records, configuration files, host resolution and isolation."""
