// The GraphQL client contract test of cmd/ocrinvoice (TestGraphQLClientsContract) runs this
// script against a running server with the pinned npm clients:
//
//	node tools/npm/graphql-clients.mjs http://127.0.0.1:PORT/graphql JOB_ID
//
// It follows the job's progress with graphql-ws (WebSocket) and graphql-sse (distinct
// connections mode) at once, prints "subscribed" once every stream has its first event
// (the test then lets the job run), and when the streams have ended reads the job and a
// malformed id with graphql-request, and the job again with urql. It prints one JSON object per line: {"subscribed": true}
// and then {"ws": [...], "sse": [...], "request": {...}, "requestError": {...}}. Any client
// error exits 1 with the error on stderr.
//
// --single-connection also follows the job with graphql-sse's single connection mode
// ("sseSingle" in the result); --batch also sends two queries in one request with
// graphql-request's batchRequests ("batch" in the result).
import { GraphQLClient, ClientError } from 'graphql-request';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [url, jobId] = args.filter((a) => !a.startsWith('--'));
const known = new Set(['--batch', '--single-connection']);
if (!url || !jobId || [...flags].some((f) => !known.has(f))) {
  console.error('usage: node graphql-clients.mjs [--batch] [--single-connection] GRAPHQL_URL JOB_ID');
  process.exit(2);
}

const progressSub = `subscription($id: ID!) {
  ocrInvoiceJobProgress(id: $id) { jobId status progress { percentage currentStep } at }
}`;
const terminal = new Set(['completed', 'failed', 'cancelled']);

// follow subscribes with client (graphql-ws and graphql-sse share the sink interface) and
// resolves with every event's data once the server completes the stream.
function follow(name, client, onFirst) {
  return new Promise((resolve, reject) => {
    const events = [];
    client.subscribe(
      { query: progressSub, variables: { id: jobId } },
      {
        next(result) {
          if (result.errors) {
            reject(new Error(`${name}: errors in stream: ${JSON.stringify(result.errors)}`));
            return;
          }
          events.push(result.data.ocrInvoiceJobProgress);
          if (events.length === 1) onFirst();
        },
        error(err) {
          reject(new Error(`${name}: ${err instanceof Error ? err.message : JSON.stringify(err)}`));
        },
        complete() {
          resolve(events);
        },
      },
    );
  });
}

const wsURL = url.replace(/^http/, 'ws');
const ws = createWSClient({ url: wsURL, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
const sse = createSSEClient({ url, retryAttempts: 0 });

const single = flags.has('--single-connection') ? createSSEClient({ url, singleConnection: true, retryAttempts: 0 }) : null;
const streams = single ? 3 : 2;

let firsts = 0;
const onFirst = () => {
  firsts++;
  if (firsts === streams) console.log(JSON.stringify({ subscribed: true }));
};

const timeout = setTimeout(() => {
  console.error('the streams did not end within 120s');
  process.exit(1);
}, 120_000);

try {
  const follows = [follow('graphql-ws', ws, onFirst), follow('graphql-sse', sse, onFirst)];
  if (single) follows.push(follow('graphql-sse single connection', single, onFirst));
  const [wsEvents, sseEvents, singleEvents] = await Promise.all(follows);
  clearTimeout(timeout);
  const ended = [['graphql-ws', wsEvents], ['graphql-sse', sseEvents]];
  if (single) ended.push(['graphql-sse single connection', singleEvents]);
  for (const [name, evs] of ended) {
    if (evs.length === 0 || !terminal.has(evs[evs.length - 1].status)) {
      throw new Error(`${name}: the stream ended without a terminal event: ${JSON.stringify(evs)}`);
    }
  }

  const client = new GraphQLClient(url);
  const job = await client.request(
    `query($id: ID!) { node(id: $id) { id ... on OcrInvoiceJob { jobNumber status } } }`,
    { id: jobId },
  );
  let requestError = null;
  try {
    await client.request(`query($id: ID!) { node(id: $id) { id } }`, { id: 'not-an-id' });
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    requestError = { status: err.response.status, errors: err.response.errors };
  }
  // urql (as React, Vue and Svelte apps use it): the same read, with its own fetch exchange.
  const urql = new UrqlClient({ url, exchanges: [fetchExchange] });
  const read = await urql
    .query(`query($id: ID!) { node(id: $id) { id ... on OcrInvoiceJob { jobNumber status } } }`, { id: jobId })
    .toPromise();
  if (read.error) throw new Error(`urql: ${read.error.message}`);
  const result = { ws: wsEvents, sse: sseEvents, request: job, requestError, urql: read.data };
  if (single) result.sseSingle = singleEvents;
  if (flags.has('--batch')) {
    result.batch = await client.batchRequests([
      { document: `query($id: ID!) { node(id: $id) { id } }`, variables: { id: jobId } },
      { document: `{ ocrInvoiceJobs(first: 1) { totalCount } }` },
    ]);
  }
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
} finally {
  await ws.dispose();
  sse.dispose();
  single?.dispose();
}
