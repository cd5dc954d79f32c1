"""Readers of residents' registers, one plugin per kind of register.

All four read delimited text through :class:`~agora_draw_sources.reader.CsvRegister` (the
volunteers' list also OpenDocument spreadsheets); they differ in the columns they expect by
default and in how invitations reach people. Each gives the commune one named source
(``electoral_roll``, ``address_file``, ``volunteers``, ``generic_csv``; its ``source``
setting renames it). Column names are settings, because every prefecture and land registry
exports its own.
"""
