/* Dispatcher map: requests from /tiles/requests (filtered): grid clusters drawn by the server at
 * low zoom, points at high zoom; markers at street level and an optional heatmap from
 * /api/v1/requests in view; facilities and boundary overlays from /tiles. No basemap needed. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);
  /* From the server (geo311.tiles): the deepest zoom whose request tiles hold clusters. */
  var tileSettings = JSON.parse(document.getElementById("tile-settings").textContent);
  var t = config.strings;
  var form = document.getElementById("filters");
  var heatToggle = document.getElementById("f-heat");
  var count = document.getElementById("count");
  var STATUS_COLOURS = { open: "#a4161a", acknowledged: "#b45309", assigned: "#6d28d9",
                         in_progress: "#0b4f8a", closed: "#4a4a4a" };

  var map = L.map("map", { center: [config.center.lat, config.center.lon], zoom: config.zoom,
                           minZoom: 9, maxZoom: 19 });
  map.attributionControl.setPrefix(false);
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { maxZoom: 19, attribution: "" }).addTo(map);
  }

  function grid(url, styles, extra) {
    return L.vectorGrid.protobuf(url, Object.assign(
      { vectorTileLayerStyles: styles, interactive: false, maxNativeZoom: 18 }, extra || {}));
  }

  function filterParams() {
    var params = new URLSearchParams();
    ["status", "service_code", "department"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    return params;
  }

  /* Council district / NC and age filters. /api/v1/requests and /api/v1/hotspots take
   * area_type/area_code and end (the last day a request may be from); the request tiles take
   * area_type/area_code and min_age_days (the age the server computes, as in age_days). */
  function areaParams(params) {
    var nc = form.elements.nc.value.trim(), cd = form.elements.cd.value;
    if (nc) { params.set("area_type", "NC"); params.set("area_code", nc); }
    else if (cd) { params.set("area_type", "CD"); params.set("area_code", cd); }
    return params;
  }
  function areaAgeParams(params) {
    var age = form.elements.age.value;
    if (age) {
      var end = new Date(Date.now() - Number(age) * 86400000);
      params.set("end", end.toISOString().slice(0, 10));
    }
    return areaParams(params);
  }

  var streets = grid("/tiles/streets/{z}/{x}/{y}.mvt",
    { streets: { weight: 1.5, color: "#8a8a8a", opacity: 0.9 } }).addTo(map);
  var districts = grid("/tiles/boundaries/{z}/{x}/{y}.mvt?type=CD",
    { boundaries: { weight: 3, color: "#5b2a86", fill: false, dashArray: "6 4" } }).addTo(map);
  var councils = grid("/tiles/boundaries/{z}/{x}/{y}.mvt?type=NC",
    { boundaries: { weight: 1.5, color: "#2f6f3e", fill: false } });
  var facilities = grid("/tiles/facilities/{z}/{x}/{y}.mvt",
    { facilities: { radius: 5, weight: 2, color: "#0b4f8a", fill: true, fillColor: "#fff",
                    fillOpacity: 1 } }).addTo(map);

  function requestsUrl() {
    var params = areaParams(filterParams());
    if (form.elements.age.value) { params.set("min_age_days", form.elements.age.value); }
    var query = params.toString();
    return "/tiles/requests/{z}/{x}/{y}.mvt" + (query ? "?" + query : "");
  }
  /* Up to tileSettings.clusterMaxZoom (z12) the request tiles hold the server's grid clusters
   * (properties cluster, count, oldest_days, service_code: the most common type in the cell);
   * deeper they hold points. A
   * cluster is a circle sized by its count, filled by its main type and ringed when its oldest
   * request is over 30 days old; hovering shows the count, clicking zooms in. */
  var TYPE_COLOURS = ["#0b4f8a", "#a4161a", "#2f6f3e", "#6d28d9", "#b45309", "#0e7490",
                      "#9d174d", "#4d7c0f"];
  function typeColour(code) {
    var hash = 0;
    for (var i = 0; i < (code || "").length; i++) { hash = (hash * 31 + code.charCodeAt(i)) | 0; }
    return TYPE_COLOURS[Math.abs(hash) % TYPE_COLOURS.length];
  }
  /* Request type names in the page's language, from /api/v1/service-types (code -> name); a
   * code the catalogue does not know shows as itself. */
  var typeNames = {};
  var typesLoaded = fetch("/api/v1/service-types?" + new URLSearchParams({ lang: config.lang }))
    .then(function (response) { return response.ok ? response.json() : { service_types: [] }; })
    .then(function (body) {
      (body.service_types || []).forEach(function (type) { typeNames[type.code] = type.name; });
    })
    .catch(function () { /* codes stand in for names */ });
  function typeName(code) { return typeNames[code] || code || ""; }
  function clusterLabel(p) {
    return (p.count === 1 ? t.cluster_tip_one : t.cluster_tip)
      .replace("{count}", p.count).replace("{type}", typeName(p.service_code))
      .replace("{days}", p.oldest_days === undefined ? "?" : p.oldest_days);
  }
  var points = grid(requestsUrl(), {
    requests: function (p) {
      if (p.cluster) {
        var old = (p.oldest_days || 0) > 30;
        return { radius: Math.min(28, 8 + 6 * Math.log10(Math.max(1, p.count))),
                 weight: old ? 4 : 1.5, color: old ? "#1a1a1a" : "#fff", fill: true,
                 fillColor: typeColour(p.service_code), fillOpacity: 0.75 };
      }
      var age = p.age_days || 0;
      return { radius: age > 30 ? 7 : 5, weight: age > 30 ? 3 : 1, color: "#1a1a1a",
               fill: true, fillColor: STATUS_COLOURS[p.status] || "#1a1a1a", fillOpacity: 0.9 };
    }
  }, { interactive: true }).addTo(map);
  var clusterTip = L.tooltip({ direction: "top", offset: [0, -8] });
  points.on("mouseover", function (e) {
    var p = e.layer && e.layer.properties;
    if (p && p.cluster) { clusterTip.setLatLng(e.latlng).setContent(clusterLabel(p)).openOn(map); }
  });
  points.on("mouseout", function () { map.closeTooltip(clusterTip); });
  points.on("click", function (e) {
    var p = e.layer && e.layer.properties;
    if (p && p.cluster) {
      map.closeTooltip(clusterTip);
      map.setView(e.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
    }
  });

  function hotspotsUrl() {
    var query = filterParams().toString();
    return "/tiles/hotspots/{z}/{x}/{y}.mvt" + (query ? "?" + query : "");
  }
  var hotspotTiles = grid(hotspotsUrl(), {
    hotspots: { weight: 2, color: "#a4161a", fill: true, fillColor: "#a4161a", fillOpacity: 0.25 }
  }).addTo(map);

  /* Markers for the requests in view only where the tiles carry points (below, the server's
   * clusters stand for them), so nothing is clustered twice. */
  var MARKERS_MIN_ZOOM = tileSettings.clusterMaxZoom + 1;
  var clusters = L.markerClusterGroup({ disableClusteringAtZoom: 17, maxClusterRadius: 50 });
  map.addLayer(clusters);
  var heat = L.heatLayer([], { radius: 20, blur: 15, max: 1.0 });

  L.control.layers(null, {
    [t.layer_requests]: points, [t.layer_clusters]: clusters, [t.layer_hotspots]: hotspotTiles,
    [t.layer_facilities]: facilities,
    [t.layer_cd]: districts, [t.layer_nc]: councils, [t.layer_streets]: streets
  }, { collapsed: false }).addTo(map);

  var sequence = 0;

  function refreshList() {
    var mine = ++sequence;
    var b = map.getBounds();
    var params = areaAgeParams(filterParams());
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(6); }).join(","));
    params.set("limit", "1000");
    fetch("/api/v1/requests?" + params.toString(), { headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.ok ? response.json() : { features: [] }; })
      .then(function (collection) {
        if (mine !== sequence) { return; }
        var features = (collection.features || []).filter(function (f) { return f.geometry; });
        clusters.clearLayers();
        var latlngs = features.map(function (f) {
          return [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        });
        if (map.getZoom() >= MARKERS_MIN_ZOOM) {
          clusters.addLayers(latlngs.map(function (ll) {
            return L.marker(ll, { keyboard: false });
          }));
        }
        heat.setLatLngs(latlngs.map(function (ll) { return [ll[0], ll[1], 0.5]; }));
        count.textContent = features.length + " " + (features.length === 1 ? t.in_view_one : t.in_view)
          + (collection.next ? " (1000+)" : "");
      })
      .catch(function () { if (mine === sequence) { count.textContent = ""; } });
  }

  var hotspotList = document.getElementById("hotspot-list");
  var hotspotSequence = 0;
  function refreshHotspots() {
    var mine = ++hotspotSequence;
    var params = areaAgeParams(filterParams());
    params.set("limit", "10");
    Promise.all([
      fetch("/api/v1/hotspots?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { hotspots: [] }; }),
      typesLoaded
    ])
      .then(function (answers) {
        var body = answers[0];
        if (mine !== hotspotSequence) { return; }
        hotspotList.textContent = "";
        (body.hotspots || []).forEach(function (h) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = "#map";
          link.textContent = t.hotspot_item.replace("{type}", typeName(h.service_code))
            .replace("{count}", h.count).replace("{weeks}", h.weeks_active)
            .replace("{window}", h.weeks_window);
          link.addEventListener("click", function () { map.setView([h.lat, h.lon], 17); });
          item.appendChild(link);
          hotspotList.appendChild(item);
        });
        if (!hotspotList.children.length) {
          var none = document.createElement("li");
          none.textContent = t.hotspots_none;
          hotspotList.appendChild(none);
        }
      })
      .catch(function () { /* the hotspot tiles still show */ });
  }

  function applyFilters() {
    points.setUrl(requestsUrl());
    hotspotTiles.setUrl(hotspotsUrl());
    refreshList();
    refreshHotspots();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    applyFilters();
    if (live) { startLive(); }
  });

  /* Live updates: /api/v1/events (Server-Sent Events). The feed is narrowed by type, department
   * and area but not by status: a request leaving the chosen status (closed, say) must still
   * redraw the map it leaves. Each event whose request lies in (or near) the view, or that may
   * have moved one (located, merged, imported), redraws the request tiles and refreshes the list
   * (debounced). EventSource reconnects by itself and resumes with Last-Event-ID. */
  var liveToggle = document.getElementById("f-live");
  var liveStatus = document.getElementById("live-status");
  var live = null, received = 0, pending = null;
  function touchesView(kind, data) {
    var r = data && data.request;
    if (kind === "located" || kind === "merged" || kind === "imported" || !r
        || r.lat === null || r.lon === null || r.lat === undefined) { return true; }
    return map.getBounds().pad(0.1).contains([r.lat, r.lon]);
  }
  function showReceived() {
    liveStatus.textContent = (received === 1 ? t.live_on_one : t.live_on).replace("{n}", received);
  }
  function startLive() {
    stopLive();
    var params = new URLSearchParams();
    ["service_code", "department"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    areaParams(params);
    live = new EventSource("/api/v1/events?" + params.toString());
    showReceived();
    ["created", "updated", "closed", "merged", "located", "imported"].forEach(function (kind) {
      live.addEventListener(kind, function (event) {
        received += 1;
        showReceived();
        var data = null;
        try { data = JSON.parse(event.data); } catch (e) { data = null; }
        if (!touchesView(kind, data)) { return; }
        if (pending) { clearTimeout(pending); }
        pending = setTimeout(function () {
          pending = null;
          points.redraw();
          hotspotTiles.redraw();
          refreshList();
        }, 500);
      });
    });
  }
  function stopLive() {
    if (live) { live.close(); live = null; }
  }
  liveToggle.addEventListener("change", function () {
    if (liveToggle.checked) { startLive(); } else { stopLive(); liveStatus.textContent = t.live_off; }
  });
  heatToggle.addEventListener("change", function () {
    if (heatToggle.checked) { heat.addTo(map); } else { map.removeLayer(heat); }
  });
  map.on("moveend", refreshList);
  refreshList();
  refreshHotspots();

  window.geo311Map = map;
})();
