// policybot chat: a click on a citation [n] opens its source card, scrolls to it and flashes it.
// Delegated from the document (capture phase) because Gradio re-renders chat messages at will,
// and because the chat's own link handling would otherwise open "#..." in a new tab.
(function () {
  if (window.__policybotCites) return;
  window.__policybotCites = true;

  function findCard(id) {
    var el = document.getElementById(id);
    if (el) return el;
    // Inside a <gradio-app> web component the app may live in a shadow root.
    var hosts = document.querySelectorAll("gradio-app");
    for (var i = 0; i < hosts.length; i++) {
      var root = hosts[i].shadowRoot;
      if (root && root.getElementById) {
        el = root.getElementById(id);
        if (el) return el;
      }
    }
    return null;
  }

  function showCard(card, link) {
    for (var p = card; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    var active = document.querySelectorAll(".pb-card.pb-active, a.pb-cite.pb-active");
    for (var i = 0; i < active.length; i++) active[i].classList.remove("pb-active");
    card.classList.add("pb-active");
    if (link) link.classList.add("pb-active");
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    card.classList.remove("pb-flash");
    void card.offsetWidth; // restart the animation on repeated clicks
    card.classList.add("pb-flash");
  }

  document.addEventListener(
    "click",
    function (ev) {
      var t = ev.target;
      var link = t && t.closest ? t.closest("a.pb-cite") : null;
      if (!link) return;
      ev.preventDefault();
      ev.stopPropagation();
      var id = link.getAttribute("data-target") || (link.getAttribute("href") || "").replace(/^#/, "");
      var card = id ? findCard(id) : null;
      if (card) showCard(card, link);
    },
    true
  );
})();
