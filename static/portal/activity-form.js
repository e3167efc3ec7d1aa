/* The filing form, progressively enhanced: the page works without this file.
 * - The attendance list follows the chosen type at once: a committee meeting lists only the
 *   members holding a committee duty (the others are hidden and not sent).
 * - A live tally: "2 present · 1 excused · 0 absent".
 * - Files are checked as soon as they are chosen, before anything is sent: a file larger than
 *   the limit, or that is not a photo or a PDF by its first bytes (as the server sniffs it), is
 *   taken out of the selection and named; the others stay. On submit, the record's cap (files
 *   and megabytes, the stored and kept ones included) is checked. The server checks it all
 *   again; the limits and messages come from the page (data-* attributes, translated there).
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

  // --- Files --------------------------------------------------------------------------------
  var box = form.querySelector("[data-attachments]");
  if (!box) return;
  var inputs = Array.prototype.slice.call(box.querySelectorAll("input[type=file]"));
  var errorLine = box.querySelector("[data-file-errors]");
  var maxFileBytes = Number(box.getAttribute("data-max-file-bytes")) || Infinity;
  var maxFiles = Number(box.getAttribute("data-max-files")) || Infinity;
  var maxTotalBytes = Number(box.getAttribute("data-max-total-bytes")) || Infinity;
  var refused = {}; // input id -> messages of the files taken out of it

  function message(name, fileName) {
    return (box.getAttribute("data-msg-" + name) || "").replace("{name}", fileName || "");
  }

  function showErrors(extra) {
    if (!errorLine) return;
    var all = [];
    inputs.forEach(function (input) { all = all.concat(refused[input.id] || []); });
    if (extra) all.push(extra);
    errorLine.textContent = all.join("\n");
    errorLine.hidden = !all.length;
  }

  function startsWith(bytes, signature, offset) {
    offset = offset || 0;
    if (bytes.length < offset + signature.length) return false;
    for (var i = 0; i < signature.length; i += 1) {
      if (bytes[offset + i] !== signature[i]) return false;
    }
    return true;
  }

  function ascii(text) {
    return text.split("").map(function (c) { return c.charCodeAt(0); });
  }

  // The same signatures as branches.services.sniff_content_type.
  function sniff(bytes) {
    if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
    if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
    if (startsWith(bytes, ascii("%PDF-"))) return "application/pdf";
    if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
    if (startsWith(bytes, ascii("ftyp"), 4)) {
      var brands = ["heic", "heix", "mif1", "msf1", "hevc"];
      for (var i = 0; i < brands.length; i += 1) {
        if (startsWith(bytes, ascii(brands[i]), 8)) return "image/heic";
      }
    }
    return null;
  }

  function head(file) {
    var blob = file.slice(0, 16);
    if (blob.arrayBuffer) {
      return blob.arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
    }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = reject;
      reader.readAsArrayBuffer(blob);
    });
  }

  function check(file) {
    if (file.size > maxFileBytes) return Promise.resolve(message("too-large", file.name));
    return head(file).then(
      function (bytes) { return sniff(bytes) ? null : message("wrong-type", file.name); },
      function () { return null; } // unreadable here: the server decides
    );
  }

  function keepOnly(input, files) {
    try {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    } catch (error) {
      input.value = ""; // an old browser: the good files must be chosen again
    }
  }

  function onChoose(event) {
    var input = event.target;
    var files = Array.prototype.slice.call(input.files || []);
    input.setAttribute("data-checking", "1");
    Promise.all(files.map(check)).then(function (problems) {
      var good = files.filter(function (file, i) { return !problems[i]; });
      refused[input.id] = problems.filter(Boolean);
      if (good.length !== files.length) keepOnly(input, good);
      input.removeAttribute("data-checking");
      showErrors();
    });
  }

  inputs.forEach(function (input) { input.addEventListener("change", onChoose); });

  // The record's cap: what is stored or kept (unless ticked "remove") plus what is chosen.
  function overCap() {
    var count = 0;
    var total = 0;
    Array.prototype.forEach.call(box.querySelectorAll("[data-stored-file]"), function (item) {
      var tick = item.querySelector("input[type=checkbox]");
      if (tick && tick.checked) return;
      count += 1;
      total += Number(item.getAttribute("data-size")) || 0;
    });
    inputs.forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        count += 1;
        total += file.size;
      });
    });
    if (count > maxFiles) return message("too-many");
    if (total > maxTotalBytes) return message("too-much");
    return null;
  }

  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.hasAttribute("data-refresh")) return;
    var problem = overCap();
    showErrors(problem);
    if (problem) {
      event.preventDefault();
      if (errorLine) errorLine.scrollIntoView({ block: "center" });
    }
  });
})();
