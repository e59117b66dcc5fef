// Starts GOV.UK Frontend's components (skip link, service navigation, and later the cookie banner).
import { initAll } from '/static/govuk/govuk-frontend.min.js';

initAll();
