/* global window, document, fetch */
/* Local web chat: Microsoft's Web Chat (served from node_modules by this server) talking to the
 * server's own Direct Line 3.0 subset over its WebSocket stream (Web Chat's default transport;
 * activities arrive as they are sent). No inline script (the page's CSP forbids it). */
(function () {
  'use strict';
  var statusEl = document.getElementById('status');
  var form = document.getElementById('token-form');
  var input = document.getElementById('token-input');
  var errorEl = document.getElementById('token-error');

  function setStatus(text) {
    statusEl.textContent = text;
  }

  // A stable, random user id for this browser, so the bot's user state survives a reload.
  function userId() {
    var key = 'rpa-webchat-user';
    var id = null;
    try {
      id = window.localStorage.getItem(key);
    } catch {
      /* storage disabled */
    }
    if (!id || !/^[A-Za-z0-9._@-]{1,64}$/.test(id)) {
      var bytes = new Uint8Array(8);
      window.crypto.getRandomValues(bytes);
      id = 'u-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
      try {
        window.localStorage.setItem(key, id);
      } catch {
        /* storage disabled */
      }
    }
    return id;
  }

  function generate(secret, user) {
    var headers = { 'content-type': 'application/json' };
    if (secret) headers.authorization = 'Bearer ' + secret;
    return fetch('/v3/directline/tokens/generate', {
      method: 'POST',
      headers: headers,
      body: JSON.stringify({ user: { id: user, name: 'You' } })
    });
  }

  function render(token, user) {
    form.hidden = true;
    setStatus('');
    var directLine = window.WebChat.createDirectLine({
      domain: window.location.origin + '/v3/directline',
      token: token
    });
    window.WebChat.renderWebChat(
      {
        directLine: directLine,
        userID: 'webchat:' + user,
        username: 'You',
        locale: 'en-US',
        // The bot writes one item per line (as Teams shows it); in Markdown a lone newline is a space.
        renderMarkdown: function (markdown, newLineOptions, linkOptions) {
          return window.WebChat.renderMarkdown(String(markdown).replace(/\r?\n/g, '  \n'), newLineOptions, linkOptions);
        },
        styleOptions: {
          botAvatarInitials: 'RPA',
          userAvatarInitials: 'You',
          hideUploadButton: false,
          bubbleBorderRadius: 6,
          bubbleFromUserBorderRadius: 6
        }
      },
      document.getElementById('webchat')
    );
  }

  async function start(secret) {
    var user = userId();
    var res = await generate(secret, user);
    if (res.status === 401 || res.status === 403) {
      form.hidden = false;
      setStatus('');
      errorEl.textContent = secret ? 'That token was not accepted.' : '';
      input.focus();
      return;
    }
    if (!res.ok) {
      setStatus('Could not start a conversation (HTTP ' + res.status + ').');
      return;
    }
    var body = await res.json();
    if (secret) {
      try {
        window.sessionStorage.setItem('rpa-webchat-token', secret);
      } catch {
        /* storage disabled */
      }
    }
    render(body.token, user);
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    start(input.value.trim()).catch(function (err) {
      errorEl.textContent = 'Could not reach the server: ' + err.message;
    });
  });

  if (!window.WebChat) {
    setStatus('The Web Chat bundle did not load.');
    return;
  }
  setStatus('Connecting…');
  var saved = null;
  try {
    saved = window.sessionStorage.getItem('rpa-webchat-token');
  } catch {
    /* storage disabled */
  }
  start(saved).catch(function (err) {
    setStatus('Could not reach the server: ' + err.message);
  });
})();
