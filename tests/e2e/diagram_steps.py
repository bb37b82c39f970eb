"""Steps a person takes on a bpmn-js diagram in Chromium, shared by the modeler's browser tests."""


def settle(page):
    """diagram-js swallows the first click within 400 ms of a finished drag (its click trap); a person
    is never that quick, the test waits as long."""
    page.wait_for_timeout(450)


def shape(page, element_id):
    return page.locator(f'.djs-element.djs-shape[data-element-id="{element_id}"]')


def label(page, element_id) -> str:
    """The shape's label as drawn (its lines joined, spaces dropped: the lines break at them)."""
    return "".join(shape(page, element_id).locator(".djs-label").text_content().split())


def click_shape(page, element_id):
    """A click near the shape's top left corner, clear of the flows docked at the middle of its sides."""
    box = shape(page, element_id).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.15)


def click_connection(page, element_id):
    """A click on the middle of a sequence flow's line, where a person would aim."""
    point = page.locator(f'.djs-connection[data-element-id="{element_id}"] .djs-visual > path').evaluate(
        """path => {
          const at = path.getPointAtLength(path.getTotalLength() / 2), m = path.getScreenCTM();
          return {x: at.x * m.a + at.y * m.c + m.e, y: at.x * m.b + at.y * m.d + m.f};
        }""")
    page.mouse.click(point["x"], point["y"])


def connect(page, source_id, target_id):
    click_shape(page, source_id)
    page.locator('.djs-context-pad [data-action="connect"]').click()
    box = shape(page, target_id).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)
