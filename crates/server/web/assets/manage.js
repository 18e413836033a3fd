// The owner's actions on a player page: delete (with a confirmation dialog), share links
// (create with an expiry and the location choice, copy, list, revoke), and a drive's
// 2-minute segments to download, or a restore request for an archived one.
'use strict';

async function problem(response) {
  const body = await response.json().catch(() => ({}));
  return (body.error && body.error.message) || `The server answered ${response.status}.`;
}

function setUpDelete() {
  const open = document.getElementById('delete-open');
  const dialog = document.getElementById('delete-dialog');
  const confirm = document.getElementById('delete-confirm');
  const status = document.getElementById('delete-status');
  open.addEventListener('click', () => dialog.showModal());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    status.textContent = 'Deleting…';
    const response = await fetch(confirm.dataset.url, { method: 'DELETE', credentials: 'same-origin' });
    if (response.ok) {
      window.location.assign(confirm.dataset.back);
      return;
    }
    status.textContent = await problem(response);
    confirm.disabled = false;
  });
}

function setUpShare() {
  const dialog = document.getElementById('share-dialog');
  if (!dialog) return;
  const url = dialog.dataset.url;
  const form = document.getElementById('share-form');
  const status = document.getElementById('share-status');
  const result = document.getElementById('share-result');
  const link = document.getElementById('share-url');
  const list = document.getElementById('share-list');

  async function refresh() {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    const { items } = await response.json();
    list.replaceChildren(...items.map((share) => {
      const li = document.createElement('li');
      const parts = [share.revoked ? 'Revoked'
        : share.expires_at ? `Works until ${localTime(new Date(share.expires_at))}` : 'Works until revoked'];
      if (share.include_location) parts.push('with location');
      if (share.allow_download) parts.push('downloadable');
      const text = document.createElement('span');
      text.textContent = `${parts.join(', ')} (made ${localTime(new Date(share.created_at))})`;
      li.append(text);
      if (!share.revoked) {
        const revoke = document.createElement('button');
        revoke.type = 'button';
        revoke.className = 'link revoke';
        revoke.textContent = 'Revoke';
        revoke.addEventListener('click', async () => {
          const answer = await fetch(`/api/v1/shares/${share.id}`, { method: 'DELETE', credentials: 'same-origin' });
          status.textContent = answer.ok ? 'The link is revoked.' : await problem(answer);
          await refresh();
        });
        li.append(' ', revoke);
      }
      return li;
    }));
    if (!items.length) list.textContent = 'No links yet.';
  }

  document.getElementById('share-open').addEventListener('click', () => {
    dialog.showModal();
    refresh();
  });
  document.getElementById('share-close').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      include_location: document.getElementById('share-location').checked,
      allow_download: document.getElementById('share-download').checked,
    };
    const expiry = document.getElementById('share-expiry').value;
    if (expiry) body.expires_in = Number(expiry);
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    const share = await response.json();
    link.value = new URL(share.url, window.location.origin).href;
    result.hidden = false;
    link.focus();
    link.select();
    status.textContent = 'The link is ready.';
    await refresh();
  });
  document.getElementById('share-copy').addEventListener('click', async () => {
    if (!link.value) {
      status.textContent = 'Create a link first.';
      return;
    }
    try {
      await navigator.clipboard.writeText(link.value);
      status.textContent = 'Copied.';
    } catch {
      link.select();
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected link.';
    }
  });
}

async function listSegments() {
  const section = document.getElementById('segments');
  if (!section) return;
  const status = document.getElementById('segments-status');
  const response = await fetch(section.dataset.url, { credentials: 'same-origin' });
  if (!response.ok) {
    status.textContent = await problem(response);
    return;
  }
  const { items } = await response.json();
  const time = (t) => localTime(new Date(t), 'clock');
  document.getElementById('segment-list').replaceChildren(...items.map((segment) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = segment.url;
    a.className = 'segment';
    a.setAttribute('download', '');
    a.textContent = `${time(segment.start)}–${time(segment.end)}`;
    a.title = 'Saved under its start time in UTC';
    li.append(a);
    return li;
  }));
  status.textContent = items.length ? '' : 'No segments: nothing of this ride is stored.';
}

function setUpRestore() {
  const button = document.getElementById('restore-request');
  if (!button) return;
  const status = document.getElementById('restore-status');
  button.addEventListener('click', async () => {
    button.disabled = true;
    const response = await fetch(button.dataset.url, { method: 'POST', credentials: 'same-origin' });
    if (response.ok) {
      status.textContent = (await response.json()).message;
      return;
    }
    status.textContent = await problem(response);
    button.disabled = false;
  });
}

document.addEventListener('DOMContentLoaded', () => {
  setUpDelete();
  setUpRestore();
  setUpShare();
  listSegments();
});
