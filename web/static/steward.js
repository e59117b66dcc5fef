// steward.js: the cookie banner and the visitor's cookie choice, for Steward's own pages and for the
// site's other pages, which add it with one tag:
//
//   <script src="https://www.example.gov.uk/steward.js" defer></script>
//
// On a page Steward did not render, it asks Steward for the banner (GET /cookies/banner) and puts
// it first in <body>. Either way it submits the banner without a reload (POST /api/consent), hides
// the question and moves focus to the confirmation, as the GOV.UK pattern asks. Without JavaScript
// the banner is a plain form and works the same, with a reload.
//
// The choice, for other scripts (the analytics tracker):
//   Steward.consent()            a Promise of the state: {allowed: {usage: true}, choice_made, ...}
//   Steward.allowed('usage')     a Promise of true or false
//   document 'steward:consent'   an event fired after every choice, with the state as `detail`
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = new URL(script ? script.src : '/', window.location.href).origin;
  var ownPage = document.body && document.body.hasAttribute('data-steward-page');
  var state = null;

  function api(method, body) {
    var options = { method: method, credentials: 'include', headers: {} };
    if (body) {
      // text/plain keeps the request simple (no preflight); Steward reads the body as JSON.
      options.headers['Content-Type'] = 'text/plain;charset=UTF-8';
      options.body = JSON.stringify(body);
    }
    return fetch(origin + '/api/consent', options).then(function (res) {
      if (!res.ok) throw new Error('Steward answered ' + res.status);
      return res.json();
    });
  }

  function consent() {
    if (!state) {
      state = api('GET').catch(function () {
        state = null;
        return { allowed: {}, choice_made: false, show_banner: false };
      });
    }
    return state;
  }

  function announce(s) {
    state = Promise.resolve(s);
    document.dispatchEvent(new CustomEvent('steward:consent', { detail: s }));
  }

  function clearMessageCookie() {
    if (origin === window.location.origin) document.cookie = 'steward_cookie_message=; Max-Age=0; Path=/';
  }

  // Makes a banner form submit through the API. Falls back to the plain form when that fails.
  function enhance(form) {
    form.addEventListener('submit', function (event) {
      var button = event.submitter;
      if (!button) return;
      if (button.name === 'cookies[hide]') {
        event.preventDefault();
        form.hidden = true;
        clearMessageCookie();
        return;
      }
      if (button.name !== 'cookies[additional]') return;
      event.preventDefault();
      var value = button.value;
      api('POST', { additional: value, method: ownPage ? 'banner' : 'script' }).then(function (s) {
        var question = form.querySelector('[data-steward-question]');
        if (question) question.hidden = true;
        var shown = form.querySelector('[data-steward-confirmation="' + (value === 'yes' ? 'accepted' : 'rejected') + '"]');
        if (shown) {
          shown.hidden = false;
          shown.setAttribute('role', 'alert');
          shown.setAttribute('tabindex', '-1');
          shown.focus();
        }
        announce(s);
      }).catch(function () {
        // The API is not reachable: let the browser post the form itself.
        var field = document.createElement('input');
        field.type = 'hidden';
        field.name = button.name;
        field.value = value;
        form.appendChild(field);
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  function start() {
    var existing = document.querySelector('[data-steward-cookie-banner]');
    if (existing) {
      enhance(existing);
      return;
    }
    if (ownPage) return;
    var url = origin + '/cookies/banner?return=' + encodeURIComponent(window.location.href);
    fetch(url, { credentials: 'include' }).then(function (res) {
      return res.ok ? res.text() : '';
    }).then(function (html) {
      if (!html.trim()) return;
      var holder = document.createElement('div');
      holder.innerHTML = html;
      var form = holder.querySelector('[data-steward-cookie-banner]');
      if (!form) return;
      document.body.insertBefore(form, document.body.firstChild);
      enhance(form);
    }).catch(function () { /* no banner rather than a broken page */ });
  }

  window.Steward = window.Steward || {};
  window.Steward.consent = consent;
  window.Steward.allowed = function (category) {
    return consent().then(function (s) { return !!(s.allowed && s.allowed[category]); });
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
