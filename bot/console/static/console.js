// The console's small behaviours; no inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  var csrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  // htmx requests carry the session's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    // A select that submits its form (community switcher).
    if (el.matches("[data-autosubmit]")) { el.form.submit(); }
    // A canned reply fills the reply box; staff can still edit before sending.
    if (el.matches("[data-canned]")) {
      var box = document.getElementById(el.getAttribute("data-canned"));
      if (box && el.value) { box.value = el.value; box.focus(); }
    }
  });

  // Confirm before destructive actions.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // Live thread: new messages arrive as server-sent events with ready-made, escaped HTML.
  function live() {
    var list = document.querySelector("[data-live]");
    if (!list || !window.EventSource) { return; }
    var url = list.getAttribute("data-live") + "?after=" + (list.getAttribute("data-last") || "0");
    var source = new EventSource(url);
    var status = document.getElementById("live-status");
    source.addEventListener("message", function (event) {
      var holder = document.createElement("ul");
      holder.innerHTML = event.data;  // rendered server-side by Jinja2 with autoescape
      while (holder.firstChild) { list.appendChild(holder.firstChild); }
      list.scrollTop = list.scrollHeight;
    });
    source.addEventListener("delivery", function (event) {
      var data = JSON.parse(event.data);
      var badge = document.getElementById("delivery-" + data.id);
      if (badge) { badge.textContent = data.text; badge.className = "badge " + data.status; }
    });
    source.addEventListener("closed", function () {
      if (status) { status.textContent = "会话已结束"; }
      source.close();
    });
    source.onopen = function () { if (status) { status.textContent = "实时更新中"; } };
    source.onerror = function () { if (status) { status.textContent = "连接中断，正在重连…"; } };
    list.scrollTop = list.scrollHeight;
  }

  // Dashboard charts: the figures come as JSON in a data attribute.
  function charts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      var option = { animation: false, tooltip: { trigger: spec.type === "pie" ? "item" : "axis" }, grid: { left: 40, right: 16, top: 24, bottom: 48, containLabel: true } };
      if (spec.type === "pie") {
        option.series = [{ type: "pie", radius: ["35%", "65%"], data: spec.labels.map(function (l, i) { return { name: l, value: spec.values[i] }; }) }];
      } else {
        option.xAxis = { type: "category", data: spec.labels, axisLabel: { rotate: spec.labels.length > 8 ? 45 : 0 } };
        // Two value axes when the series measure different things (hours and points).
        option.yAxis = (spec.axes || [""]).map(function (name) { return { type: "value", name: name, minInterval: 1 }; });
        option.series = (spec.series || [{ name: spec.name || "", values: spec.values }]).map(function (s) {
          var type = s.type || spec.type;
          return { name: s.name, type: type, data: s.values, smooth: type === "line", yAxisIndex: s.axis || 0 };
        });
        if (spec.series) { option.legend = { top: 0 }; }
        if (spec.axes) { option.grid.top = 60; }  // room for the axes' names under the legend
      }
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // Threads open at the newest message.
  function scrollThreads() {
    document.querySelectorAll(".thread").forEach(function (list) { list.scrollTop = list.scrollHeight; });
  }

  document.addEventListener("DOMContentLoaded", function () { scrollThreads(); live(); charts(); });
})();
