// GOV.UK Frontend's body classes: styles for JavaScript-enhanced components apply only when it runs.
// Loaded as a file rather than inline, so the Content-Security-Policy need not allow inline script.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
