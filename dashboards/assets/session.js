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

  // The sign-out form itself is sent (a navigation, not a fetch), so that a single
  // sign-on session is ended at the provider too (the server sends the browser there).
  var leaving = false;
  var signOutIdle = function () {
    leaving = true;
    var form = document.getElementById("shell-sign-out-form");
    if (!form) { signIn("idle"); return; }
    var reason = document.createElement("input");
    reason.type = "hidden";
    reason.name = "reason";
    reason.value = "idle";
    form.appendChild(reason);
    form.submit();
  };

  window.setInterval(function () {
    var account = document.getElementById("shell-account");
    var idle = account && Number(account.getAttribute("data-idle-seconds"));
    if (!leaving && idle && Date.now() - lastInput > idle * 1000) {
      signOutIdle();
    }
  }, 1000);
})();
