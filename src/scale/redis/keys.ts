// The keys of receivers joined through Redis (docs/scale-out.md), all under the hash
// tag {dm} (one slot, so the scripts run on a Redis Cluster too):
//
//   {dm}:s          a stream: one entry per payload (o = origin, n = its number in the
//                   stream, p = payload), kept for the quantile window and a margin,
//                   and at most STREAM_BYTES of payloads: how a receiver gets every
//                   other receiver's lines, and rebuilds its quantile window after a
//                   restart. {dm}:s:n numbers the entries, {dm}:s:z lists each entry's
//                   id and size, oldest first, {dm}:s:b their sum: the script trims by
//                   bytes and time from these, never reading a payload back
//   {dm}:a:APP      a hash per app of every total (HINCRBYFLOAT; samples keep the
//                   newest by time): what a restarted receiver starts from. It
//                   expires whole after DRAINMETER_SERIES_TTL without a line, as the
//                   app's series would
//   {dm}:d:APP      the app's metric definitions: name → kind, the second it was last
//                   used, labels and help. The first claim of a name wins: Redis is
//                   the arbiter of kinds between receivers (scale/kinds.ts). A definition
//                   unused for DRAINMETER_SERIES_TTL is gone, as the name's series
//                   are in every receiver; the hash expires with {dm}:a:APP
//   {dm}:apps       the apps with a hash
//   {dm}:r          request counts;        {dm}:q  each origin's last payload number
//   {dm}:f, {dm}:fc the Frame-Ids accepted in the last 10 minutes, bounded per app and
//                   in total (frame-ids.ts)

export const P = '{dm}';
export const STREAM = `${P}:s`;
export const SEQS = `${P}:q`;
export const REQUESTS = `${P}:r`;
export const APPS = `${P}:apps`;
export const appKey = (app: string) => `${P}:a:${app}`;
export const defsKey = (app: string) => `${P}:d:${app}`;
