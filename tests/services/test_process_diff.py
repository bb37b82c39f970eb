"""What changed between two versions: by element id, the layout left out."""
from app.services import process_diff
from workflows import definitions

DEMO = (definitions.BPMN_FOLDER / "demo_meter_replacement.bpmn").read_text(encoding="utf-8")


def test_the_same_diagram_moved_about_has_no_changes():
    moved = DEMO.replace('x="', 'x="1', 3)
    assert process_diff.changes(DEMO, moved) == []


def test_renamed_retimed_added_and_removed_elements_are_told_apart():
    changed = (DEMO.replace('name="Рассмотреть заявку"', 'name="Рассмотрение"', 1)
               .replace('"P3D"', '"P5D"'))
    found = {(c.element, c.change): c for c in process_diff.changes(DEMO, changed)}
    review = found[("review", "changed")]
    assert review.kind == "userTask" and "name" in review.details
    assert any(c.change == "changed" and "timeDuration" in c.details for c in found.values())
    removed = process_diff.changes(changed, DEMO.replace("<bpmn:userTask id=\"review\"", "<bpmn:userTask id=\"review2\""))
    assert {(c.element, c.change) for c in removed} >= {("review", "removed"), ("review2", "added")}
