"""Excel workbooks: read a scenario from ``.xlsx``, write one, write an empty template.

Layout (contract v1, ``docs/scenario-format.md``): one sheet per table,
the column names in row 1.

- ``settings``: two columns ``key, value``, one row per setting.
- ``policies``: ``instrument, product, value``; an empty product (or ``*``) is
  the value for every product. One row with an empty product gives a plain
  number; several rows give a ``{product: value}`` mapping.
- ``processes``: ``id, description``; the recipes are in the sheet ``recipes``,
  long format ``process, product, direction, amount`` (direction ``input`` or
  ``output``).
- ``profiles``: ``name, period, factor`` (period counts from 0 within the year).
- every other table: one row per record, one column per field (``from``, ``as``
  are the column names of ``Link.from_`` and ``Uncertainty.as_``).

An empty cell means "the column's default"; fully empty rows are skipped; a
sheet without data rows is an absent table. The sheet ``README`` is ignored
when reading.

Workbooks are untrusted input: they are opened read-only without computed
values, and a formula is never evaluated; a formula cell is an error. Every
column, comment and README row is generated from the pydantic models in
``schema.py``; nothing here repeats the list of fields.

Numbers are written with all the digits they need (openpyxl alone writes 16
significant digits; ``write.exact_numbers`` writes the 17th where a double needs
it), so every number reads back as the same double.
"""


from symbiosim.scenario.excel.read import read_workbook, read_workbook_rows
from symbiosim.scenario.excel.write import export_workbook, write_template, write_workbook

__all__ = ["export_workbook", "read_workbook", "read_workbook_rows", "write_template", "write_workbook"]
