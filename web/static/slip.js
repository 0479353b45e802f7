// The slip page's print button (the page prints fine from the browser's menu too).
"use strict";
(function () {
  var button = document.getElementById("print-slips");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
})();
