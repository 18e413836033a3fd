// Sign-in: the phone number, then the six-digit code; the session cookie comes with the
// verify answer, then the page asked for (data-next, a path on this site) or MY RIDES
// opens. Once a code was sent, its form stays: "Use another number" shows the number
// form again beside it, so a code already received can still be entered.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const phoneForm = document.getElementById('phone-form');
  const codeForm = document.getElementById('code-form');
  const phone = document.getElementById('phone');
  const code = document.getElementById('code');
  const status = document.getElementById('signin-status');
  const sentTo = document.getElementById('sent-to');
  const otherNumber = document.getElementById('other-number');
  const next = document.getElementById('signin').dataset.next;
  // The server checked `next`; a path on this site only, again, in case it did not.
  const target = /^\/(?!\/)[!-[\]-~]*$/.test(next || '') ? next : '/rides';
  // The number the last code was sent to (the code form checks the code against it).
  let codePhone = null;

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.ok) return null;
    const problem = await response.json().catch(() => ({}));
    const message = problem.error && problem.error.message;
    // The server's words, as a sentence ("Too many codes …; try again in 55 minutes.").
    if (message) return `${message[0].toUpperCase()}${message.slice(1)}.`;
    return `The server answered ${response.status}.`;
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
    codePhone = phone.value.trim();
    sentTo.textContent = codePhone;
    phoneForm.hidden = true;
    codeForm.hidden = false;
    otherNumber.hidden = false;
    code.value = '';
    code.focus();
  });

  codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = 'Checking…';
    const error = await post('/api/v1/auth/verify', { phone: codePhone, code: code.value.trim() });
    if (error) {
      status.textContent = error;
      code.select();
      return;
    }
    window.location.assign(target);
  });

  otherNumber.addEventListener('click', () => {
    phoneForm.hidden = false;
    otherNumber.hidden = true;
    status.textContent = '';
    phone.focus();
  });
});
