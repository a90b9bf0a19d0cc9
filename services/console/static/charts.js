// The charts page: one request to the console (which asks the analytics API), then
// ECharts. When analytics does not answer, the page says so and draws nothing.
(function () {
  const root = document.getElementById("charts");
  const words = JSON.parse(root.dataset.words);
  const w = (k) => words[k] || k;
  const shop = root.dataset.shop;
  const draw = (id, option) => echarts.init(document.getElementById(id)).setOption(option);
  const days = w("weekdays").split(",");

  function heatmap(report) {
    const cells = report.heatmap.map((c) => [c.hour, c.weekday - 1, c.messages]);
    const max = Math.max(1, ...cells.map((c) => c[2]));
    draw("chart-heatmap", {
      tooltip: {}, grid: { left: 50, right: 20, top: 10, bottom: 60 },
      xAxis: { type: "category", data: [...Array(24).keys()] },
      yAxis: { type: "category", data: days },
      visualMap: { min: 0, max: max, orient: "horizontal", left: "center", bottom: 0 },
      series: [{ type: "heatmap", data: cells }],
    });
  }

  function response(series) {
    const at = (s) => s.points.map((p) => [p.t, p.value]);
    draw("chart-response", {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      xAxis: { type: "time" },
      yAxis: [{ type: "value", name: "s" }, { type: "value", max: 1, name: w("within_3m") }],
      series: [
        { name: "p50", type: "line", data: at(series.first_response_p50), connectNulls: true },
        { name: "p90", type: "line", data: at(series.first_response_p90), connectNulls: true },
        { name: w("within_3m"), type: "bar", yAxisIndex: 1, data: at(series.within_3m_rate) },
      ],
    });
  }

  function bars(id, labels, values, max) {
    draw(id, {
      tooltip: {}, grid: { left: 150, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", max: max }, yAxis: { type: "category", data: labels },
      series: [{ type: "bar", data: values }],
    });
  }

  function agents(report) {
    const body = document.querySelector("#agent-table tbody");
    body.replaceChildren(...report.agents.map((a) => {
      const row = document.createElement("tr");
      const rate = a.within_3m_rate === null ? "–" : (100 * a.within_3m_rate).toFixed(1) + "%";
      [a.agent_id || "–", a.rounds, a.p50_s ?? "–", a.p90_s ?? "–", rate].forEach((v) => {
        const cell = document.createElement("td");
        cell.textContent = v;
        row.appendChild(cell);
      });
      return row;
    }));
  }

  fetch("/api/v1/charts?shop=" + encodeURIComponent(shop), { credentials: "same-origin" })
    .then((resp) => resp.json().then((body) => ({ ok: resp.ok, body })))
    .then(({ ok, body }) => {
      if (!ok) {
        document.getElementById("analytics-down").hidden = false;
        root.hidden = true;
        return;
      }
      const report = body.report;
      heatmap(report);
      response(body.series);
      const sla = Object.entries(report.sla);
      bars("chart-sla", sla.map(([k]) => w(k)), sla.map(([, v]) => v.rate), 1);
      const intents = Object.entries(report.intents);
      draw("chart-intents", { tooltip: {}, series: [{ type: "pie", radius: "65%",
        data: intents.map(([k, v]) => ({ name: w(k), value: v })) }] });
      const items = report.items.slice(0, 10).reverse();
      draw("chart-items", {
        tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { left: 150, right: 20, top: 30, bottom: 30 },
        xAxis: { type: "value" }, yAxis: { type: "category", data: items.map((i) => i.item_id) },
        series: [{ name: w("inquiries"), type: "bar", data: items.map((i) => i.inquiries) },
                 { name: w("aftersale_requests"), type: "bar",
                   data: items.map((i) => i.aftersale_requests) }],
      });
      agents(report);
      root.dataset.drawn = "1";
    });
})();
