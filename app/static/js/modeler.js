// The process modeler: bpmn-js draws and edits the diagram; our own panel edits the extension
// properties the engine reads (bpmn/README.md); the JSON API keeps one shared draft per process,
// validates it and deploys it as a new version. No inline scripts or styles: the texts and the URLs
// come from the JSON blocks of the page.
//
// Sections, in order: helpers · the JSON API · the
// spiffworkflow moddle extension and reading/writing its properties · bpmn-js set-up (translation,
// palette, one-step property changes) · unsaved-changes tracking · the properties panel ·
// validation results · draft, conflict, deploy and download · start-up.
(function () {
  "use strict";
  var root = document.getElementById("modeler");
  if (!root) { return; }
  var CONFIG = JSON.parse(document.getElementById("modeler-config").textContent);
  var T = JSON.parse(document.getElementById("modeler-texts").textContent);
  var P = T.panel;
  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var LOCALE = CONFIG.locale === "en" ? "en-GB" : "ru-RU";
  var wide = window.matchMedia("(min-width: 992px)");

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    save: $("modeler-save"), validate: $("modeler-validate"), download: $("modeler-download"), fit: $("modeler-fit"),
    dirty: $("modeler-dirty"), state: $("modeler-state"), deployForm: $("modeler-deploy"),
    deploy: $("modeler-deploy-button"), comment: $("modeler-comment"), messages: $("modeler-messages"),
    conflict: $("modeler-conflict"), conflictText: $("modeler-conflict-text"), loadTheirs: $("modeler-load-theirs"),
    overwrite: $("modeler-overwrite"), canvas: $("modeler-canvas"), panel: $("modeler-panel-body"),
    problems: $("modeler-problems"), problemsSummary: $("modeler-problems-summary"),
    problemsList: $("modeler-problems-list"), versions: document.querySelector("#modeler-versions tbody")
  };

  var state = {
    xml: null,            // the text last loaded or saved, for the download on a narrow screen
    revision: 0,          // the draft revision our diagram started from (0: no draft yet)
    isDraft: false, baseVersion: null, updatedBy: null, updatedAt: null,
    blocked: null,        // why saving is off (parts of the file the modeler would drop)
    busy: false,
    catalog: {forms: [], groups: [], handlers: [], checks: [], messages: [], actors: ["staff", "applicant"]},
    problemMarkers: [],
    conflictRetry: null
  };
  var modeler = null;

  // --- helpers -----------------------------------------------------------------------------------

  function text(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) {
      return values && values[key] !== undefined && values[key] !== null ? values[key] : "";
    });
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) { return; }
      if (name === "text") { node.textContent = value; } else if (name.slice(0, 2) === "on") {
        node.addEventListener(name.slice(2), value);
      } else if (value === true) { node.setAttribute(name, ""); } else { node.setAttribute(name, value); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function say(kind, message) {
    ui.messages.textContent = "";
    if (!message) { return; }
    var urgent = kind === "danger" || kind === "warning";
    ui.messages.appendChild(h("div", {"class": "alert alert-" + kind + " py-2 mb-2", role: urgent ? "alert" : "status",
                                      text: message}));
  }

  function formatMoment(iso) {
    if (!iso) { return ""; }
    var moment = new Date(iso);
    return isNaN(moment) ? iso : moment.toLocaleString(LOCALE, {dateStyle: "short", timeStyle: "short"});
  }

  // --- the JSON API: every answer resolves as {ok, status, data}; problem+json carries `detail` ---

  function call(method, url, body) {
    var init = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") { init.headers["X-CSRFToken"] = CSRF; }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (raw) {
        var data;
        try { data = raw ? JSON.parse(raw) : {}; } catch (e) { data = {detail: response.statusText || String(response.status)}; }
        return {ok: response.ok, status: response.status, data: data || {}};
      });
    }, function () {
      return {ok: false, status: 0, data: {detail: T.networkError}};
    });
  }

  function refusal(result) {
    if (result.status === 0) { return T.networkError; }
    return text(T.requestError, {reason: result.data.detail || result.data.title || result.status});
  }

  // --- the spiffworkflow moddle extension: every element of the namespace the engine knows, so none
  // is dropped on import (an unknown element of a known namespace would be), and our properties as
  // spiffworkflow:properties / spiffworkflow:property name= value=. ------------------------------

  function bodyType(name) {
    return {name: name, superClass: ["Element"], properties: [{name: "value", type: "String", isBody: true}]};
  }
  var SPIFFWORKFLOW = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: {tagAlias: "lowerCase"}, associations: [],
    types: [
      {name: "Properties", superClass: ["Element"], properties: [{name: "properties", type: "Property", isMany: true}]},
      {name: "Property", properties: [{name: "name", type: "String", isAttr: true},
                                      {name: "value", type: "String", isAttr: true}]},
      {name: "ServiceTaskOperator", superClass: ["Element"], properties: [
        {name: "id", type: "String", isAttr: true}, {name: "resultVariable", type: "String", isAttr: true},
        {name: "parameters", type: "Parameters"}]},
      {name: "Parameters", properties: [{name: "parameters", type: "Parameter", isMany: true}]},
      {name: "Parameter", properties: [{name: "id", type: "String", isAttr: true},
                                       {name: "type", type: "String", isAttr: true},
                                       {name: "value", type: "String", isAttr: true}]},
      {name: "UnitTests", superClass: ["Element"], properties: [{name: "unitTests", type: "UnitTest", isMany: true}]},
      {name: "UnitTest", properties: [{name: "id", type: "String", isAttr: true},
                                      {name: "inputJson", type: "InputJson"},
                                      {name: "expectedOutputJson", type: "ExpectedOutputJson"}]},
      bodyType("InputJson"), bodyType("ExpectedOutputJson"), bodyType("MessageVariable"), bodyType("MessagePayload"),
      bodyType("PreScript"), bodyType("PostScript"), bodyType("CalledDecisionId"), bodyType("InstructionsForEndUser"),
      bodyType("SignalPayload"), bodyType("VariableName"), bodyType("AllowGuest"), bodyType("GuestConfirmation")
    ]
  };

  function is(bo, type) { return !!bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type); }

  function extensionValue(owner, type) {
    var ext = owner && owner.extensionElements;
    return ext ? (ext.values || []).filter(function (v) { return is(v, type); })[0] : undefined;
  }

  function getProperty(bo, name) {
    var props = extensionValue(bo, "spiffworkflow:Properties");
    var found = props ? (props.properties || []).filter(function (p) { return p.name === name; })[0] : null;
    return found && found.value ? found.value : "";
  }

  // --- bpmn-js set-up ----------------------------------------------------------------------------

  function translate(template, replacements) {
    var out = (T.bpmn && T.bpmn[template]) || template;
    return out.replace(/{([^}]+)}/g, function (whole, key) {
      return replacements && replacements[key] !== undefined ? replacements[key] : whole;
    });
  }

  // The palette offers the two task types nearly every step of our processes is.
  function TaskPalette(palette, create, elementFactory, translateText) {
    this.getPaletteEntries = function () {
      function entry(type, className, title) {
        function start(event) { create.start(event, elementFactory.createShape({type: type})); }
        return {group: "activity", className: className, title: translateText(title),
                action: {dragstart: start, click: start}};
      }
      return {
        "create.gc-user-task": entry("bpmn:UserTask", "bpmn-icon-user-task gc-palette-user-task", "Create user task"),
        "create.gc-service-task": entry("bpmn:ServiceTask", "bpmn-icon-service-task gc-palette-service-task",
                                        "Create service task")
      };
    };
    palette.registerProvider(this);
  }
  TaskPalette.$inject = ["palette", "create", "elementFactory", "translate"];

  var svc = {};  // bpmn-js services, once the modeler exists

  function createModeler() {
    modeler = new window.BpmnJS({
      container: ui.canvas,
      moddleExtensions: {spiffworkflow: SPIFFWORKFLOW},
      additionalModules: [
        {translate: ["value", translate]},
        {__init__: ["gcTaskPalette"], gcTaskPalette: ["type", TaskPalette]}
      ]
    });
    ["canvas", "modeling", "elementRegistry", "selection", "eventBus", "commandStack", "bpmnFactory", "moddle"]
      .forEach(function (name) { svc[name] = modeler.get(name); });
    // Several property changes as one step of the undo history.
    svc.commandStack.register("gc.batch", {preExecute: function (context) { context.changes(); }});
    svc.eventBus.on("commandStack.changed", trackChanges);
    svc.eventBus.on("selection.changed", function (event) { scheduleRender(event.newSelection); });
    svc.eventBus.on("elements.changed", function (event) {
      if (panelElement && event.elements.indexOf(panelElement) !== -1) { scheduleRender(); }
    });
    // Keyboard shortcuts (undo, redo, delete, tools) work while the canvas has the focus.
    ui.canvas.addEventListener("mousedown", function () { svc.canvas.focus(); });
  }

  function batch(changes) { svc.commandStack.execute("gc.batch", {changes: changes}); }

  // Writes our properties on `owner` (the element's business object unless given): "" removes one.
  function setProperties(element, values, owner) {
    owner = owner || element.businessObject;
    batch(function () {
      var modeling = svc.modeling;
      var ext = owner.extensionElements;
      if (!ext) {
        ext = svc.bpmnFactory.create("bpmn:ExtensionElements", {values: []});
        ext.$parent = owner;
        modeling.updateModdleProperties(element, owner, {extensionElements: ext});
      }
      var props = extensionValue(owner, "spiffworkflow:Properties");
      if (!props) {
        props = svc.moddle.create("spiffworkflow:Properties", {properties: []});
        props.$parent = ext;
        modeling.updateModdleProperties(element, ext, {values: (ext.values || []).concat([props])});
      }
      var list = (props.properties || []).slice(), changed = false;
      Object.keys(values).forEach(function (name) {
        var value = values[name] === undefined || values[name] === null ? "" : String(values[name]).trim();
        var existing = list.filter(function (p) { return p.name === name; })[0];
        if (existing && value) {
          if (existing.value !== value) { modeling.updateModdleProperties(element, existing, {value: value}); }
        } else if (existing) {
          list = list.filter(function (p) { return p !== existing; });
          changed = true;
        } else if (value) {
          var property = svc.moddle.create("spiffworkflow:Property", {name: name, value: value});
          property.$parent = props;
          list.push(property);
          changed = true;
        }
      });
      if (changed) { modeling.updateModdleProperties(element, props, {properties: list}); }
      if (!list.length) { removeExtension(element, owner, props); }
    });
  }

  // Drops an extension element, and extensionElements itself once empty (so nothing is left behind).
  function removeExtension(element, owner, value) {
    var ext = owner.extensionElements;
    if (!ext) { return; }
    var rest = (ext.values || []).filter(function (v) { return v !== value; });
    if (rest.length) {
      svc.modeling.updateModdleProperties(element, ext, {values: rest});
    } else {
      svc.modeling.updateModdleProperties(element, owner, {extensionElements: undefined});
    }
  }

  function setHandler(element, handler) {
    var bo = element.businessObject;
    batch(function () {
      var operator = extensionValue(bo, "spiffworkflow:ServiceTaskOperator");
      if (!handler) { if (operator) { removeExtension(element, bo, operator); } return; }
      if (operator) { svc.modeling.updateModdleProperties(element, operator, {id: handler}); return; }
      var ext = bo.extensionElements;
      if (!ext) {
        ext = svc.bpmnFactory.create("bpmn:ExtensionElements", {values: []});
        ext.$parent = bo;
        svc.modeling.updateModdleProperties(element, bo, {extensionElements: ext});
      }
      operator = svc.moddle.create("spiffworkflow:ServiceTaskOperator", {id: handler});
      operator.$parent = ext;
      svc.modeling.updateModdleProperties(element, ext, {values: [operator].concat(ext.values || [])});
    });
  }

  function setBodyExtension(element, owner, type, value) {
    value = (value || "").trim();
    batch(function () {
      var existing = extensionValue(owner, type);
      if (!value) { if (existing) { removeExtension(element, owner, existing); } return; }
      if (existing) { svc.modeling.updateModdleProperties(element, existing, {value: value}); return; }
      var ext = owner.extensionElements;
      if (!ext) {
        ext = svc.bpmnFactory.create("bpmn:ExtensionElements", {values: []});
        ext.$parent = owner;
        svc.modeling.updateModdleProperties(element, owner, {extensionElements: ext});
      }
      var created = svc.moddle.create(type, {value: value});
      created.$parent = ext;
      svc.modeling.updateModdleProperties(element, ext, {values: (ext.values || []).concat([created])});
    });
  }

  // --- unsaved changes: positions in the command stack; the saved one may become unreachable ------

  var position = 0, savedPosition = 0;

  function trackChanges(event) {
    if (event.trigger === "execute") {
      if (position < savedPosition) { savedPosition = -1; }
      position += 1;
    } else if (event.trigger === "undo") {
      position -= 1;
    } else if (event.trigger === "redo") {
      position += 1;
    } else if (event.trigger === "clear") {
      position = 0; savedPosition = 0;
    }
    showDirty();
  }

  function isDirty() { return !!modeler && position !== savedPosition; }

  // Shown and hidden without moving the page: the canvas under the mouse must stay where it is.
  function showDirty() { ui.dirty.classList.toggle("invisible", !isDirty()); }

  window.addEventListener("beforeunload", function (event) {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = T.leaveWarning;
      return T.leaveWarning;
    }
  });

  // --- the properties panel ------------------------------------------------------------------------

  var panelElement = null, renderTimer = null, timerTypes = {};

  function scheduleRender(selection) {
    if (selection) {
      panelElement = selection.length === 1 ? selection[0] : (selection.length ? null : svc.canvas.getRootElement());
      if (panelElement && panelElement.labelTarget) { panelElement = panelElement.labelTarget; }
    }
    // After the event that caused it, so a Tab out of a changed field lands where it should.
    clearTimeout(renderTimer);
    renderTimer = setTimeout(renderPanel, 0);
  }

  function renderPanel() {
    var active = document.activeElement;
    var focused = active && ui.panel.contains(active) ? active.id : null;
    ui.panel.textContent = "";
    var element = panelElement;
    if (!element || !svc.elementRegistry.get(element.id)) {
      ui.panel.appendChild(h("p", {"class": "small text-body-secondary", text: P.nothing}));
      return;
    }
    var bo = element.businessObject;
    buildFields(element, bo).forEach(function (node) { ui.panel.appendChild(node); });
    if (focused && $(focused)) { $(focused).focus(); }
  }

  function fieldId(name) { return "gc-field-" + name; }

  function group(name, label, control, help, problem) {
    var helpId = help ? fieldId(name) + "-help" : null;
    var problemId = problem ? fieldId(name) + "-problem" : null;
    var described = [helpId, problemId].filter(Boolean).join(" ");
    if (described) { control.setAttribute("aria-describedby", described); }
    if (problem) { control.classList.add("is-invalid"); }
    var children = [h("label", {"class": "form-label small mb-1", "for": fieldId(name), text: label}), control];
    if (problem) { children.push(h("div", {"class": "invalid-feedback", id: problemId, text: problem})); }
    if (help) { children.push(h("div", {"class": "form-text", id: helpId, text: help})); }
    return h("div", {"class": "mb-2"}, children);
  }

  function input(name, value, onchange, attrs) {
    var node = h("input", Object.assign({type: "text", "class": "form-control form-control-sm", id: fieldId(name),
                                         autocomplete: "off"}, attrs || {}));
    node.value = value || "";
    node.addEventListener("change", function () { onchange(node.value, node); });
    return node;
  }

  function textarea(name, value, onchange) {
    var node = h("textarea", {"class": "form-control form-control-sm font-monospace", id: fieldId(name), rows: "2"});
    node.value = value || "";
    node.addEventListener("change", function () { onchange(node.value, node); });
    return node;
  }

  // options: [{value, label}]; a value the catalog does not know stays visible, marked as such.
  function select(name, options, value, onchange, emptyLabel) {
    var node = h("select", {"class": "form-select form-select-sm", id: fieldId(name)});
    if (emptyLabel !== null) { node.appendChild(h("option", {value: "", text: emptyLabel || P.none})); }
    var known = false;
    options.forEach(function (option) {
      if (option.value === value) { known = true; }
      node.appendChild(h("option", {value: option.value, text: option.label}));
    });
    if (value && !known) { node.appendChild(h("option", {value: value, text: text(P.notInCatalog, {value: value})})); }
    node.value = value || "";
    node.addEventListener("change", function () { onchange(node.value, node); });
    return node;
  }

  function plain(list) { return list.map(function (v) { return {value: v, label: v}; }); }

  function laneOf(bo) {
    var found = null;
    svc.elementRegistry.filter(function (e) { return e.type === "bpmn:Lane"; }).forEach(function (lane) {
      if ((lane.businessObject.flowNodeRef || []).indexOf(bo) !== -1) { found = lane.businessObject; }
    });
    return found;
  }

  function processOf(element) {
    var bo = element.businessObject;
    if (is(bo, "bpmn:Participant")) { return bo.processRef; }
    if (is(bo, "bpmn:Process")) { return bo; }
    if (is(bo, "bpmn:Collaboration")) {
      var withProcess = (bo.participants || []).filter(function (p) { return p.processRef; })[0];
      return withProcess ? withProcess.processRef : null;
    }
    return null;
  }

  function buildFields(element, bo) {
    var nodes = [h("p", {"class": "modeler-element-type mb-2"}, [P.type + ": ", h("strong", {text: P.types[bo.$type] || bo.$type})])];
    var process = processOf(element);
    if (process) {
      nodes.push(group("process-id", P.processId, input("process-id", process.id, function () {}, {readonly: true})));
      nodes.push(group("name", P.processName, input("name", process.name || bo.name, function (value) {
        batch(function () {
          if (is(bo, "bpmn:Participant")) { svc.modeling.updateLabel(element, value); }
          svc.modeling.updateModdleProperties(element, process, {name: value || undefined});
        });
      })));
      nodes.push(h("p", {"class": "small text-body-secondary", text: P.startHint}));
      return nodes;
    }
    nodes.push(idField(element, bo));
    if (!is(bo, "bpmn:Association") && !is(bo, "bpmn:Group")) {
      var nameControl = is(bo, "bpmn:TextAnnotation")
        ? textarea("name", bo.text, function (value) { svc.modeling.updateLabel(element, value); })
        : input("name", bo.name, function (value) { svc.modeling.updateLabel(element, value); });
      nodes.push(group("name", P.name, nameControl));
    }
    if (is(bo, "bpmn:Lane")) { nodes.push(h("p", {"class": "small text-body-secondary", text: P.laneHint})); }
    if (is(bo, "bpmn:UserTask")) { nodes = nodes.concat(userTaskFields(element, bo)); }
    if (is(bo, "bpmn:ServiceTask")) { nodes = nodes.concat(serviceTaskFields(element, bo)); }
    if (is(bo, "bpmn:StartEvent")) { nodes = nodes.concat(startFields(element, bo)); }
    if (is(bo, "bpmn:Event")) { nodes = nodes.concat(eventDefinitionFields(element, bo)); }
    if (is(bo, "bpmn:SequenceFlow")) { nodes = nodes.concat(flowFields(element, bo)); }
    if (is(bo, "bpmn:FlowNode")) { nodes = nodes.concat(statusFields(element, bo)); }
    return nodes;
  }

  function idField(element, bo) {
    return group("id", P.id, input("id", bo.id, function (value, node) {
      value = value.trim();
      var problem = null;
      if (!/^[A-Za-z_][\w.-]*$/.test(value)) { problem = P.idInvalid; }
      else if (value !== bo.id && (svc.elementRegistry.get(value) || svc.moddle.ids.assigned(value))) {
        problem = P.idTaken;
      }
      fieldProblem(node, problem);
      if (!problem && value !== bo.id) { svc.modeling.updateProperties(element, {id: value}); }
    }));
  }

  // What is wrong with a value the panel did not take, next to the field (the value stays as typed).
  function fieldProblem(control, problem) {
    var problemId = control.id + "-problem";
    var old = $(problemId);
    if (old) { old.remove(); }
    control.classList.toggle("is-invalid", !!problem);
    var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== problemId;
    });
    if (problem) {
      control.parentNode.insertBefore(h("div", {"class": "invalid-feedback", id: problemId, text: problem}),
                                      control.nextSibling);
      described.unshift(problemId);
    }
    if (described.length) { control.setAttribute("aria-describedby", described.join(" ")); }
    else { control.removeAttribute("aria-describedby"); }
  }

  function propertySetter(element, name, owner) {
    return function (value) { var values = {}; values[name] = value; setProperties(element, values, owner); };
  }

  function formField(name, label, element, bo) {
    var value = getProperty(bo, "formKey");
    var forms = state.catalog.forms;
    var unknown = value && forms.length && !forms.some(function (f) { return f.key === value; });
    var control = input(name, value, propertySetter(element, "formKey"), {list: "gc-forms-list"});
    var list = h("datalist", {id: "gc-forms-list"}, forms.map(function (f) {
      return h("option", {value: f.key, label: f.title ? f.title + " (" + f.key + ")" : f.key});
    }));
    var wrapper = group(name, label, control, P.formKeyHelp, unknown ? P.formUnknown : null);
    wrapper.appendChild(list);
    return wrapper;
  }

  function slaField(name, label, element, bo) {
    return group(name, label, input(name, getProperty(bo, "slaDays"), function (value, node) {
      value = value.trim();
      var wrong = (value && !/^\d+$/.test(value)) || node.validity.badInput;
      fieldProblem(node, wrong ? P.slaInvalid : null);
      if (!wrong) { setProperties(element, {slaDays: value}); }
    }, {type: "number", min: "0", step: "1", inputmode: "numeric"}));
  }

  function checkField(element, bo) {
    return group("check", P.check, select("check", plain(state.catalog.checks), getProperty(bo, "check"),
                                          propertySetter(element, "check")));
  }

  function userTaskFields(element, bo) {
    var lane = laneOf(bo);
    var laneName = lane && lane.name ? lane.name : "";
    var defaultActor = laneName.toLowerCase() === "applicant" ? "applicant" : "staff";
    return [
      formField("formKey", P.formKey, element, bo),
      group("candidateGroup", P.candidateGroup, select("candidateGroup", state.catalog.groups.map(function (g) {
        return {value: g.code, label: g.name ? g.name + " (" + g.code + ")" : g.code};
      }), getProperty(bo, "candidateGroup"), propertySetter(element, "candidateGroup"),
      laneName ? text(P.byLane, {lane: laneName}) : P.noLane)),
      group("actor", P.actor, select("actor", state.catalog.actors.map(function (a) {
        return {value: a, label: (P.actors[a] || a) + " (" + a + ")"};
      }), getProperty(bo, "actor"), propertySetter(element, "actor"),
      text(P.actorDefault, {actor: P.actors[defaultActor] || defaultActor}))),
      slaField("slaDays", P.slaDays, element, bo),
      checkField(element, bo)
    ];
  }

  function serviceTaskFields(element, bo) {
    var operator = extensionValue(bo, "spiffworkflow:ServiceTaskOperator");
    var nodes = [
      group("handler", P.handler, select("handler", plain(state.catalog.handlers), operator ? operator.id : "",
                                         function (value) { setHandler(element, value); }, P.notChosen))
    ];
    if (operator) {
      nodes.push(group("resultVariable", P.resultVariable, input("resultVariable", operator.resultVariable,
        function (value) { svc.modeling.updateModdleProperties(element, operator, {resultVariable: value.trim() || undefined}); })));
    }
    nodes.push(group("document", P.document, input("document", getProperty(bo, "document"),
                                                   propertySetter(element, "document")), P.documentHelp));
    return nodes;
  }

  function startFields(element, bo) {
    return [
      group("casePrefix", P.casePrefix, input("casePrefix", getProperty(bo, "casePrefix"),
                                              propertySetter(element, "casePrefix"), {maxlength: "10"})),
      formField("formKey", P.startForm, element, bo),
      slaField("slaDays", P.caseSlaDays, element, bo),
      checkField(element, bo),
      group("applicantAccount", P.applicantAccount, select("applicantAccount", [{value: "none", label: P.accountNone}],
        getProperty(bo, "applicantAccount"), propertySetter(element, "applicantAccount"), P.accountChoose))
    ];
  }

  function statusFields(element, bo) {
    return [
      group("statusLabel", P.statusLabel, input("statusLabel", getProperty(bo, "statusLabel"),
                                                propertySetter(element, "statusLabel")), P.statusHelp),
      group("statusLabelEn", P.statusLabelEn, input("statusLabelEn", getProperty(bo, "statusLabelEn"),
                                                    propertySetter(element, "statusLabelEn"), {lang: "en"}))
    ];
  }

  function diagramMessages() {
    var defs = modeler.getDefinitions();
    return (defs.rootElements || []).filter(function (e) { return is(e, "bpmn:Message"); });
  }

  function setMessage(element, definition, name) {
    batch(function () {
      if (!name) { svc.modeling.updateModdleProperties(element, definition, {messageRef: undefined}); return; }
      var message = diagramMessages().filter(function (m) { return (m.name || m.id) === name; })[0];
      if (!message) {
        var defs = modeler.getDefinitions();
        var attrs = {name: name};
        if (/^[A-Za-z_][\w.-]*$/.test(name) && !svc.moddle.ids.assigned(name) && !svc.elementRegistry.get(name)) {
          attrs.id = name;
        }
        message = svc.bpmnFactory.create("bpmn:Message", attrs);
        message.$parent = defs;
        svc.modeling.updateModdleProperties(element, defs, {rootElements: (defs.rootElements || []).concat([message])});
      }
      svc.modeling.updateModdleProperties(element, definition, {messageRef: message});
    });
  }

  function eventDefinitionFields(element, bo) {
    var nodes = [];
    (bo.eventDefinitions || []).forEach(function (definition) {
      if (is(definition, "bpmn:MessageEventDefinition")) {
        var names = diagramMessages().map(function (m) { return m.name || m.id; });
        state.catalog.messages.forEach(function (m) { if (names.indexOf(m) === -1) { names.push(m); } });
        var current = definition.messageRef ? (definition.messageRef.name || definition.messageRef.id) : "";
        nodes.push(group("messageRef", P.message, select("messageRef", plain(names), current, function (value) {
          setMessage(element, definition, value);
        }, P.notChosen)));
        var variable = extensionValue(definition, "spiffworkflow:MessageVariable");
        nodes.push(group("messageVariable", P.messageVariable, input("messageVariable", variable ? variable.value : "",
          function (value) { setBodyExtension(element, definition, "spiffworkflow:MessageVariable", value); })));
      }
      if (is(definition, "bpmn:TimerEventDefinition")) { nodes = nodes.concat(timerFields(element, definition)); }
    });
    return nodes;
  }

  function timerFields(element, definition) {
    var kinds = ["timeDuration", "timeDate", "timeCycle"];
    var kind = kinds.filter(function (k) { return definition[k]; })[0] || timerTypes[element.id] || "timeDuration";
    var expression = definition[kind] ? definition[kind].body || "" : "";
    function write(newKind, body) {
      var props = {timeDuration: undefined, timeDate: undefined, timeCycle: undefined};
      body = (body || "").trim();
      if (body) { props[newKind] = svc.bpmnFactory.create("bpmn:FormalExpression", {body: body}); }
      svc.modeling.updateModdleProperties(element, definition, props);
    }
    var typeSelect = select("timerType", kinds.map(function (k) { return {value: k, label: P.timerTypes[k]}; }), kind,
                            function (value) { timerTypes[element.id] = value; write(value, $(fieldId("timerExpression")).value); },
                            null);
    return [
      group("timerType", P.timerType, typeSelect),
      group("timerExpression", P.timerExpression, input("timerExpression", expression, function (value) {
        write(typeSelect.value, value);
      }, {"class": "form-control form-control-sm font-monospace"}), P.timerHelp)
    ];
  }

  function flowFields(element, bo) {
    var source = bo.sourceRef;
    if (!is(source, "bpmn:ExclusiveGateway") && !is(source, "bpmn:InclusiveGateway")) { return []; }
    var sourceShape = svc.elementRegistry.get(source.id);
    var isDefault = source["default"] === bo;
    var condition = textarea("condition", bo.conditionExpression ? bo.conditionExpression.body : "", function (value) {
      value = value.trim();
      svc.modeling.updateProperties(element, {conditionExpression: value
        ? svc.bpmnFactory.create("bpmn:FormalExpression", {body: value}) : undefined});
    });
    if (isDefault) { condition.disabled = true; }
    var checkbox = h("input", {type: "checkbox", "class": "form-check-input", id: fieldId("default")});
    checkbox.checked = isDefault;
    checkbox.addEventListener("change", function () {
      batch(function () {
        if (checkbox.checked) {
          svc.modeling.updateProperties(element, {conditionExpression: undefined});
          svc.modeling.updateProperties(sourceShape, {"default": bo});
        } else {
          svc.modeling.updateProperties(sourceShape, {"default": undefined});
        }
      });
    });
    return [
      group("condition", P.condition, condition, P.conditionHelp),
      h("div", {"class": "form-check mb-2"}, [checkbox, h("label", {"class": "form-check-label small", "for": fieldId("default"),
                                                                   text: P.defaultFlow})])
    ];
  }

  // --- validation results --------------------------------------------------------------------------

  function shapeFor(id) {
    if (!id || !modeler) { return null; }
    var found = svc.elementRegistry.get(id);
    if (found) { return found; }
    return svc.elementRegistry.filter(function (e) {
      return is(e.businessObject, "bpmn:Participant") && e.businessObject.processRef && e.businessObject.processRef.id === id;
    })[0] || null;
  }

  function clearProblems() {
    state.problemMarkers.forEach(function (mark) {
      if (svc.elementRegistry.get(mark.id)) { svc.canvas.removeMarker(mark.id, mark.cls); }
    });
    state.problemMarkers = [];
    ui.problemsList.textContent = "";
    ui.problemsSummary.textContent = "";
    ui.problems.hidden = true;
  }

  function showProblems(problems) {
    clearProblems();
    problems = (problems || []).slice().sort(function (a, b) {
      return (a.severity === "error" ? 0 : 1) - (b.severity === "error" ? 0 : 1);
    });
    var errors = problems.filter(function (p) { return p.severity === "error"; }).length;
    ui.problems.hidden = false;
    ui.problemsSummary.textContent = problems.length
      ? text(T.problemsSummary, {errors: errors, warnings: problems.length - errors}) : T.noProblems;
    problems.forEach(function (problem) {
      var isError = problem.severity === "error";
      var shape = shapeFor(problem.element);
      var what = shape ? ((shape.businessObject.name || "").trim() || shape.id) : (problem.element || T.wholeDiagram);
      var content = [
        h("span", {"class": "badge me-2 " + (isError ? "text-bg-danger" : "text-bg-warning"),
                   text: isError ? T.error : T.warning}),
        h("strong", {text: what}),
        shape && what !== shape.id ? h("code", {"class": "ms-1", text: shape.id}) : null,
        " — " + (problem.message || "")
      ];
      var item;
      if (shape) {
        var cls = isError ? "gc-problem-error" : "gc-problem-warning";
        svc.canvas.addMarker(shape, cls);
        state.problemMarkers.push({id: shape.id, cls: cls});
        item = h("li", {"class": "list-group-item p-0"}, [
          h("button", {type: "button", "class": "btn btn-link text-body text-decoration-none w-100 px-3 py-2 modeler-problem",
                       "data-element": shape.id, onclick: function () { reveal(shape.id); }}, content)]);
      } else {
        item = h("li", {"class": "list-group-item"}, content);
      }
      ui.problemsList.appendChild(item);
    });
  }

  function reveal(id) {
    var shape = svc.elementRegistry.get(id);
    if (!shape) { return; }
    svc.selection.select(shape);
    svc.canvas.scrollToElement(shape, {top: 120, bottom: 120, left: 120, right: 120});
  }

  // --- draft, conflict, deploy and download --------------------------------------------------------

  function setBusy(busy) {
    state.busy = busy;
    var editing = !!modeler && !state.blocked;
    ui.save.disabled = busy || !editing;
    ui.deploy.disabled = busy || !editing;
    ui.validate.disabled = busy || !modeler;
    ui.fit.disabled = !modeler;
    ui.download.disabled = busy || !(modeler || state.xml);
  }

  function showState() {
    ui.state.textContent = state.isDraft
      ? text(T.stateDraft, {revision: state.revision, who: state.updatedBy || T.someone,
                            when: formatMoment(state.updatedAt), version: state.baseVersion})
      : text(T.stateDeployed, {version: state.baseVersion || CONFIG.deployedVersion});
  }

  function takeDraft(data) {
    state.xml = data.xml;
    state.revision = data.revision || 0;
    state.isDraft = !!data.is_draft;
    state.baseVersion = data.base_version;
    state.updatedBy = data.updated_by;
    state.updatedAt = data.updated_at;
    showState();
  }

  function loadDraft() {
    return call("GET", CONFIG.urls.draft).then(function (result) {
      if (!result.ok) { say("danger", text(T.loadError, {reason: result.data.detail || result.status})); return false; }
      takeDraft(result.data);
      return true;
    });
  }

  function importDiagram() {
    var prepared = window.GridCaseLayout.withLayout(state.xml);
    return modeler.importXML(prepared.xml).then(function (result) {
      var lost = (result.warnings || []).filter(function (w) { return /unparsable content|unknown type/.test(w.message); });
      state.blocked = lost.length ? text(T.unparsable, {details: lost.map(function (w) {
        return w.message.split("\n")[0];
      }).join("; ")}) : null;
      svc.commandStack.clear();
      position = 0; savedPosition = 0; showDirty();
      clearProblems();
      fitDiagram(true);
      panelElement = svc.canvas.getRootElement();
      scheduleRender();
      if (state.blocked) { say("danger", state.blocked); } else if (prepared.generated) { say("info", T.layoutGenerated); }
      setBusy(false);
    }, function (error) {
      state.blocked = text(T.loadError, {reason: error.message});
      say("danger", state.blocked);
      setBusy(false);
    });
  }

  // The whole diagram in view, clear of the palette on the left. `readable` keeps the scale from
  // going below what can be read: a long process then opens at its start.
  function fitDiagram(readable) {
    var canvas = svc.canvas;
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox(), inner = box.inner, outer = box.outer;
    if (!inner.width || !inner.height) { return; }
    var left = 130, margin = 30;
    var scale = Math.min((outer.width - left - margin) / inner.width, (outer.height - 2 * margin) / inner.height, 1);
    if (readable) { scale = Math.max(scale, 0.75); }
    canvas.viewbox({x: inner.x - left / scale, y: inner.y - margin / scale,
                    width: outer.width / scale, height: outer.height / scale});
  }

  function currentXml() {
    return modeler.saveXML({format: true}).then(function (result) { return result.xml; });
  }

  function conflictOffer(data, retry) {
    state.conflictRetry = function () { retry(data.current_revision); };
    ui.conflictText.textContent = data.detail || text(T.conflict, {who: data.updated_by || T.anotherAnalyst});
    ui.conflict.hidden = false;
    ui.loadTheirs.focus();
  }

  function hideConflict() { ui.conflict.hidden = true; state.conflictRetry = null; }

  function save(revision) {
    if (state.busy || state.blocked) { return; }
    hideConflict();
    setBusy(true);
    say("info", T.saving);
    var at = position;
    currentXml().then(function (xml) {
      return call("PUT", CONFIG.urls.draft, {xml: xml, revision: revision, comment: ui.comment.value.trim()})
        .then(function (result) {
          setBusy(false);
          if (result.ok) {
            state.xml = xml;
            state.revision = result.data.revision;
            state.isDraft = true;
            state.updatedBy = CONFIG.user;
            state.updatedAt = result.data.updated_at;
            savedPosition = at;
            showDirty();
            showState();
            say("success", text(T.saved, {revision: result.data.revision}));
          } else if (result.status === 409 && result.data.current_revision !== undefined) {
            say("", "");
            conflictOffer(result.data, save);
          } else {
            say("danger", refusal(result));
          }
        });
    });
  }

  function validate() {
    if (state.busy) { return; }
    setBusy(true);
    say("info", T.validating);
    currentXml().then(function (xml) {
      return call("POST", CONFIG.urls.validate, {xml: xml}).then(function (result) {
        setBusy(false);
        if (!result.ok) { say("danger", refusal(result)); return; }
        say("", "");
        // The summary is a live region: read out without moving the page away from the diagram.
        showProblems(result.data.problems);
        // A form or a group may have been made meanwhile (in the form editor, in another tab): the
        // panel's choices follow what the server now knows, as the validation just did.
        loadCatalog().then(function () { scheduleRender(); });
      });
    });
  }

  function deploy(revision) {
    if (state.busy || state.blocked) { return; }
    hideConflict();
    setBusy(true);
    say("info", T.deploying);
    var comment = ui.comment.value.trim();
    var at = position;
    currentXml().then(function (xml) {
      return call("POST", CONFIG.urls.deploy, {xml: xml, comment: comment, revision: revision}).then(function (result) {
        setBusy(false);
        if (result.ok) {
          state.xml = xml;
          state.revision = 0;
          state.isDraft = false;
          state.baseVersion = result.data.version;
          savedPosition = at;
          showDirty();
          showState();
          clearProblems();
          ui.comment.value = "";
          addVersionRow(result.data.version, comment);
          say("success", text(T.deployed, {version: result.data.version}));
        } else if (result.status === 422 && result.data.problems) {
          showProblems(result.data.problems);
          say("danger", result.data.detail || T.deployRefused);
        } else if (result.status === 409 && result.data.current_revision !== undefined) {
          say("", "");
          conflictOffer(result.data, deploy);
        } else {
          say("danger", refusal(result));
        }
      });
    });
  }

  function addVersionRow(version, comment) {
    ui.versions.querySelectorAll(".badge.text-bg-success").forEach(function (badge) { badge.remove(); });
    var row = h("tr", {"class": "table-success"}, [
      h("th", {scope: "row"}, [String(version) + " ", h("span", {"class": "badge text-bg-success",
                                                                 text: ui.versions.dataset.current || ""})]),
      h("td", {text: T.justNow}), h("td", {text: CONFIG.user || "—"}), h("td", {text: comment || "—"}),
      h("td", {"class": "text-end", text: "0"}), h("td")
    ]);
    // The file of the new version sits next to the others': /versions/<n>.bpmn.
    var sample = ui.versions.querySelector("a[href$='.bpmn']");
    if (sample) {
      var link = h("a", {href: sample.getAttribute("href").replace(/\d+\.bpmn$/, version + ".bpmn"), download: true,
                         "aria-label": sample.getAttribute("aria-label").replace(/\d+/, String(version)), text: ".bpmn"});
      row.lastChild.appendChild(link);
    }
    ui.versions.insertBefore(row, ui.versions.firstChild);
  }

  function download() {
    var produce = modeler ? currentXml() : Promise.resolve(state.xml);
    produce.then(function (xml) {
      if (!xml) { return; }
      var url = URL.createObjectURL(new Blob([xml], {type: "application/xml"}));
      var link = h("a", {href: url, download: CONFIG.key + ".bpmn", hidden: true});
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  }

  function loadCatalog() {
    return call("GET", CONFIG.urls.catalog).then(function (result) {
      if (!result.ok) { say("warning", T.catalogError); return; }
      var data = result.data;
      state.catalog = {
        forms: data.forms || [], groups: data.groups || [], handlers: data.handlers || [], checks: data.checks || [],
        messages: data.messages || [], actors: data.actors && data.actors.length ? data.actors : ["staff", "applicant"]
      };
    });
  }

  // --- start-up ------------------------------------------------------------------------------------

  function startEditor() {
    if (modeler || !window.BpmnJS || !state.xml) { return Promise.resolve(); }
    createModeler();
    return importDiagram();
  }

  ui.save.addEventListener("click", function () { save(state.revision); });
  ui.validate.addEventListener("click", validate);
  ui.download.addEventListener("click", download);
  ui.fit.addEventListener("click", function () { if (modeler) { fitDiagram(); } });
  ui.deployForm.addEventListener("submit", function (event) { event.preventDefault(); deploy(state.revision); });
  ui.overwrite.addEventListener("click", function () { if (state.conflictRetry) { state.conflictRetry(); } });
  ui.loadTheirs.addEventListener("click", function () {
    hideConflict();
    setBusy(true);
    loadDraft().then(function (ok) {
      if (!ok) { setBusy(false); return; }
      (modeler ? importDiagram() : Promise.resolve()).then(function () {
        if (!state.blocked) { say("info", T.theirsLoaded); }
      });
    });
  });
  document.querySelectorAll("#modeler-versions time[datetime]").forEach(function (node) {
    node.textContent = formatMoment(node.getAttribute("datetime"));
  });
  ui.versions.dataset.current = (document.querySelector("#modeler-versions .badge.text-bg-success") || {}).textContent || "";

  setBusy(true);
  Promise.all([loadDraft(), loadCatalog()]).then(function (results) {
    if (!results[0]) { setBusy(false); return; }
    if (wide.matches) { startEditor(); } else { setBusy(false); }
  });
  // A tablet turned sideways, or a window made wider, gets the editor then.
  wide.addEventListener("change", function () { if (wide.matches && state.xml) { startEditor(); } });
}());
