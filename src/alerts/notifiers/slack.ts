// Slack incoming webhooks: `text` (the notification and fallback) and one mrkdwn
// section block. Slack reads &, < and > as markup, so they are escaped.

import type { Transition } from '../evaluator.js';
import { iso, summary } from './text.js';

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackBody(t: Transition): unknown {
  const icon = t.state === 'firing' ? ':red_circle:' : ':large_green_circle:';
  const text = `${icon} ${escape(summary(t))}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${text}\n_since ${iso(t.since)}_` } },
    ],
  };
}
