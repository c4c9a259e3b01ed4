/* Progressive enhancement of the page; without it the form and the answer work as plain HTML.
   - technology suggestions as the person types (GET /v1/technologies, same origin)
   - "添加事件" adds an event row
   - only the questions that matter in the chosen jurisdiction are shown (data-where); for a technique
     in no catalogue (#f-new_tech) the facts that decide are shown everywhere (data-deciding)
   - print and copy-link buttons; candidate names fill the technology field */
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  /* ---------------------------------------------------------------- questions that matter */
  function applyWhere() {
    var sel = $("#f-jurisdiction");
    if (!sel) return;
    var j = sel.value;
    var newTech = $("#f-new_tech");
    var deciding = newTech && newTech.checked;  // a technique in no catalogue: the facts that decide are asked everywhere
    $$("[data-where]").forEach(function (el) {
      var where = (el.getAttribute("data-where") || "").split(" ");
      var show = !j || where.indexOf(j) >= 0 || el.classList.contains("ask") || (deciding && el.hasAttribute("data-deciding"));
      if (el.tagName === "OPTION") {
        el.hidden = !show && !el.selected;
        return;
      }
      el.hidden = !show;
      $$("input, select", el).forEach(function (input) { input.disabled = !show; });
    });
  }

  /* ---------------------------------------------------------------- event rows */
  function setUpEvents() {
    var rows = $("#ev-rows"), add = $("#ev-add");
    if (!rows || !add) return;
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = rows.lastElementChild;
      var row = last.cloneNode(true);
      row.classList.remove("bad");
      $$(".err", row).forEach(function (e) { e.remove(); });
      $$("select, input", row).forEach(function (input) { input.value = ""; });
      rows.appendChild(row);
      applyWhere();
      $("select", row).focus();
    });
  }

  /* ---------------------------------------------------------------- technology suggestions */
  function setUpSuggestions() {
    var input = $("#f-tech"), list = $("#tech-list"), hint = $("#tech-hint");
    if (!input || !list || !window.fetch) return;
    var timer = null, seq = 0;
    // a candidate's reason for people: "(alias of cabg)" becomes （别名）; a reason still naming ids is not shown
    function reasonText(reason) {
      var t = (reason || "").replace(/ ?\((alias|name) of [a-z0-9-]+\)/g, function (m, kind) { return kind === "alias" ? "（别名）" : ""; });
      return /[a-z]{2,}[-_][a-z0-9]/.test(t) ? "" : t;
    }
    function option(value, label) {
      var o = document.createElement("option");
      o.value = value;
      if (label) o.label = label;
      return o;
    }
    function show(data) {
      var r = data.resolution || {};
      list.innerHTML = "";
      var text = "";
      if (r.status === "recognized" && r.technology) {
        list.appendChild(option(r.technology.name));
        var l = r.listings || [], g = r.grade_needed || [];
        if (l.length) {
          text = "已识别：" + r.technology.name + "；目录编号 " + l.map(function (x) { return x.code + " " + x.name; }).join("、");
        } else if (g.length) {
          text = "已识别：" + r.technology.name + "；目录按手术分级列入（" + g.map(function (x) { return x.code + " " + x.name; }).join("、") + "），请选择手术分级";
        } else {
          text = "已识别：" + r.technology.name + "；所在地区在该日的限制类技术目录未列入";
        }
      } else if ((r.candidates || []).length) {
        r.candidates.forEach(function (c) { list.appendChild(option(c.name, reasonText(c.reason))); });
        text = (r.status === "ambiguous" ? "该名称可指多项技术：" : "可能是：") + r.candidates.map(function (c) { return c.name; }).join("、");
      } else if (input.value.trim()) {
        text = "未能识别该名称；仍可查询，答复会提示哪些结论取决于技术类别。";
      }
      hint.textContent = text;
    }
    function lookUp() {
      var q = input.value.trim();
      if (!q) { list.innerHTML = ""; hint.textContent = ""; return; }
      var params = new URLSearchParams({ q: q });
      var j = $("#f-jurisdiction"), d = $("#f-as_of"), g = $("#f-grade");
      if (j && j.value) params.set("jurisdiction", j.value);
      if (d && /^\d{4}-\d{2}-\d{2}$/.test(d.value)) params.set("as_of", d.value);
      if (g && g.value) params.set("surgery_grade", g.value);
      var mine = ++seq;
      fetch("/v1/technologies?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (data) { if (data && mine === seq) show(data); })
        .catch(function () { /* suggestions are a courtesy: the form still works */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, 250);
    });
    ["#f-jurisdiction", "#f-grade", "#f-as_of"].forEach(function (s) {
      var el = $(s);
      if (el) el.addEventListener("change", function () { if (input.value.trim()) lookUp(); });
    });
    if (input.value.trim()) lookUp();
  }

  /* ---------------------------------------------------------------- buttons */
  function setUpButtons() {
    $$("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
    $$("[data-copy-link]").forEach(function (b) {
      b.addEventListener("click", function () {
        var done = function () { b.textContent = "已复制本页链接"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(location.href).then(done, function () { window.prompt("复制本页链接：", location.href); });
        } else {
          window.prompt("复制本页链接：", location.href);
        }
      });
    });
    $$("button.cand").forEach(function (b) {
      b.addEventListener("click", function () {
        var target = document.getElementById(b.getAttribute("data-target"));
        if (target) { target.value = b.getAttribute("data-name"); target.focus(); }
      });
    });
  }

  function start() {
    var sel = $("#f-jurisdiction");
    if (sel) sel.addEventListener("change", applyWhere);
    var newTech = $("#f-new_tech");
    if (newTech) newTech.addEventListener("change", applyWhere);
    applyWhere();
    setUpEvents();
    setUpSuggestions();
    setUpButtons();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
