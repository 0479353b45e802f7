// Issuing while the commune's line is down (issue 20), for the desk page (desk.js uses it as
// window.SipasOffline). The desk computer's browser makes an Ed25519 key pair with WebCrypto when
// an admin pairs it (the private half is not extractable and stays in IndexedDB; the service
// keeps only the public half). Offline, a slip's facts are signed into a token (the layout is
// src/invitations/offline.rs'), its QR drawn here (qrcode.js), and the token queued in IndexedDB
// until the line returns (POST /api/v1/desk/offline-issues, idempotent by nonce).
"use strict";
(function () {
  var DB = "sipas-desk";
  var CONTEXT = "sipas-offline-v1";
  var VERSION = 1;
  var CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = window.indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("keys");
        req.result.createObjectStore("queue", { keyPath: "nonce" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode);
        var result = work(tx.objectStore(store));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return window.btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ascii(text) {
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { out[i] = text.charCodeAt(i) & 0x7f; }
    return out;
  }

  function concat(parts) {
    var n = parts.reduce(function (a, p) { return a + p.length; }, 0);
    var out = new Uint8Array(n);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function u32(v) { return new Uint8Array([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]); }

  function supported() {
    return !!(window.crypto && window.crypto.subtle && window.indexedDB);
  }

  // A new key pair; resolves with {pair, publicKey (URL-safe base64 of the raw 32 bytes)}.
  function makeKey() {
    return window.crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]).then(function (pair) {
      return window.crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
        return { pair: pair, publicKey: b64url(new Uint8Array(raw)) };
      });
    });
  }

  function saveKey(keyId, unitCode, pair) {
    return run("keys", "readwrite", function (s) {
      s.put({ keyId: keyId, unitCode: unitCode, privateKey: pair.privateKey }, "desk");
    });
  }

  function getKey() {
    return run("keys", "readonly", function (s) { return s.get("desk"); });
  }

  // The typed code of an offline slip: as TypedCode::derived, the first 7 bytes of
  // SHA-256("sipas-offline-code" ‖ nonce) modulo 31, then the check character.
  function derivedCode(nonce) {
    return window.crypto.subtle.digest("SHA-256", concat([ascii("sipas-offline-code"), nonce])).then(function (d) {
      var bytes = new Uint8Array(d);
      var values = [];
      for (var i = 0; i < 7; i++) { values.push(bytes[i] % 31); }
      var sum = values.reduce(function (a, v, i) { return a + (i + 1) * v; }, 0) % 31;
      var inverse = 1;
      for (var k = 0; k < 29; k++) { inverse = inverse * 8 % 31; }
      values.push((31 - sum) % 31 * inverse % 31);
      return values.map(function (v) { return CODE_ALPHABET.charAt(v); }).join("");
    });
  }

  // Signs one slip's facts; resolves with the queued record {nonce, token, code, issuedAt, url}.
  function issue(facts) {
    return getKey().then(function (key) {
      if (!key) { throw new Error("no-key"); }
      var nonce = window.crypto.getRandomValues(new Uint8Array(16));
      var issuedAt = Math.floor(Date.now() / 1000);
      var codes = [key.unitCode, facts.officer, facts.procedure].map(function (c) {
        var b = ascii(c);
        return concat([new Uint8Array([b.length]), b]);
      });
      var body = concat([new Uint8Array([VERSION]), u32(key.keyId), u32(issuedAt), nonce].concat(codes));
      return window.crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, concat([ascii(CONTEXT), body]))
        .then(function (signature) {
          var token = b64url(concat([body, new Uint8Array(signature)]));
          return derivedCode(nonce).then(function (code) {
            var record = { nonce: b64url(nonce), token: token, code: code, issuedAt: issuedAt,
              url: window.location.origin + "/o/" + token };
            return run("queue", "readwrite", function (s) { s.put(record); }).then(function () { return record; });
          });
        });
    });
  }

  function queued() { return run("queue", "readonly", function (s) { return s.getAll(); }); }

  // Sends the queue; resolves with {sent, refused} (records the service answered are dropped:
  // made now, made already by a resident's scan, or refused for good).
  function sync() {
    return queued().then(function (records) {
      if (!records || records.length === 0) { return { sent: 0, refused: 0 }; }
      var batch = records.slice(0, 100);
      return fetch("/api/v1/desk/offline-issues", {
        method: "POST", cache: "no-store", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ tokens: batch.map(function (r) { return r.token; }) })
      }).then(function (res) {
        if (res.status !== 200) { throw new Error("sync " + res.status); }
        return res.json();
      }).then(function (json) {
        var refused = json.results.filter(function (r) { return r.status === 404; }).length;
        return run("queue", "readwrite", function (s) {
          json.results.forEach(function (r) { s.delete(batch[r.index].nonce); });
        }).then(function () { return { sent: json.results.length, refused: refused }; });
      });
    });
  }

  // The QR of `text` as an SVG element (drawn with DOM calls: the CSP allows no inline style).
  function qrSvg(text) {
    var qr = window.qrcode(0, "M");
    qr.addData(text);
    qr.make();
    var n = qr.getModuleCount();
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + (n + 8) + " " + (n + 8));
    svg.setAttribute("class", "slip-qr");
    svg.setAttribute("width", "200");
    svg.setAttribute("height", "200");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Mã QR dẫn tới phiếu khảo sát · QR code of the survey");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", String(n + 8));
    bg.setAttribute("height", String(n + 8));
    bg.setAttribute("fill", "#fff");
    svg.appendChild(bg);
    var d = "";
    for (var r = 0; r < n; r++) {
      for (var c = 0; c < n; c++) {
        if (qr.isDark(r, c)) { d += "M" + (c + 4) + " " + (r + 4) + "h1v1h-1z"; }
      }
    }
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    svg.appendChild(path);
    return svg;
  }

  function register() {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register("/desk-sw.js", { scope: "/desk" }).catch(function () { return null; });
  }

  window.SipasOffline = {
    supported: supported, makeKey: makeKey, saveKey: saveKey, getKey: getKey, issue: issue,
    queued: queued, sync: sync, qrSvg: qrSvg, register: register
  };
})();
