"""Readers of residents' registers, one plugin per kind of register.

All three read CSV files through :class:`~agora_draw_sources.reader.CsvRegister`; they
differ in the columns they expect by default and in how invitations reach people.
Column names are settings, because every prefecture and land registry exports its own.
"""
