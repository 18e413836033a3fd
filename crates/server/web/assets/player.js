// The player: incident markers on the timeline (click to seek), the route from GPS (over
// map tiles when a tile URL is configured), and speed and G-force charts, all following
// the video's current time. Data: the page's #player-data (the item's telemetry as the API
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

// A line chart of series columns over [0, total] seconds, with a cursor; returns the
// function that moves the cursor.
function drawChart(chart, series, columns, total, readout, format) {
  if (!series.length) {
    readout.textContent = '(no data)';
    return () => {};
  }
  const values = series.flatMap((row) => columns.map((c) => row[c]));
  let lo = Math.min(0, ...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-6) hi = lo + 1;
  const x = (t) => ((t / total) * 300).toFixed(1);
  const y = (v) => (100 - ((v - lo) / (hi - lo)) * 96 - 2).toFixed(1);
  const nodes = columns.map((c, i) => svg('polyline', {
    points: series.map((row) => `${x(row[0])},${y(row[c])}`).join(' '),
    class: `series series-${i}`,
  }));
  if (lo < 0) nodes.unshift(svg('line', { x1: 0, x2: 300, y1: y(0), y2: y(0), class: 'axis' }));
  const cursor = svg('line', { x1: 0, x2: 0, y1: 0, y2: 100, class: 'cursor' });
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

  function place() {
    for (const marker of markers) {
      marker.style.left = `${Math.min(100, (Number(marker.dataset.t) / total) * 100)}%`;
    }
  }
  function follow() {
    const t = video.currentTime;
    cursor.style.width = `${Math.min(100, (t / total) * 100)}%`;
    for (const f of followers) f(t);
  }
  place();
  video.addEventListener('loadedmetadata', () => {
    if (Number.isFinite(video.duration) && video.duration > 0) total = video.duration;
    place();
    follow();
  });
  video.addEventListener('timeupdate', follow);
  video.addEventListener('seeked', follow);
  for (const marker of markers) {
    marker.addEventListener('click', () => {
      // A second before the incident, to see it coming.
      video.currentTime = Math.max(0, Number(marker.dataset.t) - 1);
    });
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
  followers.push(drawChart(document.getElementById('speed-chart'), telemetry.speed || [], [1], total,
    document.getElementById('speed-now'), (row) => `${(row[1] * 3.6).toFixed(0)} km/h`));
  followers.push(drawChart(document.getElementById('g-chart'), telemetry.g || [], [1, 2], total,
    document.getElementById('g-now'), (row) => `${Math.hypot(row[1], row[2]).toFixed(2)} g`));
  follow();
  document.body.dataset.telemetry = 'ready';
});
