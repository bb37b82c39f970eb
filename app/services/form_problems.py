"""Every problem of a task form definition, field by field, in the user's language.

`workflows.forms.load_definition` stops at the first mistake and words it in English for the files'
authors. The form editor wants all of them at once, each at its field: so the head of the form and
every field are checked on their own, and the loader's sentence is split into where it is (field,
column, option) and what is wrong, which is then said again through the translation catalog. A
sentence the table below does not know is shown as the loader wrote it.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from workflows.forms import FormDefinitionError, load_definition

STAND_IN_KEY = "form_under_check"
STAND_IN_TITLE = {"ru": "—", "en": "—"}
STAND_IN_FIELD = {"name": "field_under_check", "type": "text", "label": {"ru": "—", "en": "—"}}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
WHERE = re.compile(r'field (?:#(?P<position>\d+)|"(?P<name>[a-z0-9_]*)")'
                   r'(?:, column (?:#(?P<column_position>\d+)|"(?P<column>[a-z0-9_]*)"))?'
                   r'(?:, choice #(?P<choice>\d+))?: (?P<rest>.*)', re.S)


@dataclass(frozen=True)
class Problem:
    message: str  # what is wrong, in the user's language
    field: str | None = None  # the field's name, when it has a usable one
    position: int | None = None  # the field's place in the form, from 1
    column: str | None = None  # a table's column: its name, or "#2" when it has no usable name
    choice: int | None = None  # an option of a choice field, from 1

    @property
    def inside(self) -> str:
        """Where in its field the problem is: «столбец «quantity»», «вариант 2», or nothing."""
        where = []
        if self.column and self.column.startswith("#"):
            where.append(str(_l("column %(position)s", position=self.column[1:])))
        elif self.column:
            where.append(str(_l("column “%(name)s”", name=self.column)))
        if self.choice:
            where.append(str(_l("option %(position)s", position=self.choice)))
        return ", ".join(where)

    @property
    def text(self) -> str:
        """The problem as one sentence, with where it is: «Поле «decision»: Неизвестный тип …»."""
        where = []
        if self.field:
            where.append(str(_l("Field “%(name)s”", name=self.field)))
        elif self.position:
            where.append(str(_l("Field %(position)s", position=self.position)))
        if self.inside:
            where.append(self.inside)
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {"message": self.message, "field": self.field, "position": self.position, "column": self.column,
                "choice": self.choice, "inside": self.inside, "text": self.text}


def problems(data) -> list[Problem]:
    """What keeps `data` from being a form: the head's first problem, then each field's first one, and
    only when each part is right on its own, what is wrong between them (a name used twice, a
    `required_if` naming no field)."""
    if not isinstance(data, dict):
        return [_problem(FormDefinitionError("a form definition must be a JSON object"), None)]
    fields = data.get("fields")
    head = {**data, "fields": [STAND_IN_FIELD] if isinstance(fields, list) and fields else fields}
    found = _first(head, data.get("key"))
    if isinstance(fields, list):
        for position, raw in enumerate(fields, start=1):
            alone = {k: v for k, v in raw.items() if k != "required_if"} if isinstance(raw, dict) else raw
            problem = _first({"key": STAND_IN_KEY, "title": STAND_IN_TITLE, "fields": [alone]}, STAND_IN_KEY)
            if problem:
                name = raw.get("name") if isinstance(raw, dict) else None
                found.append(Problem(problem[0].message, name if isinstance(name, str) and NAME.fullmatch(name)
                                     else None, position, problem[0].column, problem[0].choice))
    if not found:
        found = _first(data, data.get("key"))
        names = [raw.get("name") if isinstance(raw, dict) else None for raw in fields or ()]
        found = [_placed(p, names) for p in found]
    return found


def _first(data: dict, key) -> list[Problem]:
    try:
        load_definition(data)
    except FormDefinitionError as error:
        return [_problem(error, key)]
    return []


def _placed(problem: Problem, names: list) -> Problem:
    """A field named in a problem of the whole form gets its position too, for the editor to mark it;
    of a name used twice, the second use."""
    places = [i for i, name in enumerate(names, start=1) if problem.field and name == problem.field]
    if problem.position is None and places:
        return Problem(problem.message, problem.field, places[min(1, len(places) - 1)], problem.column,
                       problem.choice)
    return problem


def _problem(error: FormDefinitionError, key) -> Problem:
    text = str(error)
    if isinstance(key, str) and NAME.fullmatch(key) and text.startswith(f"{key}: "):
        text = text[len(key) + 2:]
    where = WHERE.fullmatch(text)
    if where is None:
        return Problem(_translated(text))
    column = where["column"] or (f"#{where['column_position']}" if where["column_position"] else None)
    return Problem(_translated(where["rest"]), where["name"],
                   int(where["position"]) if where["position"] else None, column,
                   int(where["choice"]) if where["choice"] else None)


def _translated(text: str) -> str:
    for pattern, message in MESSAGES:
        found = pattern.fullmatch(text)
        if found:
            return str(message(**found.groupdict()))
    return text


def _m(pattern: str):
    return re.compile(pattern, re.S)


# The loader's sentences (workflows/forms/loader.py) and what the editor says instead. More specific
# patterns come first.
MESSAGES = [
    (_m(r"a form definition must be a JSON object"),
     lambda: _l("A form definition must be a JSON object.")),
    (_m(r'"key" must be a name of lowercase letters, digits and "_", not (?P<value>.*)'),
     lambda value: _l("The key must consist of lowercase Latin letters, digits and “_” and start with a letter, "
                      "not %(value)s.", value=value)),
    (_m(r'unknown key "(?P<name>.*)" \(did you mean "(?P<close>.*)"\?\)'),
     lambda name, close: _l("Unknown key “%(name)s” (did you mean “%(close)s”?).", name=name, close=close)),
    (_m(r'unknown key "(?P<name>.*)"'),
     lambda name: _l("Unknown key “%(name)s”.", name=name)),
    (_m(r'"(?P<name>.*)" is not used by a "(?P<kind>.*)" field'),
     lambda name, kind: _l("“%(name)s” is not used by a field of type “%(kind)s”.", name=name, kind=kind)),
    (_m(r'"(?P<name>.*)" is not used by a "(?P<kind>.*)" column'),
     lambda name, kind: _l("“%(name)s” is not used by a column of type “%(kind)s”.", name=name, kind=kind)),
    (_m(r'"(?P<name>.*)" must be \{"ru": "\.\.\.", "en": "\.\.\."\} with both texts filled in'),
     lambda name: _l("“%(name)s” needs both texts, Russian and English.", name=name)),
    (_m(r'"fields" must be a non-empty list'),
     lambda: _l("The form needs at least one field.")),
    (_m(r"the name is used twice"),
     lambda: _l("The name is used twice.")),
    (_m(r"must be a JSON object"),
     lambda: _l("Must be a JSON object.")),
    (_m(r'"name" must be lowercase letters, digits and "_", not (?P<value>.*)'),
     lambda value: _l("The name must consist of lowercase Latin letters, digits and “_” and start with a letter, "
                      "not %(value)s.", value=value)),
    (_m(r"the name is reserved by the form library; choose another"),
     lambda: _l("The name is reserved by the form library; choose another.")),
    (_m(r'unknown type "(?P<kind>.*)" \(one of: (?P<kinds>.*)\)'),
     lambda kind, kinds: _l("Unknown type “%(kind)s” (one of: %(kinds)s).", kind=kind, kinds=kinds)),
    (_m(r'"required" and "required_if" together: .*'),
     lambda: _l("A field is either always required or required on a condition, not both.")),
    (_m(r'"(?P<name>.*)" must be true or false'),
     lambda name: _l("“%(name)s” must be true or false.", name=name)),
    (_m(r'"(?P<name>.*)" must be a whole number, at least (?P<least>\d+)'),
     lambda name, least: _l("“%(name)s” must be a whole number, at least %(least)s.", name=name, least=least)),
    (_m(r'"min_length" (?P<least>\d+) is more than "max_length" (?P<most>\d+)'),
     lambda least, most: _l("The minimum length %(least)s is more than the maximum length %(most)s.",
                            least=least, most=most)),
    (_m(r'"pattern" must be a regular expression'),
     lambda: _l("The pattern must be a regular expression.")),
    (_m(r'"pattern" is not a valid regular expression: (?P<error>.*)'),
     lambda error: _l("The pattern is not a valid regular expression: %(error)s.", error=error)),
    (_m(r'"pattern_message" without "pattern"'),
     lambda: _l("A pattern message needs a pattern.")),
    (_m(r'"(?P<name>[a-z_]+)" must be a whole number, not (?P<value>.*)'),
     lambda name, value: _l("“%(name)s” must be a whole number, not %(value)s.", name=name, value=value)),
    (_m(r'"(?P<name>[a-z_]+)" must be a number, not (?P<value>.*)'),
     lambda name, value: _l("“%(name)s” must be a number, not %(value)s.", name=name, value=value)),
    (_m(r'"(?P<name>[a-z_]+)" must be a date as "YYYY-MM-DD", "today" or "today\+N", not (?P<value>.*)'),
     lambda name, value: _l("“%(name)s” must be a date as YYYY-MM-DD, “today” or “today+N”, not %(value)s.",
                            name=name, value=value)),
    (_m(r'"min" is more than "max"'),
     lambda: _l("The minimum is more than the maximum.")),
    (_m(r'"choices_from" is for fields, not table columns'),
     lambda: _l("“choices_from” is for fields, not table columns.")),
    (_m(r'"choices" and "choices_from" together: .*'),
     lambda: _l("The options come either from the form (“choices”) or from the case (“choices_from”), not both.")),
    (_m(r'"choices_from" must name a list in the case data .*'),
     lambda: _l("“choices_from” must name a list in the case data (lowercase Latin letters, digits and “_”).")),
    (_m(r'"choices" must be a non-empty list of .*'),
     lambda: _l("The field needs at least one option, each with a value and labels in both languages.")),
    (_m(r'must be \{"value": \.\.\., "label": .*'),
     lambda: _l("An option needs a value and labels in both languages.")),
    (_m(r'"value" must be a non-empty string'),
     lambda: _l("The option's value must not be empty.")),
    (_m(r'the value "(?P<value>.*)" is used twice'),
     lambda value: _l("The value “%(value)s” is used twice.", value=value)),
    (_m(r'"accept" must be a non-empty list of MIME types'),
     lambda: _l("“accept” must be a non-empty list of file types.")),
    (_m(r'cannot check the content of "(?P<kind>.*)" files \(known: (?P<known>.*)\)'),
     lambda kind, known: _l("Files of type “%(kind)s” cannot be checked by their content (known: %(known)s).",
                            kind=kind, known=known)),
    (_m(r'"max_mb" must be a positive number'),
     lambda: _l("The size limit must be a positive number of megabytes.")),
    (_m(r'"columns" must be a non-empty list of fields'),
     lambda: _l("A table needs at least one column.")),
    (_m(r'"min_rows" (?P<least>\d+) is more than "max_rows" (?P<most>\d+)'),
     lambda least, most: _l("The minimum number of rows %(least)s is more than the maximum %(most)s.",
                            least=least, most=most)),
    (_m(r'"required_if" must be \{"field": .*'),
     lambda: _l("“required_if” must be {\"field\": \"<another field>\", \"equals\": <its value>}.")),
    (_m(r'"required_if" refers to "(?P<name>.*)", which is not another field of this form'),
     lambda name: _l("“required_if” refers to “%(name)s”, which is not another field of this form.", name=name)),
    (_m(r'"required_if" can depend on a choice, yesno, text or number field, not "(?P<kind>.*)"'),
     lambda kind: _l("“required_if” can depend on a choice, yes/no, text or number field, not on “%(kind)s”.",
                     kind=kind)),
    (_m(r'"required_if": (?P<value>.*) is not a possible value of "(?P<name>.*)"'),
     lambda value, name: _l("“required_if”: %(value)s is not a possible value of “%(name)s”.", value=value,
                            name=name)),
    (_m(r'a "(?P<kind>.*)" field has no default'),
     lambda kind: _l("A field of type “%(kind)s” has no default.", kind=kind)),
    (_m(r'"default" (?P<value>.*) is not a possible value of this field'),
     lambda value: _l("The default %(value)s is not a possible value of this field.", value=value)),
]
