// Every route, mounted in this order. A new route is one file and one line here.

import { alertsRoute } from './alerts.js';
import { dashboardRoute } from './dashboard.js';
import { healthzRoute } from './healthz.js';
import { logsRoute } from './logs.js';
import { metricsRoute } from './metrics.js';
import { otlpLogsRoute } from './otlp-logs.js';

export const ROUTES = [logsRoute, otlpLogsRoute, metricsRoute, healthzRoute, alertsRoute, dashboardRoute];
