// The GraphQL client contract test of cmd/ocrinvoice (TestGraphQLClientsContract) runs this
// script against a running server with the pinned npm clients:
//
//	node tools/npm/graphql-clients.mjs http://127.0.0.1:PORT/graphql JOB_ID
//
// It follows the job's progress with graphql-ws (WebSocket) and graphql-sse (distinct
// connections mode) at once, prints "subscribed" once both have their first event (the
// test then lets the job run), and when both streams have ended reads the job and an
// unknown id with graphql-request. It prints one JSON object per line: {"subscribed": true}
// and then {"ws": [...], "sse": [...], "request": {...}, "requestError": {...}}. Any client
// error exits 1 with the error on stderr.
import { GraphQLClient, ClientError } from 'graphql-request';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const [url, jobId] = process.argv.slice(2);
if (!url || !jobId) {
  console.error('usage: node graphql-clients.mjs GRAPHQL_URL JOB_ID');
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

let firsts = 0;
const onFirst = () => {
  firsts++;
  if (firsts === 2) console.log(JSON.stringify({ subscribed: true }));
};

const timeout = setTimeout(() => {
  console.error('the streams did not end within 120s');
  process.exit(1);
}, 120_000);

try {
  const [wsEvents, sseEvents] = await Promise.all([follow('graphql-ws', ws, onFirst), follow('graphql-sse', sse, onFirst)]);
  clearTimeout(timeout);
  for (const [name, evs] of [['graphql-ws', wsEvents], ['graphql-sse', sseEvents]]) {
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
  console.log(JSON.stringify({ ws: wsEvents, sse: sseEvents, request: job, requestError }));
} catch (err) {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
} finally {
  await ws.dispose();
  sse.dispose();
}
