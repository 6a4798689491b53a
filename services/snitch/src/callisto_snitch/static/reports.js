// Callisto reports page: asks the reports API (with the bearer token typed in) and shows the chart
// (server-rendered SVG), the table, and downloads CSV or XLSX.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  for (const key of ["kind", "id", "from", "to", "interval", "compare"]) if (params.get(key)) $(key).value = params.get(key);
  $("token").value = sessionStorage.getItem("callisto-token") || "";

  function url(format) {
    const q = new URLSearchParams({ from: $("from").value, to: $("to").value, interval: $("interval").value,
                                    compare: $("compare").value, format });
    return `/api/v1/reports/${$("kind").value}/${encodeURIComponent($("id").value)}?${q}`;
  }

  async function ask(format) {
    sessionStorage.setItem("callisto-token", $("token").value);
    const response = await fetch(url(format), { headers: { Authorization: "Bearer " + $("token").value } });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || problem.title || response.statusText);
    }
    return response;
  }

  function table(report) {
    const rows = report.rows;
    const names = rows.length ? Object.keys(rows[0]).filter((k) => k !== "seconds") : [];
    const head = document.createElement("tr");
    for (const name of names) head.append(Object.assign(document.createElement("th"), { textContent: name }));
    const body = rows.map((row) => {
      const tr = document.createElement("tr");
      for (const name of names) {
        const v = row[name];
        tr.append(Object.assign(document.createElement("td"), { textContent: v === null ? "–" : String(v) }));
      }
      return tr;
    });
    $("rows").replaceChildren(head, ...body);
  }

  $("report").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("error").textContent = "";
    try {
      const report = await (await ask("json")).json();
      table(report);
      const svg = await (await ask("svg")).text();
      $("chart").replaceChildren(new DOMParser().parseFromString(svg, "image/svg+xml").documentElement);
    } catch (err) {
      $("error").textContent = err.message;
    }
  });

  for (const button of document.querySelectorAll("button[data-format]")) {
    button.addEventListener("click", async () => {
      try {
        const blob = await (await ask(button.dataset.format)).blob();
        const link = Object.assign(document.createElement("a"), {
          href: URL.createObjectURL(blob), download: `report-${$("id").value}.${button.dataset.format}` });
        link.click();
      } catch (err) {
        $("error").textContent = err.message;
      }
    });
  }
  if (params.get("id")) $("report").requestSubmit();
})();
