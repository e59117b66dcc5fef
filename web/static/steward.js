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
// The choice, for other scripts:
//   Steward.consent()            a Promise of the state: {allowed: {usage: true}, choice_made, ...}
//   Steward.allowed('usage')     a Promise of true or false
//   document 'steward:consent'   an event fired after every choice, with the state as `detail`
//
// Third-party scripts under the same choice: a script tag marked with a cookie category does not
// run until that category is allowed (several categories, space-separated, must all be):
//   <script type="text/plain" data-steward-category="usage" src="https://analytics.example/a.js"></script>
//   <script type="text/plain" data-steward-category="usage">window.dataLayer = [];</script>
// steward.js then runs it once, as a new script with the same attributes and content. When a
// category is not allowed (a rejection, a withdrawal, GPC) it deletes the category's cookies that
// the register declares, from this page's host and its parent domains, on every page it runs.
//
// First-party analytics, only when the visitor's choice and the site's register allow it
// (`analytics_allowed` from /api/consent; Steward checks every event again): pageviews, including
// single-page-app navigation; engagement (visible time and scroll depth) when the page is hidden;
// outbound links and file downloads; custom events and poll answers:
//   steward('event', 'Poll answer', {props: {poll: 'trust', answer: 'yes'}});
// The script tag may say data-domain="www.example.gov.uk" (default: this page's host) and
// data-analytics="off".
//
// "Is this page useful?": on Steward's pages the yes or no goes through POST /api/feedback without
// a reload, and the question becomes a thank-you (with, after a no, a link to report the problem).
// On the site's other pages, an empty element marks where the question goes:
//   <div data-steward-feedback></div>
// Without JavaScript, Steward's own question is a plain form; on other pages a plain HTML form may
// post to Steward's /feedback (docs/feedback.md).
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

  // ---- Third-party scripts and their cookies ------------------------------------------------------
  function categoriesAllowed(s, names) {
    return names.split(/\s+/).filter(Boolean).every(function (c) { return !!(s.allowed && s.allowed[c]); });
  }

  // Runs each marked script whose categories are all allowed, once.
  function runAllowedScripts(s) {
    var marked = document.querySelectorAll('script[type="text/plain"][data-steward-category]');
    Array.prototype.forEach.call(marked, function (old) {
      if (old.hasAttribute('data-steward-ran') || !categoriesAllowed(s, old.getAttribute('data-steward-category'))) return;
      old.setAttribute('data-steward-ran', '');
      var run = document.createElement('script');
      Array.prototype.forEach.call(old.attributes, function (a) {
        if (a.name !== 'type' && a.name !== 'data-steward-category' && a.name !== 'data-steward-ran') {
          run.setAttribute(a.name, a.value);
        }
      });
      if (!old.src) run.text = old.text;
      old.parentNode.insertBefore(run, old.nextSibling);
    });
  }

  // The domains a script on this page may have set a cookie for: the host and each parent domain
  // (".example.gov.uk"), as analytics scripts choose the widest they can.
  function cookieDomains(declared) {
    var host = window.location.hostname;
    var domains = ['', host];
    var parts = host.split('.');
    for (var i = 1; i < parts.length - 1; i++) domains.push('.' + parts.slice(i).join('.'));
    if (declared) domains.push(declared);
    return domains;
  }

  // Deletes the declared cookies of every category not allowed.
  function deleteRefusedCookies(s) {
    var all = s.cookies || {};
    Object.keys(all).forEach(function (category) {
      if (s.allowed && s.allowed[category]) return;
      all[category].forEach(function (c) {
        if (document.cookie.split('; ').every(function (kv) { return kv.split('=')[0] !== c.name; })) return;
        cookieDomains(c.domain).forEach(function (d) {
          ['/', c.path || '/'].forEach(function (path) {
            document.cookie = c.name + '=; Max-Age=0; Path=' + path + (d ? '; Domain=' + d : '');
          });
        });
      });
    });
  }

  function applyChoice(s) {
    deleteRefusedCookies(s);
    runAllowedScripts(s);
  }

  // ---- Analytics ------------------------------------------------------------------------------
  var domain = (script && script.getAttribute('data-domain')) || window.location.hostname;
  var trackingOn = !(script && script.getAttribute('data-analytics') === 'off');
  var queue = (window.steward && window.steward.q) || [];
  var allowed = false;
  var lastPath = null;
  var visibleSince = null;
  var engagedMs = 0;
  var maxScroll = 0;

  function send(name, props, extra) {
    if (!allowed) return;
    var body = { n: name, u: window.location.href, d: domain, r: document.referrer || null };
    if (props) body.p = props;
    for (var k in extra) body[k] = extra[k];
    var data = JSON.stringify(body);
    var url = origin + '/api/event';
    // sendBeacon survives the page being closed, and carries the visitor's cookie choice.
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, new Blob([data], { type: 'text/plain' })))) {
      fetch(url, { method: 'POST', body: data, keepalive: true, credentials: 'include',
                   headers: { 'Content-Type': 'text/plain' } }).catch(function () {});
    }
  }

  function scrollDepth() {
    var el = document.documentElement;
    var height = Math.max(el.scrollHeight, document.body ? document.body.scrollHeight : 0);
    var seen = window.scrollY + window.innerHeight;
    return height > 0 ? Math.min(100, Math.round((seen / height) * 100)) : 100;
  }

  function sendEngagement() {
    if (visibleSince !== null) engagedMs += Date.now() - visibleSince;
    visibleSince = document.visibilityState === 'visible' ? Date.now() : null;
    if (engagedMs >= 1000) send('engagement', null, { sd: Math.max(maxScroll, scrollDepth()), e: engagedMs });
    engagedMs = 0;
  }

  function pageview() {
    if (window.location.pathname === lastPath) return;
    if (lastPath !== null) sendEngagement();
    lastPath = window.location.pathname;
    maxScroll = scrollDepth();
    visibleSince = document.visibilityState === 'visible' ? Date.now() : null;
    // A search page says how many results it found: <meta name="steward:search-results" content="0">.
    var results = document.querySelector('meta[name="steward:search-results"]');
    send('pageview', results ? { search_results: results.getAttribute('content') } : null);
  }

  var fileTypes = /\.(pdf|csv|xlsx?|ods|docx?|odt|pptx?|odp|zip|txt|json|xml|epub)$/i;
  function onClick(event) {
    var link = event.target.closest && event.target.closest('a[href]');
    if (!link) return;
    var url = new URL(link.href, window.location.href);
    if (fileTypes.test(url.pathname)) {
      send('File Download', { url: url.href });
    } else if (url.host !== window.location.host && /^https?:$/.test(url.protocol)) {
      send('Outbound Link: Click', { url: url.href });
    }
  }

  var started = false;
  function startTracking() {
    if (allowed || !trackingOn) return;
    allowed = true;
    if (started) return;
    started = true;
    pageview();
    var push = history.pushState;
    history.pushState = function () { push.apply(this, arguments); pageview(); };
    window.addEventListener('popstate', pageview);
    window.addEventListener('scroll', function () { maxScroll = Math.max(maxScroll, scrollDepth()); }, { passive: true });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') sendEngagement();
      else visibleSince = Date.now();
    });
    document.addEventListener('click', onClick, true);
    queue.forEach(function (args) { window.steward.apply(null, args); });
    queue = [];
  }

  // ---- "Is this page useful?" ----------------------------------------------------------------------

  function element(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text) e.textContent = text;
    return e;
  }

  // The question, for a page Steward did not render: the same markup as Steward's own pages.
  function usefulQuestion(holder) {
    var section = element('section', 'steward-feedback govuk-!-margin-bottom-6');
    section.setAttribute('aria-labelledby', 'steward-feedback-useful-title');
    var form = element('form', 'govuk-!-display-inline-block');
    form.method = 'post';
    form.action = origin + '/feedback';
    form.noValidate = true;
    [['kind', 'useful'], ['page', window.location.pathname]].forEach(function (f) {
      var input = element('input');
      input.type = 'hidden';
      input.name = f[0];
      input.value = f[1];
      form.appendChild(input);
    });
    var title = element('h2', 'govuk-heading-s govuk-!-display-inline-block govuk-!-margin-right-3', 'Is this page useful?');
    title.id = 'steward-feedback-useful-title';
    form.appendChild(title);
    [['yes', 'Yes', ' this page is useful'], ['no', 'No', ' this page is not useful']].forEach(function (b) {
      var button = element('button', 'govuk-button govuk-button--secondary govuk-!-margin-bottom-0 govuk-!-margin-right-1', b[1]);
      button.type = 'submit';
      button.name = 'useful';
      button.value = b[0];
      button.appendChild(element('span', 'govuk-visually-hidden', b[2]));
      form.appendChild(button);
    });
    section.appendChild(form);
    var report = element('p', 'govuk-body govuk-!-margin-top-3 govuk-!-margin-bottom-0');
    var link = element('a', 'govuk-link', 'Report a problem with this page');
    link.href = origin + '/feedback?kind=problem&page=' + encodeURIComponent(window.location.pathname);
    report.appendChild(link);
    section.appendChild(report);
    holder.appendChild(section);
    return section;
  }

  function thank(section, useful, page) {
    while (section.firstChild) section.removeChild(section.firstChild);
    var message = element('p', 'govuk-body govuk-!-margin-bottom-0', 'Thank you for your feedback.');
    message.setAttribute('role', 'status');
    message.setAttribute('tabindex', '-1');
    section.appendChild(message);
    if (!useful) {
      var more = element('p', 'govuk-body govuk-!-margin-top-3 govuk-!-margin-bottom-0');
      var link = element('a', 'govuk-link', 'Tell us what was wrong with this page');
      link.href = origin + '/feedback?kind=problem&page=' + encodeURIComponent(page);
      more.appendChild(link);
      section.appendChild(more);
    }
    message.focus();
  }

  // Sends the answer through the API; falls back to the plain form when that fails.
  function enhanceUseful(section) {
    var form = section.querySelector('form');
    if (!form) return;
    form.addEventListener('submit', function (event) {
      var button = event.submitter;
      if (!button || button.name !== 'useful') return;
      event.preventDefault();
      var page = form.elements.page ? form.elements.page.value : window.location.pathname;
      var useful = button.value === 'yes';
      fetch(origin + '/api/feedback', {
        method: 'POST',
        credentials: 'omit',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ kind: 'useful', page: page, useful: useful }),
      }).then(function (res) {
        // Past the rate limit the answer is not counted, and there is nothing the person can do.
        if (!res.ok && res.status !== 429) throw new Error('Steward answered ' + res.status);
        thank(section, useful, page);
      }).catch(function () {
        var field = element('input');
        field.type = 'hidden';
        field.name = 'useful';
        field.value = button.value;
        form.appendChild(field);
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  function startFeedback() {
    var own = document.querySelector('section.steward-feedback');
    if (own) {
      enhanceUseful(own);
      return;
    }
    var holder = document.querySelector('[data-steward-feedback]');
    if (holder && !ownPage) enhanceUseful(usefulQuestion(holder));
  }

  window.steward = function (command, name, options) {
    if (!allowed) { queue.push([command, name, options]); return; }
    if (command === 'event' && name) send(String(name), options && options.props);
  };

  window.Steward = window.Steward || {};
  window.Steward.consent = consent;
  window.Steward.allowed = function (category) {
    return consent().then(function (s) { return !!(s.allowed && s.allowed[category]); });
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
    document.addEventListener('DOMContentLoaded', startFeedback);
  } else {
    start();
    startFeedback();
  }
  consent().then(function (s) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { applyChoice(s); });
    else applyChoice(s);
  });
  document.addEventListener('steward:consent', function (e) { applyChoice(e.detail); });
  if (trackingOn) {
    consent().then(function (s) { if (s.analytics_allowed) startTracking(); });
    document.addEventListener('steward:consent', function (e) {
      if (e.detail.analytics_allowed) startTracking();
      else allowed = false;  // withdrawn: send nothing more
    });
  }
})();
