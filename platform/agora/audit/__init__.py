"""Append-only audit log, hash-chained per commune."""
