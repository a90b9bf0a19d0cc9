// Countdowns in business time: a clock that counts reaches zero at data-due (epoch s on
// the server's clock); one that does not (outside business hours) shows data-due as the
// seconds left. The server's clock is taken from the page, so a skewed PC shows the truth.
(function () {
  const offset = Number(document.body.dataset.serverMs || Date.now()) - Date.now();
  function text(seconds) {
    const sign = seconds < 0 ? "-" : "";
    let s = Math.abs(Math.trunc(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return sign + (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }
  function tick() {
    const now = (Date.now() + offset) / 1000;
    document.querySelectorAll(".countdown").forEach(function (el) {
      const due = Number(el.dataset.due);
      const left = el.dataset.counting === "1" ? due - now : due;
      el.textContent = text(left);
      el.classList.toggle("late", left < 0);
    });
    document.querySelectorAll(".since").forEach(function (el) {
      el.textContent = text(now - Number(el.dataset.since));
    });
  }
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSwap", tick);
  document.body.addEventListener("htmx:sseOpen", function () {
    const note = document.getElementById("connection");
    if (note) note.hidden = true;
  });
  document.body.addEventListener("htmx:sseError", function () {
    const note = document.getElementById("connection");
    if (note) note.hidden = false;
  });
})();
