/* riskmap-vt.js - Mapbox Vector Tiles (MVT 2.1) drawn on a Leaflet canvas grid, with hit-testing.
 *
 * RiskMap.vectorTiles(urlTemplate, {style, zIndex, onTile}) is an L.GridLayer whose tiles are
 * canvases: each tile is fetched (same origin, so the session cookie goes with it), decoded here
 * (protobuf reader for the MVT subset: layers, features, keys, values, geometry commands) and
 * drawn with style(layerName, properties, zoom, geometryType) -> {fill, fillOpacity, stroke,
 * weight, opacity, dash, radius, shape} or null (not drawn); a point is a circle, or a 'square' or
 * 'triangle' of that radius. featureAt(latlng) finds the feature drawn on top at a point
 * (polygons: even-odd rule; lines and points: within a few pixels), for popups. A 204 answer is
 * an empty tile. RiskMap.labels(sources, {label}) writes names (places, streets along their lines)
 * from those tiles on one canvas over the map, without overlaps. No dependency but Leaflet.
 */
(function (L) {
  'use strict';
  var RiskMap = window.RiskMap = window.RiskMap || {};
  var utf8 = new TextDecoder('utf-8');
  var TWO64 = 18446744073709551616;

  /* ---------- protobuf, the subset MVT uses ---------- */
  function Reader(buffer) { this.buf = new Uint8Array(buffer); this.pos = 0; }
  Reader.prototype.varint = function () {
    var result = 0, shift = 1, b;
    do {
      if (this.pos >= this.buf.length) { throw new Error('truncated varint'); }
      b = this.buf[this.pos++];
      result += (b & 0x7f) * shift;
      shift *= 128;
    } while (b & 0x80);
    return result;
  };
  Reader.prototype.bytes = function () {
    var n = this.varint(), out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) { this.varint(); } else if (wire === 1) { this.pos += 8; } else if (wire === 2) {
      this.pos += this.varint();
    } else if (wire === 5) { this.pos += 4; } else { throw new Error('unknown wire type ' + wire); }
  };
  Reader.prototype.packed = function () {
    var end = this.varint() + this.pos, out = [];
    while (this.pos < end) { out.push(this.varint()); }
    return out;
  };
  function unzigzag(n) { return (n % 2 === 1) ? -(n + 1) / 2 : n / 2; }

  function readValue(r, end) {
    var value = null, key, view;
    while (r.pos < end) {
      key = r.varint();
      switch (key >> 3) {
        case 1: value = utf8.decode(r.bytes()); break;
        case 2: view = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 4); value = view.getFloat32(0, true); r.pos += 4; break;
        case 3: view = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8); value = view.getFloat64(0, true); r.pos += 8; break;
        case 4: value = r.varint(); if (value >= TWO64 / 2) { value -= TWO64; } break;
        case 5: value = r.varint(); break;
        case 6: value = unzigzag(r.varint()); break;
        case 7: value = r.varint() !== 0; break;
        default: r.skip(key & 7);
      }
    }
    return value;
  }

  function decodeGeometry(commands) {
    var parts = [], part = null, x = 0, y = 0, i = 0, c, id, count, k;
    while (i < commands.length) {
      c = commands[i++]; id = c & 7; count = c >> 3;
      if (id === 1 || id === 2) {
        for (k = 0; k < count; k++) {
          x += unzigzag(commands[i++]); y += unzigzag(commands[i++]);
          if (id === 1) { part = [[x, y]]; parts.push(part); } else if (part) { part.push([x, y]); }
        }
      } else if (id !== 7) { break; }
    }
    return parts;
  }

  function readFeature(r, end) {
    var f = {id: null, tags: [], type: 0, geometry: []}, key;
    while (r.pos < end) {
      key = r.varint();
      switch (key >> 3) {
        case 1: f.id = r.varint(); break;
        case 2: f.tags = r.packed(); break;
        case 3: f.type = r.varint(); break;
        case 4: f.geometry = r.packed(); break;
        default: r.skip(key & 7);
      }
    }
    return f;
  }

  function readLayer(r, end) {
    var layer = {name: '', extent: 4096, keys: [], values: [], features: []}, raw = [], key, len;
    while (r.pos < end) {
      key = r.varint();
      switch (key >> 3) {
        case 1: layer.name = utf8.decode(r.bytes()); break;
        case 2: len = r.varint(); raw.push(readFeature(r, r.pos + len)); break;
        case 3: layer.keys.push(utf8.decode(r.bytes())); break;
        case 4: len = r.varint(); layer.values.push(readValue(r, r.pos + len)); break;
        case 5: layer.extent = r.varint(); break;
        default: r.skip(key & 7);
      }
    }
    layer.features = raw.map(function (f) {
      var props = {}, i;
      for (i = 0; i + 1 < f.tags.length; i += 2) { props[layer.keys[f.tags[i]]] = layer.values[f.tags[i + 1]]; }
      return {id: f.id, type: f.type, parts: decodeGeometry(f.geometry), properties: props};
    });
    return layer;
  }

  /** Decode an MVT (ArrayBuffer) into {layerName: {name, extent, features: [{type, parts, properties}]}}. */
  function decodeTile(buffer) {
    var r = new Reader(buffer), layers = {}, key, len, layer;
    while (r.pos < r.buf.length) {
      key = r.varint();
      if ((key >> 3) === 3 && (key & 7) === 2) {
        len = r.varint();
        layer = readLayer(r, r.pos + len);
        layers[layer.name] = layer;
      } else { r.skip(key & 7); }
    }
    return layers;
  }
  RiskMap.decodeTile = decodeTile;

  /* ---------- drawing ---------- */
  /** A point symbol of radius r at (x, y): a circle, or style.shape 'square' or 'triangle' (pointing up). */
  function marker(ctx, shape, x, y, r) {
    if (shape === 'square') { ctx.rect(x - r, y - r, 2 * r, 2 * r); return; }
    if (shape === 'triangle') {
      ctx.moveTo(x, y - r); ctx.lineTo(x + 0.866 * r, y + 0.5 * r); ctx.lineTo(x - 0.866 * r, y + 0.5 * r); ctx.closePath();
      return;
    }
    ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  function paint(ctx, layers, style, scaleOf, zoom) {
    Object.keys(layers).forEach(function (name) {
      var layer = layers[name], k = scaleOf(layer.extent);
      layer.features.forEach(function (f) {
        var s = style(name, f.properties, zoom, f.type), i, j, p, r;
        if (!s) { return; }
        ctx.beginPath();
        for (i = 0; i < f.parts.length; i++) {
          p = f.parts[i];
          if (f.type === 1) {
            r = s.radius || 4;
            for (j = 0; j < p.length; j++) { marker(ctx, s.shape, p[j][0] * k, p[j][1] * k, r); }
          } else {
            ctx.moveTo(p[0][0] * k, p[0][1] * k);
            for (j = 1; j < p.length; j++) { ctx.lineTo(p[j][0] * k, p[j][1] * k); }
            if (f.type === 3) { ctx.closePath(); }
          }
        }
        if (f.type !== 2 && s.fill) {
          ctx.globalAlpha = s.fillOpacity === undefined ? 1 : s.fillOpacity;
          ctx.fillStyle = s.fill;
          ctx.fill('evenodd');
        }
        if (s.stroke && (s.weight === undefined || s.weight > 0)) {
          ctx.globalAlpha = s.opacity === undefined ? 1 : s.opacity;
          ctx.strokeStyle = s.stroke;
          ctx.lineWidth = s.weight === undefined ? 1 : s.weight;
          ctx.setLineDash(s.dash || []);
          ctx.stroke();
        }
        ctx.globalAlpha = 1;
      });
    });
  }

  /* ---------- hit-testing (tile units) ---------- */
  function insideRings(x, y, parts) {
    var inside = false, i, j, k, p, a, b;
    for (i = 0; i < parts.length; i++) {
      p = parts[i];
      for (j = 0, k = p.length - 1; j < p.length; k = j++) {
        a = p[j]; b = p[k];
        if (((a[1] > y) !== (b[1] > y)) && (x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0])) { inside = !inside; }
      }
    }
    return inside;
  }
  function segmentDistance(x, y, a, b) {
    var dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy, t = 0;
    if (len > 0) { t = Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len)); }
    dx = a[0] + t * dx - x; dy = a[1] + t * dy - y;
    return Math.sqrt(dx * dx + dy * dy);
  }
  function near(x, y, f, tolerance) {
    var i, j, p;
    for (i = 0; i < f.parts.length; i++) {
      p = f.parts[i];
      if (f.type === 1) {
        for (j = 0; j < p.length; j++) { if (Math.abs(p[j][0] - x) <= tolerance && Math.abs(p[j][1] - y) <= tolerance) { return true; } }
      } else {
        for (j = 1; j < p.length; j++) { if (segmentDistance(x, y, p[j - 1], p[j]) <= tolerance) { return true; } }
      }
    }
    return false;
  }

  RiskMap.VectorTiles = L.GridLayer.extend({
    options: {style: function () { return null; }, onTile: null, updateWhenIdle: true},

    initialize: function (url, options) {
      this._url = url;
      this._decoded = {};
      L.GridLayer.prototype.initialize.call(this, options);
      this.on('tileunload', function (e) { delete this._decoded[this._tileCoordsToKey(e.coords)]; }, this);
    },

    createTile: function (coords, done) {
      var tile = L.DomUtil.create('canvas', 'leaflet-tile'), size = this.getTileSize(), self = this;
      var ratio = window.devicePixelRatio || 1;
      tile.width = size.x * ratio; tile.height = size.y * ratio;
      tile.style.width = size.x + 'px'; tile.style.height = size.y + 'px';
      var url = L.Util.template(this._url, {z: coords.z, x: coords.x, y: coords.y});
      fetch(url, {credentials: 'same-origin'}).then(function (response) {
        if (response.status === 204) { return null; }
        if (!response.ok) { throw new Error('tile ' + url + ': HTTP ' + response.status); }
        return response.arrayBuffer();
      }).then(function (buffer) {
        var layers = buffer ? decodeTile(buffer) : {}, ctx = tile.getContext('2d'), count = 0;
        self._decoded[self._tileCoordsToKey(coords)] = layers;
        ctx.scale(ratio, ratio);
        paint(ctx, layers, self.options.style, function (extent) { return size.x / extent; }, coords.z);
        Object.keys(layers).forEach(function (n) { count += layers[n].features.length; });
        if (self.options.onTile) { self.options.onTile(null, count); }
        done(null, tile);
      }).catch(function (error) {
        if (self.options.onTile) { self.options.onTile(error, 0); }
        done(error, tile);
      });
      return tile;
    },

    /** Redraw every loaded tile (after a style change) without fetching again. */
    restyle: function () {
      var self = this;
      Object.keys(this._tiles || {}).forEach(function (key) {
        var t = self._tiles[key], layers = self._decoded[key], ctx, size = self.getTileSize(), ratio = window.devicePixelRatio || 1;
        if (!layers) { return; }
        ctx = t.el.getContext('2d');
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, t.el.width, t.el.height);
        ctx.scale(ratio, ratio);
        paint(ctx, layers, self.options.style, function (extent) { return size.x / extent; }, t.coords.z);
      });
    },

    /** The feature drawn on top at latlng: {layer, properties, type} or null. */
    featureAt: function (latlng) {
      if (!this._map || this._tileZoom === undefined) { return null; }
      var z = this._tileZoom, size = this.getTileSize(), p = this._map.project(latlng, z);
      var tx = Math.floor(p.x / size.x), ty = Math.floor(p.y / size.y);
      var layers = this._decoded[tx + ':' + ty + ':' + z], names, i, j, layer, k, x, y, f, s;
      if (!layers) { return null; }
      names = Object.keys(layers);
      for (i = names.length - 1; i >= 0; i--) {
        layer = layers[names[i]];
        k = layer.extent / size.x;
        x = (p.x - tx * size.x) * k; y = (p.y - ty * size.y) * k;
        for (j = layer.features.length - 1; j >= 0; j--) {
          f = layer.features[j];
          s = this.options.style(names[i], f.properties, z, f.type);
          if (!s) { continue; }
          if ((f.type === 3 && s.fill && insideRings(x, y, f.parts)) ||
              (f.type !== 3 && near(x, y, f, ((s.radius || 0) + 5) * k)) ||
              (f.type === 3 && !s.fill && near(x, y, f, 5 * k))) {
            return {layer: names[i], properties: f.properties, type: f.type};
          }
        }
      }
      return null;
    }
  });

  RiskMap.vectorTiles = function (url, options) { return new RiskMap.VectorTiles(url, options); };

  /* ---------- labels: one canvas over the map, names placed without overlap ---------- */
  /* RiskMap.labels(sources, {label}) draws the names found in the decoded tiles of the vector-tile
   * layers `sources` on one canvas over the whole map (so a name is not cut at a tile edge and two
   * names never overlap across tiles). label(layerName, properties, zoom, type) -> null or
   * {text, priority (lower first), size, colour, halo, line (write along the line), spacing}.
   * Point names are centred on the point (below it with dy); line names are written character by
   * character along the line, upright (as Chinese maps write street names), once per name within
   * `spacing` px. After each redraw `placed` lists what was written: [{text, x, y, line}]. */
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  function overlaps(boxes, b) {
    for (var i = 0; i < boxes.length; i++) {
      var o = boxes[i];
      if (b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1]) { return true; }
    }
    return false;
  }
  /* points along a polyline at the distances `at` (pixels from its start), or null if it is shorter */
  function along(pts, at) {
    var out = [], i = 1, run = 0, k = 0, seg, t;
    while (k < at.length && i < pts.length) {
      seg = Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]);
      if (run + seg >= at[k]) {
        t = seg > 0 ? (at[k] - run) / seg : 0;
        out.push([pts[i - 1][0] + t * (pts[i][0] - pts[i - 1][0]), pts[i - 1][1] + t * (pts[i][1] - pts[i - 1][1])]);
        k++;
      } else { run += seg; i++; }
    }
    return out.length === at.length ? out : null;
  }
  function lineLength(pts) {
    var n = 0, i;
    for (i = 1; i < pts.length; i++) { n += Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]); }
    return n;
  }
  RiskMap.Labels = L.Layer.extend({
    options: {label: function () { return null; }, pane: 'rmLabels'},
    initialize: function (sources, options) { this._sources = sources; this.placed = []; L.setOptions(this, options); },
    onAdd: function (map) {
      var pane = map.getPane(this.options.pane) || map.createPane(this.options.pane);
      pane.style.zIndex = 640; pane.style.pointerEvents = 'none';
      this._canvas = L.DomUtil.create('canvas', 'rm-labels leaflet-zoom-hide', pane);
      map.on('moveend zoomend resize', this._schedule, this);
      this._sources.forEach(function (s) { s.on('tileload load', this._schedule, this); }, this);
      this._schedule();
    },
    onRemove: function (map) {
      map.off('moveend zoomend resize', this._schedule, this);
      this._sources.forEach(function (s) { s.off('tileload load', this._schedule, this); }, this);
      L.DomUtil.remove(this._canvas);
    },
    _schedule: function () {
      var self = this;
      if (this._pending) { return; }
      this._pending = L.Util.requestAnimFrame(function () { self._pending = null; if (self._map) { self.redraw(); } });
    },
    _candidates: function (origin) {
      var map = this._map, zoom = map.getZoom(), out = [], label = this.options.label;
      this._sources.forEach(function (src) {
        if (!map.hasLayer(src) || src._tileZoom === undefined) { return; }
        var z = src._tileZoom, size = src.getTileSize().x, scale = map.getZoomScale(zoom, z);
        Object.keys(src._decoded).forEach(function (key) {
          var c = key.split(':'), tx = +c[0], ty = +c[1];
          if (+c[2] !== z) { return; }
          var layers = src._decoded[key];
          Object.keys(layers).forEach(function (name) {
            var layer = layers[name], k = size / layer.extent;
            layer.features.forEach(function (f) {
              var spec = label(name, f.properties, zoom, f.type);
              if (!spec || !spec.text) { return; }
              f.parts.forEach(function (part) {
                var pts = part.map(function (p) {
                  return [(tx * size + p[0] * k) * scale - origin.x, (ty * size + p[1] * k) * scale - origin.y];
                });
                out.push({spec: spec, pts: pts, type: f.type});
              });
            });
          });
        });
      });
      return out.sort(function (a, b) { return a.spec.priority - b.spec.priority; });
    },
    redraw: function () {
      var map = this._map, size = map.getSize(), ratio = window.devicePixelRatio || 1, c = this._canvas;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(c, topLeft);
      c.width = size.x * ratio; c.height = size.y * ratio;
      c.style.width = size.x + 'px'; c.style.height = size.y + 'px';
      var ctx = c.getContext('2d'), boxes = [], placed = [], byName = {};
      ctx.scale(ratio, ratio);
      ctx.textAlign = 'center'; ctx.textBaseline = 'middle'; ctx.lineJoin = 'round';
      var origin = map.getPixelOrigin().add(topLeft);
      function write(spec, chars) {
        ctx.font = (spec.weight || 'normal') + ' ' + spec.size + 'px ' + FONT;
        ctx.lineWidth = 3; ctx.strokeStyle = spec.halo || '#ffffff'; ctx.fillStyle = spec.colour || '#222';
        chars.forEach(function (ch) { ctx.strokeText(ch[0], ch[1], ch[2]); });
        chars.forEach(function (ch) { ctx.fillText(ch[0], ch[1], ch[2]); });
      }
      function seenNear(name, x, y, spacing) {
        return (byName[name] || []).some(function (p) { return Math.hypot(p[0] - x, p[1] - y) < spacing; });
      }
      this._candidates(origin).forEach(function (cand) {
        var spec = cand.spec, s = spec.size, text = String(spec.text), pts = cand.pts, box, chars, x, y;
        if (spec.line && cand.type === 2) {
          var glyphs = Array.from(text), step = s + 1, length = lineLength(pts), need = glyphs.length * step;
          if (pts.length < 2 || length < need + 8) { return; }
          var dx = pts[pts.length - 1][0] - pts[0][0], dy = pts[pts.length - 1][1] - pts[0][1];
          if ((Math.abs(dx) >= Math.abs(dy) && dx < 0) || (Math.abs(dx) < Math.abs(dy) && dy < 0)) { pts = pts.slice().reverse(); }
          /* from the middle of the line outwards, every `spacing` px: each place on screen, clear of
             other names and of the same name nearby, gets the name */
          var spacing = spec.spacing || 220, middle = (length - need) / 2, starts = [middle], d;
          for (d = spacing; middle - d >= 0 || middle + d + need <= length; d += spacing) {
            if (middle - d >= 0) { starts.push(middle - d); }
            if (middle + d + need <= length) { starts.push(middle + d); }
          }
          starts.forEach(function (start) {
            var spots = along(pts, glyphs.map(function (g, i) { return start + (i + 0.5) * step; }));
            if (!spots) { return; }
            var cx = spots[Math.floor(spots.length / 2)][0], cy = spots[Math.floor(spots.length / 2)][1];
            if (spots.some(function (p) { return p[0] < s || p[1] < s || p[0] > size.x - s || p[1] > size.y - s; }) ||
                seenNear(text, cx, cy, spacing)) { return; }
            var cb = spots.map(function (p) { return [p[0] - s / 2, p[1] - s / 2, p[0] + s / 2, p[1] + s / 2]; });
            if (cb.some(function (b) { return overlaps(boxes, b); })) { return; }
            boxes.push.apply(boxes, cb);
            write(spec, glyphs.map(function (g, i) { return [g, spots[i][0], spots[i][1]]; }));
            (byName[text] = byName[text] || []).push([cx, cy]);
            placed.push({text: text, x: Math.round(cx), y: Math.round(cy), line: true});
          });
          return;
        } else {
          var p = cand.type === 1 ? pts[0] : null;
          if (!p) { return; }
          ctx.font = (spec.weight || 'normal') + ' ' + s + 'px ' + FONT;
          var w = ctx.measureText(text).width;
          x = p[0]; y = p[1] + (spec.dy || 0);
          box = [x - w / 2 - 2, y - s / 2 - 2, x + w / 2 + 2, y + s / 2 + 2];
          if (box[2] < 0 || box[3] < 0 || box[0] > size.x || box[1] > size.y) { return; }
          if (seenNear(text, x, y, 40) || overlaps(boxes, box)) { return; }
          boxes.push(box);
          write(spec, [[text, x, y]]);
        }
        (byName[text] = byName[text] || []).push([x, y]);
        placed.push({text: text, x: Math.round(x), y: Math.round(y), line: !!spec.line});
      });
      this.placed = placed;
      this.fire('labelled', {count: placed.length});
    }
  });
  RiskMap.labels = function (sources, options) { return new RiskMap.Labels(sources, options); };
}(window.L));
