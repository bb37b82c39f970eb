// The diff page: each version drawn read-only, the changed shapes marked (colours in modeler.css; the
// table on the page says the same in words).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diff-data").textContent);

  async function show(container, url, marks) {
    const viewer = new window.BpmnJS({ container: container });
    const response = await fetch(url, { credentials: "same-origin" });
    await viewer.importXML(window.GridCaseLayout.withLayout(await response.text()).xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    for (const [kind, ids] of Object.entries(marks)) {
      for (const id of ids) {
        if (registry.get(id)) {
          canvas.addMarker(id, "diff-" + kind);
        }
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    show(document.getElementById("diff-old-canvas"), data.old_url, data.old);
    show(document.getElementById("diff-new-canvas"), data.new_url, data.new);
  });
})();
