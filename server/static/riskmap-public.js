/* riskmap-public.js - the public shelter map (/public/shelters): find my place, the risk around it in
 * plain words, the right shelter for the hazard; phone first, offline.
 *
 * RiskMap.publicShelters(map, config) draws the offline basemap (/public/basemap tiles: roads by
 * class, boundaries, names written by RiskMap.labels), the disclosed risk plots and the shelters,
 * and wires the search box (/api/public/search), the hazard choice, "locate me" and taps on the map
 * to /api/public/place, whose answer fills the panel and is drawn: walking routes, numbered
 * shelters, the map fitted to the place and its shelters. The page's address follows the view
 * (?lon=&lat=&hazard=), so it can be shared or bookmarked. Needs riskmap-vt.js and riskmap-pages.js.
 */
(function (L) {
  'use strict';
  var RiskMap = window.RiskMap;
  var U = RiskMap.util, esc = U.esc, num = U.num, SHELTER = U.colours.shelter, STATION = U.colours.station;
  var ROAD = {motorway: ['#e39a3b', 4, 1], trunk: ['#e9b04f', 3.5, 1], primary: ['#f2c66d', 3, 2],
              secondary: ['#f7dc9a', 2.4, 3], tertiary: ['#ffffff', 2, 4]};

  function roadStyle(p, z) {
    var r = ROAD[p['class']] || ['#ffffff', 1.4, 5], grow = z >= 15 ? 1.8 : (z >= 13 ? 1.3 : 1);
    return {stroke: r[0], weight: r[1] * grow, casing: true};
  }
  var BASE = {
    roads: function (p, z) { var s = roadStyle(p, z); return {stroke: s.stroke, weight: s.weight}; },
    boundaries: function (p) {
      return p.level === 'district' ? {stroke: '#8a6f9e', weight: 2, dash: [8, 4]} : {stroke: '#a08fb0', weight: 1.2, dash: [4, 3]};
    },
    places: function () { return null; }
  };
  function basemapStyle(layer, p, z) { return BASE[layer] ? BASE[layer](p, z) : null; }
  /* the shelters and stations as symbols over everything, visible at city zoom */
  function symbolStyle(layer, p, z) {
    if (layer !== 'places') { return null; }
    if (p.kind === 'shelter') {
      return {shape: 'square', fill: SHELTER, fillOpacity: 1, stroke: '#ffffff', weight: z >= 12 ? 2 : 1, radius: z >= 14 ? 8 : (z >= 12 ? 6 : 4)};
    }
    if (p.kind === 'station' && z >= 13) { return {fill: '#ffffff', fillOpacity: 1, stroke: STATION, weight: 2.5, radius: 5}; }
    return null;
  }
  function shelterGround(layer, p, z, type) {
    return type === 3 && z >= 14 ? {fill: SHELTER, fillOpacity: 0.25, stroke: SHELTER, weight: 1.5} : null;
  }
  function labelOf(layer, p, z, type) {
    if (layer === 'places') {
      if (p.kind === 'district') { return {text: p.name, priority: 0, size: 17, weight: 'bold', colour: '#4a3a5c'}; }
      if (p.kind === 'town') { return {text: p.name, priority: 1, size: z >= 13 ? 16 : 14, weight: 'bold', colour: '#333'}; }
      if (p.kind === 'shelter' && z >= 14) { return {text: p.name, priority: 3, size: 12, colour: '#00695c', dy: 16}; }
      if (p.kind === 'station' && z >= 15) { return {text: p.name, priority: 5, size: 11, colour: STATION, dy: 14}; }
      return null;
    }
    if (layer === 'roads' && type === 2 && p.name) {
      var rank = (ROAD[p['class']] || [0, 0, 5])[2];
      if (z < 12 && rank > 2) { return null; }
      return {text: p.name, priority: 2 + rank / 10, size: 12, colour: '#5a4a2a', line: true, spacing: 260};
    }
    return null;
  }

  function hazardLabel(cfg, key) {
    var h = (cfg.hazards || []).filter(function (x) { return x.key === key; })[0];
    return h ? h.zh + ' <span class="en">' + esc(h.en) + '</span>' : '';
  }

  RiskMap.publicShelters = function (map, cfg) {
    U.fit(map, cfg.bounds);
    if (map.attributionControl) { map.attributionControl.setPrefix('Leaflet'); }
    U.onlineBasemap(map, cfg);
    var base = RiskMap.vectorTiles(cfg.basemap, {style: basemapStyle, zIndex: 2, onTile: U.onTile, maxZoom: 19}).addTo(map);
    /* a shelter is a symbol at every zoom (the symbols layer); its ground is fetched and drawn from zoom 14 */
    var overlays = (cfg.overlays || []).map(function (entry, i) {
      var shelters = entry.layer === 'shelters', style = U.styles[entry.layer];
      var layer = RiskMap.vectorTiles(entry.url, {style: shelters ? shelterGround : function (n, p, z, t) { return style(p, z, t); },
                                                  zIndex: 10 + i, onTile: U.onTile, maxZoom: 19, minZoom: shelters ? 14 : 0});
      layer.riskmapEntry = entry;
      return entry.on ? layer.addTo(map) : layer;
    });
    var symbols = RiskMap.vectorTiles(cfg.basemap, {style: symbolStyle, zIndex: 30, maxZoom: 19}).addTo(map);
    var labels = RiskMap.labels([base], {label: labelOf}).addTo(map);
    var vector = overlays.filter(function (l) { return l.featureAt; });
    var results = L.layerGroup().addTo(map);
    var $ = function (id) { return document.getElementById(id); };
    var list = $('rm-results'), where = $('rm-where'), method = $('rm-method'), place = $('rm-place'), advice = $('rm-advice');
    var hazard = $('rm-hazard'), share = $('rm-share'), input = $('rm-search'), found = $('rm-search-results');
    var current = null;

    function shareUrl(latlng) {
      var q = '?lon=' + latlng.lng.toFixed(6) + '&lat=' + latlng.lat.toFixed(6) + (hazard.value ? '&hazard=' + hazard.value : '');
      return window.location.origin + window.location.pathname + q;
    }
    function showShare(latlng) {
      var url = shareUrl(latlng);
      if (window.history && window.history.replaceState) { window.history.replaceState(null, '', url); }
      share.hidden = false;
      share.querySelector('input').value = url;
    }

    function shelterItem(s, i) {
      var tags = s.hazards.map(function (h, k) {
        return '<span class="rm-hz">' + esc(s.hazards_zh[k]) + ' <span class="en">' + esc(s.hazards_en[k]) + '</span></span>';
      }).join(' ');
      return '<li data-shelter="' + esc(s.shelter_id) + '"><span class="rm-num">' + (i + 1) + '</span><strong>' +
        esc(s.name || s.shelter_id) + '</strong> <span class="rm-hint">' + esc(s.class_zh) + ' <span class="en">' +
        esc(s.class_en) + '</span></span><br>' + esc(s.summary_zh) + '<br><span class="en">' + esc(s.summary_en) +
        '</span><br>可容纳 ' + num(s.capacity) + ' 人 <span class="en">persons</span> · 有效面积 ' + num(s.effective_area_m2) +
        ' m²' + (s.address ? '<br>' + esc(s.address) : '') + '<br>适用 <span class="en">fit for</span> ' + tags +
        (s.hazards_declared ? '' : ' <span class="rm-hint">(按类别默认 <span class="en">default by class</span>)</span>') +
        (s.towards_disclosed_plot ? '<br><span class="rm-warn">途经或朝向公示风险地块，请绕行 <span class="en">the way passes near a disclosed risk plot: go round it</span></span>' : '') +
        (s.within_service_radius ? '' : '<br><span class="rm-warn">超出该类场所服务半径 ' + num(s.service_radius_m) +
         ' m <span class="en">beyond its service radius</span></span>') +
        '<br><a href="' + esc(cfg.card.replace('{id}', encodeURIComponent(s.shelter_id))) + '?lon=' + current.lng.toFixed(6) +
        '&lat=' + current.lat.toFixed(6) + '" target="_blank" rel="noopener">打印避难卡片 <span class="en">print a shelter card</span></a></li>';
    }

    function sentences(d, kinds) {
      return '<ul class="rm-sentences">' + d.sentences.filter(function (s) { return kinds.indexOf(s.kind) >= 0; })
        .map(function (s) { return '<li>' + esc(s.zh) + '<br><span class="en">' + esc(s.en) + '</span></li>'; }).join('') + '</ul>';
    }

    function draw(latlng, d) {
      var bounds = L.latLngBounds([latlng]);
      d.shelters.forEach(function (s, i) {
        var route = s.route.map(function (c) { return [c[1], c[0]]; });
        L.polyline(route, {color: '#ffffff', weight: 7, opacity: 0.9}).addTo(results);
        L.polyline(route, {color: SHELTER, weight: 4, dashArray: s.method === 'network' ? null : '6 6'}).addTo(results);
        L.marker([s.lat, s.lon], {icon: L.divIcon({className: 'rm-pin', html: String(i + 1), iconSize: [24, 24]})})
          .bindTooltip(esc(s.name || s.shelter_id)).addTo(results);
        route.forEach(function (p) { bounds.extend(p); });
      });
      /* the point and its shelters in view, with room for the markers */
      map.fitBounds(bounds, {padding: [28, 28], maxZoom: 17, animate: false});
    }

    function lookup(latlng) {
      current = latlng;
      results.clearLayers();
      L.circleMarker(latlng, {radius: 8, color: '#fff', weight: 3, fillColor: '#1f1f1f', fillOpacity: 1}).addTo(results);
      where.textContent = '位置 location: ' + latlng.lng.toFixed(5) + ', ' + latlng.lat.toFixed(5);
      list.innerHTML = '<li class="rm-hint">查找中… searching…</li>';
      place.innerHTML = ''; advice.innerHTML = '';
      var url = cfg.place + '?lon=' + latlng.lng.toFixed(6) + '&lat=' + latlng.lat.toFixed(6) + '&n=3' +
        (hazard.value ? '&hazard=' + encodeURIComponent(hazard.value) : '');
      RiskMap.pending = (RiskMap.pending || 0) + 1;
      return fetch(url).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); })
        .then(function (r) {
          if (!r.ok) { list.innerHTML = '<li class="rm-error">' + esc(r.data.description) + '</li>'; return; }
          var d = r.data;
          var zone = d.zone ? '<span class="rm-sw" style="background:' + esc(d.zone.colour) + '"></span>' : '';
          /* where and the risk first, then the shelters (the list), then what to do */
          place.innerHTML = '<h2>' + zone + '此处 <span class="en">This place</span>' +
            (d.hazard ? ' · ' + hazardLabel(cfg, d.hazard) : '') + '</h2>' + sentences(d, ['where', 'risk']);
          advice.innerHTML = '<h2>怎么做 <span class="en">What to do</span></h2>' + sentences(d, ['advice']);
          list.innerHTML = d.shelters.length ? d.shelters.map(shelterItem).join('') :
            '<li>附近没有适用的避难场所数据 <span class="en">no suitable shelter found</span></li>';
          method.textContent = d.method_note + ' ' + d.direction_note + ' ' + (d.warnings || []).join(' ');
          draw(latlng, d);
          showShare(latlng);
          RiskMap.lastPlace = d;
        })
        .catch(function (err) { list.innerHTML = '<li class="rm-error">' + esc(err.message) + '</li>'; })
        .then(function () { RiskMap.pending -= 1; });
    }
    RiskMap.lookup = lookup;

    /* ---------- search ---------- */
    var timer = null, shown = [];
    function pickResult(r) {
      found.hidden = true;
      input.value = r.name;
      if (r.bbox) { map.fitBounds([[r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]], {maxZoom: 16, animate: false}); }
      return lookup(L.latLng(r.lat, r.lon));
    }
    RiskMap.pickResult = function (i) { return pickResult(shown[i]); };
    function search(q) {
      if (!q.trim()) { found.hidden = true; return Promise.resolve([]); }
      return fetch(cfg.search + '?q=' + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (d) {
        if (input.value !== q) { return shown; }
        shown = d.results || [];
        found.innerHTML = shown.length ? shown.map(function (r, i) {
          return '<li><button type="button" data-i="' + i + '"><span class="rm-kind">' + esc(r.kind_zh) + '</span> ' + esc(r.name) +
            (r.detail ? ' <span class="rm-hint">' + esc(r.detail) + '</span>' : '') + '</button></li>';
        }).join('') : '<li class="rm-hint">没有找到 <span class="en">nothing found</span></li>';
        found.hidden = false;
        return shown;
      });
    }
    /* what a person does: type q in the box, wait for the list */
    RiskMap.search = function (q) { input.value = q; return search(q); };
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { search(input.value); }, 150);
    });
    found.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-i]');
      if (b) { pickResult(shown[+b.getAttribute('data-i')]); }
    });
    $('rm-search-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      search(input.value).then(function (r) { if (r && r.length) { pickResult(r[0]); } });
    });
    hazard.addEventListener('change', function () { if (current) { lookup(current); } });

    /* ---------- taps and locate me ---------- */
    map.on('click', function (e) {
      found.hidden = true;
      var hit = U.pick(map, vector, e.latlng);
      if (hit && hit.entry.layer === 'risk_wall') {
        L.popup({maxWidth: 300}).setLatLng(e.latlng).setContent(RiskMap.popupHtml(hit.entry, hit.properties)).openOn(map);
        return;
      }
      lookup(e.latlng);
    });
    $('rm-locate').addEventListener('click', function () {
      if (!window.isSecureContext) {
        where.innerHTML = '浏览器只在 HTTPS 安全连接下允许定位，本页不是。请搜索地名或点击地图。' +
          '<br><span class="en">Browsers allow locating only over https, and this page is not: search for a place or tap the map.</span>';
        return;
      }
      if (!navigator.geolocation) { where.textContent = '此浏览器不能定位，请搜索或点击地图 this browser cannot locate you; search or tap the map'; return; }
      where.textContent = '定位中… locating…';
      navigator.geolocation.getCurrentPosition(function (pos) {
        lookup(L.latLng(pos.coords.latitude, pos.coords.longitude));
      }, function (err) {
        var why = {1: ['您拒绝了定位权限（可在浏览器设置中允许）', 'permission was refused (allow it in the browser settings)'],
                   2: ['无法获得位置信号', 'no position could be had'], 3: ['定位超时', 'locating timed out']}[err.code] ||
          ['无法定位', err.message];
        where.innerHTML = esc(why[0]) + '，请搜索或点击地图。<br><span class="en">Cannot locate you: ' + esc(why[1]) +
          '; search or tap the map.</span>';
      }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
    });
    share.querySelector('button').addEventListener('click', function () {
      var box = share.querySelector('input');
      box.select();
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(box.value); }
      else { try { document.execCommand('copy'); } catch (err) { /* the link stays selected for copying */ } }
    });

    var q = new URLSearchParams(window.location.search), lon = Number(q.get('lon')), lat = Number(q.get('lat'));
    if (q.get('hazard')) { hazard.value = q.get('hazard'); }
    if (q.has('lon') && q.has('lat') && isFinite(lon) && isFinite(lat)) { lookup(L.latLng(lat, lon)); }
    RiskMap.map = map;
    RiskMap.labelsLayer = labels;
    RiskMap.symbols = symbols;
    return map;
  };
}(window.L));
