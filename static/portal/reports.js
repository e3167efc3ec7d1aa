/* The export job page: poll the job's status every second and move the progress bar; when the
   job has finished, reload so the server renders the download link or the error and retry.
   Without JavaScript the page refreshes itself (<noscript><meta http-equiv="refresh">). */
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job || !window.fetch) return;
  var url = job.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var failures = 0;

  function set(selector, value) {
    var el = job.querySelector(selector);
    if (el) el.textContent = value;
  }

  function poll() {
    if (document.hidden) return schedule(1000);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        if (state.finished) {
          window.location.reload();
          return;
        }
        set("[data-job-badge] .badge", state.status_display);
        if (bar) { bar.value = state.progress; bar.textContent = state.progress + "%"; }
        set("[data-job-written]", state.rows_written);
        set("[data-job-total]", state.rows_total);
        set("[data-job-percent]", state.progress);
        schedule(1000);
      })
      .catch(function () {
        failures += 1;
        schedule(Math.min(30000, 1000 * Math.pow(2, failures)));  // back off on errors
      });
  }

  function schedule(ms) { window.setTimeout(poll, ms); }
  schedule(1000);
})();
