/* Tovholder's small glue where htmx does not reach: the timer between
   updates, client-made ids for resend-safe messages, connection state,
   confirmations, and keeping the screen awake. No inline scripts (CSP). */
(function () {
  "use strict";
  var offset = 0; // server clock minus this clock, in ms

  function readClock() {
    var el = document.getElementById("clock");
    if (el && el.dataset.now) {
      var now = parseInt(el.dataset.now, 10);
      if (!isNaN(now)) { offset = now - Date.now(); el.removeAttribute("data-now"); }
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function mmss(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
  }

  function tick() {
    var timers = document.querySelectorAll("#timer[data-status='running']");
    for (var i = 0; i < timers.length; i++) {
      var t = timers[i];
      var deadline = parseInt(t.dataset.deadline, 10);
      if (!deadline) continue;
      var left = (deadline - (Date.now() + offset)) / 1000;
      var digits = t.querySelector(".timer-digits");
      if (digits) digits.textContent = mmss(left);
      var expired = left <= 0;
      if (expired && !t.classList.contains("is-expired")) {
        t.classList.add("is-expired");
        t.setAttribute("aria-live", "assertive");
      }
    }
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return pad16(b); }).join("");
  }
  function pad16(b) { return (b < 16 ? "0" : "") + b.toString(16); }

  document.addEventListener("htmx:wsConfigSend", function (evt) {
    var elt = evt.detail.elt || evt.target;
    var form = elt.closest ? (elt.closest("form") || elt) : elt;
    var confirmText = elt.getAttribute && elt.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) { evt.preventDefault(); return; }
    var params = evt.detail.parameters;
    if (params && typeof params.text === "string" && form.hasAttribute("data-clear") && !params.text.trim()) {
      evt.preventDefault(); return;
    }
    var idField = form.getAttribute && form.getAttribute("data-new-id");
    if (idField && params && !params[idField]) { params[idField] = randomId(); }
    delete evt.detail.headers; // screens need no htmx headers; keeps messages small
    evt.detail.headers = null;
    var clear = form.getAttribute && form.getAttribute("data-clear");
    if (clear) {
      setTimeout(function () {
        var field = form.querySelector("[name='" + clear + "']");
        if (field) { field.value = ""; }
      }, 0);
    }
    if (form.tagName === "FORM" && !form.hasAttribute("data-clear")) {
      setTimeout(function () { form.reset(); }, 0);
    }
  });

  function setConn(state) {
    var els = document.querySelectorAll("[data-conn]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      el.dataset.state = state;
      el.textContent = el.getAttribute("data-text-" + state) || "";
    }
  }
  document.addEventListener("htmx:wsOpen", function () { setConn("online"); });
  document.addEventListener("htmx:wsClose", function () { setConn("offline"); });
  document.addEventListener("htmx:wsError", function () { setConn("offline"); });
  document.addEventListener("htmx:wsAfterMessage", function () {
    readClock();
    tick();
    var flash = document.querySelector("#flash[data-fade]");
    if (flash && flash.textContent.trim()) {
      flash.removeAttribute("data-fade");
      setTimeout(function () { if (flash.isConnected) flash.textContent = ""; }, 4000);
    }
  });

  function wake() {
    if (navigator.wakeLock && document.visibilityState === "visible" && document.querySelector(".live")) {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", wake);
  document.addEventListener("DOMContentLoaded", function () { readClock(); tick(); wake(); });
  setInterval(tick, 250);
})();
