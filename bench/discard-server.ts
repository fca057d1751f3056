// The HTTP baseline: a raw node:http server that reads each request body, discards
// it, and answers 204. What drainmeter's ingest is measured against.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.statusCode = 204;
    res.end();
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address();
  console.log(`at=info msg=listening port=${typeof a === 'object' && a ? a.port : 0}`);
});
