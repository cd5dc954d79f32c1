"""Onboarding communes and changing their configuration (TOML files today; the staff
console and the commune's own rules page build on the same services)."""
