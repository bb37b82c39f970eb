// The consumption page: one request to the JSON API feeds the chart, the table under it and the
// download links, so what is drawn, listed and downloaded are the same numbers. No inline scripts
// or styles: the page's content security policy allows neither.
(function () {
  "use strict";
  var root = document.getElementById("consumption");
  if (!root || !window.echarts) { return; }
  var T = JSON.parse(document.getElementById("chart-texts").textContent);
  var form = document.getElementById("chart-controls");
  var dateInput = document.getElementById("chart-date");
  var locale = root.dataset.locale === "en" ? "en-GB" : "ru-RU";
  var zoneCount = Number(root.dataset.zones);
  var zoneCodes = Object.keys(T.zones).slice(0, zoneCount > 1 ? zoneCount : 0);
  var STEPS = {day: "hour", month: "day", year: "month"};
  var QUALITY_STYLE = {
    measured: {opacity: 1},
    partial: {opacity: 0.75},
    substituted: {opacity: 0.45, borderType: "dashed", borderWidth: 1, borderColor: "#1f2937"},
    estimated: {opacity: 0.45, borderType: "dotted", borderWidth: 1, borderColor: "#1f2937"}
  };
  var ZONE_COLORS = {T1: "#1d4ed8", T2: "#0f766e", T3: "#b45309"};
  var TOTAL_COLOR = "#1d4ed8";
  var COMPARE_COLOR = "#6b7280";
  var chart = echarts.init(document.getElementById("chart"), null, {renderer: "svg"});
  var zoneCharts = [];
  var current = null;
  var request = 0;

  function text(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function iso(day) {
    return day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0") + "-" +
      String(day.getDate()).padStart(2, "0");
  }

  function parseDay(value) {
    var parts = (value || root.dataset.today).split("-").map(Number);
    return new Date(parts[0], parts[1] - 1, parts[2]);
  }

  function state() {
    var data = new FormData(form);
    return {view: data.get("view"), day: parseDay(dateInput.value), compare: data.get("compare") || "",
            unit: data.get("unit"), zones: data.get("zones") || "stacked"};
  }

  function range(view, day) {
    if (view === "day") { return [day, day]; }
    if (view === "month") { return [new Date(day.getFullYear(), day.getMonth(), 1),
                                    new Date(day.getFullYear(), day.getMonth() + 1, 0)]; }
    return [new Date(day.getFullYear(), 0, 1), new Date(day.getFullYear(), 11, 31)];
  }

  function query(s, format) {
    var r = range(s.view, s.day);
    var params = new URLSearchParams({meter: root.dataset.meter, from: iso(r[0]), to: iso(r[1]),
                                      step: STEPS[s.view], unit: s.unit});
    if (s.compare) { params.set("compare", s.compare); }
    if (format) { params.set("format", format); }
    return root.dataset.api + "?" + params.toString();
  }

  function periodName(view, day) {
    if (view === "day") { return day.toLocaleDateString(locale, {day: "numeric", month: "long", year: "numeric"}); }
    if (view === "month") { return day.toLocaleDateString(locale, {month: "long", year: "numeric"}); }
    return String(day.getFullYear());
  }

  // A point's start ("2026-11-01T07:00:00+03:00") as the label of its bar, read as written (local).
  function label(view, start) {
    var day = parseDay(start.slice(0, 10));
    if (view === "day") { return start.slice(11, 16); }
    if (view === "month") { return day.toLocaleDateString(locale, {day: "numeric", month: "short"}); }
    return day.toLocaleDateString(locale, {month: "short"});
  }

  function longLabel(view, start) {
    var day = parseDay(start.slice(0, 10));
    if (view === "day") { return start.slice(11, 16) + "–" + String((Number(start.slice(11, 13)) + 1) % 24).padStart(2, "0") + ":00"; }
    if (view === "month") { return day.toLocaleDateString(locale, {day: "numeric", month: "long", year: "numeric"}); }
    return day.toLocaleDateString(locale, {month: "long", year: "numeric"});
  }

  function unitName(data) { return T[data.unit] || data.unit; }

  function number(value, data) {
    if (value === null || value === undefined) { return "—"; }
    var digits = data.unit === "rub" ? 2 : 3;
    return value.toLocaleString(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }

  function styled(value, quality, color) {
    var style = Object.assign({color: color}, QUALITY_STYLE[quality] || {});
    return {value: value, itemStyle: style};
  }

  function barSeries(data, codes, points, stacked) {
    if (!codes.length) {
      return [{name: T.total, type: "bar", itemStyle: {color: TOTAL_COLOR},
               data: points.map(function (p) { return styled(p.total, p.quality, TOTAL_COLOR); })}];
    }
    return codes.map(function (code) {
      return {name: T.zones[code], type: "bar", stack: stacked ? "zones" : undefined, itemStyle: {color: ZONE_COLORS[code]},
              data: points.map(function (p) { return styled(p[code], p.quality, ZONE_COLORS[code]); })};
    });
  }

  function nightShading(s, data) {
    if (s.view !== "day" || !T.spans.length) { return null; }
    var areas = T.spans.filter(function (span) { return span.zone === "T2"; }).map(function (span) {
      return [{xAxis: Math.floor(span.from), name: T.zones.T2}, {xAxis: Math.min(23, Math.ceil(span.to) - 1)}];
    });
    return {silent: true, itemStyle: {color: "rgba(15, 118, 110, 0.08)"}, label: {color: "#374151"}, data: areas};
  }

  function options(s, data, codes, points, stacked) {
    var series = barSeries(data, codes, points, stacked);
    var peak = data.peak && points.findIndex(function (p) { return p.start === data.peak.start; });
    if (peak !== null && peak >= 0 && codes.length <= 1) {
      series[series.length - 1].markPoint = {symbolSize: 42, data: [{coord: [peak, data.peak.total],
        value: number(data.peak.total, data)}]};
    }
    var shading = nightShading(s, data);
    if (shading) { series[0].markArea = shading; }
    if (data.compare) {
      series.push({name: T.compareNames[data.compare.kind], type: "line", symbol: "circle", symbolSize: 5,
                   connectNulls: false, itemStyle: {color: COMPARE_COLOR}, lineStyle: {type: "dashed"},
                   data: data.compare.points.map(function (p) { return p.total; })});
    }
    return {
      animation: false,
      aria: {enabled: true},
      grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
      legend: {top: 0, type: "scroll"},
      tooltip: {trigger: "axis", renderMode: "richText", formatter: function (items) {
        var p = points[items[0].dataIndex];
        var lines = [longLabel(s.view, p.start)];
        items.forEach(function (item) { lines.push(item.seriesName + ": " + number(item.value, data) + " " + unitName(data)); });
        lines.push(T.qualities[p.quality]);
        return lines.join("\n");
      }},
      xAxis: {type: "category", data: points.map(function (p) { return label(s.view, p.start); })},
      yAxis: {type: "value", name: unitName(data)},
      series: series
    };
  }

  function renderZoneCharts(s, data) {
    var holder = document.getElementById("zone-charts");
    zoneCharts.forEach(function (c) { c.dispose(); });
    zoneCharts = [];
    holder.textContent = "";
    if (s.zones !== "apart" || !zoneCodes.length) { return; }
    zoneCodes.forEach(function (code) {
      var heading = document.createElement("h3");
      heading.className = "h6 mt-3";
      heading.textContent = T.zones[code];
      var box = document.createElement("div");
      box.className = "chart-area chart-area-small";
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", T.zones[code]);
      box.dataset.zone = code;
      holder.appendChild(heading);
      holder.appendChild(box);
      var zoneChart = echarts.init(box, null, {renderer: "svg"});
      zoneChart.setOption(options(s, data, [code], data.points, false));
      zoneChart.on("click", drill);
      zoneCharts.push(zoneChart);
    });
  }

  function renderTable(s, data) {
    var table = document.getElementById("chart-table");
    var head = [T.period].concat(zoneCodes.map(function (c) { return T.zones[c]; }), [T.total]);
    if (data.compare) { head.push(T.total + " · " + T.compareNames[data.compare.kind]); }
    head.push(T.quality);
    var row = document.createElement("tr");
    head.forEach(function (name) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = name + (name === T.period || name === T.quality ? "" : ", " + unitName(data));
      row.appendChild(th);
    });
    table.tHead.replaceChildren(row);
    var body = document.createDocumentFragment();
    data.points.forEach(function (p, i) {
      var tr = document.createElement("tr");
      tr.dataset.quality = p.quality;
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = longLabel(s.view, p.start);
      tr.appendChild(th);
      var cells = zoneCodes.map(function (c) { return p[c]; }).concat([p.total]);
      if (data.compare) { cells.push(data.compare.points[i] ? data.compare.points[i].total : null); }
      cells.forEach(function (value) {
        var td = document.createElement("td");
        td.className = "text-end";
        td.textContent = number(value, data);
        tr.appendChild(td);
      });
      var quality = document.createElement("td");
      quality.textContent = T.qualities[p.quality];
      tr.appendChild(quality);
      body.appendChild(tr);
    });
    table.tBodies[0].replaceChildren(body);
    var foot = document.createElement("tr");
    var th = document.createElement("th");
    th.scope = "row";
    th.textContent = T.sum;
    foot.appendChild(th);
    var sums = zoneCodes.map(function (c) { return data.totals[c]; }).concat([data.totals.total]);
    if (data.compare) {
      var compared = data.compare.points.some(function (p) { return p.total !== null; });
      sums.push(compared && data.compare.totals ? data.compare.totals.total : null);
    }
    sums.forEach(function (value) {
      var td = document.createElement("td");
      td.className = "text-end fw-semibold";
      td.dataset.sum = value === null || value === undefined ? "" : String(value);
      td.textContent = number(value, data);
      foot.appendChild(td);
    });
    foot.appendChild(document.createElement("td"));
    table.tFoot.replaceChildren(foot);
  }

  function renderPeaks(s, data) {
    var peak = document.getElementById("chart-peak");
    peak.textContent = data.peak ? text(T.peak, {value: number(data.peak.total, data) + " " + unitName(data),
                                                 when: longLabel(s.view, data.peak.start)}) : "";
    var list = document.getElementById("chart-top-days");
    list.replaceChildren();
    if (s.view === "day" || !data.top_days || !data.top_days.length) { return; }
    var caption = document.createElement("li");
    caption.className = "list-unstyled";
    list.appendChild(caption);
    caption.textContent = T.topDays;
    data.top_days.forEach(function (top) {
      var li = document.createElement("li");
      li.textContent = parseDay(top.day).toLocaleDateString(locale, {day: "numeric", month: "long", year: "numeric"}) +
        " — " + number(top.total, data) + " " + unitName(data);
      list.appendChild(li);
    });
  }

  function render(s, data) {
    current = {state: s, data: data};
    var empty = data.points.every(function (p) { return p.total === null; });
    var status = [];
    if (data.as_of) {
      status.push(text(T.asOf, {moment: new Date(data.as_of).toLocaleString(locale, {
        day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", timeZone: root.dataset.timezone})}));
    }
    if (empty) { status.push(T.noData); }
    (data.notes || []).forEach(function (note) { status.push(note); });
    document.getElementById("chart-status").textContent = status.join(" ");
    var caption = text(T.views[s.view], {period: periodName(s.view, s.day)}) + ", " + unitName(data);
    document.getElementById("chart-caption").textContent = caption;
    document.getElementById("chart").setAttribute("aria-label", caption);
    chart.setOption(options(s, data, zoneCodes, data.points, true), true);
    renderZoneCharts(s, data);
    renderTable(s, data);
    renderPeaks(s, data);
    document.getElementById("download-csv").href = query(s, "csv");
    document.getElementById("download-xlsx").href = query(s, "xlsx");
    root.dataset.loaded = String(Number(root.dataset.loaded || 0) + 1);
  }

  function load() {
    var s = state();
    var mine = ++request;
    var error = document.getElementById("chart-error");
    root.setAttribute("aria-busy", "true");
    fetch(query(s), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (answer) {
        if (mine !== request) { return; }
        if (!answer.ok) { throw new Error(answer.body.detail || T.loadError); }
        error.classList.add("d-none");
        render(s, answer.body);
      })
      .catch(function (problem) {
        if (mine !== request) { return; }
        error.textContent = problem.message || T.loadError;
        error.classList.remove("d-none");
      })
      .finally(function () { if (mine === request) { root.removeAttribute("aria-busy"); } });
  }

  function shift(direction) {
    var s = state();
    var day = s.day;
    if (s.view === "day") { day = new Date(day.getFullYear(), day.getMonth(), day.getDate() + direction); }
    if (s.view === "month") { day = new Date(day.getFullYear(), day.getMonth() + direction, 1); }
    if (s.view === "year") { day = new Date(day.getFullYear() + direction, 0, 1); }
    dateInput.value = iso(day);
    load();
  }

  // A click on a bar opens the period under it: a month of the year by day, a day of the month by hour.
  function drill(event) {
    if (!current || event.componentType !== "series") { return; }
    var s = current.state;
    var point = current.data.points[event.dataIndex];
    if (!point || s.view === "day" || !form.querySelector("#view-day")) { return; }
    dateInput.value = point.start.slice(0, 10);
    form.querySelector(s.view === "year" ? "#view-month" : "#view-day").checked = true;
    load();
  }

  form.addEventListener("change", load);
  form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  document.getElementById("chart-prev").addEventListener("click", function () { shift(-1); });
  document.getElementById("chart-next").addEventListener("click", function () { shift(1); });
  chart.on("click", drill);
  window.addEventListener("resize", function () {
    chart.resize();
    zoneCharts.forEach(function (c) { c.resize(); });
  });
  load();
}());
