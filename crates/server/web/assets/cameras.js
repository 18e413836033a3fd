// The Cameras page: add a camera (then show its agent command once, to copy or scan),
// rename it or set its clock's time zone, give it a new token, remove it. Every change is
// a call to the devices API.
'use strict';

async function problem(response) {
  const body = await response.json().catch(() => ({}));
  return (body.error && body.error.message) || `The server answered ${response.status}.`;
}

async function api(method, url, body) {
  const init = { method, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  return fetch(url, init);
}

// A word for a POSIX shell: kept as it is when plain, else single-quoted.
function shellWord(text) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

// The command that runs the agent for a device.
function agentCommand(token, device, camera) {
  const words = ['dashvault', 'agent', 'run',
    '--server', window.location.origin,
    '--token', token,
    '--camera', shellWord(camera),
    '--model', shellWord(device.model)];
  if (!device.uploads_drives) words.push('--no-drive-uploads');
  return words.join(' ');
}

async function showToken(token, device, camera) {
  const panel = document.getElementById('token-panel');
  const command = document.getElementById('agent-command');
  document.getElementById('token-camera').textContent = device.name;
  command.value = agentCommand(token, device, camera);
  panel.hidden = false;
  panel.scrollIntoView({ block: 'start' });
  command.focus();
  command.select();
  const figure = document.getElementById('qr');
  figure.querySelector('img')?.remove();
  const answer = await fetch('/cameras/qr', { method: 'POST', credentials: 'same-origin', body: command.value });
  if (answer.ok) {
    const img = document.createElement('img');
    img.alt = 'QR code of the command';
    img.width = 240;
    img.height = 240;
    img.src = `data:image/svg+xml;base64,${btoa(await answer.text())}`;
    figure.prepend(img);
  }
}

function setUpCopy() {
  const command = document.getElementById('agent-command');
  const status = document.getElementById('copy-status');
  document.getElementById('copy-command').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(command.value);
      status.textContent = 'Copied. Paste it into a terminal next to the camera.';
    } catch {
      command.focus();
      command.select();
      status.textContent = 'Press Ctrl+C (⌘C) to copy the selected command.';
    }
  });
}

function setUpAdd() {
  const form = document.getElementById('add-form');
  const model = document.getElementById('add-model');
  const other = document.getElementById('other-model');
  const status = document.getElementById('add-status');
  function applyModel() {
    const option = model.selectedOptions[0];
    document.getElementById('add-cabin').checked = option.dataset.cabin === 'true';
    document.getElementById('add-drives').checked = option.dataset.drives === 'true';
    document.getElementById('add-camera').value = option.dataset.camera;
    other.hidden = option.value !== '';
  }
  model.addEventListener('change', applyModel);
  applyModel();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = model.value || document.getElementById('add-other').value.trim();
    const body = {
      model: chosen,
      serial: document.getElementById('add-serial').value.trim(),
      has_cabin_camera: document.getElementById('add-cabin').checked,
      uploads_drives: document.getElementById('add-drives').checked,
    };
    const name = document.getElementById('add-name').value.trim();
    if (name) body.name = name;
    if (!body.model || !body.serial) {
      status.textContent = 'Give the model and the serial number.';
      return;
    }
    status.textContent = 'Adding…';
    const response = await api('POST', '/api/v1/devices', body);
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    const { token, device } = await response.json();
    status.textContent = `${device.name} is added.`;
    form.hidden = true;
    await showToken(token, device, document.getElementById('add-camera').value.trim());
  });
}

function setUpCamera(item) {
  const url = `/api/v1/devices/${item.dataset.id}`;
  const form = item.querySelector('.camera-form');
  const status = item.querySelector('.status');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const response = await api('PATCH', url, {
      name: form.elements.name.value,
      timezone: form.elements.timezone.value.trim(),
    });
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    const device = await response.json();
    item.querySelector('.camera-name').textContent = device.name;
    item.querySelector('.zone').textContent = device.timezone || 'not set (GPS time, else UTC)';
    status.textContent = 'Saved.';
  });
  item.querySelector('.rotate').addEventListener('click', async () => {
    if (!window.confirm('Give this camera a new token? Its agent stops uploading until it runs with the new one.')) return;
    const response = await api('POST', `${url}/token`);
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    const { token, device } = await response.json();
    status.textContent = 'New token made; the old one no longer works.';
    await showToken(token, device, 'CAMERA');
  });
  item.querySelector('.remove').addEventListener('click', async () => {
    if (!window.confirm('Remove this camera? Its token stops working, and the rides and clips it uploaded are deleted from the cloud for good.')) return;
    const response = await api('DELETE', url);
    if (!response.ok) {
      status.textContent = await problem(response);
      return;
    }
    item.remove();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  setUpAdd();
  setUpCopy();
  document.querySelectorAll('.camera').forEach(setUpCamera);
});
