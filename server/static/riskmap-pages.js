/* riskmap-pages.js - the riskmap map pages: planner map, town risk wall, public shelter map.
 *
 * Each page calls RiskMap.<page>(map, RiskMap.config()) once folium has created the Leaflet map;
 * the config is the page's JSON block (#riskmap-config). Everything is fetched from the server
 * that served the page: vector tiles (riskmap-vt.js), PNG tiles, the siting API, the nearest
 * shelters API. Text is Chinese first with English.
 */
(function (L) {
  'use strict';
  var RiskMap = window.RiskMap = window.RiskMap || {};

  RiskMap.config = function () {
    var el = document.getElementById('riskmap-config');
    return el ? JSON.parse(el.textContent) : {};
  };

  function esc(value) {
    return String(value === null || value === undefined ? '' : value).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function num(value, digits) {
    if (value === null || value === undefined || isNaN(value)) { return '–'; }
    return Number(value).toLocaleString('zh-CN', {maximumFractionDigits: digits || 0});
  }
  RiskMap.esc = esc;

  /* ---------- status (for people and for the browser tests) ---------- */
  var stats = RiskMap.stats = {tiles: 0, features: 0, errors: 0};
  function onTile(error, count) {
    if (error) { stats.errors += 1; } else { stats.tiles += 1; stats.features += count; }
    var el = document.getElementById('rm-status');
    if (el) {
      el.setAttribute('data-tiles', stats.tiles);
      el.setAttribute('data-features', stats.features);
      el.setAttribute('data-errors', stats.errors);
      el.textContent = stats.errors ? ('部分图块加载失败 some tiles failed: ' + stats.errors) : '';
    }
  }

  /* ---------- styles ---------- */
  var SHELTER = '#00897b', STATION = '#8b0000', BUFFER = '#e6550d', VIOLATION = '#7b3294';
  var HAZARD = '#c51b7d', TARGET = '#3f007d';
  var STYLES = {
    admin_areas: function (p) {
      if (p.level === 'city') { return {stroke: '#444', weight: 2.5}; }
      if (p.level === 'district') { return {stroke: '#555', weight: 1.8}; }
      return {stroke: '#777', weight: 1, dash: [4, 3]};
    },
    roads: function (p, z) {
      var major = {motorway: 1, trunk: 1, primary: 1}[p['class']];
      return {stroke: major ? '#c8a060' : '#b5b5b5', weight: major ? (z >= 13 ? 2.5 : 1.5) : (z >= 14 ? 1.5 : 0.8)};
    },
    risk_zones: function (p, z, type, only) {
      if (only && p.zone_kind !== only) { return null; }
      return p.zone_kind === 'town' ? {fill: p.colour, fillOpacity: 0.25, stroke: p.colour, weight: 1}
        : {fill: p.colour, fillOpacity: 0.45};
    },
    risk_wall: function (p) { return {fill: p.colour || '#999', fillOpacity: 1, stroke: '#222', weight: 0.6}; },
    /* the ring for high-sensitivity targets (schools, hospitals…) drawn heavier than the others */
    safety_buffers: function (p) {
      var high = p.target_class === 'high_sensitivity';
      return {stroke: BUFFER, weight: high ? 2 : 1, dash: high ? [8, 4] : [3, 4], fill: BUFFER, fillOpacity: 0.03};
    },
    separation_violations: function () { return {stroke: VIOLATION, weight: 3, radius: 10}; },
    protected_targets: function () { return {shape: 'square', fill: '#ffffff', fillOpacity: 1, stroke: TARGET, weight: 3, radius: 5}; },
    hazard_sites: function () { return {shape: 'triangle', fill: HAZARD, fillOpacity: 1, stroke: '#ffffff', weight: 1.5, radius: 8}; },
    coverage_areas: function () { return {fill: '#6baed6', fillOpacity: 0.18, stroke: '#3182bd', weight: 0.8}; },
    coverage_gaps: function () { return {fill: '#636363', fillOpacity: 0.3, stroke: '#252525', weight: 0.8, dash: [3, 3]}; },
    shelters: function () { return {fill: SHELTER, fillOpacity: 1, stroke: '#ffffff', weight: 1.5, radius: 6}; },
    rescue_stations: function () { return {fill: '#ffffff', fillOpacity: 1, stroke: STATION, weight: 2.5, radius: 5}; }
  };
  function styleFor(entry) {
    var fn = STYLES[entry.layer] || function () { return {stroke: '#555', weight: 1, fill: '#999', fillOpacity: 0.3, radius: 4}; };
    return function (layerName, props, zoom, type) { return fn(props, zoom, type, entry.only); };
  }

  /* ---------- popups ---------- */
  /** The reasons of a "; "-joined text; a ";" inside parentheses does not split (server/pages/common.py). */
  function splitReasons(text) {
    var out = [], depth = 0, start = 0, i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charAt(i);
      if (c === '(' || c === '（') { depth += 1; } else if (c === ')' || c === '）') { depth -= 1; }
      if (c === ';' && depth <= 0) { out.push(text.slice(start, i)); start = i + 1; }
    }
    out.push(text.slice(start));
    return out.map(function (r) { return r.trim(); }).filter(function (r) { return r; });
  }
  /** [中文, English] of an engine reason "English (中文)"; ['', reason] when its last parentheses hold no Chinese. */
  function reasonParts(reason) {
    var m = /^(no rule fired) \(default level (\d)\)$/.exec(reason);
    if (m) { return ['未触发任何定级规则（默认等级 ' + m[2] + '）', reason]; }
    m = /^([\s\S]*\S)\s*\(([^()]*)\)\s*$/.exec(reason);
    return m && /[\u3400-\u9fff]/.test(m[2]) ? [m[2].trim(), m[1]] : ['', reason];
  }
  function reasonsHtml(text) {
    return '<ul>' + splitReasons(String(text)).map(function (r) {
      var parts = reasonParts(r);
      return parts[0] ? '<li><span class="zh">' + esc(parts[0]) + '</span> <span class="en">' + esc(parts[1]) + '</span></li>'
        : '<li>' + esc(r) + '</li>';
    }).join('') + '</ul>';
  }
  RiskMap.reasonParts = reasonParts;
  /** A substance inventory (JSON list of {name, cas, quantity_t}) as a list; other JSON as text. */
  function inventoryHtml(value) {
    var items;
    try { items = typeof value === 'string' ? JSON.parse(value) : value; } catch (err) { return esc(value); }
    if (!Array.isArray(items)) { return esc(value); }
    return '<ul>' + items.map(function (it) {
      return '<li>' + esc(it.name) + (it.cas ? ' <span class="en">CAS ' + esc(it.cas) + '</span>' : '') +
        (it.quantity_t !== undefined ? ' ' + esc(num(it.quantity_t, 3)) + ' t' : '') + '</li>';
    }).join('') + '</ul>';
  }
  function popupHtml(entry, props) {
    var rows = (entry.fields || []).filter(function (f) {
      return props[f.name] !== undefined && props[f.name] !== null && props[f.name] !== '';
    }).map(function (f) {
      var value = props[f.name], cell;
      if (f.choices && f.choices[value]) { value = f.choices[value]; }
      if (f.name === 'reasons' || f.name === 'reason') { cell = reasonsHtml(value); }
      else if (f.type === 'json') { cell = inventoryHtml(value); }
      else { cell = typeof value === 'number' ? esc(num(value, 2)) : esc(value); }
      return '<tr><th>' + esc(f.zh) + ' <span class="en">' + esc(f.en) + '</span></th><td>' + cell + '</td></tr>';
    });
    var swatch = props.colour ? '<span class="rm-sw" style="background:' + esc(props.colour) + '"></span>' : '';
    return '<div class="rm-popup"><h3>' + swatch + esc(entry.zh) + ' <span class="en">' + esc(entry.en) + '</span></h3>' +
      '<table>' + rows.join('') + '</table></div>';
  }
  RiskMap.popupHtml = popupHtml;

  /* ---------- layers ---------- */
  function vectorLayer(entry, zIndex) {
    var layer = RiskMap.vectorTiles(entry.url, {style: styleFor(entry), zIndex: zIndex, onTile: onTile, maxZoom: 19});
    layer.riskmapEntry = entry;
    return layer;
  }
  function addLayers(map, entries, zStart) {
    var made = [];
    (entries || []).forEach(function (entry, i) {
      var layer = entry.kind === 'raster' ?
        L.tileLayer(entry.url, {opacity: 0.55, zIndex: zStart + i, maxZoom: 19, attribution: 'riskmap'}) :
        vectorLayer(entry, zStart + i);
      layer.riskmapEntry = entry;
      if (entry.on) { layer.addTo(map); }
      made.push(layer);
    });
    return made;
  }
  function label(entry) { return esc(entry.zh) + ' <span class="en">' + esc(entry.en) + '</span>'; }

  /** The topmost feature under a click, among the vector layers on the map. */
  function pick(map, layers, latlng) {
    for (var i = layers.length - 1; i >= 0; i--) {
      var layer = layers[i];
      if (!map.hasLayer(layer) || !layer.featureAt) { continue; }
      var hit = layer.featureAt(latlng);
      if (hit) { return {entry: layer.riskmapEntry, properties: hit.properties}; }
    }
    return null;
  }

  /* ---------- online basemap (only when configured) and its GCJ-02 shift ---------- */
  function gcjOffset(grid, lon, lat) {
    var lons = grid.lons, lats = grid.lats, n = lons.length, m = lats.length;
    if (lon < lons[0] || lon > lons[n - 1] || lat < lats[0] || lat > lats[m - 1]) { return null; }
    var step = lons[1] - lons[0], fx = (lon - lons[0]) / step, fy = (lat - lats[0]) / (lats[1] - lats[0]);
    var i = Math.min(Math.floor(fx), n - 2), j = Math.min(Math.floor(fy), m - 2), tx = fx - i, ty = fy - j;
    function at(values) {
      return values[j][i] * (1 - tx) * (1 - ty) + values[j][i + 1] * tx * (1 - ty) +
        values[j + 1][i] * (1 - tx) * ty + values[j + 1][i + 1] * tx * ty;
    }
    return {dlon: at(grid.dlon), dlat: at(grid.dlat)};
  }
  function onlineBasemap(map, cfg) {
    var b = cfg.online_basemap;
    if (!b) { return null; }
    var layer = L.tileLayer(b.url, {attribution: b.attribution, zIndex: 0, maxZoom: 18}).addTo(map);
    if (b.gcj02 && b.offsets) {
      var shift = function () {
        var c = map.getCenter(), d = gcjOffset(b.offsets, c.lng, c.lat), el = layer.getContainer();
        if (!el) { return; }
        if (!d) { el.style.transform = ''; return; }
        var here = map.project(c), there = map.project(L.latLng(c.lat + d.dlat, c.lng + d.dlon));
        el.style.transform = 'translate(' + (here.x - there.x) + 'px,' + (here.y - there.y) + 'px)';
      };
      map.on('moveend zoomend', shift);
      layer.on('load', shift);
      shift();
    }
    if (b.note) {
      var note = L.control({position: 'bottomleft'});
      note.onAdd = function () { var d = L.DomUtil.create('div', 'rm-basemap-note'); d.textContent = b.note; return d; };
      note.addTo(map);
    }
    return layer;
  }

  function basemap(map, cfg) {
    if (map.attributionControl) { map.attributionControl.setPrefix('Leaflet'); }  // text only: no link, no flag
    onlineBasemap(map, cfg);
    return addLayers(map, cfg.basemap_layers, 1);
  }
  RiskMap.basemap = basemap;

  function fit(map, bounds) {
    /* not animated: an animation still running would undo the view of ?lon=&lat=&z= set just after */
    if (bounds) { map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], {padding: [8, 8], animate: false}); }
  }

  /* ---------- planner map ---------- */
  /** ?lon=&lat=&z= in the page's URL: open the map there (a shareable view). */
  function viewFromQuery(map) {
    var q = new URLSearchParams(window.location.search), lon = Number(q.get('lon')), lat = Number(q.get('lat'));
    if (!q.has('lon') || !q.has('lat') || !isFinite(lon) || !isFinite(lat)) { return null; }
    var ll = L.latLng(lat, lon);
    map.setView(ll, Number(q.get('z')) || 14);
    return ll;
  }

  RiskMap.planner = function (map, cfg) {
    fit(map, cfg.bounds);
    viewFromQuery(map);
    var base = basemap(map, cfg);
    var overlays = addLayers(map, cfg.overlays, 10);
    var control = {};
    base.concat(overlays).forEach(function (layer) { control[label(layer.riskmapEntry)] = layer; });
    L.control.layers(null, control, {collapsed: window.innerWidth < 800, position: 'topright'}).addTo(map);
    var vector = base.concat(overlays).filter(function (l) { return l.featureAt; });
    var siting = cfg.siting ? sitingPanel(map, cfg) : null;
    map.on('click', function (e) {
      if (siting && siting.placing()) { siting.place(e.latlng); return; }
      var hit = pick(map, vector, e.latlng);
      if (hit) { L.popup({maxWidth: 380}).setLatLng(e.latlng).setContent(popupHtml(hit.entry, hit.properties)).openOn(map); }
    });
    var wallForm = document.getElementById('rm-wall-form');
    if (wallForm) {
      wallForm.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var chosen = document.getElementById('rm-wall-town');
        window.location.href = cfg.base + chosen.options[chosen.selectedIndex].dataset.path + '/wall';  // '/towns/<code>' or '/grids/<code>'
      });
    }
    RiskMap.map = map;
    return map;
  };

  var VERDICT_COLOURS = {permitted: '#1a7f37', conditional: '#1f5f99', advise_against: '#b35806', veto: '#b2182b'};
  var MAP_STYLES = {
    risk_zone: function (p) { return {color: p.colour || '#999', weight: 0, fillOpacity: 0.25}; },
    safety_buffer: function (p) { return {color: BUFFER, weight: p.own_class ? 2.5 : 1.2, dashArray: '6 4', fillOpacity: 0.05}; },
    plant_buffer: function () { return {color: VIOLATION, weight: 2, dashArray: '6 4', fillOpacity: 0.05}; },
    plot: function (p) { return {color: '#222', weight: 0.8, fillColor: p.colour || '#999', fillOpacity: 0.9}; },
    target: function () { return {color: '#3f007d', weight: 1, fillColor: '#6a51a3', fillOpacity: 0.5}; },
    hazard_site: function () { return {color: '#600', weight: 1, fillColor: '#b2182b', fillOpacity: 0.9}; },
    fire_station: function () { return {color: STATION, weight: 2, fillColor: '#fff', fillOpacity: 1}; },
    shelter: function () { return {color: '#fff', weight: 1, fillColor: SHELTER, fillOpacity: 1}; },
    proposal: function () { return {color: '#000', weight: 3, fillColor: '#ffd400', fillOpacity: 0.5}; }
  };

  function sitingPanel(map, cfg) {
    var kind = document.getElementById('rm-kind'), population = document.getElementById('rm-population');
    var inventoryRow = document.getElementById('rm-inventory-row'), inventory = document.getElementById('rm-inventory');
    var placeButton = document.getElementById('rm-place'), file = document.getElementById('rm-file');
    var review = document.getElementById('rm-review'), out = document.getElementById('rm-verdict');
    var described = document.getElementById('rm-proposal');
    var placing = false, proposal = null, drawn = null, result = null;

    /* only the kinds that store chemicals (inventory = true in [siting.kinds]) take an inventory */
    function needsInventory() { var o = kind.options[kind.selectedIndex]; return !!o && o.getAttribute('data-inventory') === 'true'; }
    function syncKind() { inventoryRow.hidden = !needsInventory(); }
    kind.addEventListener('change', syncKind);
    syncKind();

    function show(geometry, text) {
      proposal = geometry;
      if (drawn) { map.removeLayer(drawn); }
      drawn = L.geoJSON(geometry, {style: MAP_STYLES.proposal, pointToLayer: function (f, ll) {
        return L.circleMarker(ll, {radius: 8, color: '#000', weight: 3, fillColor: '#ffd400', fillOpacity: 1});
      }}).addTo(map);
      described.textContent = text;
      review.disabled = false;
    }
    placeButton.addEventListener('click', function () {
      placing = true;
      map.getContainer().style.cursor = 'crosshair';
      described.textContent = '请在地图上点击拟建位置 Click the proposed site on the map';
    });
    file.addEventListener('change', function () {
      if (!file.files.length) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        try {
          var obj = JSON.parse(reader.result);
          show(obj, '已上传 uploaded: ' + file.files[0].name);
          if (drawn.getBounds && drawn.getBounds().isValid()) { map.fitBounds(drawn.getBounds(), {maxZoom: 15}); }
        } catch (err) {
          out.innerHTML = '<p class="rm-error">无法读取 GeoJSON cannot read the file: ' + esc(err.message) + '</p>';
        }
      };
      reader.readAsText(file.files[0]);
    });
    review.addEventListener('click', function () {
      if (!proposal) { return; }
      var body = {geometry: proposal, kind: kind.value};
      if (population.value !== '') { body.population = Number(population.value); }
      if (needsInventory()) {
        try { body.inventory = JSON.parse(inventory.value); } catch (err) {
          out.innerHTML = '<p class="rm-error">危化品清单不是有效的 JSON inventory is not valid JSON: ' + esc(err.message) + '</p>';
          return;
        }
      }
      review.disabled = true;
      out.innerHTML = '<p class="rm-hint">审查中… reviewing…</p>';
      fetch(cfg.siting.url, {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
                             body: JSON.stringify(body)})
        .then(function (response) { return response.json().then(function (data) { return {ok: response.ok, data: data}; }); })
        .then(function (r) {
          review.disabled = false;
          if (!r.ok) {
            out.innerHTML = '<p class="rm-error">' + esc(r.data.description || r.data.code || 'error') + '</p>';
            return;
          }
          showVerdict(r.data);
        })
        .catch(function (err) { review.disabled = false; out.innerHTML = '<p class="rm-error">' + esc(err.message) + '</p>'; });
    });

    function showVerdict(v) {
      if (result) { map.removeLayer(result); }
      result = L.geoJSON(v.map, {
        style: function (f) { return (MAP_STYLES[f.properties.layer] || MAP_STYLES.proposal)(f.properties); },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 6}); },
        onEachFeature: function (f, layer) { layer.bindTooltip(esc(f.properties.label || f.properties.id)); }
      }).addTo(map);
      if (result.getBounds().isValid()) { map.fitBounds(result.getBounds(), {padding: [20, 20], maxZoom: 16}); }
      var reasons = (v.reasons || []).map(function (r) {
        return '<li><span class="rm-tag" style="background:' + (VERDICT_COLOURS[r.verdict] || '#777') + '">' +
          esc(r.verdict) + '</span> ' + esc(r.zh) + '<br><span class="en">' + esc(r.en) + '</span></li>';
      }).join('');
      var warnings = (v.warnings || []).map(function (w) { return '<p class="rm-warn">' + esc(w) + '</p>'; }).join('');
      out.innerHTML = '<div class="rm-badge" style="background:' + (VERDICT_COLOURS[v.verdict] || '#777') + '">' +
        esc(v.verdict_zh) + ' <span>' + esc(v.verdict) + '</span></div>' +
        '<p>' + esc(v.kind_zh) + ' ' + esc(v.kind_en) + ' · ' + esc(v.population) + ' 人 persons · ' +
        esc(v.zone_zh) + ' ' + esc(v.zone) + '</p>' + warnings + '<ol class="rm-reasons">' + reasons + '</ol>' +
        '<p><a href="' + esc(v.report_url) + '" target="_blank" rel="noopener">审查报告 (HTML) <span class="en">report</span></a></p>';
    }

    return {
      placing: function () { return placing; },
      place: function (latlng) {
        placing = false;
        map.getContainer().style.cursor = '';
        show({type: 'Point', coordinates: [Number(latlng.lng.toFixed(7)), Number(latlng.lat.toFixed(7))]},
             '拟建位置 site: ' + latlng.lng.toFixed(5) + ', ' + latlng.lat.toFixed(5));
      }
    };
  }

  /* ---------- town risk wall ---------- */
  RiskMap.wall = function (map, cfg) {
    basemap(map, cfg);
    RiskMap.map = map;
    editForm(cfg, 'rm-plot-form', 'industrial_plots', 'plot_id', 'rm-plot-result');
    editForm(cfg, 'rm-danger-form', 'hidden_dangers', 'danger_id', 'rm-danger-result');
    var plotSelect = document.querySelector('#rm-plot-form select[name=plot_id]');
    var history = document.getElementById('rm-plot-history');
    function historyLink() {
      if (plotSelect && history) {
        history.href = cfg.base + (cfg.area || '/towns/' + encodeURIComponent(cfg.town)) + '/plots/' +
          encodeURIComponent(plotSelect.value) + '/history';
      }
    }
    if (plotSelect) { plotSelect.addEventListener('change', historyLink); historyLink(); }
    shapeEditor(map, cfg);
    return map;
  };

  /* Editing a plot's outline on the wall's map: "edit shape" puts a draggable handle on each vertex
     of the selected plot's outer ring; "save shape" sends the moved ring through the editing API
     (with the plot form's reason), like the form's fields. */
  function shapeEditor(map, cfg) {
    var start = document.getElementById('rm-shape-edit'), save = document.getElementById('rm-shape-save');
    var form = document.getElementById('rm-plot-form');
    if (!start || !save || !form) { return; }
    var state = null;
    start.addEventListener('click', function () {
      var id = form.elements.plot_id.value, found = null;
      map.eachLayer(function (l) {
        if (l.feature && l.feature.properties && l.feature.properties.plot_id === id && l.getLatLngs) { found = l; }
      });
      if (state) { state.markers.forEach(function (m) { map.removeLayer(m); }); state = null; }
      if (!found) { return; }
      var rings = found.getLatLngs();
      var ring = L.LineUtil.isFlat(rings[0]) ? rings[0] : rings[0][0];
      state = {id: id, layer: found, ring: ring, markers: []};
      ring.forEach(function (ll, i) {
        var m = L.marker(ll, {draggable: true, icon: L.divIcon({className: 'rm-vertex', iconSize: [12, 12]})});
        m.on('drag', function (e) { ring[i] = e.target.getLatLng(); found.setLatLngs(found.getLatLngs()); });
        state.markers.push(m.addTo(map));
      });
      map.fitBounds(found.getBounds(), {maxZoom: 17});
      RiskMap.shape = state;
    });
    save.addEventListener('click', function () {
      if (!state) { return; }
      var out = document.getElementById('rm-plot-result');
      var url = cfg.base + '/api/edit/industrial_plots/' + encodeURIComponent(state.id);
      var ring = state.ring.map(function (ll) { return [ll.lng, ll.lat]; });
      ring.push(ring[0]);
      var json = function (r) {
        return r.json().then(function (b) { if (!r.ok) { throw new Error(b.description || r.status); } return b; });
      };
      fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) {
        var etag = r.headers.get('ETag');
        return json(r).then(function (feature) {
          var g = feature.geometry;
          if (g.type === 'Polygon') { g.coordinates[0] = ring; } else { g.coordinates[0][0] = ring; }
          return fetch(url, {method: 'PUT', credentials: 'same-origin', body: JSON.stringify(
            {feature: feature, reason: form.elements.reason.value}),
            headers: {'Content-Type': 'application/json', 'If-Match': etag, Accept: 'application/json'}});
        });
      }).then(json).then(function () { window.location.reload(); })
        .catch(function (e) { out.className = 'rm-error'; out.textContent = e.message; RiskMap.lastError = e.message; });
    });
  }

  /* An editing form of the wall: read the row (its version comes as ETag), put the non-empty
     fields of the form over it, send it back with If-Match and the reason; reload to show the
     colours the server recomputed. A refusal (409 stale or wrong step, 422 invalid) is shown. */
  var SKIP = {reason: true};
  function editForm(cfg, formId, layer, idName, outId) {
    var form = document.getElementById(formId);
    if (!form) { return; }
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var data = new FormData(form), out = document.getElementById(outId);
      var url = cfg.base + '/api/edit/' + layer + '/' + encodeURIComponent(data.get(idName));
      var json = function (r) {
        return r.json().then(function (b) { if (!r.ok) { throw new Error(b.description || r.status); } return b; });
      };
      out.className = ''; out.textContent = '…';
      fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) {
        var etag = r.headers.get('ETag');
        return json(r).then(function (feature) {
          data.forEach(function (value, key) {
            if (!SKIP[key] && key !== idName && value !== '') {
              var input = form.elements[key];
              feature.properties[key] = input && input.type === 'number' ? Number(value) : value;
            }
          });
          return fetch(url, {method: 'PUT', credentials: 'same-origin', body: JSON.stringify(
            {feature: feature, reason: data.get('reason')}),
            headers: {'Content-Type': 'application/json', 'If-Match': etag, Accept: 'application/json'}});
        });
      }).then(json).then(function (b) {
        out.textContent = '已保存 saved (v' + b.row_version + ')';
        RiskMap.lastEdit = b;
        window.location.reload();
      }).catch(function (e) { out.className = 'rm-error'; out.textContent = e.message; RiskMap.lastError = e.message; });
    });
  }

  /* helpers the public page's script (riskmap-public.js) shares */
  RiskMap.util = {esc: esc, num: num, addLayers: addLayers, pick: pick, fit: fit, onTile: onTile,
                  onlineBasemap: onlineBasemap, styles: STYLES, colours: {shelter: SHELTER, station: STATION}};
}(window.L));
