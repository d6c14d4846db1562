// Drag and drop onto the upload form: an enhancement only. The form posts the same file input
// with or without this script.
"use strict";
(function () {
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const chosen = document.getElementById("chosen");
  if (!drop || !input || !window.DataTransfer) return;
  document.documentElement.classList.add("js");

  function list() {
    chosen.replaceChildren(...Array.from(input.files, (f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${f.size.toLocaleString()} bytes)`;
      return li;
    }));
  }

  input.addEventListener("change", list);
  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => drop.addEventListener(type, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    // dropped files join those already chosen
    const all = new DataTransfer();
    Array.from(input.files).forEach((f) => all.items.add(f));
    Array.from(e.dataTransfer.files).forEach((f) => all.items.add(f));
    input.files = all.files;
    list();
  });
})();
