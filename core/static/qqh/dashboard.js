// Progress dashboard charts (Apache ECharts, vendored: no network needed).
// The figures come from the page itself (#qqh-dashboard-data), the same ones
// as the table, so chart and table can never disagree.
(function () {
  "use strict";
  var dataEl = document.getElementById("qqh-dashboard-data");
  var progressEl = document.getElementById("qqh-chart-progress");
  var statusEl = document.getElementById("qqh-chart-status");
  if (!dataEl || !progressEl || !statusEl || typeof echarts === "undefined") { return; }
  var data = JSON.parse(dataEl.textContent);
  if (!data.columns.length) { return; }
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';
  var ORDER = ["met", "in_progress", "overdue", "n_a"];
  var colours = data.colours;
  // Tooltips are HTML: every value from data is escaped before it goes in
  // (a unit may be named `<img src=x onerror=…>`). Titles, axis labels and
  // bar labels are drawn on the canvas and are text already.
  function esc(v) {
    return String(v === null || v === undefined ? "" : v)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  var progress = echarts.init(progressEl);
  var status = echarts.init(statusEl);
  window.qqhCharts = { progress: progress, status: status };

  function title(c) { return c.label + (c.quarterly ? "（" + data.text.quarterly + "）" : ""); }

  function drawProgress(index) {
    var col = data.columns[index];
    var bars = col.values.map(function (v, i) {
      var s = col.statuses[i];
      return { value: v === null ? 0 : v, itemStyle: { color: s ? colours[s] : "#dddddd" }, status: s };
    });
    var many = data.units.length > 8;
    progress.setOption({
      textStyle: { fontFamily: FONT },
      title: { text: title(col) + (col.uom ? " · " + col.uom : ""), left: "center", textStyle: { fontSize: 14, fontFamily: FONT } },
      tooltip: {
        trigger: "axis",
        formatter: function (params) {
          var i = params[0].dataIndex, s = col.statuses[i];
          var lines = [esc(data.units[i])];
          lines.push(esc(data.text.value) + "：" + (col.values[i] === null ? "—" : esc(col.values[i])));
          if (col.targets[i] !== null) { lines.push(esc(data.text.target) + "：" + esc(col.targets[i])); }
          if (s) { lines.push(esc(data.statusLabels[s])); }
          return lines.join("<br>");
        }
      },
      // the bars are coloured by status: the legend shows the statuses
      legend: {
        bottom: 0, textStyle: { fontFamily: FONT },
        data: ORDER.map(function (s) { return { name: data.statusLabels[s], icon: "rect" }; })
          .concat([{ name: data.text.target, icon: "rect" }]),
        selectedMode: false
      },
      // containLabel: the unit names (rotated when many) are never cut
      grid: { left: 10, right: 20, top: 40, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: data.units, axisLabel: { interval: 0, rotate: many ? 40 : 0, fontFamily: FONT, hideOverlap: false } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        {
          name: data.text.value, type: "bar", data: bars, barMaxWidth: 36, legendHoverLink: false,
          label: {
            show: true, position: "top", fontFamily: FONT,
            formatter: function (p) { return col.values[p.dataIndex] === null ? "" : String(col.values[p.dataIndex]); }
          }
        },
        {
          name: data.text.target, type: "scatter", data: col.targets, symbol: "rect", symbolSize: [26, 3],
          itemStyle: { color: "#333333" }, z: 5
        }
      ].concat(ORDER.map(function (s) {
        return { name: data.statusLabels[s], type: "line", data: [], itemStyle: { color: colours[s] } };
      }))
    }, true);
  }

  function drawStatus() {
    var labels = data.columns.map(title);
    status.setOption({
      textStyle: { fontFamily: FONT },
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (params) {
          var lines = [esc(labels[params[0].dataIndex])];
          params.forEach(function (p) { lines.push(p.marker + esc(p.seriesName) + "：" + esc(p.value)); });
          return lines.join("<br>");
        }
      },
      legend: { bottom: 0, textStyle: { fontFamily: FONT } },
      grid: { left: 10, right: 20, top: 10, bottom: 40, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      // long target names wrap onto a second line instead of being cut
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { fontFamily: FONT, width: 150, overflow: "break", lineHeight: 14 } },
      series: ORDER.map(function (s) {
        return {
          name: data.statusLabels[s], type: "bar", stack: "all", barMaxWidth: 28, itemStyle: { color: colours[s] },
          label: { show: true, formatter: function (p) { return p.value ? p.value : ""; } },
          data: data.columns.map(function (c) { return c.counts[s]; })
        };
      })
    });
  }

  // one button per check: which check the bar chart shows
  var picker = document.getElementById("qqh-chart-picker");
  data.columns.forEach(function (c, i) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-default" + (i === 0 ? " active" : "");
    b.textContent = title(c);
    b.addEventListener("click", function () {
      Array.prototype.forEach.call(picker.children, function (x) { x.classList.remove("active"); });
      b.classList.add("active");
      drawProgress(i);
    });
    picker.appendChild(b);
  });
  // clicking a bar drills down like the table's links
  progress.on("click", function (p) {
    var code = String(data.codes[p.dataIndex]);
    var link = document.querySelector('tr[data-unit="' + (window.CSS && CSS.escape ? CSS.escape(code) : code.replace(/["\\]/g, "")) + '"] a.qqh-drill');
    if (link) { window.location.href = link.href; }
  });

  drawProgress(0);
  drawStatus();
  window.addEventListener("resize", function () { progress.resize(); status.resize(); });
})();
