/* Shared by the resident page's scripts (resident.js, report.js): the page's settings from the
 * server (#page-config), a small element builder that only ever sets text, never HTML, and the
 * reader of an API reply. */
window.geo311Page = (function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // A fetch response as {ok, body} once its JSON is read: the caller shows body (the answer, or
  // the server's own error) according to ok.
  function jsonReply(response) {
    return response.json().then(function (body) { return { ok: response.ok, body: body }; });
  }

  return {
    config: JSON.parse(document.getElementById("page-config").textContent),
    el: el,
    jsonReply: jsonReply
  };
})();
