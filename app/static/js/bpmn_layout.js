// A picture for a diagram that has none. The diagrams in bpmn/ are written by hand without BPMN DI
// (positions), and bpmn-js draws only what has DI; such a diagram gets a plain left-to-right layout
// before import — columns by the longest path from the start, a row band per lane, boundary events on
// their task. Used by the modeler (saving the draft keeps the layout), the test run and the version
// comparison: `GridCaseLayout.withLayout(xml)` → {xml, generated}.
(function () {
  "use strict";

  var NS = {
    bpmn: "http://www.omg.org/spec/BPMN/20100524/MODEL", bpmndi: "http://www.omg.org/spec/BPMN/20100524/DI",
    dc: "http://www.omg.org/spec/DD/20100524/DC", di: "http://www.omg.org/spec/DD/20100524/DI",
    xmlns: "http://www.w3.org/2000/xmlns/"
  };
  var FLOW_NODES = ["startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
    "complexGateway"];
  var COL_W = 170, ROW_H = 130, POOL_LABEL = 30, LANE_LABEL = 30;

  function bpmnChildren(parent, localName) {
    return Array.prototype.filter.call(parent.childNodes, function (node) {
      return node.nodeType === 1 && node.namespaceURI === NS.bpmn && (!localName || node.localName === localName);
    });
  }

  function sizeOf(kind) {
    if (/Event$/.test(kind)) { return {w: 36, h: 36}; }
    if (/Gateway$/.test(kind)) { return {w: 50, h: 50}; }
    return {w: 100, h: 80};
  }

  function withLayout(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length || doc.documentElement.namespaceURI !== NS.bpmn ||
        doc.getElementsByTagNameNS(NS.bpmndi, "BPMNShape").length) {
      return {xml: xml, generated: false};
    }
    var defs = doc.documentElement;
    var processes = bpmnChildren(defs, "process");
    if (!processes.length) { return {xml: xml, generated: false}; }
    Array.prototype.slice.call(doc.getElementsByTagNameNS(NS.bpmndi, "BPMNDiagram")).forEach(function (empty) {
      empty.parentNode.removeChild(empty);
    });
    ["bpmndi", "dc", "di"].forEach(function (prefix) {
      if (!defs.lookupNamespaceURI(prefix)) { defs.setAttributeNS(NS.xmlns, "xmlns:" + prefix, NS[prefix]); }
    });
    function make(qname, attrs) {
      var prefix = qname.split(":")[0];
      var node = doc.createElementNS(NS[prefix], qname);
      Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
      return node;
    }
    function bounds(shape, box) {
      shape.appendChild(make("dc:Bounds", {x: Math.round(box.x), y: Math.round(box.y),
                                           width: Math.round(box.w), height: Math.round(box.h)}));
      return shape;
    }
    var collaboration = bpmnChildren(defs, "collaboration")[0];
    var diagram = make("bpmndi:BPMNDiagram", {id: "BPMNDiagram_generated"});
    var plane = make("bpmndi:BPMNPlane", {id: "BPMNPlane_generated",
      bpmnElement: (collaboration || processes[0]).getAttribute("id")});
    var y = 40;
    if (collaboration) {
      bpmnChildren(collaboration, "participant").forEach(function (participant) {
        var process = processes.filter(function (p) {
          return p.getAttribute("id") === participant.getAttribute("processRef");
        })[0];
        var box = process ? layoutProcess(process, plane, 40, y, true, make, bounds)
                          : {w: 600, h: 120};
        plane.insertBefore(bounds(make("bpmndi:BPMNShape", {id: participant.getAttribute("id") + "_di",
          bpmnElement: participant.getAttribute("id"), isHorizontal: "true"}), {x: 40, y: y, w: box.w, h: box.h}),
          plane.firstChild);
        y += box.h + 40;
      });
    } else {
      layoutProcess(processes[0], plane, 40, y, false, make, bounds);
    }
    diagram.appendChild(plane);
    defs.appendChild(diagram);
    return {xml: new XMLSerializer().serializeToString(doc), generated: true};
  }

  function layoutProcess(process, plane, x0, y0, inPool, make, bounds) {
    var nodes = {}, order = [];
    bpmnChildren(process).forEach(function (child) {
      if (FLOW_NODES.indexOf(child.localName) === -1) { return; }
      var id = child.getAttribute("id"), size = sizeOf(child.localName);
      nodes[id] = {id: id, el: child, kind: child.localName, w: size.w, h: size.h, lane: 0, col: 0, row: 0,
                   boundaries: [], preds: [], succ: []};
      order.push(id);
    });
    var flows = bpmnChildren(process, "sequenceFlow").map(function (flow) {
      return {id: flow.getAttribute("id"), source: nodes[flow.getAttribute("sourceRef")],
              target: nodes[flow.getAttribute("targetRef")]};
    }).filter(function (flow) { return flow.source && flow.target; });

    var lanes = [];
    var laneSet = bpmnChildren(process, "laneSet")[0];
    function claim(lane, index) {
      bpmnChildren(lane, "flowNodeRef").forEach(function (ref) {
        var node = nodes[(ref.textContent || "").trim()];
        if (node) { node.lane = index; }
      });
      bpmnChildren(lane, "childLaneSet").forEach(function (set) {
        bpmnChildren(set, "lane").forEach(function (child) { claim(child, index); });
      });
    }
    if (laneSet) {
      bpmnChildren(laneSet, "lane").forEach(function (lane, index) { lanes.push(lane); claim(lane, index); });
    }
    order.forEach(function (id) {
      var node = nodes[id];
      var host = node.kind === "boundaryEvent" ? nodes[node.el.getAttribute("attachedToRef")] : null;
      if (host) { node.host = host; node.lane = host.lane; host.boundaries.push(node); }
    });
    flows.forEach(function (flow) {
      var edge = {from: flow.source, to: flow.target, w: 1};
      flow.source.succ.push(edge);
      flow.target.preds.push(edge);
    });
    order.forEach(function (id) {
      var node = nodes[id];
      if (node.host) {
        var edge = {from: node.host, to: node, w: 0};
        node.host.succ.push(edge);
        node.preds.push(edge);
      }
    });

    // Back edges (loops) found by a depth-first walk from the start; the rest is a DAG.
    var color = {};
    function walk(node) {
      color[node.id] = 1;
      node.succ.forEach(function (edge) {
        if (color[edge.to.id] === 1) { edge.back = true; } else if (!color[edge.to.id]) { walk(edge.to); }
      });
      color[node.id] = 2;
    }
    order.filter(function (id) { return nodes[id].kind === "startEvent"; })
      .concat(order.filter(function (id) { return !nodes[id].preds.length; }), order)
      .forEach(function (id) { if (!color[id]) { walk(nodes[id]); } });

    // Columns: the longest path from a start, in topological order.
    var indegree = {}, queue = [], sorted = [];
    order.forEach(function (id) {
      indegree[id] = nodes[id].preds.filter(function (e) { return !e.back; }).length;
      if (!indegree[id]) { queue.push(nodes[id]); }
    });
    while (queue.length) {
      var node = queue.shift();
      sorted.push(node);
      node.succ.forEach(function (edge) {
        if (edge.back) { return; }
        edge.to.col = Math.max(edge.to.col, node.col + edge.w);
        indegree[edge.to.id] -= 1;
        if (!indegree[edge.to.id]) { queue.push(edge.to); }
      });
    }

    // Rows inside a lane: a node keeps its predecessor's row when that cell is free; what follows
    // a boundary event goes below the host.
    var taken = {}, laneRows = lanes.map(function () { return 1; });
    if (!laneRows.length) { laneRows = [1]; }
    sorted.forEach(function (node) {
      if (node.host) { return; }
      var preferred = 0;
      var pred = node.preds.filter(function (e) { return !e.back; })[0];
      if (pred && pred.from.lane === node.lane) {
        preferred = pred.from.host ? pred.from.host.row + 1 : pred.from.row;
      }
      var row = preferred;
      var cell = function (r) { return node.lane + ":" + r + ":" + node.col; };
      if (taken[cell(row)]) { row = 0; while (taken[cell(row)]) { row += 1; } }
      node.row = row;
      taken[cell(row)] = true;
      laneRows[node.lane] = Math.max(laneRows[node.lane] || 1, row + 1);
    });

    var left = x0 + (inPool ? POOL_LABEL : 0) + (lanes.length ? LANE_LABEL : 0) + 30;
    var maxCol = 0;
    order.forEach(function (id) { maxCol = Math.max(maxCol, nodes[id].col); });
    var width = left - x0 + (maxCol + 1) * COL_W;
    var laneTop = [], top = y0;
    laneRows.forEach(function (rows, index) { laneTop[index] = top; top += rows * ROW_H; });
    var height = top - y0;

    lanes.forEach(function (lane, index) {
      plane.appendChild(bounds(make("bpmndi:BPMNShape", {id: lane.getAttribute("id") + "_di",
        bpmnElement: lane.getAttribute("id"), isHorizontal: "true"}),
        {x: x0 + (inPool ? POOL_LABEL : 0), y: laneTop[index], w: width - (inPool ? POOL_LABEL : 0),
         h: laneRows[index] * ROW_H}));
    });
    sorted.concat(order.map(function (id) { return nodes[id]; }).filter(function (n) { return sorted.indexOf(n) === -1; }))
      .forEach(function (node) {
        if (node.host) { return; }
        var cx = left + node.col * COL_W + 50, cy = (laneTop[node.lane] || y0) + node.row * ROW_H + ROW_H / 2;
        node.x = cx - node.w / 2; node.y = cy - node.h / 2;
        node.boundaries.forEach(function (event, k) {
          event.x = node.x + node.w - 38 - (k * 40) % (node.w - 20);
          event.y = node.y + node.h - 18;
        });
      });
    var shapes = order.map(function (id) { return nodes[id]; });
    shapes.sort(function (a, b) { return (a.host ? 1 : 0) - (b.host ? 1 : 0); });  // hosts under their events
    shapes.forEach(function (node) {
      if (node.x === undefined) { node.x = left; node.y = y0; }
      var attrs = {id: node.id + "_di", bpmnElement: node.id};
      if (node.kind === "exclusiveGateway") { attrs.isMarkerVisible = "true"; }
      if (node.kind === "subProcess") { attrs.isExpanded = "false"; }
      plane.appendChild(bounds(make("bpmndi:BPMNShape", attrs), {x: node.x, y: node.y, w: node.w, h: node.h}));
    });
    flows.forEach(function (flow) {
      var edge = make("bpmndi:BPMNEdge", {id: flow.id + "_di", bpmnElement: flow.id});
      waypoints(flow.source, flow.target, shapes).forEach(function (point) {
        edge.appendChild(make("di:waypoint", {x: Math.round(point[0]), y: Math.round(point[1])}));
      });
      plane.appendChild(edge);
    });
    return {w: width, h: height};
  }

  function waypoints(s, t, others) {
    var scx = s.x + s.w / 2, scy = s.y + s.h / 2, tcx = t.x + t.w / 2, tcy = t.y + t.h / 2;
    if (t.x > s.x + s.w) {
      if (s.host) {
        if (tcy > s.y + s.h) { return [[scx, s.y + s.h], [scx, tcy], [t.x, tcy]]; }
        return [[scx, s.y + s.h], [scx, s.y + s.h + 20], [t.x - 20, s.y + s.h + 20], [t.x - 20, tcy], [t.x, tcy]];
      }
      if (Math.abs(scy - tcy) < 1) { return [[s.x + s.w, scy], [t.x, tcy]]; }
      // A gateway's branch leaves from the bottom or the top, unless a shape stands in the way.
      if (/Gateway$/.test(s.kind)) {
        var down = tcy > scy, from = down ? s.y + s.h : s.y;
        var clear = !others.some(function (o) {
          return o !== s && o !== t && !o.host && o.x <= scx && scx <= o.x + o.w &&
            Math.max(o.y, Math.min(from, tcy)) <= Math.min(o.y + o.h, Math.max(from, tcy));
        });
        if (clear) { return [[scx, from], [scx, tcy], [t.x, tcy]]; }
        // Else a short jog between the rows, so branches never share a line.
        var jog = from + (down ? 30 : -30);
        return [[scx, from], [scx, jog], [t.x - 25, jog], [t.x - 25, tcy], [t.x, tcy]];
      }
      var mid = t.x - 25;
      return [[s.x + s.w, scy], [mid, scy], [mid, tcy], [t.x, tcy]];
    }
    var below = Math.max(s.y + s.h, t.y + t.h) + 25;
    return [[scx, s.y + s.h], [scx, below], [tcx, below], [tcx, t.y + t.h]];
  }

  window.GridCaseLayout = {withLayout: withLayout};
})();
