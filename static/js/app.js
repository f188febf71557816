/* Tovholder's small glue where htmx does not reach: the timer between
   updates, client-made ids for resend-safe messages, connection state,
   confirmations, and keeping the screen awake. No inline scripts (CSP). */
(function () {
  "use strict";
  var offset = 0; // server clock minus this clock, in ms
  var runningDeadline = null, announcedEnd = null; // the timer's end, said once

  // -- screen readers: one polite live region (#announce, _partials/announce.html)
  // outside the fragments htmx swaps, so it is in place before its text changes.
  // It says the new step when the step changes and "time is up" when the timer
  // ends; the swapped fragments themselves are not live regions (a whole stage
  // read out on every card would drown the room).
  function announcer() { return document.getElementById("announce"); }
  function announce(text) {
    var el = announcer();
    if (!el || !text) return;
    el.textContent = "";
    setTimeout(function () { el.textContent = text; }, 100);
  }
  var lastStage = null;
  function stageChanged() {
    var stage = document.querySelector("[data-announce]");
    if (!stage) return;
    var text = stage.getAttribute("data-announce");
    if (lastStage !== null && text && text !== lastStage) announce(text);
    lastStage = text;
  }

  function readClock() {
    var el = document.getElementById("clock");
    if (el && el.dataset.now) {
      var now = parseInt(el.dataset.now, 10);
      if (!isNaN(now)) { offset = now - Date.now(); el.removeAttribute("data-now"); }
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // The same text as the server's `mmss` filter (server/web/templating.py):
  // "09:58", "1:59:58" from an hour up, "−00:12" in overtime; rounded half up.
  function mmss(seconds) {
    var whole = Math.floor(seconds + 0.5);
    if (!isFinite(whole)) whole = 0;
    var sign = whole < 0 ? "\u2212" : "";
    whole = Math.abs(whole);
    var hours = Math.floor(whole / 3600), minutes = Math.floor(whole % 3600 / 60);
    var clock = pad(minutes) + ":" + pad(whole % 60);
    return sign + (hours ? hours + ":" + clock : clock);
  }

  function tick() {
    var timers = document.querySelectorAll("#timer[data-status='running']");
    for (var i = 0; i < timers.length; i++) {
      var t = timers[i];
      var deadline = parseInt(t.dataset.deadline, 10);
      if (!deadline) continue;
      var left = (deadline - (Date.now() + offset)) / 1000;
      var digits = t.querySelector(".timer-digits");
      // Only when the text changes: the same text set again is still a repaint, 4 times a
      // second on every phone in the room (battery), and on every screen of a test.
      var shown = mmss(left);
      if (digits && digits.textContent !== shown) digits.textContent = shown;
      var expired = left <= 0;
      if (!expired) { runningDeadline = deadline; }
      if (expired && !t.classList.contains("is-expired")) {
        t.classList.add("is-expired");
      }
      // Say it once, on the screen that saw this very timer run out (not on a
      // reload long after); the digits themselves stay quiet (role=timer).
      if (expired && deadline === runningDeadline && announcedEnd !== deadline) {
        announcedEnd = deadline;
        announce(announcer() && announcer().getAttribute("data-text-timer-end"));
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
    if (form.hasAttribute && form.hasAttribute("data-ballot")) {
      // A ballot: built from the form's state, with a fresh id (a resend of this
      // very message keeps it, so the server counts it once).
      params = evt.detail.parameters = {
        type: "cast_ballot",
        poll_id: form.getAttribute("data-poll"),
        ballot_id: randomId(),
        payload: ballotPayload(form)
      };
      unanswered[params.poll_id] = params;
      sentBallot(form);
    }
    if (params && typeof params.text === "string" && form.hasAttribute("data-clear") && !params.text.trim()) {
      evt.preventDefault(); return;
    }
    var idField = form.getAttribute && form.getAttribute("data-new-id");
    if (idField && params && !params[idField]) { params[idField] = randomId(); }
    if (params && params.type === "add_card" && params.card_id) waitForCard(params);
    delete evt.detail.headers; // screens need no htmx headers; keeps messages small
    evt.detail.headers = null;
    var clear = form.getAttribute && form.getAttribute("data-clear");
    if (clear) {
      setTimeout(function () {
        var field = form.querySelector("[name='" + clear + "']");
        if (field) { field.value = ""; }
      }, 0);
    }
    if (form.tagName === "FORM" && !form.hasAttribute("data-clear") && !form.hasAttribute("data-keep") &&
        !form.hasAttribute("data-ballot")) {
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
  // The socket that opened last, and htmx's wrapper around it (send, reconnect, queue).
  var liveSocket = null, liveWrapper = null;
  document.addEventListener("htmx:wsOpen", function (evt) {
    liveSocket = evt.detail.event && evt.detail.event.target;
    liveWrapper = evt.detail.socketWrapper || null;
    setConn("online");
    if (liveWrapper) { resendBallots(liveWrapper); resendCards(liveWrapper); }
  });
  function lost(evt) {
    var e = evt.detail && (evt.detail.event || evt.detail.error);
    var sock = e && e.target;
    // An old socket closing after its successor opened says nothing about now.
    if (sock && liveSocket && sock !== liveSocket && liveSocket.readyState === 1) return;
    setConn("offline");
  }
  document.addEventListener("htmx:wsClose", lost);
  document.addEventListener("htmx:wsError", lost);
  // The phone knows before the socket does: a dropped wifi leaves the socket
  // "open" until TCP gives up, minutes later. Say offline at once; back online,
  // open a fresh connection (it resyncs the screen and resends what was not
  // answered). A socket that did close is already being retried by htmx.
  if (window.addEventListener) {
    window.addEventListener("offline", function () { setConn("offline"); });
    window.addEventListener("online", function () {
      if (liveWrapper && liveSocket && liveSocket.readyState === 1) liveWrapper.reconnect();
    });
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    readClock();
    tick();
    var flash = document.querySelector("#flash[data-fade]");
    if (flash && flash.textContent.trim()) {
      flash.removeAttribute("data-fade");
      setTimeout(function () { if (flash.isConnected) flash.textContent = ""; }, 4000);
    }
  });

  // -- a phone's own cards (templates/participant/_me.html) -------------------
  // A card is shown in the phone's list as waiting from the moment it is sent
  // (offline, htmx keeps it in its queue; into a connection that has just died,
  // it would be lost) until a reply names its id (the flash's data-ack): then
  // it is saved, or refused and its text goes back into the box. What still
  // waits goes again, same id, when a connection opens; the engine keeps a
  // card id once. The list is re-rendered by the server with every change of
  // this phone's part, so the waiting cards are put back after each message.
  var waitingCards = {}, waitingOrder = []; // card id -> the add_card message
  var justSaved = {}; // card id -> true until its saved mark has been shown

  function cardList() { return document.getElementById("m-cards"); }
  function cardState(li, state) {
    var list = cardList();
    var mark = li.querySelector(".card-state");
    if (!mark) {
      mark = document.createElement("span");
      mark.className = "card-state";
      li.insertBefore(mark, li.querySelector("button")); // before "Withdraw"; or last
    }
    li.setAttribute("data-state", state);
    mark.textContent = (list && list.getAttribute("data-text-" + state)) || "";
  }
  function cardItem(id) {
    var list = cardList();
    var items = list ? list.querySelectorAll("[data-card]") : [];
    for (var i = 0; i < items.length; i++) if (items[i].getAttribute("data-card") === id) return items[i];
    return null;
  }
  function showWaitingCards() {
    var list = cardList();
    if (!list) return;
    var order = waitingOrder.slice(); // cardSaved takes an id out of waitingOrder
    for (var i = 0; i < order.length; i++) {
      var id = order[i], message = waitingCards[id];
      if (!message) continue;
      var li = cardItem(id);
      if (li && !li.classList.contains("is-waiting")) { cardSaved(id); continue; } // the server has it
      if (!li) {
        li = document.createElement("li");
        li.className = "card is-waiting";
        li.setAttribute("data-card", id);
        li.appendChild(document.createTextNode(String(message.text).trim() + " "));
        list.appendChild(li);
        cardState(li, "waiting");
      }
      list.hidden = false;
      var heading = document.getElementById("m-cards-h");
      if (heading) heading.hidden = false;
    }
    for (var saved in justSaved) {
      var item = cardItem(saved);
      if (item && !item.classList.contains("is-waiting")) {
        delete justSaved[saved];
        cardState(item, "saved");
        fadeMark(item);
      }
    }
  }
  function fadeMark(li) {
    setTimeout(function () {
      var mark = li.querySelector(".card-state");
      if (li.isConnected && li.getAttribute("data-state") === "saved" && mark) {
        li.removeChild(mark);
        li.removeAttribute("data-state");
      }
    }, 4000);
  }
  function forget(id) {
    delete waitingCards[id];
    waitingOrder = waitingOrder.filter(function (other) { return other !== id; });
  }
  function cardSaved(id) {
    forget(id);
    var li = cardItem(id);
    if (li && !li.classList.contains("is-waiting")) { cardState(li, "saved"); fadeMark(li); }
    else {
      justSaved[id] = true; // the list with it follows the reply
      if (li) cardState(li, "saved");
    }
  }
  function cardRefused(id) {
    var message = waitingCards[id];
    forget(id);
    var li = cardItem(id);
    if (li) cardState(li, "refused");
    var field = document.querySelector(".card-form [name='text']");
    if (message && field && !field.value) field.value = message.text;
  }
  function waitForCard(params) {
    var message = Object.assign({}, params);
    if (!waitingCards[message.card_id]) waitingOrder.push(message.card_id);
    waitingCards[message.card_id] = message;
    showWaitingCards();
  }
  function resendCards(socketWrapper) {
    var queued = "", i;
    for (i = 0; socketWrapper.queue && i < socketWrapper.queue.length; i++) queued += socketWrapper.queue[i].message;
    for (i = 0; i < waitingOrder.length; i++) {
      var message = waitingCards[waitingOrder[i]];
      if (message && queued.indexOf(message.card_id) < 0) socketWrapper.send(JSON.stringify(message));
    }
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    // Before the ballots' handler, which takes the data-ack away.
    var flash = document.getElementById("flash");
    var ack = flash && flash.textContent.trim() && flash.getAttribute("data-ack");
    if (ack && waitingCards[ack]) {
      if (flash.classList.contains("flash-error")) cardRefused(ack); else cardSaved(ack);
    }
    showWaitingCards();
  });

  // -- ballots (templates/participant/_poll.html) ------------------------------
  // The phone keeps the ballot in the form until it is sent; "saved" is shown
  // only when the server's reply says so (the fragment comes back with the
  // committed ballot, or the "saved" flash for a resend it already had).

  function ints(el, name) { return parseInt(el.getAttribute(name), 10) || 0; }

  function ballotPayload(form) {
    var kind = form.getAttribute("data-ballot");
    var i, rows, out;
    if (kind === "choice" || kind === "approval") {
      out = [];
      rows = form.querySelectorAll("input[name='pick']:checked");
      for (i = 0; i < rows.length; i++) out.push(rows[i].value);
      return out;
    }
    if (kind === "rank") {
      // Only what the voter ranked, best first; the unranked options are not sent.
      out = [];
      rows = form.querySelectorAll(".rank-list .rank-row");
      var k = ints(form.querySelector(".rank-list"), "data-positions") || rows.length;
      for (i = 0; i < rows.length && i < k; i++) out.push(rows[i].getAttribute("data-option"));
      return out;
    }
    out = {};
    if (kind === "dot") {
      rows = form.querySelectorAll(".dot-row");
      for (i = 0; i < rows.length; i++) {
        if (ints(rows[i], "data-count")) out[rows[i].getAttribute("data-option")] = ints(rows[i], "data-count");
      }
    } else if (kind === "score") {
      rows = form.querySelectorAll(".score-row");
      for (i = 0; i < rows.length; i++) {
        var field = rows[i].querySelector("input:checked, select");
        if (field && field.value !== "") out[rows[i].getAttribute("data-option")] = parseInt(field.value, 10);
      }
    }
    return out;
  }

  function ballotState(form, state) {
    var el = form.querySelector(".ballot-state");
    if (!el) return;
    el.setAttribute("data-state", state);
    el.textContent = el.getAttribute("data-text-" + state) || el.textContent;
  }

  // A ballot sent just before the wifi dropped is lost with the connection
  // (htmx queues only what is sent while it knows it is closed). So each ballot
  // waits here, by poll, until a reply names its id (the flash's data-ack); when
  // a connection opens, what still waits goes again with the same id, and the
  // server counts it once.
  var unanswered = {}; // poll id -> the cast_ballot message
  function resendBallots(socketWrapper) {
    var queued = "", i;
    for (i = 0; socketWrapper.queue && i < socketWrapper.queue.length; i++) queued += socketWrapper.queue[i].message;
    for (var poll in unanswered) {
      var message = unanswered[poll];
      if (queued.indexOf(message.ballot_id) < 0) socketWrapper.send(JSON.stringify(message));
    }
  }

  function sentBallot(form) {
    var flash = document.getElementById("flash");
    if (flash) flash.textContent = ""; // so only the reply to this ballot counts
    ballotState(form, "sending");
  }

  function refreshDots(form) {
    var status = form.querySelector("[data-dots-left]");
    var list = form.querySelector(".dot-list");
    if (!status || !list) return;
    var total = ints(status, "data-total"), most = ints(list, "data-max") || total;
    var rows = form.querySelectorAll(".dot-row"), used = 0, i;
    for (i = 0; i < rows.length; i++) used += ints(rows[i], "data-count");
    var left = Math.max(0, total - used);
    status.textContent = (status.getAttribute("data-text-left") || "{left}").replace("{left}", left);
    for (i = 0; i < rows.length; i++) {
      var n = ints(rows[i], "data-count");
      rows[i].querySelector("[data-dot='-1']").disabled = n <= 0;
      rows[i].querySelector("[data-dot='1']").disabled = n >= most || left <= 0;
      rows[i].querySelector(".dot-count").textContent = n;
      var pips = "";
      for (var j = 0; j < n; j++) pips += "\u25CF";
      rows[i].querySelector(".dot-pips").textContent = pips;
    }
  }

  function moveDot(form, row, delta) {
    var status = form.querySelector("[data-dots-left]");
    var list = form.querySelector(".dot-list");
    var total = ints(status, "data-total"), most = ints(list, "data-max") || total;
    var rows = form.querySelectorAll(".dot-row"), used = 0;
    for (var i = 0; i < rows.length; i++) used += ints(rows[i], "data-count");
    var n = ints(row, "data-count") + delta;
    if (n < 0 || n > most || used + delta > total) return false;
    row.setAttribute("data-count", n);
    refreshDots(form);
    return true;
  }

  // A ranking starts empty: "Rank" (or a tap on the option) puts an option last
  // in "Your ranking", "To the top" first, the arrows one step, "Remove" back
  // among the unranked (at its place in the script). Buttons only: no drag,
  // so a keyboard, a screen reader and one thumb all do it the same way.
  function rankLimit(list, pool) {
    return ints(list, "data-positions") ||
      list.querySelectorAll(".rank-row").length + pool.querySelectorAll(".rank-row").length;
  }

  function showIf(box, selector, on) {
    var el = box.querySelector(selector);
    if (el) el.hidden = !on;
  }

  function refreshRank(form) {
    var box = form.querySelector(".rank");
    var list = box.querySelector(".rank-list"), pool = box.querySelector(".rank-pool");
    var rows = list.querySelectorAll(".rank-row"), spare = pool.querySelectorAll(".rank-row");
    var k = rankLimit(list, pool), i;
    for (i = 0; i < rows.length; i++) {
      rows[i].querySelector(".rank-pos").textContent = String(i + 1);
      rows[i].querySelector("[data-rank='top']").disabled = i === 0;
      rows[i].querySelector("[data-rank='up']").disabled = i === 0;
      rows[i].querySelector("[data-rank='down']").disabled = i === rows.length - 1;
    }
    for (i = 0; i < spare.length; i++) {
      spare[i].querySelector(".rank-pos").textContent = "";
      spare[i].querySelector("[data-rank='add']").disabled = rows.length >= k;
    }
    box.querySelector("[data-rank-count]").textContent = String(rows.length);
    box.querySelector("[data-pool-count]").textContent = String(spare.length);
    showIf(box, ".rank-empty", rows.length === 0);
    showIf(box, ".rank-full", rows.length >= k && spare.length > 0);
    showIf(box, ".rank-all", spare.length === 0);
    var send = form.querySelector(".ballot-send");
    if (send) send.disabled = rows.length === 0; // an empty ranking is no vote
  }

  function backInPool(pool, row) {
    var index = ints(row, "data-index"), rows = pool.querySelectorAll(".rank-row");
    for (var i = 0; i < rows.length; i++) {
      if (ints(rows[i], "data-index") > index) { pool.insertBefore(row, rows[i]); return; }
    }
    pool.appendChild(row);
  }

  function firstEnabled(row, names) {
    for (var i = 0; i < names.length; i++) {
      var b = row && row.querySelector("[data-rank='" + names[i] + "']");
      if (b && !b.disabled) return b;
    }
    return null;
  }

  function rankAction(form, row, action, button, evt) {
    var box = form.querySelector(".rank");
    var list = box.querySelector(".rank-list"), pool = box.querySelector(".rank-pool");
    var ranked = row.parentNode === list;
    var neighbour = row.nextElementSibling || row.previousElementSibling;
    var focus = null;
    if (action === "add") {
      if (ranked || list.querySelectorAll(".rank-row").length >= rankLimit(list, pool)) return false;
      list.appendChild(row);
    } else if (!ranked) {
      return false;
    } else if (action === "top" && row.previousElementSibling) {
      list.insertBefore(row, list.firstElementChild);
    } else if (action === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else if (action === "remove") {
      backInPool(pool, row);
    } else {
      return false;
    }
    refreshRank(form);
    // Focus stays where the hand is: on the next option of the list it left
    // (rank one after another, remove one after another), or on the moved row.
    if (action === "add") focus = firstEnabled(neighbour, ["add"]) || firstEnabled(row, ["top", "down", "remove"]);
    else if (action === "remove") focus = firstEnabled(neighbour, ["remove"]) || firstEnabled(row, ["add"]);
    else focus = button && !button.disabled ? button : firstEnabled(row, ["up", "down", "top", "remove"]);
    // A tap (detail > 0) must not scroll the page to the focus; a keyboard may.
    if (focus) focus.focus({ preventScroll: !!(evt && evt.detail) });
    var label = (row.querySelector(".rank-label") || row).textContent.trim();
    var rows = list.querySelectorAll(".rank-row"), place = 0;
    for (var i = 0; i < rows.length; i++) if (rows[i] === row) place = i + 1;
    var say = place ? box.getAttribute("data-text-placed") : box.getAttribute("data-text-removed");
    // (replace with a function: a "$&" in a label is text, not a pattern)
    announce((say || "").replace("{n}", String(place)).replace("{option}", function () { return label; }));
    return true;
  }

  function limitChoices(form) {
    var most = ints(form, "data-max");
    if (!most) return;
    var boxes = form.querySelectorAll("input[name='pick']"), on = 0, i;
    for (i = 0; i < boxes.length; i++) if (boxes[i].checked) on++;
    for (i = 0; i < boxes.length; i++) boxes[i].disabled = !boxes[i].checked && on >= most;
  }

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest) return;
    var button = evt.target.closest("[data-dot], [data-rank]");
    // A tap anywhere on an unranked option ranks it, not only on its button.
    var spare = button ? null : evt.target.closest(".rank-pool .rank-row");
    var form = (button || spare) && (button || spare).closest("form[data-ballot]");
    if (!form) return;
    evt.preventDefault();
    var moved;
    if (spare) {
      moved = rankAction(form, spare, "add", null, evt);
    } else if (button.hasAttribute("data-dot")) {
      moved = moveDot(form, button.closest(".dot-row"), parseInt(button.getAttribute("data-dot"), 10));
    } else {
      moved = rankAction(form, button.closest(".rank-row"), button.getAttribute("data-rank"), button, evt);
    }
    if (!moved) return;
    var empty = form.querySelector(".rank-list") && !form.querySelector(".rank-list .rank-row");
    ballotState(form, empty ? "empty" : "unsaved");
  });

  document.addEventListener("change", function (evt) {
    var form = evt.target.closest ? evt.target.closest("form[data-ballot]") : null;
    if (!form) return;
    limitChoices(form);
    ballotState(form, "unsaved");
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    // A ballot still "sending" hears back through the flash: saved (a resend the
    // server already had) or refused (the reason is in the flash).
    var flash = document.getElementById("flash");
    if (!flash || !flash.textContent.trim()) return;
    var ack = flash.getAttribute("data-ack");
    if (ack) {
      flash.removeAttribute("data-ack");
      for (var poll in unanswered) if (unanswered[poll].ballot_id === ack) delete unanswered[poll];
    }
    var state = flash.classList.contains("flash-ok") ? "saved"
      : flash.classList.contains("flash-error") ? "unsaved" : null;
    var waiting = document.querySelectorAll(".ballot-state[data-state='sending']");
    for (var i = 0; state && i < waiting.length; i++) ballotState(waiting[i].closest("form"), state);
  });

  // A <details data-keep-open id> the facilitator opened stays open when its
  // fragment is re-rendered (adding options one after another).
  var keptOpen = [];
  document.addEventListener("htmx:wsBeforeMessage", function () {
    keptOpen = [];
    var open = document.querySelectorAll("details[data-keep-open][open]");
    for (var i = 0; i < open.length; i++) if (open[i].id) keptOpen.push(open[i].id);
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    for (var i = 0; i < keptOpen.length; i++) {
      var el = document.getElementById(keptOpen[i]);
      if (el) el.open = true;
    }
  });

  // Reconnecting after 1006/1011/1012/1013 (htmx's ws extension asks this
  // function how long to wait before try number retryCount + 1): full jitter as
  // htmx's own "full-jitter", but the window stops growing at 3 s instead of
  // 64 s. A phone that tried while the server was restarting is then back at
  // most 3 s after it listens again, and 1,000 phones still spread their
  // reconnects over 3 s. bench/phones.py reconnects with this same function.
  var RECONNECT_BASE_MS = 1000;
  var RECONNECT_CAP_MS = 3000;
  function reconnectDelay(retryCount) {
    return Math.random() * Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * Math.pow(2, Math.min(retryCount, 6)));
  }
  if (window.htmx) { window.htmx.config.wsReconnectDelay = reconnectDelay; }

  // -- keyboard: focus survives a fragment swap ----------------------------------
  // The ws extension replaces whole fragments, so the control a keyboard user just
  // pressed (Next step, Next speaker, -1 min) is gone and focus would fall back to
  // the top of the page. Note what had focus, and put it on its new twin.
  var focusKey = null;
  function keyOf(el) {
    if (!el || el === document.body || !el.closest) return null;
    var holder = el.parentElement && el.parentElement.closest("[id]");
    var type = "";
    try { type = JSON.parse(el.getAttribute("hx-vals") || "{}").type || ""; } catch (e) { type = ""; }
    return { id: el.id, holder: holder ? holder.id : "", tag: el.tagName, type: type,
             name: el.getAttribute("name") || "", text: (el.textContent || "").trim() };
  }
  function twinOf(key) {
    if (key.id) return document.getElementById(key.id);
    var holder = key.holder ? document.getElementById(key.holder) : document.body;
    if (!holder) return null;
    var all = holder.querySelectorAll(key.tag);
    for (var i = 0; i < all.length; i++) {
      var k = keyOf(all[i]);
      if (k.type === key.type && k.name === key.name && k.text === key.text) return all[i];
    }
    return null;
  }
  document.addEventListener("htmx:wsBeforeMessage", function () {
    focusKey = keyOf(document.activeElement);
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    stageChanged();
    var active = document.activeElement;
    if (!focusKey || (active && active !== document.body && active.isConnected)) return;
    var twin = twinOf(focusKey);
    if (twin && !twin.disabled) twin.focus();
  });

  // -- the waiting room of a case meeting (participant/lobby.html) ---------------
  // Asks in the background until the facilitator has answered, then loads the
  // page: no timed reload that would restart a screen reader (WCAG 2.2.1).
  function doorCheck() {
    if (!document.querySelector("[data-door='waiting']") || !window.fetch) return;
    setInterval(function () {
      fetch(location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.text(); })
        .then(function (html) { if (html.indexOf('data-door="waiting"') < 0) location.reload(); })
        .catch(function () {});
    }, 2000);
  }

  // A copy button (data-copy="<id of the text>"): puts the text on the clipboard
  // and says so on the button; where the clipboard is not allowed it selects the
  // text, so Ctrl+C copies it.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-copy]");
    if (!btn) return;
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    var text = field.value !== undefined ? field.value : field.textContent;
    function done() {
      var label = btn.getAttribute("data-copied");
      if (label) { btn.textContent = label; }
      btn.setAttribute("data-done", "");
    }
    function select() { if (field.select) { field.focus(); field.select(); } }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, select);
    } else {
      select();
    }
  });

  function wake() {
    if (navigator.wakeLock && document.visibilityState === "visible" && document.querySelector(".live")) {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", wake);
  document.addEventListener("DOMContentLoaded", function () { readClock(); tick(); wake(); stageChanged(); doorCheck(); });
  setInterval(tick, 250);
})();
