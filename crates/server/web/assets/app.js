// Every page: the sign-out button.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const signOut = document.getElementById('sign-out');
  if (!signOut) return;
  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' });
    window.location.assign('/');
  });
});
