// Every HTMX request carries the session's CSRF token (forms also carry it as a field,
// so that they work without JavaScript).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
