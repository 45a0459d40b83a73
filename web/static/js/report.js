/* Resident report flow, under the map: after a pin is answered, choose a type (searched in both
 * languages by /api/v1/service-types), answer its questions, see open requests of that type
 * nearby (/api/v1/duplicates) and follow one, or submit (POST /api/v1/requests with an
 * Idempotency-Key) and go to the tracking page. The server checks every answer; this file only
 * asks the questions and shows its replies. */
(function () {
  "use strict";

  var config = geo311Page.config;
  var el = geo311Page.el;
  var t = config.strings;
  var lang = config.lang;
  var section = document.getElementById("report");
  var form = document.getElementById("report-form");
  var typeSearch = document.getElementById("type-search");
  var typeList = document.getElementById("type-list");
  var attributesBox = document.getElementById("attributes");
  var attributeFields = document.getElementById("attribute-fields");
  var description = document.getElementById("report-description");
  var duplicatesBox = document.getElementById("duplicates");
  var duplicatesBody = document.getElementById("duplicates-body");
  var statusLine = document.getElementById("report-status");
  var submitButton = document.getElementById("report-submit");

  var place = null;   // {lon, lat} of the answered pin
  var types = {};     // code -> type shown in the list
  var chosen = null;  // the chosen type
  var idempotencyKey = newKey();
  var typeTimer = null;
  var typeSequence = 0;
  var duplicateSequence = 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, name) { return String(values[name]); });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return "web-" + crypto.randomUUID(); }
    return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function say(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = kind === "error" ? "error" : "";
  }

  function trackUrl(id) {
    return "/requests/" + encodeURIComponent(id) + "?lang=" + encodeURIComponent(lang);
  }

  // ------------------------------------------------------------------ follow the pin
  document.addEventListener("geo311:located", function (event) {
    var answer = event.detail.answer;
    var j = answer.jurisdiction;
    if (j && !j.inside_city) {  // the answer already says who to contact instead
      section.hidden = true;
      place = null;
      return;
    }
    place = { lon: event.detail.lon, lat: event.detail.lat };
    var first = section.hidden;
    section.hidden = false;
    if (first && !typeList.children.length) { loadTypes(""); }
    if (chosen) { loadDuplicates(); }
  });

  // ------------------------------------------------------------------ type chooser
  function loadTypes(query) {
    var mine = ++typeSequence;
    var params = new URLSearchParams({ lang: lang });
    if (query) { params.set("q", query); }
    return fetch("/api/v1/service-types?" + params.toString())
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (mine !== typeSequence) { return; }
        showTypes(body.service_types || []);
      })
      .catch(function () { if (mine === typeSequence) { say(t.error, "error"); } });
  }

  function showTypes(list) {
    typeList.replaceChildren();
    types = {};
    if (!list.length) {
      typeList.append(el("p", { "class": "hint" }, t.type_none));
      return;
    }
    list.forEach(function (type) {
      types[type.code] = type;
      var id = "type-" + type.code;
      var radio = el("input", { type: "radio", name: "service_code", id: id, value: type.code });
      if (chosen && chosen.code === type.code) { radio.checked = true; }
      var label = el("label", { "for": id, "class": "type-choice" });
      label.append(radio, " " + type.name);
      typeList.append(label);
    });
  }

  typeSearch.addEventListener("input", function () {
    clearTimeout(typeTimer);
    var query = typeSearch.value.trim();
    typeTimer = setTimeout(function () { loadTypes(query); }, 150);
  });
  typeSearch.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {  // choose the best match rather than submitting the form
      event.preventDefault();
      var first = typeList.querySelector("input[type=radio]");
      if (first) { first.checked = true; choose(first.value); first.focus(); }
    }
  });

  typeList.addEventListener("change", function (event) {
    if (event.target.name === "service_code") { choose(event.target.value); }
  });

  function choose(code) {
    chosen = types[code];
    idempotencyKey = newKey();  // a new type is a new request
    say("");
    showAttributes(chosen.attributes || []);
    submitButton.hidden = false;
    loadDuplicates();
  }

  // ------------------------------------------------------------------ attribute questions
  function showAttributes(attributes) {
    attributeFields.replaceChildren();
    attributes.forEach(function (a) {
      var id = "attr-" + a.code;
      var labelText = a.description + (a.required ? " " + t.required_mark : "");
      if (!a.variable) {
        attributeFields.append(el("p", { "class": "hint" }, a.description));
        return;
      }
      if (a.datatype === "multivaluelist") {
        var group = el("fieldset", { id: id, "class": "attribute", "data-code": a.code,
                                     "data-type": a.datatype });
        group.append(el("legend", {}, labelText));
        (a.values || []).forEach(function (v) {
          var boxId = id + "-" + v.key;
          var label = el("label", { "for": boxId });
          label.append(el("input", { type: "checkbox", id: boxId, value: v.key }), " " + v.name);
          group.append(label);
        });
        attributeFields.append(group);
        return;
      }
      var wrap = el("div", { "class": "attribute", "data-code": a.code, "data-type": a.datatype });
      wrap.append(el("label", { "for": id }, labelText));
      var input;
      if (a.datatype === "singlevaluelist") {
        input = el("select", { id: id });
        input.append(el("option", { value: "" }, t.choose_one));
        (a.values || []).forEach(function (v) { input.append(el("option", { value: v.key }, v.name)); });
      } else if (a.datatype === "number") {
        var bounds = { id: id, type: "number", inputmode: a.whole_number ? "numeric" : "decimal",
                       step: a.whole_number ? "1" : "any" };
        if (a.minimum !== undefined && a.minimum !== null) { bounds.min = String(a.minimum); }
        if (a.maximum !== undefined && a.maximum !== null) { bounds.max = String(a.maximum); }
        input = el("input", bounds);
      } else if (a.datatype === "datetime") {
        input = el("input", { id: id, type: "datetime-local" });
      } else if (a.datatype === "text") {
        input = el("textarea", { id: id, rows: "2" });
      } else {
        input = el("input", { id: id, type: "text" });
      }
      if (a.required) { input.setAttribute("aria-required", "true"); }
      if (a.datatype_description) {
        input.setAttribute("aria-describedby", id + "-hint");
        wrap.append(input, el("p", { id: id + "-hint", "class": "hint" }, a.datatype_description));
      } else {
        wrap.append(input);
      }
      attributeFields.append(wrap);
    });
    attributesBox.hidden = false;
  }

  function answers() {
    var values = {};
    attributeFields.querySelectorAll(".attribute").forEach(function (node) {
      var code = node.getAttribute("data-code");
      var type = node.getAttribute("data-type");
      if (type === "multivaluelist") {
        var keys = [];
        node.querySelectorAll("input:checked").forEach(function (box) { keys.push(box.value); });
        if (keys.length) { values[code] = keys; }
        return;
      }
      var field = node.querySelector("input, select, textarea");
      var value = field.value.trim();
      if (value === "") { return; }
      values[code] = type === "number" ? Number(value) : value;
    });
    return values;
  }

  /* The first required question (in the order asked) left empty, or null. */
  function firstUnanswered(values) {
    var missing = (chosen.attributes || []).filter(function (a) {
      return a.variable && a.required && !Object.prototype.hasOwnProperty.call(values, a.code);
    });
    return missing.length ? missing[0] : null;
  }

  // ------------------------------------------------------------------ nearby duplicates
  function loadDuplicates() {
    if (!place || !chosen) { return; }
    var mine = ++duplicateSequence;
    var params = new URLSearchParams({ service_code: chosen.code, lon: place.lon.toFixed(7),
                                       lat: place.lat.toFixed(7) });
    duplicatesBox.hidden = false;
    duplicatesBody.setAttribute("aria-busy", "true");
    fetch("/api/v1/duplicates?" + params.toString())
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (mine !== duplicateSequence) { return; }
        duplicatesBody.removeAttribute("aria-busy");
        showDuplicates(body.duplicates || []);
      })
      .catch(function () {
        if (mine === duplicateSequence) {
          duplicatesBody.removeAttribute("aria-busy");
          duplicatesBody.replaceChildren(el("p", { "class": "error" }, t.error));
        }
      });
  }

  function showDuplicates(list) {
    if (!list.length) {
      duplicatesBody.replaceChildren(el("p", { "class": "hint" }, t.duplicates_none));
      return;
    }
    var items = el("ul", { "class": "duplicates" });
    list.forEach(function (d) {
      var item = el("li");
      var words = fill(t.duplicate_item, {
        id: d.id, address: d.address || t.address_unknown, distance: Math.round(d.distance_m),
        age: Math.floor(d.age_days), status: t["request_status_" + d.status] || d.status
      });
      var button = el("button", { type: "button", "class": "follow",
                                  "data-request-id": String(d.id) }, t.follow_button);
      button.addEventListener("click", function () { follow(d.id, button); });
      item.append(el("span", {}, words), " ", button);
      items.append(item);
    });
    duplicatesBody.replaceChildren(el("p", {}, t.duplicates_intro), items);
  }

  function follow(id, button) {
    button.disabled = true;
    fetch("/api/v1/requests/" + encodeURIComponent(id) + "/followers", { method: "POST" })
      .then(geo311Page.jsonReply)
      .then(function (reply) {
        if (!reply.ok) { button.disabled = false; say(reply.body.error || t.error, "error"); return; }
        statusLine.className = "";
        statusLine.replaceChildren(fill(t.following, { id: id }) + " ",
                                   el("a", { href: trackUrl(id) }, t.track_link));
      })
      .catch(function () { button.disabled = false; say(t.error, "error"); });
  }

  // ------------------------------------------------------------------ submit
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!place || !chosen) { return; }
    var values = answers();
    var missing = firstUnanswered(values);
    if (missing) {  // the server would refuse it too, naming the code, not the question
      say(fill(t.answer_required, { question: missing.description }), "error");
      var field = document.getElementById("attr-" + missing.code);
      if (field) { (field.tagName === "FIELDSET" ? field.querySelector("input") : field).focus(); }
      return;
    }
    var body = { service_code: chosen.code, lon: Number(place.lon.toFixed(7)),
                 lat: Number(place.lat.toFixed(7)), pin_source: "map", channel: "web",
                 attributes: values };
    if (description.value.trim()) { body.description = description.value.trim(); }
    submitButton.disabled = true;
    say(t.submitting);
    fetch("/api/v1/requests", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
      body: JSON.stringify(body)
    })
      .then(geo311Page.jsonReply)
      .then(function (reply) {
        if (!reply.ok) {
          submitButton.disabled = false;
          say(reply.body.error || t.error, "error");
          return;
        }
        window.location.assign(trackUrl(reply.body.id));
      })
      .catch(function () { submitButton.disabled = false; say(t.error, "error"); });
  });
})();
