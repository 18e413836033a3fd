// Sign-in: the phone number, then the six-digit code; the session cookie comes with the
// verify answer, then MY RIDES opens.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const phoneForm = document.getElementById('phone-form');
  const codeForm = document.getElementById('code-form');
  const phone = document.getElementById('phone');
  const code = document.getElementById('code');
  const status = document.getElementById('signin-status');
  const sentTo = document.getElementById('sent-to');

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.ok) return null;
    const problem = await response.json().catch(() => ({}));
    return (problem.error && problem.error.message) || `The server answered ${response.status}.`;
  }

  phoneForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = 'Sending a code…';
    const error = await post('/api/v1/auth/code', { phone: phone.value.trim() });
    if (error) {
      status.textContent = error;
      phone.focus();
      return;
    }
    status.textContent = '';
    sentTo.textContent = phone.value.trim();
    phoneForm.hidden = true;
    codeForm.hidden = false;
    code.focus();
  });

  codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = 'Checking…';
    const error = await post('/api/v1/auth/verify', { phone: phone.value.trim(), code: code.value.trim() });
    if (error) {
      status.textContent = error;
      code.select();
      return;
    }
    window.location.assign('/rides');
  });

  document.getElementById('other-number').addEventListener('click', () => {
    codeForm.hidden = true;
    phoneForm.hidden = false;
    status.textContent = '';
    phone.focus();
  });
});
