"use strict";
(function () {
  var ticket = null;
  var csrf = null;
  var forms = ["password-form", "mfa-form", "bind-form", "change-form", "session"];
  function el(id) { return document.getElementById(id); }
  function show(id) {
    forms.forEach(function (f) { el(f).hidden = f !== id; });
    var first = el(id).querySelector("input");
    if (first) { first.focus(); }
  }
  function error(text) {
    var e = el("error");
    e.textContent = text || "";
    e.hidden = !text;
  }
  function post(path, body, headers) {
    var h = { "Content-Type": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(path, { method: "POST", headers: h, body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }
  function showSession(s, token) {
    csrf = token;
    el("session-user").textContent = s.LoginAccount;
    el("session-mfa").textContent = s.MFAPresent ? "yes" : "no";
    el("session-expiry").textContent = s.ExpireDate;
    show("session");
  }
  function next(res) {
    if (!res.ok) {
      error(res.body.Message + " (" + res.body.Code + ")");
      if (res.body.Ticket) { ticket = res.body.Ticket; return; }
      ticket = null;
      show("password-form");
      return;
    }
    error("");
    var b = res.body;
    ticket = b.Ticket || null;
    if (b.NextStep === "MFA") { show("mfa-form"); }
    else if (b.NextStep === "BindMFA") {
      el("bind-serial").textContent = b.VirtualMFADevice.SerialNumber;
      el("bind-seed").textContent = b.VirtualMFADevice.Base32StringSeed;
      el("bind-uri").textContent = b.VirtualMFADevice.OTPAuthURI;
      show("bind-form");
    }
    else if (b.NextStep === "ChangePassword") { show("change-form"); }
    else if (b.NextStep === "Done") { showSession(b.Session, b.CsrfToken); }
  }
  function onSubmit(id, handler) {
    el(id).addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(el(id));
      handler(data).then(next, function () { error("The server could not be reached."); });
      el(id).reset();
    });
  }
  onSubmit("password-form", function (d) {
    return post("/console/api/signin", { LoginAccount: d.get("login"), Password: d.get("password") });
  });
  onSubmit("mfa-form", function (d) {
    return post("/console/api/signin/mfa", { Ticket: ticket, AuthenticationCode: d.get("code") });
  });
  onSubmit("bind-form", function (d) {
    return post("/console/api/signin/bind-mfa", { Ticket: ticket, AuthenticationCode1: d.get("code1"), AuthenticationCode2: d.get("code2") });
  });
  el("change-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var d = new FormData(el("change-form"));
    if (d.get("password") !== d.get("repeat")) { error("The passwords do not match."); return; }
    post("/console/api/signin/change-password", { Ticket: ticket, NewPassword: d.get("password") })
      .then(next, function () { error("The server could not be reached."); });
    el("change-form").reset();
  });
  el("signout").addEventListener("click", function () {
    post("/console/api/signout", {}, { "X-CSRF-Token": csrf }).then(function () {
      csrf = null;
      show("password-form");
    });
  });
  fetch("/console/api/session", { credentials: "same-origin" })
    .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
    .then(function (res) {
      if (res.ok) { showSession(res.body.Session, res.body.CsrfToken); } else { show("password-form"); }
    }, function () { show("password-form"); });
}());
