// cohort serve: live reload, build-error overlay and cohort preview switcher.
// Served only by `cohort serve`; built with DOM APIs so the site's CSP needs no change.
(function () {
  "use strict";
  var overlay = null;
  var params = new URLSearchParams(location.search);
  var preview = params.get("cohort");

  function el(tag, text, css) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (css) for (var k in css) e.style.setProperty(k, css[k]);
    return e;
  }

  function clearOverlay() {
    if (overlay) { overlay.remove(); overlay = null; }
  }

  function showErrors(data) {
    clearOverlay();
    overlay = el("div", null, {
      position: "fixed", inset: "0", "z-index": "2147483647", overflow: "auto",
      background: "rgba(20,20,20,0.92)", color: "#fff", padding: "2rem",
      font: "14px/1.5 ui-monospace, monospace"
    });
    overlay.id = "cohort-error-overlay";
    overlay.setAttribute("role", "alertdialog");
    overlay.setAttribute("aria-label", "Build error");
    overlay.appendChild(el("h2", "The build failed; the last good version is still served.", { color: "#ff8a80", margin: "0 0 1rem" }));
    (data.errors || []).forEach(function (item) {
      var where = item.file ? item.file + (item.line ? ":" + item.line + (item.column ? ":" + item.column : "") : "") : "";
      var box = el("div", null, { margin: "0 0 1.5rem" });
      if (where) box.appendChild(el("div", where, { color: "#ffd180", "font-weight": "bold" }));
      box.appendChild(el("pre", item.text || item.message, { "white-space": "pre-wrap", margin: "0.25rem 0 0" }));
      overlay.appendChild(box);
    });
    var close = el("button", "Dismiss", { "margin-top": "1rem" });
    close.type = "button";
    close.addEventListener("click", clearOverlay);
    overlay.appendChild(close);
    document.body.appendChild(overlay);
  }

  function reloadStyles() {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.href);
      if (url.origin !== location.origin) return;
      url.searchParams.set("__cohort", String(Date.now()));
      var next = link.cloneNode();
      next.href = url.toString();
      next.addEventListener("load", function () { link.remove(); });
      link.after(next);
    });
  }

  // The stream this page listens on carries the build it was served from (data-events),
  // so a reload sent while it was loading is not missed: the server answers a stale id
  // with a reload at once. After a style swap the page is current again: listen with the
  // new id.
  var me = document.currentScript || document.querySelector('script[src="/__cohort/livereload.js"]');
  var source = null;
  function listen(url) {
    if (source) source.close();
    source = new EventSource(url || "/__cohort/events");
    source.addEventListener("reload", function (e) {
      var data = {};
      try { data = JSON.parse(e.data); } catch (err) { /* keep defaults */ }
      clearOverlay();
      if (data.css_only) {
        reloadStyles();
        if (data.events) listen(data.events);
      } else {
        source.close();
        location.reload();
      }
    });
    source.addEventListener("build-error", function (e) {
      try { showErrors(JSON.parse(e.data)); } catch (err) { /* ignore malformed */ }
    });
    source.addEventListener("hello", clearOverlay);
  }
  listen(me && me.getAttribute("data-events"));

  // Cohort preview: keep ?cohort= on same-site links, hide consent prompts, offer a switcher.
  function setup() {
    if (preview) {
      document.documentElement.setAttribute("data-cohort-preview", preview);
      var prompts = document.querySelectorAll("[data-cohort-banner], .cohort-banner, #cohort-banner, [data-consent-banner], .consent-banner");
      Array.prototype.forEach.call(prompts, function (p) { p.hidden = true; });
      Array.prototype.forEach.call(document.querySelectorAll("a[href]"), function (a) {
        var url = new URL(a.href, location.href);
        if (url.origin === location.origin && !url.pathname.startsWith("/__cohort/")) {
          url.searchParams.set("cohort", preview);
          a.href = url.toString();
        }
      });
    }
    fetch("/__cohort/cohorts.json").then(function (r) { return r.json(); }).then(function (cohorts) {
      if (!cohorts.length) return;
      // What the page shows: the previewed cohort, else the one the visitor's own cookie
      // chose (the runtime swaps its slots in), else everyone's default.
      var cookie = (document.cookie.match(/(?:^|; )cohort_([a-z0-9-]+)=/) || [])[1];
      var shown = preview || cookie || "";
      var name = function (id) {
        var c = cohorts.filter(function (c) { return c.id === id; })[0];
        return c ? (c.label || c.id) : id;
      };
      // A bar in the page's flow at the very top: it never covers the banner, a page control
      // or the content, at any width.
      var box = el("div", null, {
        position: "relative", "z-index": "2147483646", display: "flex", "flex-wrap": "wrap",
        gap: "0.25rem 0.75rem", "align-items": "center", background: "#fff8d6", color: "#111",
        "border-bottom": "1px solid #b59a2a", padding: "0.3rem 0.75rem",
        font: "13px/1.4 system-ui, sans-serif"
      });
      box.id = "cohort-preview-switcher";
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Cohort preview (cohort serve only)");
      var status = el("span", preview ? "Previewing: " + name(preview)
        : cookie ? "Showing: " + name(cookie) + " (your cohort cookie)" : "Showing: everyone (default)");
      status.id = "cohort-preview-status";
      var label = el("label", "Preview as ");
      var select = el("select");
      var none = el("option", "everyone (default)");
      none.value = "";
      select.appendChild(none);
      cohorts.forEach(function (c) {
        var o = el("option", c.label || c.id);
        o.value = c.id;
        if (c.id === shown) o.selected = true;
        select.appendChild(o);
      });
      select.addEventListener("change", function () {
        var url = new URL(location.href);
        if (select.value) url.searchParams.set("cohort", select.value); else url.searchParams.delete("cohort");
        location.href = url.toString();
      });
      label.appendChild(select);
      box.appendChild(status);
      box.appendChild(label);
      document.body.insertBefore(box, document.body.firstChild);
    }).catch(function () { /* the switcher is optional */ });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
