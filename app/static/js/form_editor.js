/* The form editor (processes/form_editor.html).
 *
 * The form is one JSON object, `state`, in the format of bpmn/forms/README.md. The field list edits the
 * common parts of each field and leaves every other key as it is; the JSON tab edits all of it. After
 * each edit the server renders the preview with the task pages' own template, or answers with the
 * problems, which are shown at their fields. Deploying sends the same object with a comment.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("form-editor-config").textContent);
  const T = JSON.parse(document.getElementById("form-editor-texts").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // Which keys each type takes, besides those every field may have (workflows/forms/loader.py).
  const COMMON = ["name", "type", "label", "help", "required", "required_if", "default"];
  const TYPE_KEYS = {
    text: ["min_length", "max_length", "pattern", "pattern_message"],
    textarea: ["min_length", "max_length"],
    number: ["min", "max"],
    decimal: ["min", "max"],
    date: ["min", "max"],
    choice: ["choices", "choices_from"],
    multichoice: ["choices"],
    yesno: [],
    file: ["accept", "max_mb"],
    table: ["columns", "min_rows", "max_rows"],
  };
  const PREVIEW_DELAY = 400;

  const $ = (id) => document.getElementById(id);
  const ui = {
    key: $("fe-key"), titleRu: $("fe-title-ru"), titleEn: $("fe-title-en"),
    fields: $("fe-fields"), newType: $("fe-new-type"), add: $("fe-add"),
    tabFields: $("fe-tab-fields"), tabJson: $("fe-tab-json"),
    panelFields: $("fe-panel-fields"), panelJson: $("fe-panel-json"),
    json: $("fe-json"), jsonProblem: $("fe-json-problem"),
    problems: $("fe-problems"), problemList: $("fe-problem-list"),
    preview: $("fe-preview"), lang: $("fe-preview-lang"),
    comment: $("fe-comment"), deploy: $("fe-deploy"), status: $("fe-status"), versions: $("fe-versions"),
  };

  let state = JSON.parse(JSON.stringify(config.definition));
  let problems = [];
  let dirty = false;
  let timer = null;
  let controller = null;
  let sequence = 0;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function fields() {
    return isObject(state) && Array.isArray(state.fields) ? state.fields : null;
  }

  function say(message, kind) {
    ui.status.className = `alert alert-${kind}`;
    ui.status.textContent = message;
  }

  function changed() {
    dirty = true;
    schedulePreview();
  }

  // --- the head: key and title -----------------------------------------------------------------------

  function syncHead() {
    const head = isObject(state) ? state : {};
    ui.key.value = typeof head.key === "string" ? head.key : "";
    const title = isObject(head.title) ? head.title : {};
    ui.titleRu.value = typeof title.ru === "string" ? title.ru : "";
    ui.titleEn.value = typeof title.en === "string" ? title.en : "";
  }

  function setText(target, key, lang, value, optional) {
    if (!isObject(target[key])) target[key] = { ru: "", en: "" };
    target[key][lang] = value;
    if (optional && !target[key].ru && !target[key].en) delete target[key];
  }

  ui.key.addEventListener("input", () => {
    if (!isObject(state) || ui.key.readOnly) return;
    state.key = ui.key.value.trim();
    changed();
  });
  for (const [node, lang] of [[ui.titleRu, "ru"], [ui.titleEn, "en"]]) {
    node.addEventListener("input", () => {
      if (!isObject(state)) return;
      setText(state, "title", lang, node.value);
      changed();
    });
  }

  // --- the field list --------------------------------------------------------------------------------

  function typeLabel(type) {
    return T.types[type] ? `${T.types[type]} (${type})` : String(type);
  }

  function input(id, label, value, onInput, options) {
    const opts = options || {};
    const help = opts.help ? el("div", { id: `${id}-help`, className: "form-text", text: opts.help }) : null;
    const field = el("input", {
      className: `form-control form-control-sm${opts.mono ? " font-monospace" : ""}`, id, lang: opts.lang,
      autocomplete: "off", spellcheck: opts.mono ? "false" : null, "aria-describedby": help ? `${id}-help` : null,
    });
    field.value = value === undefined || value === null ? "" : String(value);
    field.addEventListener("input", () => onInput(field.value));
    return el("div", { className: opts.wide ? "col-12" : "col-sm-6" },
      el("label", { className: "form-label small mb-1", for: id, text: label }), field, help);
  }

  function button(text, label, onClick, options) {
    const opts = options || {};
    const node = el("button", {
      type: "button", className: `btn btn-sm ${opts.danger ? "btn-outline-danger" : "btn-outline-secondary"}`,
      "aria-label": label, id: opts.id, disabled: opts.disabled, text,
    });
    node.addEventListener("click", onClick);
    return node;
  }

  function bound(field, key, raw) {
    const value = raw.trim();
    if (!value) delete field[key];
    else if ((field.type === "number" || key.endsWith("_length")) && /^-?\d+$/.test(value)) {
      field[key] = parseInt(value, 10);
    }
    else field[key] = value; // decimals and dates are strings; anything else is shown as a problem
  }

  function uniqueName(list, prefix) {
    const taken = new Set(list.map((f) => (isObject(f) ? f.name : null)));
    let number = list.length + 1;
    while (taken.has(`${prefix}_${number}`)) number += 1;
    return `${prefix}_${number}`;
  }

  function newOption(number) {
    return { value: `option_${number}`, label: { ru: `${T.newOptionRu} ${number}`, en: `${T.newOptionEn} ${number}` } };
  }

  function changeType(field, type) {
    const allowed = new Set([...COMMON, ...(TYPE_KEYS[type] || [])]);
    for (const key of Object.keys(field)) {
      if (!allowed.has(key)) delete field[key];
    }
    delete field.default; // the old default need not fit the new type
    field.type = type;
    if ((type === "choice" || type === "multichoice") && !Array.isArray(field.choices) && !field.choices_from) {
      field.choices = [newOption(1)];
    }
    if (type === "table" && !Array.isArray(field.columns)) {
      const label = { ru: `${T.newColumnRu} 1`, en: `${T.newColumnEn} 1` };
      field.columns = [{ name: "column_1", type: "text", label }];
    }
  }

  function summary(field, index) {
    const name = isObject(field) && field.name ? field.name : fmt(T.field, { number: index + 1 });
    return `${index + 1}. ${name} — ${isObject(field) ? typeLabel(field.type) : "?"}`;
  }

  function fieldName(field, index) {
    return isObject(field) && field.name ? field.name : fmt(T.field, { number: index + 1 });
  }

  function renderFields(focusId) {
    ui.fields.replaceChildren();
    const list = fields();
    if (!list) {
      ui.fields.append(el("li", { className: "alert alert-warning", text: T.notAList }));
      ui.add.disabled = true;
    } else {
      ui.add.disabled = false;
      list.forEach((field, index) => ui.fields.append(fieldCard(list, field, index)));
    }
    markProblems();
    if (focusId && $(focusId)) $(focusId).focus();
  }

  function fieldCard(list, field, index) {
    const id = `fe-f${index}`;
    const name = fieldName(field, index);
    const heading = el("h3", { className: "h6 mb-0 fe-field-summary", id: `${id}-summary`,
      text: summary(field, index) });
    const tools = el("div", { className: "btn-group", role: "group", "aria-label": name },
      button(T.up, fmt(T.moveUp, { name }), () => move(list, index, -1, "up"),
        { id: `${id}-up`, disabled: index === 0 }),
      button(T.down, fmt(T.moveDown, { name }), () => move(list, index, 1, "down"),
        { id: `${id}-down`, disabled: index === list.length - 1 }),
      button(T.delete, fmt(T.remove, { name }), () => remove(list, index), { id: `${id}-remove`, danger: true }));
    const card = el("li", { className: "card mb-3 fe-field", id, "aria-labelledby": `${id}-summary` },
      el("div", { className: "card-header d-flex flex-wrap justify-content-between align-items-center gap-2" },
        heading, tools));
    const body = el("div", { className: "card-body" });
    card.append(body);
    if (!isObject(field)) {
      body.append(el("p", { className: "mb-0", text: T.notAnObject }),
        el("div", { id: `${id}-problem`, className: "invalid-feedback d-block" }));
      return card;
    }
    const row = el("div", { className: "row g-2" });
    body.append(row);
    const refresh = () => { heading.textContent = summary(field, index); };
    row.append(input(`${id}-name`, T.name, field.name, (v) => { field.name = v.trim(); refresh(); changed(); },
      { mono: true, help: T.nameHelp }));

    const typeSelect = el("select", { className: "form-select form-select-sm", id: `${id}-type` });
    for (const type of config.types) {
      typeSelect.append(el("option", { value: type, selected: type === field.type, text: typeLabel(type) }));
    }
    if (!config.types.includes(field.type)) {
      typeSelect.prepend(el("option", { value: "", selected: true, text: String(field.type) }));
    }
    typeSelect.addEventListener("change", () => {
      changeType(field, typeSelect.value);
      changed();
      renderFields(`${id}-type`);
    });
    row.append(el("div", { className: "col-sm-6" },
      el("label", { className: "form-label small mb-1", for: `${id}-type`, text: T.type }), typeSelect));

    const label = isObject(field.label) ? field.label : {};
    const help = isObject(field.help) ? field.help : {};
    const translated = (key, lang, optional) => (value) => { setText(field, key, lang, value, optional); changed(); };
    const numeric = (key) => (value) => { bound(field, key, value); changed(); };
    row.append(
      input(`${id}-label-ru`, T.labelRu, label.ru, translated("label", "ru"), { lang: "ru" }),
      input(`${id}-label-en`, T.labelEn, label.en, translated("label", "en"), { lang: "en" }),
      input(`${id}-help-ru`, T.helpRu, help.ru, translated("help", "ru", true), { lang: "ru" }),
      input(`${id}-help-en`, T.helpEn, help.en, translated("help", "en", true), { lang: "en" }));

    const required = el("input", { type: "checkbox", className: "form-check-input", id: `${id}-required`,
      checked: field.required === true });
    required.addEventListener("change", () => {
      if (required.checked) field.required = true;
      else delete field.required;
      changed();
    });
    const condition = isObject(field.required_if)
      ? el("div", { className: "form-text", text: fmt(T.requiredIf, { field: field.required_if.field,
        value: JSON.stringify(field.required_if.equals) }) })
      : null;
    row.append(el("div", { className: "col-12" }, el("div", { className: "form-check" }, required,
      el("label", { className: "form-check-label", for: `${id}-required`, text: T.required })), condition));

    if (["number", "decimal", "date"].includes(field.type)) {
      const hint = field.type === "date" ? T.dateBoundHelp : null;
      row.append(
        input(`${id}-min`, T.min, field.min, numeric("min"), { mono: true, help: hint }),
        input(`${id}-max`, T.max, field.max, numeric("max"), { mono: true, help: hint }));
    }
    if (field.type === "text" || field.type === "textarea") {
      row.append(
        input(`${id}-min-length`, T.minLength, field.min_length, numeric("min_length"), { mono: true }),
        input(`${id}-max-length`, T.maxLength, field.max_length, numeric("max_length"), { mono: true }));
    }
    if (field.type === "choice" && field.choices_from) {
      const text = fmt(T.choicesFrom, { name: field.choices_from });
      row.append(el("p", { className: "col-12 form-text mb-0", text }));
    } else if (field.type === "choice" || field.type === "multichoice") {
      row.append(el("div", { className: "col-12" }, optionsEditor(field, id)));
    }
    if (field.type === "table") {
      const columns = Array.isArray(field.columns) ? field.columns : [];
      const names = columns.map((c) => (isObject(c) ? c.name : "?")).join(", ") || "—";
      row.append(el("p", { className: "col-12 form-text mb-0", text: fmt(T.columns, { names }) }));
    }
    if (field.type === "file") row.append(el("p", { className: "col-12 form-text mb-0", text: T.fileOptions }));
    body.append(el("div", { id: `${id}-problem`, className: "invalid-feedback d-block" }));
    return card;
  }

  function optionsEditor(field, id) {
    const options = Array.isArray(field.choices) ? field.choices : [];
    const table = el("table", { className: "table table-sm align-middle mb-2" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: T.optionValue }), el("th", { scope: "col", text: T.optionRu }),
        el("th", { scope: "col", text: T.optionEn }),
        el("th", { scope: "col" }, el("span", { className: "visually-hidden", text: T.options })))));
    const tbody = el("tbody");
    table.append(tbody);
    options.forEach((option, index) => {
      const rowId = `${id}-o${index}`;
      const number = index + 1;
      const item = isObject(option) ? option : {};
      const cell = (lang, label) => {
        const current = lang ? (isObject(item.label) ? item.label[lang] : "") : item.value;
        const node = el("input", { className: `form-control form-control-sm${lang ? "" : " font-monospace"}`,
          id: `${rowId}-${lang || "value"}`, lang, autocomplete: "off",
          "aria-label": `${fmt(T.option, { number })}: ${label}` });
        node.value = current === undefined || current === null ? "" : String(current);
        node.addEventListener("input", () => {
          if (!isObject(options[index])) options[index] = { value: "", label: { ru: "", en: "" } };
          if (lang) setText(options[index], "label", lang, node.value);
          else options[index].value = node.value;
          changed();
        });
        return el("td", {}, node);
      };
      tbody.append(el("tr", {}, cell(null, T.optionValue), cell("ru", T.optionRu), cell("en", T.optionEn),
        el("td", { className: "text-nowrap" }, el("div", { className: "btn-group" },
          button("↑", fmt(T.moveOptionUp, { number }), () => moveOption(field, index, -1, `${rowId}-up`),
            { id: `${rowId}-up`, disabled: index === 0 }),
          button("↓", fmt(T.moveOptionDown, { number }), () => moveOption(field, index, 1, `${rowId}-down`),
            { id: `${rowId}-down`, disabled: index === options.length - 1 }),
          button("×", fmt(T.removeOption, { number }), () => removeOption(field, index, id), { danger: true })))));
    });
    const add = button(T.addOption, T.addOption, () => {
      if (!Array.isArray(field.choices)) field.choices = [];
      field.choices.push(newOption(field.choices.length + 1));
      changed();
      renderFields(`${id}-o${field.choices.length - 1}-value`);
    }, { id: `${id}-add-option` });
    return el("fieldset", {}, el("legend", { className: "form-label small mb-1", text: T.options }),
      el("div", { className: "table-responsive" }, table), add);
  }

  function moveOption(field, index, delta, buttonId) {
    const list = field.choices;
    [list[index], list[index + delta]] = [list[index + delta], list[index]];
    changed();
    const target = `${buttonId.replace(/-o\d+-/, `-o${index + delta}-`)}`;
    renderFields(target);
    if (document.activeElement !== $(target)) {
      const other = target.endsWith("-up") ? target.replace(/-up$/, "-down") : target.replace(/-down$/, "-up");
      if ($(other)) $(other).focus();
    }
  }

  function removeOption(field, index, id) {
    field.choices.splice(index, 1);
    changed();
    const next = Math.min(index, field.choices.length - 1);
    renderFields(next >= 0 ? `${id}-o${next}-value` : `${id}-add-option`);
  }

  function move(list, index, delta, which) {
    const target = index + delta;
    [list[index], list[target]] = [list[target], list[index]];
    changed();
    renderFields(`fe-f${target}-${which}`);
    if (document.activeElement !== $(`fe-f${target}-${which}`)) {
      $(`fe-f${target}-${which === "up" ? "down" : "up"}`).focus(); // it reached the end of the list
    }
    say(fmt(T.moved, { name: fieldName(list[target], target), number: target + 1 }), "info");
  }

  function remove(list, index) {
    const name = fieldName(list[index], index);
    list.splice(index, 1);
    changed();
    renderFields(list.length ? `fe-f${Math.min(index, list.length - 1)}-name` : "fe-new-type");
    say(fmt(T.removed, { name }), "info");
  }

  for (const type of config.types) ui.newType.append(el("option", { value: type, text: typeLabel(type) }));
  ui.add.addEventListener("click", () => {
    const list = fields();
    if (!list) return;
    const label = { ru: T.newLabelRu, en: T.newLabelEn };
    const field = { name: uniqueName(list, "field"), type: ui.newType.value, label };
    changeType(field, ui.newType.value);
    list.push(field);
    changed();
    renderFields(`fe-f${list.length - 1}-name`);
    say(fmt(T.added, { name: field.name }), "info");
  });

  // --- tabs: the field list or the whole JSON ----------------------------------------------------------

  function showTab(tab) {
    const json = tab === ui.tabJson;
    for (const [button, panel] of [[ui.tabFields, ui.panelFields], [ui.tabJson, ui.panelJson]]) {
      const active = button === tab;
      button.classList.toggle("active", active);
      button.setAttribute("aria-selected", String(active));
      button.tabIndex = active ? 0 : -1;
      panel.classList.toggle("d-none", !active);
    }
    if (json) {
      ui.json.value = JSON.stringify(state, null, 2);
      ui.jsonProblem.textContent = "";
    } else {
      syncHead();
      renderFields();
    }
  }

  for (const tab of [ui.tabFields, ui.tabJson]) {
    tab.addEventListener("click", () => showTab(tab));
    tab.addEventListener("keydown", (event) => {
      const other = tab === ui.tabFields ? ui.tabJson : ui.tabFields;
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) {
        event.preventDefault();
        const target = event.key === "Home" ? ui.tabFields : event.key === "End" ? ui.tabJson : other;
        showTab(target);
        target.focus();
      }
    });
  }

  ui.json.addEventListener("input", () => {
    try {
      state = JSON.parse(ui.json.value);
    } catch (error) {
      ui.jsonProblem.textContent = fmt(T.badJson, { reason: error.message });
      return;
    }
    ui.jsonProblem.textContent = "";
    changed();
  });

  // --- problems ----------------------------------------------------------------------------------------

  function markProblems() {
    for (const node of ui.fields.querySelectorAll(".fe-field")) node.classList.remove("fe-invalid");
    for (const node of ui.fields.querySelectorAll("[id$='-problem']")) node.textContent = "";
    for (const problem of problems) {
      if (!problem.position) continue;
      const card = $(`fe-f${problem.position - 1}`);
      const slot = $(`fe-f${problem.position - 1}-problem`);
      if (!card || !slot) continue;
      card.classList.add("fe-invalid");
      slot.append(el("div", { text: problem.inside ? `${problem.inside}: ${problem.message}` : problem.message }));
    }
  }

  function showProblems(found) {
    problems = found;
    ui.problemList.replaceChildren();
    ui.problems.classList.toggle("d-none", !found.length);
    for (const problem of found) {
      const item = el("li", {}, problem.text || problem.message);
      if (problem.position && fields()) {
        const go = el("button", { type: "button", className: "btn btn-link btn-sm p-0 ms-2 align-baseline",
          text: T.goTo });
        go.addEventListener("click", () => {
          if (ui.tabFields.getAttribute("aria-selected") !== "true") showTab(ui.tabFields);
          const target = $(`fe-f${problem.position - 1}-name`) || $(`fe-f${problem.position - 1}-remove`);
          if (target) target.focus();
        });
        item.append(go);
      }
      ui.problemList.append(item);
    }
    markProblems();
  }

  // --- the preview -------------------------------------------------------------------------------------

  function schedulePreview(delay) {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, delay === undefined ? PREVIEW_DELAY : delay);
  }

  function send(url, body, signal) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", signal, body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "text/html, application/json" },
    });
  }

  async function problemOf(response) {
    try {
      return await response.json();
    } catch (error) {
      return { detail: response.statusText || String(response.status) };
    }
  }

  async function refreshPreview() {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = ++sequence;
    ui.preview.setAttribute("aria-busy", "true");
    try {
      const response = await send(`${config.urls.preview}?lang=${encodeURIComponent(ui.lang.value)}`, state,
        controller.signal);
      if (mine !== sequence) return;
      if (response.ok) {
        ui.preview.innerHTML = await response.text();
        ui.preview.classList.remove("fe-stale");
        showProblems([]);
      } else {
        const body = await problemOf(response);
        if (mine !== sequence) return;
        ui.preview.classList.add("fe-stale");
        if (response.status === 422) showProblems(body.problems || [{ message: body.detail, text: body.detail }]);
        else say(fmt(T.previewFailed, { reason: body.detail || response.status }), "danger");
      }
    } catch (error) {
      if (error.name !== "AbortError" && mine === sequence) say(T.networkError, "danger");
    } finally {
      if (mine === sequence) ui.preview.removeAttribute("aria-busy");
    }
  }

  ui.lang.addEventListener("change", () => schedulePreview(0));
  ui.preview.addEventListener("submit", (event) => event.preventDefault());

  // --- deploying ---------------------------------------------------------------------------------------

  function addVersionRow(version, comment) {
    if (!ui.versions) return;
    const empty = ui.versions.querySelector("td[colspan]");
    if (empty) empty.parentElement.remove();
    const link = config.urls.version
      ? el("a", { href: config.urls.version.replace(/\/0\.json$/, `/${version}.json`), text: T.fileLink }) : "";
    ui.versions.prepend(el("tr", {},
      el("td", { className: "text-end", text: String(version) }), el("td", { text: T.now }),
      el("td", { text: config.user }), el("td", { text: comment || "—" }), el("td", {}, link)));
  }

  ui.deploy.addEventListener("click", async () => {
    clearTimeout(timer);
    ui.deploy.disabled = true;
    say(T.deploying, "info");
    const comment = ui.comment.value.trim();
    try {
      const response = await send(config.urls.deploy, { definition: state, comment });
      const body = await problemOf(response);
      if (response.status === 201) {
        dirty = false;
        if (!config.key) {
          window.location.assign(body.url);
          return;
        }
        say(fmt(T.deployed, { version: body.version }), "success");
        ui.comment.value = "";
        addVersionRow(body.version, comment);
      } else {
        if (body.problems) showProblems(body.problems);
        say(fmt(T.deployRefused, { reason: body.detail || response.status }), "danger");
      }
    } catch (error) {
      say(T.networkError, "danger");
    } finally {
      ui.deploy.disabled = false;
    }
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = T.unsaved;
    }
  });

  syncHead();
  // The head's inputs come disabled from the page, so nothing typed before this script ran is lost
  // when it fills them from the definition.
  for (const node of [ui.key, ui.titleRu, ui.titleEn]) node.disabled = false;
  renderFields();
  schedulePreview(0);
})();
