// cohort-cart.js: the cart on the visitor's device (SPEC section 5). It keeps one
// localStorage key, cohort.cart = {"SKU": quantity}, written only when the visitor adds,
// changes or removes something; it never reads or writes anything else. Prices, names and
// provider fields come from the pages (the add-to-cart forms and the cart page's catalog),
// never from storage, so what a provider receives is what the page shows. Written for
// src/runtime's minifier: every statement ends with a semicolon.
(function () {
  var KEY = "cohort.cart";
  var MAX = 99;
  var d = document;
  function read() {
    try {
      var c = JSON.parse(localStorage.getItem(KEY) || "{}");
      return c && typeof c === "object" && !Array.isArray(c) ? c : {};
    } catch (e) {
      return {};
    }
  }
  function write(c) {
    try {
      if (Object.keys(c).length) localStorage.setItem(KEY, JSON.stringify(c));
      else localStorage.removeItem(KEY);
    } catch (e) {}
  }
  function each(sel, f) {
    var l = d.querySelectorAll(sel);
    for (var i = 0; i < l.length; i++) f(l[i]);
  }
  function clamp(q) {
    q = Math.floor(Number(q));
    return q > 0 ? Math.min(q, MAX) : 0;
  }
  function badge() {
    var c = read();
    var n = 0;
    for (var k in c) n += clamp(c[k]);
    each("[data-cart-count]", function (e) {
      e.textContent = n;
    });
  }
  function add(sku, form) {
    if (!sku) return;
    var c = read();
    c[sku] = clamp((c[sku] || 0) + 1);
    write(c);
    badge();
    each("[data-cart-status]", function (e) {
      e.textContent = "";
    });
    var s = form && form.querySelector("[data-cart-status]");
    if (s) s.textContent = "Added to your cart.";
  }
  d.addEventListener("submit", function (e) {
    var f = e.target.closest && e.target.closest("form[data-cart-add]");
    if (!f) return;
    e.preventDefault();
    add(f.getAttribute("data-sku"), f);
  });
  d.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-cart-chosen]");
    if (b) add(b.getAttribute("data-sku"), b.parentNode);
  });
  each("form[data-cart-add][hidden], [data-cart-link][hidden]", function (e) {
    e.hidden = false;
  });
  badge();
  // "Delete everything" on the preferences page empties the cart too.
  var del = d.getElementById("cohort-delete");
  if (del) del.addEventListener("click", function () {
    write({});
    badge();
  });

  var conf = d.getElementById("cohort-cart-config");
  if (!conf) return;
  var cfg = JSON.parse(conf.textContent);
  var items = cfg.items;
  var rows = d.querySelector("[data-cart-rows]");
  function dec(minor) {
    var s = String(minor);
    var n = cfg.digits;
    while (s.length <= n) s = "0" + s;
    return n ? s.slice(0, -n) + "." + s.slice(-n) : s;
  }
  function money(minor) {
    var s = dec(minor);
    var w = cfg.digits ? s.slice(0, -cfg.digits - 1) : s;
    return cfg.pre + w.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + s.slice(w.length) + cfg.post;
  }
  function el(tag, text) {
    var e = d.createElement(tag);
    if (text != null) e.textContent = text;
    return e;
  }
  function lines() {
    var c = read();
    var out = [];
    for (var sku in c) {
      var q = clamp(c[sku]);
      if (q && items[sku]) out.push([sku, items[sku], q]);
    }
    return out;
  }
  function set(sku, q) {
    var c = read();
    q = clamp(q);
    if (q) c[sku] = q;
    else delete c[sku];
    write(c);
    render();
  }
  function render() {
    var l = lines();
    var total = BigInt(0);
    rows.textContent = "";
    l.forEach(function (x) {
      var sku = x[0];
      var it = x[1];
      var line = BigInt(it.p) * BigInt(x[2]);
      total += line;
      var tr = el("tr");
      tr.setAttribute("data-sku", sku);
      var th = el("th");
      th.scope = "row";
      var a = el("a", it.n);
      a.href = it.u;
      th.appendChild(a);
      tr.appendChild(th);
      tr.appendChild(el("td", money(it.p)));
      var td = el("td");
      var inp = el("input");
      inp.type = "number";
      inp.min = "0";
      inp.max = String(MAX);
      inp.value = String(x[2]);
      inp.setAttribute("aria-label", "Quantity of " + it.n);
      inp.addEventListener("change", function () {
        set(sku, inp.value);
      });
      td.appendChild(inp);
      tr.appendChild(td);
      tr.appendChild(el("td", money(line)));
      var rm = el("button", "Remove");
      rm.type = "button";
      rm.className = "link-button";
      rm.setAttribute("aria-label", "Remove " + it.n);
      rm.addEventListener("click", function () {
        set(sku, 0);
      });
      td = el("td");
      td.appendChild(rm);
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    each("[data-cart-total]", function (e) {
      e.textContent = money(total);
    });
    each("[data-cart-table], [data-cart-checkout]", function (e) {
      e.hidden = !l.length;
    });
    each("[data-cart-empty]", function (e) {
      e.hidden = !!l.length;
    });
    badge();
  }
  function post(fields) {
    var f = el("form");
    f.method = "post";
    f.action = cfg.action;
    fields.forEach(function (x) {
      var i = el("input");
      i.type = "hidden";
      i.name = x[0];
      i.value = x[1];
      f.appendChild(i);
    });
    d.body.appendChild(f);
    f.submit();
  }
  function checkout() {
    var l = lines();
    if (!l.length) return;
    var fields = [];
    if (cfg.provider === "paypal") {
      fields.push(["cmd", "_cart"], ["upload", "1"], ["business", cfg.business], ["currency_code", cfg.currency]);
      l.forEach(function (x, i) {
        var n = i + 1;
        fields.push(["item_name_" + n, x[1].n], ["item_number_" + n, x[0]], ["amount_" + n, dec(x[1].p)], ["quantity_" + n, String(x[2])]);
      });
      return post(fields);
    }
    if (cfg.provider === "foxy") {
      l.forEach(function (x, i) {
        x[1].f.forEach(function (g) {
          fields.push([i + 1 + ":" + g[0], /^quantity\|/.test(g[0]) ? String(x[2]) : g[1]]);
        });
      });
      return post(fields);
    }
    d.addEventListener("snipcart.ready", function () {
      var p = Promise.resolve();
      l.forEach(function (x) {
        p = p.then(function () {
          return window.Snipcart.api.cart.items.add({ id: x[0], name: x[1].n, price: Number(dec(x[1].p)), url: x[1].a, quantity: x[2] });
        });
      });
      p.then(function () {
        window.Snipcart.api.theme.cart.open();
      });
    });
    var div = el("div");
    div.id = "snipcart";
    div.hidden = true;
    div.setAttribute("data-api-key", cfg.key);
    div.setAttribute("data-config-add-product-behavior", "none");
    d.body.appendChild(div);
    var css = el("link");
    css.rel = "stylesheet";
    css.href = cfg.css;
    d.head.appendChild(css);
    var s = el("script");
    s.src = cfg.js;
    s.async = true;
    d.body.appendChild(s);
  }
  each("[data-cart-checkout]", function (b) {
    b.addEventListener("click", checkout);
  });
  render();
})();
