"""WTForms fields that task forms need beyond the stock ones."""
from wtforms import DecimalField, FieldList, RadioField, SelectMultipleField, widgets
from wtforms.utils import unset_value

from workflows.forms.validators import is_blank

# Blank rows offered under the filled ones, so a table can grow without scripts.
SPARE_ROWS = 3


class LocalDecimalField(DecimalField):
    """A decimal typed the Russian way too ("1 250,5"); refuses NaN and infinities, which Decimal()
    would accept. A text input, since browsers reject a decimal comma in a number input."""

    widget = widgets.TextInput()

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace("\u00a0", "").replace(" ", "").replace(",", ".")]
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.invalid_value_message)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; the `field` macro in _forms.html renders this type by name."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class YesNoField(RadioField):
    """An explicit yes or no: unlike a checkbox, "not answered" differs from "no"."""


class TableField(FieldList):
    """Rows of a small sub-form. Rows left blank are not rows: they are neither checked nor stored."""

    def __init__(self, unbound_row, label=None, *, min_rows=0, max_rows=None, required=False, condition=None,
                 texts=None, column_labels=(), **kwargs):
        # No max_entries: FieldList would silently drop the extra rows; too many is reported instead.
        super().__init__(unbound_row, label, min_entries=0, **kwargs)
        self.min_rows, self.max_rows = min_rows, max_rows
        self.required, self.condition = required, condition
        self.texts, self.column_labels = texts or {}, list(column_labels)
        self.flags.required = required

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        wanted = max(self.min_rows, len(self.filled_entries()) + SPARE_ROWS, 1)
        if self.max_rows:
            wanted = min(wanted, self.max_rows)
        while len(self.entries) < wanted:
            self.append_entry()

    def filled_entries(self) -> list:
        return [entry for entry in self.entries if not all(is_blank(cell) for cell in entry.form)]

    def row_label(self, number: int) -> str:
        return self.texts["row"].format(n=number)

    def validate(self, form, extra_validators=()):
        self.errors = []
        filled = self.filled_entries()
        rows_valid = all([entry.validate(form) for entry in filled])  # a list: every row gets its errors
        needed = self.required or (self.condition is not None and self.condition(form))
        if not filled:
            if needed:
                self.errors.append(self.texts["rows_min"] if self.min_rows > 1 else self.texts["required_rows"])
        elif len(filled) < self.min_rows:
            self.errors.append(self.texts["rows_min"])
        elif self.max_rows and len(filled) > self.max_rows:
            self.errors.append(self.texts["rows_max"])
        if not rows_valid:
            self.errors.append(self.texts["row_errors"])
        return not self.errors
