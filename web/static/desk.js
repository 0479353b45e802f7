// The desk page (/desk) and the customer screen (/desk/screen). Both call the JSON API either
// through the staff session of this browser (a signed-in officer issues as themselves, a leader
// for anyone of the unit) or, on a desk computer nobody is signed in on, with the unit's key
// that an admin paired the computer with (or that was pasted once), kept in localStorage. The
// server renders who is signed in into the page (data-role, data-username).
//
// When the line is down (desk-offline.js, window.SipasOffline): the service worker keeps the
// page and the unit's data; a computer an admin paired holds its own signing key, so it signs
// the slip itself, prints it with its QR and a typed code that works once the queue is sent,
// and sends the queue as soon as the line returns.
"use strict";
(function () {
  var KEY = "sipas.apiKey";
  var page = document.body.getAttribute("data-page");
  // "session" (the cookie) or "key" (Authorization: Bearer), decided when the page starts
  var mode = null;

  function $(id) { return document.getElementById(id); }
  function show(el, on) { if (el) { el.hidden = !on; } }
  function apiKey() { try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; } }
  function remember(name, value) { try { window.localStorage.setItem(name, value); } catch (e) { /* private mode */ } }
  function forget(name) { try { window.localStorage.removeItem(name); } catch (e) { /* private mode */ } }

  // Calls the API; resolves with {status, body}. A 401 sends the officer back to the key form.
  function api(method, path, body) {
    var options = { method: method, headers: {}, cache: "no-store", credentials: "same-origin" };
    if (mode === "key") { options.headers["Authorization"] = "Bearer " + apiKey(); }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (res.status === 401) {
          if (mode === "session") {
            mode = apiKey() ? "key" : null;
            askForKey("Phiên đăng nhập đã hết; hãy đăng nhập lại. · The sign-in has expired; sign in again.");
          } else {
            askForKey("Khóa API không hợp lệ hoặc đã bị thu hồi. · The API key is unknown or revoked.");
          }
        }
        return { status: res.status, body: json };
      });
    });
  }

  // Who is signed in on this browser, as the server rendered the page (null without a session).
  function signedIn() {
    var role = document.body.getAttribute("data-role") || "";
    return role ? { role: role, username: document.body.getAttribute("data-username") || "" } : null;
  }

  function askForKey(message) {
    show($("key-section"), true);
    show($("issue-section"), false);
    show($("forget-key"), false);
    $("key-error").textContent = message || "";
    $("api-key").focus();
  }

  // A link may carry the key in its fragment (#key=…), so a screen without a keyboard can be set
  // up from a bookmark; the fragment never reaches a server and is removed from the address.
  function takeKeyFromAddress() {
    var match = /^#key=([A-Za-z0-9_-]{10,100})$/.exec(window.location.hash);
    if (match) {
      remember(KEY, match[1]);
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  // Officers and leaders signed in issue through their session; everyone else (nobody signed
  // in, an admin, province staff) through the key this computer keeps.
  function setUpKeyForm(onReady) {
    takeKeyFromAddress();
    $("key-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var value = $("api-key").value.trim();
      if (!value) { return; }
      remember(KEY, value);
      $("api-key").value = "";
      $("key-error").textContent = "";
      show($("key-section"), false);
      mode = "key";
      onReady(null);
    });
    var me = signedIn();
    if (me && (me.role === "officer" || me.role === "leader")) {
      mode = "session";
      onReady(me);
    } else if (apiKey()) {
      mode = "key";
      onReady(null);
    } else {
      askForKey();
    }
  }

  // ---------------------------------------------------------------- desk page
  function desk() {
    var chosen = null;
    var searchTimer = null;
    var unitCode = "";

    function loadOfficers() {
      return api("GET", "/api/v1/officers").then(function (r) {
        if (r.status !== 200) { return false; }
        unitCode = r.body.unit_code;
        var select = $("officer");
        select.textContent = "";
        var own = r.body.signed_in_officer;
        if (!own) {
          // nobody is pre-selected: the officer who hands the result back picks their own name
          var none = document.createElement("option");
          none.value = "";
          none.textContent = "— Chọn cán bộ · Choose the officer —";
          select.appendChild(none);
        }
        r.body.officers.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o.code;
          opt.textContent = o.name + " (" + o.code + ")";
          select.appendChild(opt);
        });
        select.value = own || "";
        select.disabled = !!own;
        return true;
      });
    }

    var unitData = null;
    var offline = window.SipasOffline;

    // Lower case without Vietnamese marks, as the service's fold_for_search.
    function fold(s) {
      return s.toLowerCase().replace(/đ/g, "d").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    }

    // Offline, the picker searches the unit data the service worker kept.
    function localProcedures(q) {
      var words = fold(q).split(/\s+/).filter(function (w) { return w; });
      return ((unitData && unitData.procedures) || []).filter(function (p) {
        var hay = fold(p.code + " " + p.name + " " + p.field_name);
        return words.every(function (w) { return hay.indexOf(w) >= 0; });
      }).slice(0, 30);
    }

    function searchProcedures() {
      var q = $("procedure-search").value;
      api("GET", "/api/v1/procedures?q=" + encodeURIComponent(q)).catch(function () {
        return { status: 200, body: { procedures: localProcedures(q) } };
      }).then(function (r) {
        if (r.status !== 200) { return; }
        var select = $("procedure");
        select.textContent = "";
        r.body.procedures.forEach(function (p, i) {
          var opt = document.createElement("option");
          opt.value = p.code;
          opt.textContent = p.code + " · " + p.name + " (" + p.field_name + ")";
          if (i === 0) { opt.selected = true; }
          select.appendChild(opt);
        });
      });
    }

    function ready(me) {
      show($("issue-section"), true);
      show($("forget-key"), mode === "key");
      var as = $("issuing-as");
      if (me && me.role === "officer") {
        as.textContent = "Phiếu được ghi cho chính cán bộ đang đăng nhập (" + me.username + "). · Surveys are credited to you, the officer signed in.";
      } else if (me) {
        as.textContent = "Đăng nhập là lãnh đạo (" + me.username + "): chọn cán bộ trả kết quả. · Signed in as a leader: choose the officer.";
      } else {
        as.textContent = "Máy dùng khóa của đơn vị: chọn đúng cán bộ trả kết quả. · This computer uses the unit's key: choose the officer who hands the result back.";
      }
      show(as, true);
      api("GET", "/api/v1/desk/unit-data").then(function (r) {
        if (r.status === 200) { unitData = r.body; }
      }).catch(function () { /* neither the line nor the worker's copy: online issuing only */ })
        .then(loadOfficers).catch(loadOfficersOffline)
        .then(function (ok) { if (ok) { searchProcedures(); $("procedure-search").focus(); } });
      sendQueue();
    }

    // Without the line and without the worker's copy of the list: the unit data's officers.
    function loadOfficersOffline() {
      if (!unitData) { return false; }
      var select = $("officer");
      select.textContent = "";
      unitData.officers.forEach(function (o) {
        var opt = document.createElement("option");
        opt.value = o.code;
        opt.textContent = o.name + " (" + o.code + ")";
        select.appendChild(opt);
      });
      unitCode = unitData.unit_code;
      return true;
    }

    // Sends the slips signed offline; says what happened. Tried when the page starts, at each
    // 'online' event and every 20 seconds: when only the commune's line is down, the desk's own
    // network stays up and the browser never sees itself offline, so no 'online' event comes.
    var sending = false;
    function sendQueue() {
      if (!offline || !offline.supported() || sending) { return; }
      sending = true;
      offline.sync().then(function (done) {
        if (done.sent > 0) {
          $("offline-status").textContent = "Đã gửi " + done.sent + " phiếu phát khi mất mạng" +
            (done.refused ? " (" + done.refused + " bị từ chối)" : "") + ". · " + done.sent +
            " slips issued offline sent" + (done.refused ? " (" + done.refused + " refused)" : "") + ".";
        }
      }).catch(function () { /* still offline: tried again later */ })
        .then(function () { sending = false; });
    }
    window.addEventListener("online", sendQueue);
    window.setInterval(sendQueue, 20000);

    $("procedure-search").addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(searchProcedures, 200);
    });
    $("procedure-search").addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown") { ev.preventDefault(); $("procedure").focus(); }
    });
    $("forget-key").addEventListener("click", function () { forget(KEY); mode = null; askForKey(); });

    function request(caseNumber) {
      var body = {
        unit_code: unitCode,
        officer_code: $("officer").value,
        procedure_code: $("procedure").value,
        channel: "desk"
      };
      if (caseNumber) { body.case_number = caseNumber; }
      return body;
    }

    function showError(message) { $("issue-error").textContent = message; }

    $("issue-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      if (!$("officer").value) { showError("Chọn cán bộ trả kết quả. · Choose the officer."); $("officer").focus(); return; }
      if (!$("procedure").value) { showError("Chọn một thủ tục. · Choose a procedure."); return; }
      var button = $("issue-button");
      button.disabled = true;
      api("POST", "/api/v1/invitations", request($("case-number").value.trim())).then(function (r) {
        if (r.status === 201 || r.status === 200) {
          chosen = r.body;
          $("issue-status").textContent = r.status === 200
            ? "Hồ sơ này đã có phiếu; đây là phiếu cũ. · This case already had a survey; here it is again."
            : "Đã phát phiếu. · Survey issued.";
          $("case-number").value = "";
          showSlip(chosen);
        } else if (r.status >= 502 && r.status <= 504) {
          return issueOffline();
        } else if (r.status !== 401) {
          showError((r.body && r.body.message) || ("Lỗi " + r.status + " · Error " + r.status));
        }
      }).catch(issueOffline).then(function () { button.disabled = false; });
    });

    // The service cannot be reached: the desk signs the slip with its own key and queues it.
    function issueOffline() {
      if (!offline || !offline.supported()) {
        showError("Không kết nối được máy chủ. · The server cannot be reached.");
        return null;
      }
      var option = $("procedure").selectedOptions[0];
      var procedure = $("procedure").value;
      var found = ((unitData && unitData.procedures) || []).filter(function (p) { return p.code === procedure; })[0];
      return offline.issue({ officer: $("officer").value, procedure: procedure }).then(function (record) {
        $("issue-status").textContent = "Mất mạng: phiếu đã ký trên máy này và sẽ được gửi khi có mạng. · Offline: the slip was signed on this computer and is sent when the line returns.";
        $("case-number").value = "";
        showOfflineSlip(record, found ? found.name : (option ? option.textContent : procedure), procedure);
      }).catch(function (e) {
        showError(e && e.message === "no-key"
          ? "Không kết nối được máy chủ, và máy này chưa được quản trị viên ghép để phát phiếu khi mất mạng. · The server cannot be reached, and this computer was not paired for offline issuing."
          : "Không kết nối được máy chủ. · The server cannot be reached.");
      });
    }

    function el(tag, cls, text, lang) {
      var e = document.createElement(tag);
      if (cls) { e.className = cls; }
      if (text) { e.textContent = text; }
      if (lang) { e.lang = lang; }
      return e;
    }

    // The offline slip: laid out as the service's (slip_item.html), its QR drawn here.
    function showOfflineSlip(record, procedureName, procedureCode) {
      var slip = el("article", "slip slip-offline");
      slip.setAttribute("data-token", record.token);
      slip.setAttribute("data-url", record.url);
      var head = el("header", "slip-head");
      head.appendChild(el("p", "slip-unit", (unitData && unitData.unit_code) || unitCode));
      var title = el("h1", "slip-title", "Khảo sát sự hài lòng ");
      title.appendChild(el("span", "en", "Satisfaction survey", "en"));
      head.appendChild(title);
      slip.appendChild(head);
      slip.appendChild(offline.qrSvg(record.url));
      var body = el("div", "slip-body");
      body.appendChild(el("p", "slip-purpose", "Xin ông/bà cho biết mức độ hài lòng về việc giải quyết thủ tục hôm nay: câu đầu tiên chỉ một chạm, chưa đến 1 phút; các câu sau không bắt buộc. Hoàn toàn ẩn danh."));
      body.appendChild(el("p", "slip-purpose en", "Please tell us how satisfied you are with today's service: the first question is one tap, under a minute; the rest is optional. Fully anonymous.", "en"));
      body.appendChild(el("p", "slip-how", "Quét mã QR bằng điện thoại: dùng được ngay. Mã nhập tay dưới đây dùng được ở " + window.location.host + "/c sau khi quầy có mạng trở lại (phiếu phát lúc mất mạng). · Scan the QR code: it works at once. The typed code works once the desk is back online (a slip issued offline)."));
      body.appendChild(el("p", "slip-code", record.code.slice(0, 4) + "-" + record.code.slice(4)));
      var facts = el("dl", "slip-facts");
      facts.appendChild(el("dt", "", "Thủ tục · Procedure"));
      facts.appendChild(el("dd", "", procedureName + " (" + procedureCode + ")"));
      facts.appendChild(el("dt", "", "Ngày · Date"));
      var d = new Date(record.issuedAt * 1000);
      var pad = function (v) { return (v < 10 ? "0" : "") + v; };
      facts.appendChild(el("dd", "", pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear() + " · phát khi mất mạng · issued offline"));
      body.appendChild(facts);
      body.appendChild(el("p", "slip-url", record.url));
      slip.appendChild(body);
      var area = $("slip-area");
      area.textContent = "";
      area.appendChild(slip);
      show($("slip-link"), false);
      show($("slip-section"), true);
      $("print-button").focus();
    }

    // The slip is the server's own slip page, fetched and placed here, so it prints the same.
    function showSlip(inv) {
      fetch("/slips/" + encodeURIComponent(inv.token), { cache: "no-store" })
        .then(function (res) { return res.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var slip = doc.querySelector(".slip");
          var area = $("slip-area");
          area.textContent = "";
          if (slip) { area.appendChild(document.importNode(slip, true)); }
          $("slip-link").href = "/slips/" + encodeURIComponent(inv.token);
          show($("slip-link"), true);
          show($("slip-section"), true);
          $("print-button").focus();
        });
    }

    $("print-button").addEventListener("click", function () { window.print(); });

    $("sheet-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("");
      var n = parseInt($("sheet-count").value, 10);
      if (!(n >= 1 && n <= 48) || !$("procedure").value || !$("officer").value) { showError("Chọn cán bộ, thủ tục và số phiếu (1–48). · Choose the officer, a procedure and a number of slips (1–48)."); return; }
      var items = [];
      for (var i = 0; i < n; i++) { items.push(request("")); }
      api("POST", "/api/v1/invitations/batch", { invitations: items }).then(function (r) {
        if (r.status !== 200) { showError((r.body && r.body.message) || ("Lỗi " + r.status)); return; }
        var tokens = r.body.results.filter(function (x) { return x.invitation; })
          .map(function (x) { return x.invitation.token; });
        if (r.body.refused > 0) { showError(r.body.results.filter(function (x) { return x.message; })[0].message); }
        $("sheet-link").href = "/slips?layout=a4&tokens=" + tokens.map(encodeURIComponent).join(",");
        show($("sheet-link"), true);
      });
    });

    // An admin pairs this computer with a unit once: the new key stays in this browser.
    if ($("pair-form")) {
      $("pair-form").addEventListener("submit", function (ev) {
        ev.preventDefault();
        $("pair-button").disabled = true;
        var body = { unit_code: $("pair-unit").value, name: $("pair-name").value.trim() };
        // the desk's signing key for offline issuing: made here, its public half sent along
        var made = offline && offline.supported()
          ? offline.makeKey().catch(function () { return null; }) : Promise.resolve(null);
        made.then(function (key) {
          if (key) { body.public_key = key.publicKey; }
          return fetch("/api/v1/desk/pairings", {
            method: "POST", cache: "no-store", credentials: "same-origin",
            headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
          }).then(function (res) { return { res: res, key: key }; });
        }).then(function (made) {
          var res = made.res;
          return res.json().catch(function () { return {}; }).then(function (json) {
            if (res.status !== 201) {
              $("pair-status").textContent = json.message || ("Lỗi " + res.status + " · Error " + res.status);
              return;
            }
            remember(KEY, json.key);
            if (made.key && json.desk_key_id) { offline.saveKey(json.desk_key_id, json.unit_code, made.key.pair); }
            $("pair-status").textContent = "Đã ghép máy này với đơn vị " + json.unit_code + " (" + json.name +
              "). Cán bộ dùng máy này không cần khóa; ai đăng nhập thì phiếu ghi tên người đó. · Paired: this computer now issues for " +
              json.unit_code + " without a pasted key.";
            show($("key-section"), false);
            mode = "key";
            ready(null);
          });
        }).catch(function () {
          $("pair-status").textContent = "Không kết nối được máy chủ. · The server cannot be reached.";
        }).then(function () { $("pair-button").disabled = false; });
      });
    }

    if (offline) { offline.register(); }
    setUpKeyForm(ready);
  }

  // ---------------------------------------------------------------- customer screen
  function screen() {
    var POLL_MS = 3000;
    var STALE_SECONDS = 15 * 60;
    var shownToken = null;
    var timer = null;

    function panel(name) {
      show($("screen-idle"), name === "idle");
      show($("screen-qr"), name === "qr");
      show($("screen-thanks"), name === "thanks");
    }

    function poll() {
      api("GET", "/api/v1/invitations/latest").then(function (r) {
        $("screen-error").textContent = "";
        if (r.status === 401) { window.clearInterval(timer); panel("none"); return; }
        if (r.status !== 200) { return; }
        var inv = r.body.invitation;
        if (!inv || r.body.age_seconds > STALE_SECONDS) { panel("idle"); return; }
        if (r.body.answered) { panel("thanks"); return; }
        if (inv.token !== shownToken) {
          shownToken = inv.token;
          $("screen-qr-img").src = "/q/" + encodeURIComponent(inv.token) + ".svg";
          $("screen-code").textContent = inv.code.slice(0, 4) + "-" + inv.code.slice(4);
          $("screen-code-url").textContent = r.body.code_url.replace(/^https?:\/\//, "");
        }
        panel("qr");
      }).catch(function () {
        $("screen-error").textContent = "Mất kết nối, đang thử lại… · Connection lost, retrying…";
      });
    }

    setUpKeyForm(function () {
      panel("idle");
      poll();
      window.clearInterval(timer);
      timer = window.setInterval(poll, POLL_MS);
    });
  }

  if (page === "desk") { desk(); } else if (page === "screen") { screen(); }
})();
