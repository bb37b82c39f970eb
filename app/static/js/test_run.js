// The test run page's diagram: bpmn-js's viewer draws it (laid out by bpmn_layout.js when it has no
// picture of its own), and markers show the path taken, what waits now,
// where the process ended and where it failed. The page lists all of that as text too; nothing on
// the diagram can be changed or saved from here.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("test-run-config").textContent);
  var container = document.getElementById("test-run-canvas");
  var problem = document.getElementById("test-run-diagram-error");

  // Keep text readable on long processes rather than shrinking the whole diagram into view.
  var READABLE = 0.75;

  function show(reason) {
    problem.textContent = config.texts.noDiagram.replace("%(reason)s", reason);
    problem.hidden = false;
  }

  function mark(canvas, registry, ids, marker) {
    ids.forEach(function (id) {
      if (id && registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  if (!container || typeof window.BpmnJS !== "function") {
    if (problem) { show("bpmn-js"); }
    return;
  }

  var viewer = new window.BpmnJS({ container: container });  // the viewer build: nothing can be edited

  viewer.importXML(window.GridCaseLayout.withLayout(config.xml).xml).then(function () {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() < READABLE) {
      // A long process would shrink past reading: keep the text readable and show where the run is.
      canvas.zoom(READABLE);
      var here = config.failed.concat(config.current, config.ended, config.taken.slice(-1))
        .map(function (id) { return registry.get(id); })
        .concat(registry.filter(function (element) { return element.type === "bpmn:StartEvent"; }))
        .filter(Boolean)[0];
      if (here) { canvas.scrollToElement(here); }
    }
    mark(canvas, registry, config.taken, "test-run-taken");
    mark(canvas, registry, config.current, "test-run-current");
    mark(canvas, registry, config.ended, "test-run-ended");
    mark(canvas, registry, config.failed, "test-run-failed");
  }).catch(function (error) {
    show(error && error.message ? error.message : String(error));
  });
})();
