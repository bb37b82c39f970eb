"""Exchange with the external billing system: the file formats it sends and receives.

Plain readers and writers of CSV and XLSX tables (no Flask, no database); what the columns mean is
the business of app.services.billing_exchange.
"""
from integrations.billing.files import FileFormatError, Row, read_csv, read_table, read_xlsx, write_csv, write_xlsx

__all__ = ["FileFormatError", "Row", "read_csv", "read_table", "read_xlsx", "write_csv", "write_xlsx"]
