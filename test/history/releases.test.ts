// Release and deploy lines, as Heroku's `api` process writes them
// (devcenter.heroku.com/articles/releases: "Deploy de63889", "Release v52"), reach the
// history's release sink with their time; other `api` lines, and the same words from
// an app's own process, do not; control characters are escaped; the ring answers them.

import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregate/index.js';
import { Budget, HISTORY } from '../../src/model/index.js';
import { History } from '../../src/outlets/history/index.js';
import { feedLines, newRun } from '../helpers.js';

describe('release lines', () => {
  it('reach the release sink from app[api] and heroku[api], nothing else', () => {
    const run = newRun();
    const seen: [string, number, string][] = [];
    run.ingest.releases = { release: (app, time, text) => seen.push([app, time, text]) };
    feedLines(
      run,
      [
        '2026-11-22T10:00:01.000000+00:00 app[api]: Release v42 created by user@example.com',
        '2026-11-22T10:00:02+00:00 app[api]: Deploy 1a2b3c4 by user@example.com',
        '<45>1 2026-11-22T10:00:03+00:00 host heroku api - Release v43 created by ci@example.com',
        '2026-11-22T10:00:04+00:00 app[api]: Scale to web=2 by user@example.com',
        '2026-11-22T10:00:05+00:00 app[web.1]: Release v44 created by a log line of the app itself',
        '2026-11-22T10:00:06+00:00 app[api]: Release v45 created by bell\u0007@example.com',
      ],
      'shop',
    );
    expect(seen).toEqual([
      ['shop', Date.UTC(2026, 10, 22, 10, 0, 1), 'Release v42 created by user@example.com'],
      ['shop', Date.UTC(2026, 10, 22, 10, 0, 2), 'Deploy 1a2b3c4 by user@example.com'],
      ['shop', Date.UTC(2026, 10, 22, 10, 0, 3), 'Release v43 created by ci@example.com'],
      ['shop', Date.UTC(2026, 10, 22, 10, 0, 6), 'Release v45 created by bell\\x07@example.com'],
    ]);
  });

  it('are answered by the ring with the points of their range', async () => {
    const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
    const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 100, maxSeriesPerApp: 100, seriesTtl: 30 }, T0);
    const history = new History(agg, new Budget(HISTORY, 1 << 20, 1 << 20));
    agg.advance(T0 + 1000);
    history.release('shop', T0 + 5000, 'Release v42 created by user@example.com');
    history.release('shop', T0 + 5000, 'Release v42 created by user@example.com');
    history.release('blog', T0 + 6000, 'Deploy 1a2b3c4 by user@example.com');
    const shop = JSON.parse(await history.read({ scope: 'shop', from: T0 / 1000 })) as { releases: unknown[] };
    expect(shop.releases).toEqual([{ app: 'shop', t: T0 / 1000 + 5, text: 'Release v42 created by user@example.com' }]);
    const later = JSON.parse(await history.read({ scope: 'shop', from: T0 / 1000 + 6 })) as { releases: unknown[] };
    expect(later.releases).toEqual([]);
  });
});
