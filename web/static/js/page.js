/* Shared by the resident page's scripts (resident.js, report.js): the page's settings from the
 * server (#page-config) and a small element builder that only ever sets text, never HTML. */
window.geo311Page = (function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  return { config: JSON.parse(document.getElementById("page-config").textContent), el: el };
})();
