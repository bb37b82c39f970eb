"""Bulk inserts for the batch jobs: COPY on PostgreSQL, a multi-row INSERT elsewhere.

The monthly close writes hundreds of thousands of accrual lines; COPY does it several times faster
than INSERT and inside the same transaction as the rest of the batch.
"""
import json

from sqlalchemy import Table, insert

from app.extensions import db


def insert_rows(table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = [c for c in table.columns if c.name in rows[0] or c.default is not None]
    defaults = {c.name: c.default.arg for c in columns if c.default is not None and c.name not in rows[0]}
    json_columns = {c.name for c in columns if c.type.__class__.__name__ == "JSON"}
    names = ", ".join(f'"{c.name}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = []
            for column in columns:
                if column.name in row:
                    value = row[column.name]
                else:
                    default = defaults[column.name]
                    value = default(None) if callable(default) else default
                if column.name in json_columns and value is not None:
                    value = json.dumps(value, ensure_ascii=False)
                values.append(value)
            copy.write_row(values)
