// The player: incident markers on the timeline (click to seek), the route from GPS (over
// map tiles when a tile URL is configured), and speed and G-force charts with their axes
// (times in the viewer's zone), all following the video's current time. Data: the page's #player-data (the item's telemetry as the API
// gives it).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';

function svg(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// Web Mercator: pixel coordinates of a point at zoom z (256-pixel tiles).
function project(lat, lon, z) {
  const size = 256 * 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return [
    ((lon + 180) / 360) * size,
    ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * size,
  ];
}

// The value of a [[t, v...]] series at time t (the last sample at or before t).
function at(series, t) {
  let lo = 0;
  let hi = series.length - 1;
  if (hi < 0 || t < series[0][0]) return series[0] || null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (series[mid][0] <= t) lo = mid; else hi = mid - 1;
  }
  return series[lo];
}

function drawRoute(route, tiles, note, shared) {
  const map = document.getElementById('map');
  const line = document.getElementById('route');
  if (!route.length) {
    note.textContent = shared ? 'The owner did not share the location.' : 'No GPS positions for this video.';
    map.hidden = true;
    return () => {};
  }
  const width = map.clientWidth || 300;
  const height = map.clientHeight || 200;
  const lats = route.map((p) => p[1]);
  const lons = route.map((p) => p[2]);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  // The largest zoom at which the route fits the map with a margin.
  let z = 18;
  while (z > 0) {
    const [x0, y1] = project(minLat, minLon, z);
    const [x1, y0] = project(maxLat, maxLon, z);
    if (x1 - x0 <= width * 0.85 && y1 - y0 <= height * 0.85) break;
    z -= 1;
  }
  const [ax, ay] = project(minLat, minLon, z);
  const [bx, by] = project(maxLat, maxLon, z);
  const left = (ax + bx) / 2 - width / 2;
  const top = (ay + by) / 2 - height / 2;
  line.setAttribute('viewBox', `${left} ${top} ${width} ${height}`);
  line.setAttribute('preserveAspectRatio', 'none');
  const points = route.map((p) => project(p[1], p[2], z).map((v) => v.toFixed(1)).join(',')).join(' ');
  line.replaceChildren(
    svg('polyline', { points, class: 'route-path' }),
    svg('circle', { r: 6, class: 'route-now', id: 'route-now' }),
  );
  if (tiles) {
    const layer = document.getElementById('map-tiles');
    const max = 2 ** z;
    for (let tx = Math.floor(left / 256); tx <= Math.floor((left + width) / 256); tx += 1) {
      for (let ty = Math.floor(top / 256); ty <= Math.floor((top + height) / 256); ty += 1) {
        if (ty < 0 || ty >= max) continue;
        const img = document.createElement('img');
        img.alt = '';
        img.src = tiles.replace('{z}', z).replace('{x}', ((tx % max) + max) % max).replace('{y}', ty).replace('{s}', 'a');
        img.style.left = `${((tx * 256 - left) / width) * 100}%`;
        img.style.top = `${((ty * 256 - top) / height) * 100}%`;
        img.style.width = `${(256 / width) * 100}%`;
        img.style.height = `${(256 / height) * 100}%`;
        layer.appendChild(img);
      }
    }
    note.textContent = '';
  } else {
    note.textContent = 'Route from GPS (no map tiles configured).';
  }
  const now = document.getElementById('route-now');
  return (t) => {
    const p = at(route, t);
    if (!p) return;
    const [x, y] = project(p[1], p[2], z);
    now.setAttribute('cx', x.toFixed(1));
    now.setAttribute('cy', y.toFixed(1));
  };
}

// Round numbers for an axis from lo to hi: about `count` ticks at 1, 2 or 5 × 10^n.
function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

// A line chart of series columns over [0, total] seconds from `start` (ms since the
// epoch): a value axis in `unit`, a time axis in the viewer's zone, a legend when there
// are several lines, and a cursor; returns the function that moves the cursor.
function drawChart(chart, series, lines, total, start, unit, readout, format) {
  if (!series.length) {
    readout.textContent = '(no data)';
    return () => {};
  }
  const width = Math.max(240, Math.round(chart.clientWidth || 300));
  const height = 160;
  const left = 44;
  const right = 8;
  const top = lines.length > 1 ? 20 : 8;
  const bottom = 22;
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  const values = series.flatMap((row) => lines.map((l) => row[l.column]));
  let lo = Math.min(0, ...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-6) hi = lo + 1;
  const yTicks = ticks(lo, hi, 4);
  lo = Math.min(lo, yTicks[0]);
  hi = Math.max(hi, yTicks[yTicks.length - 1]);
  const x = (t) => (left + (t / total) * (width - left - right)).toFixed(1);
  const y = (v) => (top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom)).toFixed(1);
  const nodes = [];
  for (const v of yTicks) {
    nodes.push(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: v === 0 ? 'axis zero' : 'grid' }));
    const label = svg('text', { x: left - 4, y: Number(y(v)) + 4, class: 'tick', 'text-anchor': 'end' });
    label.textContent = String(v);
    nodes.push(label);
  }
  const unitLabel = svg('text', { x: 2, y: top - 2 > 8 ? top - 6 : 10, class: 'tick unit' });
  unitLabel.textContent = unit;
  nodes.push(unitLabel);
  const tickFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: total < 600 ? '2-digit' : undefined });
  for (const t of ticks(0, total, Math.max(2, Math.floor((width - left) / 90)))) {
    if (t > total) continue;
    nodes.push(svg('line', { x1: x(t), x2: x(t), y1: height - bottom, y2: height - bottom + 4, class: 'axis' }));
    const edge = Number(x(t)) > width - right - 28 ? 'end' : 'middle';
    const label = svg('text', { x: x(t), y: height - 6, class: 'tick', 'text-anchor': edge });
    label.textContent = tickFormat.format(new Date(start + t * 1000));
    nodes.push(label);
  }
  nodes.push(svg('line', { x1: left, x2: left, y1: top, y2: height - bottom, class: 'axis' }));
  lines.forEach((line, i) => {
    nodes.push(svg('polyline', {
      points: series.map((row) => `${x(row[0])},${y(row[line.column])}`).join(' '),
      class: `series series-${i}`,
    }));
    if (lines.length > 1) {
      const lx = left + 8 + i * 110;
      nodes.push(svg('line', { x1: lx, x2: lx + 18, y1: 9, y2: 9, class: `series series-${i}` }));
      const label = svg('text', { x: lx + 22, y: 13, class: 'tick legend' });
      label.textContent = line.name;
      nodes.push(label);
    }
  });
  const cursor = svg('line', { x1: left, x2: left, y1: top, y2: height - bottom, class: 'cursor' });
  chart.replaceChildren(...nodes, cursor);
  return (t) => {
    cursor.setAttribute('x1', x(t));
    cursor.setAttribute('x2', x(t));
    const row = at(series, t);
    if (row) readout.textContent = format(row);
  };
}

document.addEventListener('DOMContentLoaded', () => {
  const data = JSON.parse(document.getElementById('player-data').textContent);
  const video = document.getElementById('video');
  const cursor = document.getElementById('timeline-cursor');
  const start = Date.parse(data.start);
  const markers = Array.from(document.querySelectorAll('.marker'));
  for (const marker of markers) {
    marker.dataset.t = String(Math.max(0, (Date.parse(marker.dataset.at) - start) / 1000));
  }
  let total = Math.max(1, (Date.parse(data.end) - start) / 1000) || 1;
  const followers = [];
  // A ride's video is its recordings end to end: the timeline is the wall clock, so a
  // gap between recordings is skipped by the video and jumped over by the cursor.
  // Spans: [video seconds, wall seconds from the start, video length, wall length].
  let spans = null;
  const wallOf = (t) => {
    const span = spans && spans.find((s, i) => t < s[0] + s[2] || i === spans.length - 1);
    return span ? span[1] + (t - span[0]) * (span[3] / span[2]) : t;
  };
  const videoOf = (w) => {
    const span = spans && spans.find((s, i) => w < s[1] + s[3] || i === spans.length - 1);
    return span ? span[0] + Math.max(0, w - span[1]) * (span[2] / span[3]) : w;
  };

  function place() {
    for (const marker of markers) {
      marker.style.left = `${Math.min(100, (Number(marker.dataset.t) / total) * 100)}%`;
    }
  }
  function follow() {
    const t = wallOf(video.currentTime);
    cursor.style.width = `${Math.min(100, (t / total) * 100)}%`;
    for (const f of followers) f(t);
  }
  place();
  video.addEventListener('loadedmetadata', () => {
    if (!spans && Number.isFinite(video.duration) && video.duration > 0) total = video.duration;
    place();
    follow();
  });
  video.addEventListener('timeupdate', follow);
  video.addEventListener('seeked', follow);
  for (const marker of markers) {
    marker.addEventListener('click', () => {
      // A second before the incident, to see it coming.
      video.currentTime = videoOf(Math.max(0, Number(marker.dataset.t) - 1));
    });
  }
  const ride = data.mode === 'ride' && video.getAttribute('src').match(/^(\/api\/v1\/drives\/[^/]+)\/video/);
  if (ride) {
    fetch(ride[1]).then((r) => (r.ok ? r.json() : null)).then((drive) => {
      const road = ((drive && drive.recordings) || []).filter((r) => r.view === 'road' && r.duration_ms > 0);
      const full = road.filter((r) => r.kind === 'recording');
      let at = 0;
      const made = (full.length ? full : road).map((r) => {
        const span = [at, (Date.parse(r.start) - start) / 1000, r.duration_ms / 1000,
          (Date.parse(r.end) - Date.parse(r.start)) / 1000];
        at += span[2];
        return span;
      });
      if (made.length) {
        spans = made;
        total = Math.max(1, (Date.parse(data.end) - start) / 1000);
        place();
        follow();
      }
    }).catch(() => {});
  }

  const note = document.getElementById('route-note');
  if (!data.telemetry) {
    // An item without telemetry to show.
    document.querySelector('.panels').hidden = true;
    document.body.dataset.telemetry = 'none';
    return;
  }
  const telemetry = data.telemetry;
  followers.push(drawRoute(telemetry.route || [], data.tiles, note, data.mode === 'shared'));
  const kmh = (telemetry.speed || []).map((row) => [row[0], row[1] * 3.6]);
  followers.push(drawChart(document.getElementById('speed-chart'), kmh, [{ column: 1, name: 'speed' }],
    total, start, 'km/h', document.getElementById('speed-now'), (row) => `${row[1].toFixed(0)} km/h`));
  followers.push(drawChart(document.getElementById('g-chart'), telemetry.g || [],
    [{ column: 1, name: 'x (camera)' }, { column: 2, name: 'y (camera)' }], total, start, 'g',
    document.getElementById('g-now'), (row) => `${Math.hypot(row[1], row[2]).toFixed(2)} g`));
  follow();
  document.body.dataset.telemetry = 'ready';
});
