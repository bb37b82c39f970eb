// A group's consumption: the points the page already lists in its table, drawn as bars of the
// members' sum, with the input meter as a line and the losses in % on a second axis when the group
// has an input. The data comes from a JSON block of the page: no inline scripts (CSP).
(function () {
  "use strict";
  var holder = document.getElementById("group-chart");
  var source = document.getElementById("group-chart-data");
  if (!holder || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var T = data.texts;
  var locale = data.locale === "en" ? "en-GB" : "ru-RU";
  var QUALITY_OPACITY = {measured: 1, substituted: 0.6, partial: 0.45, missing: 0};

  function label(point) {
    var parts = point.from.split("-").map(Number);
    var day = new Date(parts[0], parts[1] - 1, parts[2]);
    if (data.step === "month") { return day.toLocaleDateString(locale, {month: "short", year: "numeric"}); }
    return day.toLocaleDateString(locale, {day: "numeric", month: "short"});
  }

  function number(value, digits) {
    if (value === null || value === undefined) { return "—"; }
    return value.toLocaleString(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }

  var points = data.points;
  var series = [{
    name: T.members, type: "bar", yAxisIndex: 0,
    data: points.map(function (p) {
      return {value: p.members, itemStyle: {color: "#1d4ed8", opacity: QUALITY_OPACITY[p.quality]}};
    })
  }];
  var yAxis = [{type: "value", name: T.kwh}];
  if (data.balance) {
    series.push({name: T.input, type: "line", yAxisIndex: 0, connectNulls: false, symbolSize: 5,
                 itemStyle: {color: "#0f766e"}, data: points.map(function (p) { return p.input; })});
    series.push({name: T.losses, type: "line", yAxisIndex: 1, connectNulls: false, symbolSize: 5,
                 itemStyle: {color: "#b45309"}, lineStyle: {type: "dashed"},
                 data: points.map(function (p) { return p.losses_pct; })});
    yAxis.push({type: "value", name: "%", splitLine: {show: false}});
  }

  var chart = echarts.init(holder, null, {renderer: "svg"});
  chart.setOption({
    animation: false,
    aria: {enabled: true},
    grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
    legend: {top: 0, type: "scroll"},
    tooltip: {trigger: "axis", renderMode: "richText", formatter: function (items) {
      var p = points[items[0].dataIndex];
      var lines = [label(p)];
      items.forEach(function (item) {
        var percent = item.seriesName === T.losses;
        lines.push(item.seriesName + ": " + number(item.value, percent ? 2 : 3) + (percent ? " %" : " " + T.kwh));
      });
      lines.push(T.qualities[p.quality]);
      return lines.join("\n");
    }},
    xAxis: {type: "category", data: points.map(label)},
    yAxis: yAxis,
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
