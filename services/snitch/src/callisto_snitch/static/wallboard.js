// Callisto wallboard: follows /wallboard/ws, redraws each second, and says so when the data stops.
"use strict";
(function () {
  const STALE_MS = 2500;           // no figures for this long: the contact center is unreachable
  const panels = document.getElementById("panels");
  const status = document.getElementById("status");
  const clock = document.getElementById("clock");
  let lastGood = 0;                // when the last live figures arrived (ms)
  let downSince = null;            // when the data stopped (ms)
  let socket = null;

  const hhmmss = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
  const pct = (v) => (v === null || v === undefined ? "–" : Math.round(v * 100) + " %");
  const secs = (v) => {
    if (v === null || v === undefined) return "–";
    const s = Math.round(v);
    return s < 60 ? s + " s" : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const text = (tag, cls, content) => {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (content !== undefined) el.textContent = content;
    return el;
  };
  const figure = (label, value, colour, key) => {
    const box = text("div", "figure " + (colour || ""));
    box.dataset.kpi = key;
    box.title = colour ? label + ": " + colour : label;
    box.append(text("div", "value", value), text("div", "label", label + (colour ? " · " + colour : "")));
    return box;
  };

  function panel(id, f, kind) {
    const c = f.colours || {};
    const box = text("section", "panel");
    box.dataset[kind] = id;
    const title = text("h2", null, f.name || id);
    if (f.queues) title.append(text("small", null, f.queues.join(" · ")));
    box.append(title);
    const grid = text("div", "figures");
    grid.append(
      figure("waiting", String(f.waiting), c.longest_wait_s, "waiting"),
      figure("longest wait", secs(f.longest_wait_s), c.longest_wait_s, "longest_wait_s"),
      figure("service level", pct(f.service_level), c.service_level, "service_level"),
      figure("avg. speed of answer", secs(f.asa_s), c.asa_s, "asa_s"),
      figure("abandoned", pct(f.abandon_rate), c.abandon_rate, "abandon_rate"),
      figure("occupancy", pct(f.occupancy), c.occupancy, "occupancy"),
    );
    box.append(grid);
    const a = f.agents || {};
    const agents = text("div", "agents");
    for (const [label, key] of [["ready", "ready"], ["on call", "on_call"], ["wrap-up", "wrap_up"],
                                ["ringing", "reserved"], ["not ready", "not_ready"]]) {
      const span = text("span");
      span.dataset.agents = key;
      span.append(text("b", null, String(a[key] || 0)), document.createTextNode(" " + label));
      agents.append(span);
    }
    box.append(agents);
    box.append(text("div", "today",
      `today: ${f.offered} offered · ${f.answered} answered · ${f.abandoned} abandoned` +
      (f.callbacks_pending ? ` · ${f.callbacks_pending} callbacks waiting` : "") +
      (f.aht_s ? ` · AHT ${secs(f.aht_s)}` : "")));
    return box;
  }

  function draw(data) {
    const boxes = [];
    for (const [id, f] of Object.entries(data.lines)) boxes.push(panel(id, f, "line"));
    for (const [id, f] of Object.entries(data.queues)) boxes.push(panel(id, f, "queue"));
    panels.replaceChildren(...boxes);
    clock.textContent = hhmmss(data.at * 1000);
  }

  function unreachable(sinceMs) {
    downSince = downSince || sinceMs;
    status.className = "status unreachable";
    status.textContent = "Contact center unreachable since " + hhmmss(downSince);
    panels.classList.add("stale");
  }

  function reachable() {
    downSince = null;
    status.className = "status";
    status.textContent = "";
    panels.classList.remove("stale");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + "/wallboard/ws" + location.search);
    socket.onmessage = (msg) => {
      const data = JSON.parse(msg.data);
      if (data.error) {
        status.className = "status unreachable";
        status.textContent = data.error;
        return;
      }
      draw(data);
      if (data.live) {
        lastGood = Date.now();
        reachable();
      } else {
        unreachable(data.down_since ? data.down_since * 1000 : Date.now());
      }
    };
    socket.onclose = () => {
      socket = null;
      if (!lastGood) status.textContent = "connecting…";
      setTimeout(connect, 1000);
    };
    socket.onerror = () => socket && socket.close();
  }

  setInterval(() => {
    if (lastGood && Date.now() - lastGood > STALE_MS) unreachable(lastGood);
    if (!lastGood && !downSince && performance.now() > STALE_MS) unreachable(Date.now() - STALE_MS);
  }, 250);
  connect();
})();
