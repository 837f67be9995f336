/* global window, document, URLSearchParams */
(function () {
  'use strict';
  if (new URLSearchParams(window.location.search).get('signin') === 'failed') {
    document.getElementById('signin-error').hidden = false;
  }
  document.getElementById('token').focus();
})();
