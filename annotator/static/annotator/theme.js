// The colour theme: the system's (prefers-color-scheme), or light or dark as chosen in
// the header's switch and kept in localStorage. Loaded in <head> without defer, so the
// theme is set before the first paint (no white flash in the dark); a file, not an
// inline script, because the Content-Security-Policy allows scripts from Warrant only.
(function () {
  var KEY = "warrant:theme";
  var root = document.documentElement;
  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "light" || value === "dark" ? value : "system";
    } catch (e) {
      return "system"; // storage switched off: follow the system
    }
  }
  function apply(choice) {
    if (choice === "system") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", choice);
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("select[data-theme-switch]");
    if (!select) return;
    select.value = stored();
    select.closest("[hidden]")?.removeAttribute("hidden");
    select.addEventListener("change", function () {
      try {
        if (select.value === "system") window.localStorage.removeItem(KEY);
        else window.localStorage.setItem(KEY, select.value);
      } catch (e) {
        /* not kept, but applied to this page */
      }
      apply(select.value);
    });
  });
})();
