/* Resident map page: pin by click, drag, search or GPS; the answer comes from /api/v1/locate.
 * Map layers are our own vector tiles (/tiles/...); a raster basemap only when BASEMAP_URL is set.
 * Nothing here decides anything: the words, score and ambiguities are the server's. */
(function () {
  "use strict";

  var config = geo311Page.config;
  var el = geo311Page.el;
  var t = config.strings;
  var lang = config.lang;
  var answerBody = document.getElementById("answer-body");
  var searchForm = document.getElementById("search-form");
  var searchInput = document.getElementById("search");
  var suggestions = document.getElementById("suggestions");
  var locationButton = document.getElementById("use-location");

  // ------------------------------------------------------------------ map
  var map = L.map("map", {
    center: [config.center.lat, config.center.lon], zoom: config.zoom,
    minZoom: 10, maxZoom: 19, keyboard: true
  });
  map.attributionControl.setPrefix(false);
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { maxZoom: 19, attribution: "" }).addTo(map);
  }
  var tileOptions = { interactive: false, maxNativeZoom: 18 };

  function vectorLayer(url, styles, pane) {
    var options = Object.assign({ vectorTileLayerStyles: styles, pane: pane }, tileOptions);
    return L.vectorGrid.protobuf(url, options);
  }

  map.createPane("boundaries").style.zIndex = 350;
  map.createPane("streets").style.zIndex = 360;
  map.createPane("facilities").style.zIndex = 370;

  vectorLayer("/tiles/boundaries/{z}/{x}/{y}.mvt?type=CD,NC", {
    boundaries: function (p) {
      return p.type === "CD"
        ? { weight: 3, color: "#5b2a86", opacity: 0.8, fill: false, dashArray: "6 4" }
        : { weight: 1.5, color: "#2f6f3e", opacity: 0.7, fill: false };
    }
  }, "boundaries").addTo(map);
  vectorLayer("/tiles/streets/{z}/{x}/{y}.mvt", {
    streets: function (p) {
      var local = /Local|Private|Unidentified/.test(p.street_class || "");
      return { weight: local ? 2 : 4, color: local ? "#7a7a7a" : "#4d4d4d", opacity: 0.9 };
    }
  }, "streets").addTo(map);
  vectorLayer("/tiles/facilities/{z}/{x}/{y}.mvt", {
    facilities: { radius: 5, weight: 2, color: "#0b4f8a", fill: true, fillColor: "#ffffff",
                  fillOpacity: 1 }
  }, "facilities").addTo(map);

  var marker = null;

  function placeMarker(lat, lon) {
    if (marker) {
      marker.setLatLng([lat, lon]);
      return;
    }
    marker = L.marker([lat, lon], { draggable: true, alt: t.pin_alt, title: t.pin_alt,
                                    keyboard: true, autoPan: true }).addTo(map);
    marker.on("dragend", function () {
      var at = marker.getLatLng();
      locatePoint(at.lat, at.lng, null);
    });
  }

  map.on("click", function (event) {
    placeMarker(event.latlng.lat, event.latlng.lng);
    locatePoint(event.latlng.lat, event.latlng.lng, null);
  });

  // ------------------------------------------------------------------ locate
  var sequence = 0;

  function locatePoint(lat, lon, accuracy) {
    var params = new URLSearchParams({ lon: lon.toFixed(7), lat: lat.toFixed(7), lang: lang });
    if (accuracy) { params.set("accuracy_m", String(Math.round(accuracy))); }
    return ask(params, false);
  }

  function locateText(text) {
    return ask(new URLSearchParams({ q: text, lang: lang }), true);
  }

  function ask(params, moveMarker) {
    var mine = ++sequence;
    answerBody.setAttribute("aria-busy", "true");
    showMessage(t.answer_loading);
    return fetch("/api/v1/locate?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(geo311Page.jsonReply)
      .then(function (reply) {
        if (mine !== sequence) { return; }  // a newer pin or search has been asked since
        answerBody.removeAttribute("aria-busy");
        if (!reply.ok) { showMessage(reply.body.error || t.error, "error"); return; }
        var answer = reply.body;
        if (moveMarker && answer.location) {
          placeMarker(answer.location.lat, answer.location.lon);
          map.setView([answer.location.lat, answer.location.lon], Math.max(map.getZoom(), 17));
        }
        renderAnswer(answer);
      })
      .catch(function () {
        if (mine === sequence) {
          answerBody.removeAttribute("aria-busy");
          showMessage(t.error, "error");
        }
      });
  }

  // ------------------------------------------------------------------ answer in words
  function showMessage(text, kind) {
    answerBody.replaceChildren(el("p", { "class": kind === "error" ? "error" : "answer-text" }, text));
  }

  function renderAnswer(a) {
    var parts = [];
    if (!a.location) {  // a pin (map or GPS) has no spelling to check: say where it fell
      showMessage(a.pin ? t.no_match_pin : t.no_match);
      return;
    }
    parts.push(el("p", { "class": "answer-text" }, a.description));
    var level = a.score >= 80 ? "high" : (a.score >= 50 ? "medium" : "low");
    var score = el("p", { "class": "score score-" + level });
    score.append(t.score_label + ": ", el("strong", {}, a.score + "/100"),
                 ", " + t["score_" + level] + ".");
    parts.push(score);
    var j = a.jurisdiction;
    if (j && !j.inside_city) {
      var box = el("div", { "class": "outside", role: "note" });
      box.append(el("h3", {}, t.outside_heading), el("p", {}, j.message));
      var contact = el("p");
      contact.append(el("strong", {}, t.contact + ":"), " " + (j.contact || ""));
      box.append(contact);
      parts.push(box);
    }
    if (a.ambiguities && a.ambiguities.length) {
      parts.push(el("h3", {}, t.check_heading));
      var list = el("ul", { "class": "ambiguities" });
      a.ambiguities.forEach(function (amb) {
        // label: the name as the server writes names in the description (title case)
        var words = (t["amb_" + amb.kind] || t.amb_other) + " " + (amb.label || "");
        if (amb.distance_m !== null && amb.distance_m !== undefined) {
          words += " (" + Math.round(amb.distance_m) + " " + t.metres + ")";
        }
        if (amb.chosen) { words += " — " + t.chosen; }
        list.append(el("li", lang === "en" && amb.why ? { title: amb.why } : {}, words));
      });
      parts.push(list);
    }
    if (a.reasons && a.reasons.length) {
      var details = el("details");
      details.append(el("summary", {}, t.why_label));
      var reasons = el("ul");
      a.reasons.forEach(function (r) {
        reasons.append(el("li", {}, (t.reasons && t.reasons[r]) || r.replace(/_/g, " ")));
      });
      details.append(reasons);
      parts.push(details);
    }
    answerBody.replaceChildren.apply(answerBody, parts);
    // The report form (report.js) follows the pin: tell it where and what was answered.
    var at = marker ? marker.getLatLng() : { lat: a.location.lat, lng: a.location.lon };
    document.dispatchEvent(new CustomEvent("geo311:located",
      { detail: { answer: a, lon: at.lng, lat: at.lat } }));
  }

  // ------------------------------------------------------------------ search and autocomplete
  var active = -1;
  var timer = null;
  var lastQuery = "";

  function closeSuggestions() {
    suggestions.hidden = true;
    suggestions.replaceChildren();
    searchInput.setAttribute("aria-expanded", "false");
    searchInput.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(text) {
    searchInput.value = text;
    closeSuggestions();
    locateText(text);
  }

  function showSuggestions(results) {
    suggestions.replaceChildren();
    active = -1;
    if (!results.length) { closeSuggestions(); return; }
    results.forEach(function (item, index) {
      var option = el("li", { role: "option", id: "suggestion-" + index, "aria-selected": "false" });
      option.append(item.text, el("span", { "class": "kind" }, item.kind));
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep focus in the input
        choose(item.text);
      });
      suggestions.append(option);
    });
    suggestions.hidden = false;
    searchInput.setAttribute("aria-expanded", "true");
  }

  function highlight(index) {
    var options = suggestions.querySelectorAll("[role=option]");
    if (!options.length) { return; }
    active = (index + options.length) % options.length;
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    searchInput.setAttribute("aria-activedescendant", options[active].id);
  }

  searchInput.addEventListener("input", function () {
    var query = searchInput.value.trim();
    clearTimeout(timer);
    if (query.length < 2) { closeSuggestions(); return; }
    timer = setTimeout(function () {
      lastQuery = query;
      fetch("/api/v1/autocomplete?" + new URLSearchParams({ q: query }).toString())
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) {
          if (query === lastQuery && searchInput.value.trim() === query) {
            showSuggestions(body.results || []);
          }
        })
        .catch(closeSuggestions);
    }, 150);
  });

  searchInput.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { highlight(active + 1); event.preventDefault(); }
    else if (event.key === "ArrowUp") { highlight(active - 1); event.preventDefault(); }
    else if (event.key === "Escape") { closeSuggestions(); }
    else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(suggestions.querySelectorAll("[role=option]")[active].firstChild.textContent);
    }
  });
  searchInput.addEventListener("blur", function () { setTimeout(closeSuggestions, 100); });

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = searchInput.value.trim();
    closeSuggestions();
    if (text) { locateText(text); }
  });

  // ------------------------------------------------------------------ use my location
  locationButton.addEventListener("click", function () {
    if (!navigator.geolocation) { showMessage(t.geo_unavailable, "error"); return; }
    showMessage(t.locating);
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude;
      var lon = position.coords.longitude;
      placeMarker(lat, lon);
      map.setView([lat, lon], 17);
      locatePoint(lat, lon, position.coords.accuracy);
    }, function () {
      showMessage(t.geo_unavailable, "error");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  window.geo311Map = map;  // for browser tests and the console
})();
