/* riskmap-login.js - sign a browser in from a link /login#token=…&next=/path (for wall screens).
 * The token is in the URL fragment, which the browser never sends to a server; it is removed
 * from the address bar at once, posted to /login (which sets the HttpOnly session cookie), and
 * the browser goes on to `next`. Without a fragment the page is the plain form. */
(function () {
  'use strict';
  var hash = window.location.hash.replace(/^#/, '');
  if (!hash) { return; }
  var params = new URLSearchParams(hash), token = params.get('token');
  history.replaceState(null, '', window.location.pathname + window.location.search);
  if (!token) { return; }
  var form = document.getElementById('rm-login-form');
  var next = params.get('next') || (form && form.elements.next.value) || '/map';
  fetch(form ? form.getAttribute('action') : '/login', {
    method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({token: token, next: next})
  }).then(function (response) {
    return response.json().then(function (data) {
      if (!response.ok) { throw new Error(data.description || ('HTTP ' + response.status)); }
      window.location.replace(data.next);
    });
  }).catch(function (error) {
    var p = document.createElement('p');
    p.className = 'rm-error';
    p.textContent = '登录失败 sign-in failed: ' + error.message;
    form.parentNode.insertBefore(p, form);
  });
}());
