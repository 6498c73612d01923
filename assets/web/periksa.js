// The QR link carries the signed claim in the fragment, which the browser never sends to a server.
// This script checks it here, in the browser: decimal digits → claim bytes → Ed25519 signature by a
// published claim key (WebCrypto), with the keys kept in localStorage. The key list counts only as
// its signed note says it, signed by a log key that is not revoked; a claim signed at or after its
// key's revocation instant is not genuine. That part needs no signal.
// When the server answers too, it adds what only it knows: revocation, the full record and the
// public log. The page says which checks ran where. docs/certificate-format.md is the spec.
(function () {
  "use strict";
  var KEYS_URL = "/.well-known/ikrar-keys.json";
  var KEYS_STORE = "ikrar-kunci";
  var CONTEXT = "ikrar/claim/v2\n";

  if ("serviceWorker" in navigator) {
    // Keeps this page, its style and script for the next visit without signal.
    navigator.serviceWorker.register("/aset/sw.js", { scope: "/v/" }).catch(function () {});
    // Marks the page once the copy for use without signal is in place.
    navigator.serviceWorker.ready.then(function () {
      document.documentElement.setAttribute("data-luring", "siap");
    });
  }

  function storedKeys() {
    try {
      return JSON.parse(localStorage.getItem(KEYS_STORE) || "null");
    } catch (e) {
      return null;
    }
  }

  function b64(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function fromHex(text) {
    return new Uint8Array((text.match(/../g) || []).map(function (h) { return parseInt(h, 16); }));
  }

  function concat(parts) {
    var total = parts.reduce(function (n, p) { return n + p.length; }, 0), out = new Uint8Array(total), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  // Whether `note` (a C2SP signed note) is signed by the Ed25519 key `publicHex` under `name`.
  function noteSignedBy(note, name, publicHex) {
    var cut = note.indexOf("\n\n");
    if (cut < 0) return Promise.resolve(false);
    var text = new TextEncoder().encode(note.slice(0, cut + 1));
    var pk = fromHex(publicHex);
    var enc = new TextEncoder();
    return crypto.subtle.digest("SHA-256", concat([enc.encode(name + "\n"), new Uint8Array([1]), pk]))
      .then(function (digest) {
        var hash = new Uint8Array(digest).subarray(0, 4);
        var lines = note.slice(cut + 2).split("\n").filter(function (l) { return l; });
        var sig = null;
        lines.forEach(function (line) {
          var parts = line.split(" ");
          if (parts[0] !== "\u2014" || parts[1] !== name) return;
          var raw = b64(parts[2] || "");
          if (raw.length === 68 && hex(raw.subarray(0, 4)) === hex(hash)) sig = raw.subarray(4);
        });
        if (!sig) return false;
        return crypto.subtle.importKey("raw", pk, { name: "Ed25519" }, false, ["verify"])
          .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, sig, text); });
      })
      .catch(function () { return false; });
  }

  function unix(field) { return field === "-" ? null : Number(field); }

  // The key list as its signed note says it (docs/log.md, "The signed key list"), if the note is
  // signed by a log key it lists that is not revoked; otherwise null: unsigned keys are not used.
  function readKeyList(doc) {
    var note = doc && doc.signed_note;
    if (!note || !window.crypto || !crypto.subtle) return Promise.resolve(null);
    var lines = note.slice(0, note.indexOf("\n\n")).split("\n");
    if (lines[0] !== "ikrar-keys/v1") return Promise.resolve(null);
    var origin = lines[1];
    var keys = lines.slice(3).map(function (line) {
      var f = line.split(" ");
      var iso = function (t) { return t === null ? null : new Date(t * 1000).toISOString(); };
      return {
        key_id: f[1], roles: f[2].split(","), public_key_hex: f[4],
        valid_from: iso(unix(f[5])), retired_at: iso(unix(f[6])), valid_until: iso(unix(f[7])), revoked_at: iso(unix(f[8])),
        status: unix(f[8]) !== null ? "revoked" : f[3] === "-" ? "retired" : "active",
      };
    });
    var signers = keys.filter(function (k) { return k.roles.indexOf("log") >= 0 && k.status !== "revoked"; });
    return Promise.all(signers.map(function (k) { return noteSignedBy(note, origin, k.public_key_hex); }))
      .then(function (signed) {
        return signed.indexOf(true) >= 0 ? { keys: keys, origin: origin, tree_size: Number(lines[2]) } : null;
      });
  }

  // Fresh keys when online (and kept for later); the kept ones otherwise. Only a list whose
  // signed note checks is used or kept.
  function loadKeys() {
    return fetch(KEYS_URL, { cache: "no-cache" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(readKeyList)
      .then(function (list) {
        if (!list) throw new Error("daftar kunci tidak bertanda tangan kunci log yang sah");
        var kept = { saved_at: new Date().toISOString(), keys: list.keys, origin: list.origin };
        try {
          localStorage.setItem(KEYS_STORE, JSON.stringify(kept));
        } catch (e) {}
        return { kept: kept, online: true };
      })
      .catch(function () {
        return { kept: storedKeys(), online: false };
      });
  }

  var claimText = window.location.hash.slice(1);
  try {
    claimText = decodeURIComponent(claimText).trim();
  } catch (e) {
    // A damaged link is judged below, not ignored.
  }
  var match = window.location.pathname.match(/^\/v\/([A-Za-z2-7]{16})$/);
  // The verdict on the page: the server's (genuine, revoked, tampered, not_found), or "luring"
  // on the copy kept for use without signal, which has none.
  var heading = document.getElementById("putusan");
  var serverVerdict = heading ? heading.getAttribute("data-putusan") : null;
  var offlineShell = serverVerdict === "luring";
  if (!claimText || !match) {
    // No claim to check: still keep the keys for a later visit without signal.
    loadKeys();
    if (offlineShell && match) {
      setHeading("pending", "BELUM DAPAT DIPERIKSA",
        "Tautan ini tidak membawa data bertanda tangan dari kode QR, sehingga tidak ada yang dapat diperiksa di perangkat ini. Keberadaan dan status sertifikat hanya dapat diperiksa oleh server penerbit saat ada sambungan internet.");
    }
    return;
  }
  var certificateId = match[1].toUpperCase();

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // The decode half of docs/certificate-format.md (claim format 2). decodeLink turns the link's
  // fragment into { claim, signature, message }, or throws with the reason in Indonesian.
  var GROUP_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];
  var NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,'-`\u2019()";

  // Groups of 17 digits are 7 bytes; a shorter last group of GROUP_DIGITS[k] digits is k bytes.
  function digitsToBytes(text) {
    if (!/^[0-9]*$/.test(text)) throw new Error("bukan deretan angka");
    var tail = GROUP_DIGITS.indexOf(text.length % 17);
    if (tail < 0) throw new Error("panjang angka tidak sah");
    var out = [];
    for (var at = 0; at < text.length;) {
      var k = text.length - at >= 17 ? 7 : tail;
      var value = BigInt(text.slice(at, at + GROUP_DIGITS[k]));
      at += GROUP_DIGITS[k];
      if (value >> BigInt(8 * k) !== 0n) throw new Error("kelompok angka terlalu besar");
      for (var i = k - 1; i >= 0; i--) out.push(Number((value >> BigInt(8 * i)) & 255n));
    }
    return new Uint8Array(out);
  }

  // 6-bit symbols; 61 and 62 escape a 12- or 24-bit code point; one-bits pad to a byte.
  function decodeName(bytes) {
    var total = bytes.length * 8, at = 0, name = "";
    function bit(i) { return (bytes[i >> 3] >> (7 - (i & 7))) & 1; }
    function read(n) {
      var v = 0;
      for (var i = 0; i < n; i++) v = v * 2 + bit(at + i);
      at += n;
      return v;
    }
    for (;;) {
      var left = total - at, ones = true;
      for (var i = at; i < total; i++) if (!bit(i)) ones = false;
      if (left < 8 && ones) return name;
      if (left < 6) throw new Error("nama terpotong");
      var symbol = read(6);
      if (symbol < NAME_ALPHABET.length) {
        name += NAME_ALPHABET[symbol];
        continue;
      }
      var width = symbol === 61 ? 12 : symbol === 62 ? 24 : 0;
      if (!width || total - at < width) throw new Error("nama rusak");
      var cp = read(width);
      var c = String.fromCodePoint(cp);
      var shortest = NAME_ALPHABET.indexOf(c) >= 0 ? 6 : cp < 0x1000 ? 12 : 24;
      if (shortest !== width) throw new Error("nama rusak");
      name += c;
    }
  }

  function unpackMasked(n) {
    var kind = Math.floor(n / 1e8), first = ("000" + Math.floor(n / 1e4) % 1e4).slice(-4), last = ("000" + n % 1e4).slice(-4);
    if (kind === 0 && n === 0) return "";
    if (kind === 1) return first + "**********" + last;
    if (kind === 2) return first + "********" + last;
    throw new Error("NIP/NIK tersamar rusak");
  }

  function base32Bytes(text) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    var out = [], bits = 0, value = 0;
    for (var i = 0; i < text.length; i++) {
      value = ((value << 5) | alphabet.indexOf(text[i])) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        out.push((value >>> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    return out;
  }

  function decodeLink(text, id) {
    var blob = digitsToBytes(text);
    var FIXED = 1 + 2 + 4 + 4 + 16 + 1;
    if (blob.length < 64 + FIXED) throw new Error("terlalu pendek");
    var bytes = blob.subarray(0, blob.length - 64);
    if (bytes[0] !== 2) throw new Error("versi " + bytes[0] + " tidak dikenal");
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var campaignLen = bytes[27];
    if (28 + campaignLen > bytes.length) throw new Error("terpotong");
    var claim = {
      certificateId: id,
      keyHint: hex(bytes.subarray(1, 3)),
      signedAt: view.getUint32(3),
      maskedId: unpackMasked(view.getUint32(7)),
      recordDigest: hex(bytes.subarray(11, 27)),
      campaignId: new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(28, 28 + campaignLen)),
      signerName: decodeName(bytes.subarray(28 + campaignLen)),
    };
    // Signed: the context, the certificate id's 10 bytes from the link's path, the claim bytes.
    var context = new TextEncoder().encode(CONTEXT);
    var idBytes = base32Bytes(id);
    var message = new Uint8Array(context.length + idBytes.length + bytes.length);
    message.set(context, 0);
    message.set(idBytes, context.length);
    message.set(bytes, context.length + idBytes.length);
    return { claim: claim, signature: blob.subarray(blob.length - 64), message: message };
  }

  // Published claim keys whose id starts with the claim's 2-byte hint; a verifier tries each.
  function keysFor(keys, claim) {
    return ((keys && keys.keys) || []).filter(function (k) {
      return k.key_id.indexOf(claim.keyHint) === 0 && (!k.roles || k.roles.indexOf("claim") >= 0);
    });
  }

  // The latest checkpoint counts only if a listed log key that is not revoked signed it.
  function checkpointCheck(keys) {
    if (!keys || !keys.origin) return Promise.resolve();
    var line = add("p", "", "small");
    line.id = "hasil-checkpoint";
    return fetch("/log/checkpoint", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (note) {
        var logKeys = keys.keys.filter(function (k) { return k.roles && k.roles.indexOf("log") >= 0; });
        return Promise.all(logKeys.map(function (k) { return noteSignedBy(note, keys.origin, k.public_key_hex); }))
          .then(function (signed) {
            var by = logKeys.filter(function (k, i) { return signed[i]; });
            var good = by.some(function (k) { return k.status !== "revoked"; });
            line.setAttribute("data-checkpoint", good ? "sah" : "ditolak");
            line.textContent = good
              ? "Akar log publik terbaru ditandatangani kunci log penerbit yang berlaku."
              : by.length
                ? "Akar log publik terbaru DITOLAK: ditandatangani kunci log yang sudah dicabut."
                : "Akar log publik terbaru DITOLAK: tidak ditandatangani kunci log penerbit.";
          });
      })
      .catch(function () {
        line.textContent = "Akar log publik terbaru belum dapat diperiksa.";
        line.setAttribute("data-checkpoint", "belum");
      });
  }

  // The page's heading may only move away from ASLI, never towards it: a check in this browser
  // confirms or qualifies the server's verdict, it does not overrule a negative one.
  function setHeading(cls, text, explanation) {
    if (!heading) return;
    heading.className = "verdict " + cls;
    heading.setAttribute("data-putusan", cls);
    heading.textContent = text;
    var lead = document.getElementById("penjelasan");
    if (lead && explanation) lead.textContent = explanation;
    document.title = text + ": pemeriksaan sertifikat · ikrar";
    if (cls !== "genuine") {
      // Nothing that reads as a positive mark stays visible under a verdict that is not ASLI.
      Array.prototype.forEach.call(document.querySelectorAll(".genuine"), function (el) {
        if (el !== heading) el.className = el.className.replace(/\bgenuine\b/, "qualified");
      });
    }
  }

  var HEADINGS = { genuine: "ASLI", revoked: "DICABUT", tampered: "TIDAK SAH", not_found: "TIDAK DITEMUKAN" };
  var KEY_STATUS = { active: "berlaku", retired: "sudah tidak dipakai", revoked: "dicabut" };

  var section = document.createElement("section");
  section.className = "card";
  section.id = "periksa-luring";
  section.setAttribute("aria-live", "polite");
  var card = document.getElementById("putusan-server");
  var main = document.querySelector("main") || document.body;
  if (card && card.parentNode) {
    card.parentNode.insertBefore(section, card.nextSibling);
  } else {
    main.appendChild(section);
  }

  function add(tag, text, cls) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    section.appendChild(el);
    return el;
  }

  add("h2", "Pemeriksaan di perangkat ini");

  // One line with the in-browser result; its colour is positive only under an ASLI verdict.
  function result(state, text) {
    var cls = state === "sah" ? (serverVerdict === "genuine" ? "genuine" : "qualified")
      : state === "tidak-sah" ? "tampered" : "pending";
    var p = add("p", text, "verdict small-verdict " + cls);
    p.id = "hasil-luring";
    p.setAttribute("data-hasil", state);
    p.setAttribute("role", state === "tidak-sah" ? "alert" : "status");
  }

  // "Rabu, 15 November 2023 pukul 10.30 WITA" in this device's zone, named as Indonesia names it.
  function localTime(seconds) {
    var when = new Date(seconds * 1000);
    var days = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
    var months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
      "September", "Oktober", "November", "Desember"];
    var offset = -when.getTimezoneOffset() / 60;
    var zone = { 7: "WIB", 8: "WITA", 9: "WIT" }[offset] || ("UTC" + (offset >= 0 ? "+" : "") + offset);
    function two(n) { return ("0" + n).slice(-2); }
    return days[when.getDay()] + ", " + when.getDate() + " " + months[when.getMonth()] + " " +
      when.getFullYear() + " pukul " + two(when.getHours()) + "." + two(when.getMinutes()) + " " + zone;
  }

  // What the QR data says, shown only where the server's record is not on the page.
  function facts(claim) {
    var dl = document.createElement("dl");
    dl.className = "facts";
    [
      ["Nama", claim.signerName],
      ["NIP/NIK (disamarkan)", claim.maskedId],
      ["Waktu penandatanganan", localTime(claim.signedAt)],
    ].forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    section.appendChild(dl);
  }

  function offlineCheck(keys) {
    var claim, signature, message;
    try {
      var decoded = decodeLink(claimText, certificateId);
      claim = decoded.claim;
      signature = decoded.signature;
      message = decoded.message;
    } catch (e) {
      return Promise.resolve({ state: "tidak-sah", why: "data pada kode QR rusak (" + e.message + ")" });
    }
    claim.keyId = claim.keyHint;
    if (!window.crypto || !crypto.subtle) {
      return Promise.resolve({ state: "tidak-dapat", why: "peramban ini tidak menyediakan WebCrypto di halaman ini", claim: claim });
    }
    var candidates = keysFor(keys, claim);
    if (!candidates.length) {
      return Promise.resolve({
        state: "tidak-dapat",
        why: keys ? "kunci penerbit " + claim.keyHint + "… tidak ada pada daftar kunci yang tersimpan" : "daftar kunci penerbit belum pernah tersimpan di perangkat ini; buka halaman ini sekali saat ada sinyal",
        claim: claim,
      });
    }
    function tryKey(i) {
      if (i >= candidates.length) return Promise.resolve(null);
      var key = candidates[i];
      var pk = new Uint8Array(key.public_key_hex.match(/../g).map(function (h) { return parseInt(h, 16); }));
      return crypto.subtle.digest("SHA-256", pk)
        .then(function (digest) {
          if (hex(new Uint8Array(digest).subarray(0, 8)) !== key.key_id) throw new Error("kunci tidak cocok dengan ID-nya");
          return crypto.subtle.importKey("raw", pk, { name: "Ed25519" }, false, ["verify"]);
        })
        .then(function (cryptoKey) {
          return crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, signature, message);
        })
        .then(function (valid) { return valid ? key : tryKey(i + 1); });
    }
    return tryKey(0)
      .then(function (key) {
        if (!key) return { state: "tidak-sah", why: "tanda tangan penerbit pada data QR tidak sah", claim: claim };
        claim.keyId = key.key_id;
        // One boundary rule: signed at or after the key's revocation instant is not genuine.
        var until = key.valid_until ? Date.parse(key.valid_until) / 1000 : null;
        if (until !== null && claim.signedAt >= until) {
          return { state: "tidak-sah", why: "ditandatangani sesudah kunci penerbitnya " + (key.status === "revoked" ? "dicabut karena bocor" : "tidak berlaku"), claim: claim, key: key };
        }
        return { state: "sah", claim: claim, key: key };
      })
      .catch(function (e) {
        return { state: "tidak-dapat", why: "peramban ini tidak dapat memeriksa tanda tangan Ed25519 (" + e.message + ")", claim: claim };
      });
  }

  function serverCheck() {
    var line = add("p", "Menghubungi server penerbit…", "small");
    line.id = "hasil-server";
    return fetch("/api/v1/verify/" + certificateId + "?claim=" + encodeURIComponent(claimText), { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var verdict = HEADINGS[body.status] || body.status;
        var text = "Putusan server untuk data kode QR ini: " + verdict + ".";
        if (body.problem) text += " Sebabnya: " + body.problem + ".";
        if (body.log) {
          text += " Tercatat di log publik pada indeks " + body.log.index;
          text += body.log.inclusion_verified === true
            ? "; bukti inklusinya cocok dengan akar log terbaru (ukuran " + body.log.checkpoint_size + ")."
            : body.log.inclusion_verified === false
              ? "; bukti inklusinya TIDAK cocok dengan akar log terbaru."
              : "; akar log yang memuatnya segera diterbitkan.";
        }
        line.textContent = text;
        line.setAttribute("data-status", body.status);
        if (body.status !== "genuine" && body.status !== serverVerdict && HEADINGS[body.status]) {
          setHeading(body.status === "not_found" ? "missing" : body.status, HEADINGS[body.status],
            body.status === "tampered"
              ? "Jangan percayai sertifikat ini: " + (body.problem || "data kode QR tidak cocok dengan catatan penerbit") + "."
              : null);
          serverVerdict = body.status;
        }
      })
      .catch(function () {
        line.textContent = "Server penerbit tidak dapat dihubungi. Status pencabutan, kecocokan dengan catatan lengkap penerbit dan bukti log publik baru dapat diperiksa saat ada sambungan internet.";
        line.setAttribute("data-status", "luring");
      });
  }

  loadKeys().then(function (loaded) {
    return offlineCheck(loaded.kept).then(function (checked) {
      if (checked.state === "tidak-sah") {
        setHeading("tampered", "TIDAK SAH", "Jangan percayai sertifikat ini: " + checked.why + ".");
        serverVerdict = serverVerdict === "luring" ? "luring" : "tampered";
        result("tidak-sah", "Data kode QR tidak sah: " + checked.why + ".");
      } else if (checked.state === "sah" && offlineShell) {
        setHeading("qualified", "TANDA TANGAN COCOK",
          "Tanda tangan penerbit pada data kode QR cocok dengan kunci penerbit yang tersimpan di perangkat ini. " +
          "Status pencabutan tidak dapat diperiksa tanpa sambungan internet, sehingga keaslian sertifikat belum dapat dipastikan.");
        result("sah", "Tanda tangan penerbit cocok; status pencabutan belum diperiksa.");
      } else if (checked.state === "sah") {
        result("sah", serverVerdict === "genuine"
          ? "Dikonfirmasi: tanda tangan penerbit pada data kode QR sah."
          : "Tanda tangan penerbit pada data kode QR cocok, tetapi yang berlaku adalah putusan server di atas: " +
            (HEADINGS[serverVerdict] || serverVerdict) + ".");
      } else {
        if (offlineShell) {
          setHeading("pending", "BELUM DAPAT DIPERIKSA", "Sertifikat ini belum dapat diperiksa di perangkat ini: " + checked.why + ".");
        }
        result("tidak-dapat", "Belum dapat diperiksa di perangkat ini: " + checked.why + ".");
      }
      if (checked.claim && offlineShell) facts(checked.claim);
      var kept = loaded.kept && loaded.kept.saved_at ? localTime(Date.parse(loaded.kept.saved_at) / 1000) : "-";
      add("p", "Diperiksa di perangkat ini, tanpa server: bentuk data kode QR dan tanda tangan Ed25519 penerbit" +
        (checked.key ? " (kunci " + checked.key.key_id + ", " + (KEY_STATUS[checked.key.status] || checked.key.status) + ")" : "") +
        ", dengan daftar kunci penerbit bertanda tangan kunci log " + (loaded.online ? "yang baru diambil dari server" : "yang tersimpan sejak " + kept) + ".", "small");
      return serverCheck().then(function () {
        return loaded.online ? checkpointCheck(loaded.kept) : undefined;
      });
    });
  });
})();
