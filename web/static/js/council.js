/* Council-district map: the district boundary (/api/v1/boundaries/CD/<n>), neighborhood councils
 * and facilities from /tiles, open requests clustered (/api/v1/requests) and hotspot zones
 * (/api/v1/hotspots) over the page's period. No basemap needed. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("page-config").textContent);
  var t = config.strings;
  var count = document.getElementById("map-count");
  var OPEN = "open,acknowledged,assigned,in_progress";
  var area = "area_type=CD&area_code=" + encodeURIComponent(config.district);

  var map = L.map("map", { minZoom: 9, maxZoom: 19, center: [34.05, -118.3], zoom: 11 });
  map.attributionControl.setPrefix(false);
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { maxZoom: 19, attribution: "" }).addTo(map);
  }

  function grid(url, styles) {
    return L.vectorGrid.protobuf(url, { vectorTileLayerStyles: styles, interactive: false,
                                        maxNativeZoom: 18 });
  }

  var streets = grid("/tiles/streets/{z}/{x}/{y}.mvt",
    { streets: { weight: 1, color: "#9a9a9a", opacity: 0.8 } }).addTo(map);
  var councils = grid("/tiles/boundaries/{z}/{x}/{y}.mvt?type=NC",
    { boundaries: { weight: 1.5, color: "#2f6f3e", fill: false } }).addTo(map);
  var facilities = grid("/tiles/facilities/{z}/{x}/{y}.mvt",
    { facilities: { radius: 5, weight: 2, color: "#0b4f8a", fill: true, fillColor: "#fff",
                    fillOpacity: 1 } }).addTo(map);
  var boundary = L.geoJSON(null, { style: { color: "#5b2a86", weight: 3, fill: false } }).addTo(map);
  var clusters = L.markerClusterGroup({ disableClusteringAtZoom: 17, maxClusterRadius: 50 });
  map.addLayer(clusters);
  var hotspots = L.geoJSON(null, {
    style: { color: "#a4161a", weight: 2, fillOpacity: 0.25 },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      layer.bindTooltip(p.service_code + ": " + p.count + " " + t.council_requests + ", " +
        t.council_recurring.replace("{n}", p.weeks_active).replace("{w}", p.weeks_window));
    }
  }).addTo(map);

  var overlays = {};
  overlays[t.layer_boundary] = boundary;
  overlays[t.layer_clusters] = clusters;
  overlays[t.layer_hotspots] = hotspots;
  overlays[t.layer_facilities] = facilities;
  overlays[t.layer_nc] = councils;
  overlays[t.layer_streets] = streets;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(url + ": " + response.status); }
      return response.json();
    });
  }

  getJSON("/api/v1/boundaries/CD/" + encodeURIComponent(config.district)).then(function (feature) {
    boundary.addData(feature);
    map.fitBounds(boundary.getBounds(), { padding: [10, 10] });
  }).catch(function () { /* the tables still carry the figures */ });

  getJSON("/api/v1/requests?" + area + "&status=" + OPEN + "&limit=1000").then(function (fc) {
    var features = (fc.features || []).filter(function (f) { return f.geometry; });
    clusters.addLayers(features.map(function (f) {
      var c = f.geometry.coordinates;
      return L.circleMarker([c[1], c[0]], { radius: 5, weight: 1, color: "#1a1a1a",
        fillColor: "#a4161a", fillOpacity: 0.9 })
        .bindTooltip(f.properties.service_name + " · " + (f.properties.address || ""));
    }));
    count.textContent = features.length + (fc.next ? "+" : "") + " " + t.council_open_on_map;
  }).catch(function () { count.textContent = ""; });

  getJSON("/api/v1/hotspots?" + area + "&start=" + config.start + "&end=" + config.end +
          "&limit=50").then(function (body) {
    (body.hotspots || []).forEach(function (h) {
      hotspots.addData({ type: "Feature", geometry: h.zone, properties: h });
    });
  }).catch(function () { /* listed in the table below */ });

  window.geo311Map = map;
})();
