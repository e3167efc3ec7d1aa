/* The dashboard and the meeting room's big screen: fetches each panel's figures from its
   endpoint (/api/dashboard/<panel>/, docs/dashboard.md) and draws them with the vendored
   ECharts. One card per panel: a failed endpoint says so in its own card and leaves the others
   alone. Every chart item leads to the list behind it (its `url`), and every chart has the same
   figures as a table with links. Words come from the server (the JSON's labels, and the
   translated strings of the #dashboard-strings block): none are written here.

   Each chart container gets data-state="ready" once drawn ("empty" with nothing to draw,
   "error" when its panel failed), which the browser tests wait for. The big screen
   (data-mode="screen") fetches everything again every data-refresh-seconds, reusing its chart
   instances (setOption), and keeps a clock. */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard]");
  if (!root) return;
  var stringsNode = document.getElementById("dashboard-strings");
  var T = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  var SCREEN = root.getAttribute("data-mode") === "screen";
  var THEME = SCREEN ? "dark" : null;
  var PALETTE = SCREEN
    ? ["#ff6b5b", "#ffc145", "#5bc0eb", "#9bc53d", "#c792ea", "#fa8c16", "#36cfc9"]
    : ["#b3261e", "#e8a33d", "#3f6fb5", "#3ba272", "#8e5ea2", "#d4762c", "#2a9d8f"];
  var OVERDUE = SCREEN ? "#ff6b5b" : "#b3261e";
  var SOON = SCREEN ? "#ffc145" : "#e8a33d";
  var FONT = SCREEN ? 15 : 12;
  var charts = {}; // chart id -> ECharts instance, reused on every refresh

  function t(key) { return T[key] || key; }

  function num(value) {
    if (value === null || value === undefined || value === "") return null;
    var n = typeof value === "number" ? value : parseFloat(value);
    return isNaN(n) ? null : n;
  }

  function pct(rate) {
    var n = num(rate);
    return n === null ? "–" : (Math.round(n * 1000) / 10) + "%";
  }

  function fmt(value) {
    var n = num(value);
    if (n === null) return value === null || value === undefined ? "–" : String(value);
    return n.toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: 2 });
  }

  var compactFormat = window.Intl && Intl.NumberFormat
    ? new Intl.NumberFormat(document.documentElement.lang || undefined, { notation: "compact", maximumFractionDigits: 1 })
    : null;
  function compact(value) { return compactFormat ? compactFormat.format(value) : String(value); }

  // A figure in the JSON is a number, or an object with its count and url.
  function countOf(value) {
    if (value && typeof value === "object") return num(value.count);
    return num(value);
  }
  function urlOf(value) { return value && typeof value === "object" ? value.url || null : null; }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function linkOrText(text, url) {
    return url ? el("a", { href: url }, text) : document.createTextNode(text);
  }

  // --- the table under each chart --------------------------------------------------------
  // rows: [[{text, url} | value, ...]]; the first column names the row.
  function fillTable(id, headers, rows) {
    var holder = root.querySelector('[data-table="' + id + '"]');
    if (!holder) return;
    holder.textContent = "";
    if (!rows.length) { holder.appendChild(el("p", { class: "muted" }, t("empty"))); return; }
    var table = el("table", { class: "table table--compact" });
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    headers.forEach(function (h, i) { head.appendChild(el("th", i ? { class: "num", scope: "col" } : { scope: "col" }, h)); });
    var body = table.appendChild(el("tbody"));
    rows.forEach(function (row) {
      var tr = body.appendChild(el("tr"));
      row.forEach(function (cell, i) {
        var td = tr.appendChild(el(i ? "td" : "th", i ? { class: "num" } : { scope: "row" }));
        if (cell && typeof cell === "object") td.appendChild(linkOrText(cell.text, cell.url));
        else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
      });
    });
    holder.appendChild(table);
  }

  // --- figures and lists ----------------------------------------------------------------
  function fillFigures(name, figures) {
    var dl = root.querySelector('[data-figures="' + name + '"]');
    if (!dl) return;
    dl.textContent = "";
    figures.forEach(function (f) {
      var box = dl.appendChild(el("div", { class: "figure" + (f.alert ? " figure--alert" : "") }));
      box.appendChild(el("dt", {}, f.label));
      var dd = box.appendChild(el("dd"));
      var text = f.text !== undefined ? f.text : fmt(f.value);
      dd.appendChild(linkOrText(text, f.url));
      if (f.note) dd.appendChild(el("small", {}, " " + f.note));
    });
  }

  // items: [{text, url, note}]
  function fillList(name, items, emptyText) {
    var list = root.querySelector('[data-list="' + name + '"]');
    if (!list) return;
    list.textContent = "";
    if (!items.length) {
      list.appendChild(el("li", { class: "muted" }, emptyText || t("empty")));
      return;
    }
    items.forEach(function (item) {
      var li = list.appendChild(el("li"));
      li.appendChild(linkOrText(item.text, item.url));
      if (item.note) li.appendChild(el("small", { class: "muted" }, " " + item.note));
    });
  }

  // --- charts ---------------------------------------------------------------------------
  function chartFor(id) {
    var node = root.querySelector('[data-chart="' + id + '"]');
    if (!node) return null;
    var chart = charts[id];
    if (!chart) {
      chart = echarts.init(node, THEME, { renderer: "canvas" });
      chart.on("click", function (params) {
        var url = params.data && params.data.url;
        if (!url && params.componentType && params.componentType.slice(1) === "Axis") {
          url = (chart.__axisUrls || {})[params.value];
        }
        if (url) window.location.href = url;
      });
      charts[id] = chart;
    }
    return chart;
  }

  function base(extra) {
    var option = {
      color: PALETTE,
      backgroundColor: "transparent",
      textStyle: { fontSize: FONT },
      animation: !SCREEN,
      tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { fontSize: FONT } },
    };
    Object.keys(extra).forEach(function (key) { option[key] = extra[key]; });
    return option;
  }

  // The category labels: long unit names truncated (the full name in the tooltip and table).
  function categoryAxis(labels, horizontal, axisUrls) {
    var width = horizontal ? (SCREEN ? 150 : 96) : (SCREEN ? 110 : 72);
    return {
      type: "category",
      data: labels,
      inverse: horizontal, // the first item on top
      triggerEvent: !!axisUrls,
      axisTick: { show: false },
      axisLabel: (function () {
        // Few columns: labels wrap under their column; many: slanted and cut short.
        var slanted = !horizontal && labels.length > (SCREEN ? 6 : 5);
        var room = horizontal ? width : Math.max(40, Math.floor((SCREEN ? 440 : 300) / Math.max(labels.length, 1)));
        return {
          fontSize: FONT,
          width: slanted || horizontal ? width : room,
          overflow: slanted || horizontal ? "truncate" : "break",
          interval: 0,
          rotate: slanted ? 30 : 0,
        };
      })(),
    };
  }

  function valueAxis(percent) {
    return {
      type: "value",
      minInterval: percent ? 0 : 1,
      max: percent ? 100 : null,
      axisLabel: { fontSize: FONT, formatter: percent ? "{value}%" : null },
      splitLine: { lineStyle: { opacity: SCREEN ? 0.25 : 0.6 } },
    };
  }

  // Horizontal bars (rankings): a phone shows up to MAX_ROWS, a slider for the rest.
  var MAX_ROWS = SCREEN ? 10 : 15;
  function rowsHeight(node, count) {
    if (SCREEN) return; // the screen's grid fixes the height
    var shown = Math.min(count, MAX_ROWS);
    node.style.height = Math.max(180, shown * 30 + 70) + "px";
  }
  function rowZoom(count) {
    if (count <= MAX_ROWS) return [];
    return [
      { type: "slider", yAxisIndex: 0, startValue: 0, endValue: MAX_ROWS - 1, width: 14, right: 2,
        showDetail: false, brushSelect: false, zoomLock: true },
      { type: "inside", yAxisIndex: 0, zoomLock: true, moveOnMouseWheel: true, zoomOnMouseWheel: false },
    ];
  }

  function axisUrls(items, labelKey) {
    var urls = {};
    items.forEach(function (item) { if (item.url) urls[item[labelKey]] = item.url; });
    return urls;
  }

  function draw(id, option, urls, empty) {
    var chart = chartFor(id);
    if (!chart) return;
    var node = chart.getDom();
    if (empty) {
      option = {
        backgroundColor: "transparent",
        title: { text: t("empty"), left: "center", top: "middle",
          textStyle: { fontSize: FONT + 1, fontWeight: "normal", color: SCREEN ? "#aab" : "#5f6368" } },
      };
    }
    chart.__axisUrls = urls || {};
    chart.setOption(option, { notMerge: true });
    chart.resize();
    node.setAttribute("data-state", empty ? "empty" : "ready");
    node.classList.toggle("chart--clickable", !empty && hasUrls(option));
  }

  function hasUrls(option) {
    return (option.series || []).some(function (s) {
      return (s.data || []).some(function (d) { return d && d.url; });
    });
  }

  function point(value, url) { return { value: value, url: url || null }; }

  // A horizontal stacked bar of two counts by unit (elections, problems).
  function valueOf(item, spec) {
    return typeof spec.key === "function" ? spec.key(item) : num(item[spec.key]);
  }
  function stackedUnits(id, items, first, second) {
    var node = root.querySelector('[data-chart="' + id + '"]');
    if (node) rowsHeight(node, items.length);
    var labels = items.map(function (i) { return i.unit; });
    draw(id, base({
      grid: { left: 8, right: items.length > MAX_ROWS ? 28 : 16, top: 36, bottom: 8, containLabel: true },
      xAxis: valueAxis(false),
      yAxis: categoryAxis(labels, true, axisUrls(items, "unit")),
      dataZoom: rowZoom(items.length),
      series: [first, second].map(function (s) {
        return {
          name: s.name, type: "bar", stack: "total", color: s.color, barMaxWidth: 22,
          data: items.map(function (i) { return point(valueOf(i, s), i.url); }),
        };
      }),
    }), axisUrls(items, "unit"), !items.length);
    fillTable(id, [t("unit"), first.name, second.name], items.map(function (i) {
      return [{ text: i.unit, url: i.url }, fmt(valueOf(i, first)), fmt(valueOf(i, second))];
    }));
  }

  // --- one function per panel: draws its charts, figures and lists -------------------------
  var PANELS = {
    compliance: function (data) {
      var months = data.months || [];
      draw("compliance-months", base({
        tooltip: { trigger: "axis", confine: true, valueFormatter: function (v) { return v === null || v === undefined ? "–" : v + "%"; } },
        legend: { show: false },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: categoryAxis(months.map(function (m) { return m.month; }), false),
        yAxis: valueAxis(true),
        series: [{
          name: t("rate"), type: "line", connectNulls: false, symbolSize: 8,
          areaStyle: { opacity: 0.12 },
          data: months.map(function (m) {
            var rate = num(m.rate);
            return point(rate === null ? null : Math.round(rate * 1000) / 10, m.url);
          }),
        }],
      }), null, !months.length);
      fillTable("compliance-months", [t("month"), t("organizations"), t("compliant"), t("rate")],
        months.map(function (m) {
          return [{ text: m.month, url: m.url }, fmt(m.organizations), fmt(m.compliant), pct(m.rate)];
        }));

      var ranking = data.ranking || [];
      var node = root.querySelector('[data-chart="compliance-ranking"]');
      if (node) rowsHeight(node, ranking.length);
      var urls = axisUrls(ranking, "unit");
      draw("compliance-ranking", base({
        tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v === null || v === undefined ? "–" : v + "%"; } },
        legend: { show: false },
        grid: { left: 8, right: ranking.length > MAX_ROWS ? 44 : 36, top: 8, bottom: 8, containLabel: true },
        xAxis: valueAxis(true),
        yAxis: categoryAxis(ranking.map(function (r) { return r.unit; }), true, urls),
        dataZoom: rowZoom(ranking.length),
        series: [{
          name: t("rate"), type: "bar", barMaxWidth: 22,
          label: { show: true, position: "right", fontSize: FONT - 1, formatter: function (p) { return p.value === null ? "–" : p.value + "%"; } },
          data: ranking.map(function (r) {
            var rate = num(r.rate);
            return point(rate === null ? null : Math.round(rate * 1000) / 10, r.url);
          }),
        }],
      }), urls, !ranking.length);
      fillTable("compliance-ranking", [t("unit"), t("organizations"), t("compliant"), t("rate")],
        ranking.map(function (r) {
          return [{ text: r.unit, url: r.url }, fmt(r.organizations), fmt(r.compliant), pct(r.rate)];
        }));
    },

    owed: function (data) {
      fillFigures("owed", [
        { label: t("owing"), value: data.organizations_owing, url: data.url, alert: num(data.organizations_owing) > 0, note: data.month ? "(" + data.month + ")" : "" },
      ]);
      var types = data.by_type || [];
      draw("owed-types", base({
        legend: { show: false },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: categoryAxis(types.map(function (x) { return x.type; }), false),
        yAxis: valueAxis(false),
        series: [{
          name: t("owing"), type: "bar", barMaxWidth: 36, color: OVERDUE,
          label: { show: true, position: "top", fontSize: FONT - 1 },
          data: types.map(function (x) { return point(num(x.organizations), x.url || data.url); }),
        }],
      }), null, !types.length);
      fillTable("owed-types", [t("type"), t("owing"), t("missing")], types.map(function (x) {
        return [{ text: x.type, url: x.url || data.url }, fmt(x.organizations), fmt(x.missing)];
      }));
      fillList("owed-organizations", (data.organizations || []).map(function (o) {
        return { text: o.name, url: o.url, note: o.detail || (o.missing !== undefined ? "×" + o.missing : "") };
      }), t("nothing_owed"));
    },

    elections: function (data) {
      fillFigures("elections", [
        { label: t("elections_overdue"), value: countOf(data.overdue), url: urlOf(data.overdue) || data.overdue_url || data.url, alert: countOf(data.overdue) > 0 },
        { label: t("elections_due_soon"), value: countOf(data.due_soon), url: urlOf(data.due_soon) || data.due_soon_url || data.url },
      ]);
      stackedUnits("elections-units", data.by_unit || [],
        { key: "overdue", name: t("overdue"), color: OVERDUE },
        { key: "due_soon", name: t("due_soon"), color: SOON });
    },

    members: function (data) {
      var youth = data.youth || {};
      fillFigures("members", [
        { label: t("members"), value: countOf(data.total), url: urlOf(data.total) || data.url },
        { label: t("youth"), value: countOf(youth), url: urlOf(youth), note: youth.share !== undefined ? "(" + pct(youth.share) + ")" : "" },
        { label: t("fifty_years"), value: countOf(data.fifty_years), url: urlOf(data.fifty_years) },
        { label: t("probationary"), value: countOf(data.probationary), url: urlOf(data.probationary) },
      ]);
      var ages = data.age_bands || [];
      draw("members-ages", base({
        legend: { show: false },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: categoryAxis(ages.map(function (a) { return a.label; }), false),
        yAxis: valueAxis(false),
        series: [{
          name: t("members"), type: "bar", barMaxWidth: 40,
          label: { show: true, position: "top", fontSize: FONT - 1 },
          data: ages.map(function (a) { return point(num(a.count), a.url); }),
        }],
      }), axisUrls(ages, "label"), !ages.length);
      fillTable("members-ages", [t("label"), t("members")], ages.map(function (a) {
        return [{ text: a.label, url: a.url }, fmt(a.count)];
      }));
      var education = data.education || [];
      draw("members-education", {
        color: PALETTE,
        backgroundColor: "transparent",
        animation: !SCREEN,
        tooltip: { trigger: "item", confine: true, formatter: "{b}: {c} ({d}%)" },
        legend: { show: false },
        series: [{
          name: t("members"), type: "pie", radius: SCREEN ? ["30%", "58%"] : ["28%", "52%"], center: ["50%", "52%"],
          avoidLabelOverlap: true, minShowLabelAngle: 3,
          label: { fontSize: FONT - 1, formatter: function (p) { return p.name + "\n" + Math.round(p.percent) + "%"; } },
          labelLayout: { hideOverlap: true },
          data: education.map(function (e) { return { name: e.label, value: num(e.count), url: e.url || null }; }),
        }],
      }, null, !education.length);
      fillTable("members-education", [t("label"), t("members")], education.map(function (e) {
        return [{ text: e.label, url: e.url }, fmt(e.count)];
      }));
    },

    pairings: function (data) {
      var schemes = data.schemes || [];
      var node = root.querySelector('[data-chart="pairings-schemes"]');
      if (node) rowsHeight(node, schemes.length);
      var urls = axisUrls(schemes, "scheme");
      draw("pairings-schemes", base({
        tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v === null || v === undefined ? "–" : v + "%"; } },
        legend: { show: false },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: valueAxis(true),
        yAxis: categoryAxis(schemes.map(function (s) { return s.scheme; }), true, urls),
        dataZoom: rowZoom(schemes.length),
        series: [{
          name: t("docking_rate"), type: "bar", barMaxWidth: 22,
          label: { show: true, position: "right", fontSize: FONT - 1, formatter: function (p) { return p.value === null ? "–" : p.value + "%"; } },
          data: schemes.map(function (s) {
            var rate = num(s.rate);
            return point(rate === null ? null : Math.round(rate * 1000) / 10, s.url);
          }),
        }],
      }), urls, !schemes.length);
      fillTable("pairings-schemes", [t("scheme"), t("pairings"), t("docked"), t("docking_rate")],
        schemes.map(function (s) {
          return [{ text: s.scheme, url: s.url }, fmt(s.pairings), fmt(s.docked), pct(s.rate)];
        }));

      var quarters = data.help_by_quarter || [];
      draw("pairings-help", base({
        xAxis: categoryAxis(quarters.map(function (q) { return q.quarter; }), false),
        yAxis: [valueAxis(false), valueAxis(false)].map(function (axis, i) {
          axis.minInterval = 0;
          axis.splitLine = { show: i === 0, lineStyle: { opacity: SCREEN ? 0.25 : 0.6 } };
          axis.axisLabel.formatter = compact;
          return axis;
        }),
        series: [
          { name: t("money"), type: "bar", barMaxWidth: 36,
            data: quarters.map(function (q) { return point(num(q.money), q.url); }) },
          { name: t("goods"), type: "line", yAxisIndex: 1, symbolSize: 8,
            data: quarters.map(function (q) { return point(num(q.goods), q.url); }) },
        ],
      }), axisUrls(quarters, "quarter"), !quarters.length);
      fillTable("pairings-help", [t("quarter"), t("money"), t("goods")], quarters.map(function (q) {
        return [{ text: q.quarter, url: q.url }, fmt(q.money), fmt(q.goods)];
      }));
    },

    evaluations: function (data) {
      var due = data.re_reviews_due;
      fillFigures("evaluations", [
        { label: t("re_reviews_due"), value: countOf(due), url: urlOf(due) || data.re_reviews_url, alert: countOf(due) > 0 },
      ]);
      var titles = data.titles || [];
      draw("evaluations-titles", base({
        legend: { show: false },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: categoryAxis(titles.map(function (x) { return x.label || x.kind; }), false),
        yAxis: valueAxis(false),
        series: [{
          name: t("titles"), type: "bar", barMaxWidth: 40,
          label: { show: true, position: "top", fontSize: FONT - 1 },
          data: titles.map(function (x) { return point(num(x.count), x.url); }),
        }],
      }), axisUrls(titles, "label"), !titles.length);
      fillTable("evaluations-titles", [t("kind"), t("titles")], titles.map(function (x) {
        return [{ text: x.label || x.kind, url: x.url }, fmt(x.count)];
      }));
    },

    campaigns: function (data) {
      // Targets count different things (people, yuan, activities): each is drawn as the share
      // of its own goal, with the figures themselves in the label, tooltip and table.
      var targets = data.targets || [];
      // The indicator names the bar (campaigns of a year share a long prefix); the campaign is
      // in the tooltip and the table.
      var labels = targets.map(function (x) { return x.target || x.campaign; });
      var fullLabels = targets.map(function (x) { return x.target ? x.campaign + " · " + x.target : x.campaign; });
      var share = function (x) {
        var s = num(x.share);
        if (s === null && num(x.goal)) s = num(x.actual) / num(x.goal);
        return s === null ? null : Math.round(s * 1000) / 10;
      };
      var figures = function (x) {
        return fmt(x.actual) + " / " + fmt(x.goal) + (x.unit_of_measure ? " " + x.unit_of_measure : "");
      };
      var node = root.querySelector('[data-chart="campaigns-targets"]');
      if (node) rowsHeight(node, targets.length);
      var urls = {};
      targets.forEach(function (x, i) { if (x.url) urls[labels[i]] = x.url; });
      draw("campaigns-targets", base({
        legend: { show: false },
        tooltip: { trigger: "axis", confine: true, axisPointer: { type: "shadow" },
          formatter: function (params) {
            var x = targets[params[0].dataIndex];
            return echarts.format.encodeHTML(fullLabels[params[0].dataIndex]) + "<br>" + figures(x) + " (" + (params[0].value === null ? "–" : params[0].value + "%") + ")";
          } },
        grid: { left: 8, right: SCREEN ? 150 : 110, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); },
          splitNumber: 2, axisLabel: { fontSize: FONT, formatter: "{value}%" }, splitLine: { lineStyle: { opacity: SCREEN ? 0.25 : 0.6 } } },
        yAxis: categoryAxis(labels, true, urls),
        dataZoom: rowZoom(targets.length),
        series: [{
          name: t("share_of_goal"), type: "bar", barMaxWidth: 20,
          label: { show: true, position: "right", fontSize: FONT - 1,
            formatter: function (p) { return figures(targets[p.dataIndex]); } },
          markLine: { silent: true, symbol: "none", label: { show: false },
            lineStyle: { color: SCREEN ? "#ffc145" : "#5f6368", type: "dashed" }, data: [{ xAxis: 100 }] },
          data: targets.map(function (x) { return point(share(x), x.url); }),
        }],
      }), urls, !targets.length);
      fillTable("campaigns-targets", [t("target"), t("goal"), t("actual"), t("share_of_goal")], targets.map(function (x, i) {
        return [{ text: fullLabels[i], url: x.url }, fmt(x.goal), fmt(x.actual), share(x) === null ? "–" : share(x) + "%"];
      }));
    },

    problems: function (data) {
      fillFigures("problems", [
        { label: t("problems_open"), value: countOf(data.open), url: urlOf(data.open) || data.open_url || data.url },
        { label: t("problems_overdue"), value: countOf(data.overdue), url: urlOf(data.overdue) || data.overdue_url, alert: countOf(data.overdue) > 0 },
      ]);
      stackedUnits("problems-units", data.by_unit || [],
        { key: "overdue", name: t("overdue"), color: OVERDUE },
        // Overdue problems are open ones too: the bar's length is the open problems.
        { key: function (i) { return Math.max(0, (num(i.open) || 0) - (num(i.overdue) || 0)); },
          name: t("open_in_time"), color: SOON });
    },

    branch: function (data) {
      var owed = data.owed || {};
      var problems = data.problems || {};
      var visits = data.visits || {};
      fillFigures("branch", [
        { label: t("activities_owed"), value: num(owed.missing), url: owed.url, alert: num(owed.missing) > 0,
          note: owed.month ? "(" + owed.month + ")" : "" },
        { label: t("problems_open"), value: num(problems.open), url: problems.url },
        { label: t("problems_overdue"), value: num(problems.overdue), url: problems.url, alert: num(problems.overdue) > 0 },
        { label: t("visits"), value: num(visits.count), note: visits.year ? "(" + visits.year + ")" : "" },
      ]);
      fillList("branch-owed", (owed.by_type || []).filter(function (o) { return num(o.missing) > 0; }).map(function (o) {
        return { text: o.type, url: owed.url, note: "×" + o.missing };
      }), t("nothing_owed"));
      fillList("branch-problems", (problems.items || []).map(function (p) {
        return { text: p.description, url: p.url,
          note: [p.organization || "", p.deadline ? t("deadline") + " " + p.deadline : ""].join(" ").trim() };
      }), t("no_problems"));
      fillList("branch-visits", (visits.pairings || []).map(function (v) {
        return { text: v.partner + (v.scheme ? " (" + v.scheme + ")" : ""), url: v.url,
          note: "×" + fmt(v.visits) + (v.last_visit ? " · " + t("last_visit") + " " + v.last_visit : "") };
      }), t("no_visits"));
      var attendance = data.attendance || [];
      var node = root.querySelector('[data-chart="branch-attendance"]');
      if (node) rowsHeight(node, attendance.length);
      draw("branch-attendance", base({
        grid: { left: 8, right: attendance.length > MAX_ROWS ? 64 : 48, top: 36, bottom: 8, containLabel: true },
        xAxis: valueAxis(false),
        yAxis: categoryAxis(attendance.map(function (a) { return a.member; }), true),
        dataZoom: rowZoom(attendance.length),
        series: [
          { name: t("expected"), type: "bar", barGap: "-100%", barMaxWidth: 18, color: SCREEN ? "#3b4656" : "#e3e3e3", z: 1,
            // The rate after the whole bar: always outside it, however short the attendance.
            label: { show: true, position: "right", fontSize: FONT - 2, color: SCREEN ? "#b8c6d8" : "#5f6368",
              formatter: function (p) { var a = attendance[p.dataIndex]; return a && num(a.rate) !== null ? pct(a.rate) : ""; } },
            data: attendance.map(function (a) { return point(num(a.expected), a.url); }) },
          { name: t("attended"), type: "bar", barMaxWidth: 18, z: 2,
            data: attendance.map(function (a) { return point(num(a.attended), a.url); }) },
        ],
      }), null, !attendance.length);
      fillTable("branch-attendance", [t("member"), t("attended"), t("expected"), t("rate")],
        attendance.map(function (a) {
          return [{ text: a.member, url: a.url }, fmt(a.attended), fmt(a.expected), pct(a.rate)];
        }));
    },
  };

  function asList(value) {
    if (Array.isArray(value)) return value;
    if (value && typeof value === "object") {
      return value.items || value.list || value.by_type || value.results || [];
    }
    return [];
  }

  // --- fetching ---------------------------------------------------------------------------
  var scopeNode = document.querySelector("[data-scope-label]");
  var asOfNode = document.querySelector("[data-as-of]");

  // A panel's card, and on the big screen the other cells showing the same panel's figures.
  function setState(card, state) {
    var name = card.getAttribute("data-panel");
    var parts = [card].concat(Array.prototype.slice.call(
      root.querySelectorAll('[data-panel-part="' + name + '"]')));
    parts.forEach(function (part) {
      part.setAttribute("data-state", state);
      var message = part.querySelector("[data-state-message]");
      if (message) {
        message.textContent = state === "loading" ? t("loading") : state === "error" ? t("error") : "";
        message.hidden = state === "ready";
      }
      if (state === "error") {
        part.querySelectorAll("[data-chart]").forEach(function (node) {
          if (!charts[node.getAttribute("data-chart")]) node.setAttribute("data-state", "error");
        });
      }
    });
  }

  function loadPanel(card, first) {
    var name = card.getAttribute("data-panel");
    var draw = PANELS[name];
    if (!draw) return Promise.resolve();
    if (first) setState(card, "loading");
    return fetch(card.getAttribute("data-endpoint"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        draw(data);
        setState(card, "ready");
        if (data.scope && data.scope.label && scopeNode) scopeNode.textContent = data.scope.label;
        if (data.as_of && asOfNode) asOfNode.textContent = data.as_of;
      })
      .catch(function (error) {
        // A refresh that fails keeps the figures already drawn and says so in the card.
        setState(card, "error");
        if (window.console && console.warn) console.warn("dashboard: " + name, error);
      });
  }

  var cards = Array.prototype.slice.call(root.querySelectorAll("[data-panel]"));
  function loadAll(first) {
    return Promise.all(cards.map(function (card) { return loadPanel(card, first); })).then(function () {
      root.setAttribute("data-loaded", String(Date.now()));
    });
  }

  if (typeof echarts === "undefined") {
    cards.forEach(function (card) { setState(card, "error"); });
    return;
  }
  loadAll(true);

  var resizing = null;
  window.addEventListener("resize", function () {
    if (resizing) cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(function () {
      Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    });
  });
  // Opening a chart's table and closing it again changes nothing; a card that was hidden
  // when drawn (a narrow first paint) gets its right size when shown.
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        var id = entry.target.getAttribute("data-chart");
        if (charts[id]) charts[id].resize();
      });
    });
    root.querySelectorAll("[data-chart]").forEach(function (node) { observer.observe(node); });
  }

  // --- the big screen: refetch, clock, full screen ------------------------------------------
  if (SCREEN) {
    var seconds = parseInt(root.getAttribute("data-refresh-seconds"), 10) || 300;
    window.setInterval(function () { loadAll(false); }, seconds * 1000);

    var clock = document.querySelector("[data-clock]");
    if (clock) {
      // The committee's time zone (the server's), whatever the screen's computer is set to.
      var zone = clock.getAttribute("data-time-zone") || undefined;
      try { new Date().toLocaleString(undefined, { timeZone: zone }); } catch (e) { zone = undefined; }
      var tick = function () {
        var now = new Date();
        clock.textContent = now.toLocaleString(document.documentElement.lang || undefined, {
          year: "numeric", month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
          timeZone: zone,
        });
      };
      tick();
      window.setInterval(tick, 1000);
    }

    var button = document.querySelector("[data-fullscreen]");
    var page = document.documentElement;
    if (button && page.requestFullscreen) {
      button.hidden = false;
      button.addEventListener("click", function () {
        if (document.fullscreenElement) document.exitFullscreen();
        else page.requestFullscreen().catch(function () { /* refused: stays in the window */ });
      });
    }
  }
})();
