/* Sign-in upkeep in the browser. The server decides (dashboards/auth/web.py); this only
   keeps the screen honest:
   - a callback answered 401 means the session has ended: go to the sign-in page, which
     brings the user back here afterwards;
   - no key, pointer or touch input for the idle time: sign out and leave the page, so
     an unattended screen stops showing data (the server's own idle clock has ended the
     session by then too, as every request restarts it). */
(function () {
  "use strict";
  var signIn = function (reason) {
    var here = window.location.pathname + window.location.search;
    window.location.assign("/login?reason=" + reason + "&next=" + encodeURIComponent(here));
  };

  var originalFetch = window.fetch.bind(window);
  window.fetch = function () {
    return originalFetch.apply(null, arguments).then(function (response) {
      if (response.status === 401) {
        signIn("expired");
      }
      return response;
    });
  };

  var lastInput = Date.now();
  ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"].forEach(function (kind) {
    window.addEventListener(kind, function () { lastInput = Date.now(); }, { passive: true });
  });

  var signOutIdle = function () {
    var form = document.getElementById("shell-sign-out-form");
    if (!form) { signIn("idle"); return; }
    var body = new FormData(form);
    body.append("reason", "idle");
    originalFetch("/logout", { method: "POST", body: body, redirect: "manual" })
      .finally(function () { signIn("idle"); });
  };

  window.setInterval(function () {
    var account = document.getElementById("shell-account");
    var idle = account && Number(account.getAttribute("data-idle-seconds"));
    if (idle && Date.now() - lastInput > idle * 1000) {
      signOutIdle();
    }
  }, 1000);
})();
