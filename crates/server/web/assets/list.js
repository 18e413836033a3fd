// MY RIDES and MY INCIDENTS: the filters in the viewer's time zone and behind a button on
// narrow screens, and "Load more" that appends the next page to the cards already shown.
'use strict';

function setUpZone() {
  const zone = viewerZone();
  const field = document.getElementById('tz');
  if (field && !field.value) field.value = zone;
  const name = document.getElementById('zone-name');
  if (name) name.textContent = `(${field ? field.value : zone})`;
}

function setUpToggle() {
  const filters = document.getElementById('filters');
  const toggle = document.getElementById('filters-toggle');
  if (!filters || !toggle) return;
  toggle.addEventListener('click', () => {
    const open = filters.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
}

function setUpLoadMore() {
  const cards = document.getElementById('cards');
  if (!cards) return;
  document.addEventListener('click', async (event) => {
    const link = event.target.closest('#load-more');
    if (!link) return;
    event.preventDefault();
    link.setAttribute('aria-disabled', 'true');
    link.textContent = 'Loading…';
    const response = await fetch(link.href, { credentials: 'same-origin' });
    if (!response.ok) {
      link.removeAttribute('aria-disabled');
      link.textContent = 'Load more (failed: try again)';
      return;
    }
    const next = new DOMParser().parseFromString(await response.text(), 'text/html');
    const added = Array.from(next.querySelectorAll('#cards > li')).map((li) => document.importNode(li, true));
    const first = added[0];
    cards.append(...added);
    for (const li of added) localiseTimes(li);
    const more = document.getElementById('more');
    const nextMore = next.getElementById('more');
    if (nextMore) more.replaceWith(document.importNode(nextMore, true));
    else more.remove();
    first?.querySelector('a')?.focus();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  setUpZone();
  setUpToggle();
  setUpLoadMore();
});
