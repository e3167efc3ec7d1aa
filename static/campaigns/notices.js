/* The unread count on the menu's notices link: asked for once the page has loaded, so that no
   page pays a database query for it. Without JavaScript the link still leads to the notices. */
(function () {
  "use strict";
  var link = document.querySelector("[data-unread-url]");
  if (!link || !window.fetch) return;
  var badge = link.querySelector("[data-unread-count]");
  if (!badge) return;
  fetch(link.getAttribute("data-unread-url"), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (data && data.unread > 0) {
        badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
        badge.hidden = false;
        link.setAttribute("data-unread", String(data.unread));
      }
    })
    .catch(function () { /* no badge: the link still works */ });
})();
