"""Workbooks in and out: reading untrusted .xlsx/.xls/.et/.ods safely, cleaning a cell, finding a
table by its header, writing and printing a table the bureau reads."""
