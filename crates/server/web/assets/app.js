// Every page: the sign-out button, and times in the viewer's own zone. Pages render
// instants in UTC inside <time datetime="…" data-style="…">; this rewrites each one with
// the browser's zone, named (e.g. "Fri 20 Nov 2026, 09:15 CET"), keeping UTC in its title.
'use strict';

const TIME_STYLES = {
  datetime: { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' },
  clock: { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' },
  date: { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' },
  short: { hour: '2-digit', minute: '2-digit' },
};

// `date` in the viewer's zone, in one of TIME_STYLES; other scripts use it too.
function localTime(date, style = 'datetime') {
  return new Intl.DateTimeFormat(undefined, TIME_STYLES[style] || TIME_STYLES.datetime).format(date);
}

// The viewer's zone, as the browser names it (IANA, e.g. "Europe/Berlin").
function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function localiseTimes(root = document) {
  for (const node of root.querySelectorAll('time[datetime][data-style]')) {
    const date = new Date(node.dateTime);
    if (Number.isNaN(date.getTime())) continue;
    node.textContent = localTime(date, node.dataset.style);
    node.title = `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  localiseTimes();
  const signOut = document.getElementById('sign-out');
  if (!signOut) return;
  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' });
    window.location.assign('/');
  });
});
