/* The cockpit's charts: each <div class="chart" data-option='…'> becomes an ECharts chart in
   the page's language, with aria on (screen readers get a description). The same numbers
   stand in the table under each chart, which is all a browser without JavaScript shows. */
(function () {
  "use strict";
  function draw() {
    if (typeof echarts === "undefined") { return; }
    var locale = document.documentElement.lang === "en" ? "EN" : "ZH";
    document.querySelectorAll("div.chart[data-option]").forEach(function (el) {
      var option = JSON.parse(el.getAttribute("data-option"));
      option.aria = { enabled: true };
      option.tooltip = option.tooltip || {};
      option.animation = false;
      el.classList.add("drawn");  /* its height first: ECharts measures the element */
      var chart = echarts.init(el, null, { locale: locale, renderer: "canvas" });
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
