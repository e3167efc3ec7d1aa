/* The filing form, progressively enhanced: the page works without this file.
 * - The attendance list follows the chosen type at once: a committee meeting lists only the
 *   members holding a committee duty (the others are hidden and not sent).
 * - A live tally: "2 present · 1 excused · 0 absent".
 */
(function () {
  "use strict";
  var form = document.querySelector("[data-activity-form]");
  if (!form) return;
  var select = form.querySelector("select[name=activity_type]");
  var tally = form.querySelector("[data-tally]");
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-attendee]"));
  var refresh = form.querySelector("[data-refresh]");
  if (refresh) refresh.hidden = true; // the list updates by itself

  function labelOf(value) {
    var input = form.querySelector(".seg__input--" + value);
    var label = input && form.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.trim() : value;
  }

  function updateTally() {
    if (!tally || !rows.length) return;
    var counts = { present: 0, excused: 0, absent: 0 };
    rows.forEach(function (row) {
      if (row.hidden) return;
      var checked = row.querySelector("input:checked");
      if (checked && counts.hasOwnProperty(checked.value)) counts[checked.value] += 1;
    });
    tally.textContent = ["present", "excused", "absent"].map(function (value) {
      return labelOf(value) + " " + counts[value];
    }).join(" · ");
  }

  function follow() {
    var option = select && select.options[select.selectedIndex];
    var committeeOnly = !!option && option.getAttribute("data-committee-only") === "1";
    rows.forEach(function (row) {
      var show = !committeeOnly || row.getAttribute("data-committee") === "1";
      row.hidden = !show;
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
        input.disabled = !show;
      });
    });
    updateTally();
  }

  if (select) select.addEventListener("change", follow);
  form.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("seg__input")) updateTally();
  });
  follow();
})();
