"""Documents offices exchange: the ledger as an Excel workbook (督查台账, ``ledger_xlsx``).

Exports are written in Chinese whatever the screen's language: they go into other offices'
files. They take rows the read models already answered (the caller checked access) and return
bytes. May import: the standard library, openpyxl, the domain and ``services.calendar``.
"""
