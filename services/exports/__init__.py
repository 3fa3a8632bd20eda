"""Documents offices exchange: the ledger as an Excel workbook (督查台账, ``ledger_xlsx``), and
Word documents in the GB/T 9704 frame (``gbt9704``): a record's 督办通知单 and 催办单
(``notice_docx``) and a circular as issued (``circular_docx``), gathered by ``documents``.

Exports are written in Chinese whatever the screen's language: they go into other offices'
files. They take rows the read models already answered (the caller checked access) and return
bytes. May import: the standard library, openpyxl, python-docx, the domain and the services.
"""
