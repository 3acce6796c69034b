// Talking to the server: REST under /api/v1, GraphQL queries and mutations over POST
// /graphql, subscriptions over graphql-ws. The API key lives in sessionStorage only; an
// answer that says the key is no longer accepted signs the user out.
import { createClient, type Client } from "graphql-ws";

const KEY = "ocrinvoice.apiKey";

export class APIError extends Error {
  constructor(message: string, readonly status: number, readonly code: string, readonly field?: string) {
    super(message);
  }
}

let onSignedOut: (message: string) => void = () => {};

export function setSignedOutHandler(f: (message: string) => void): void {
  onSignedOut = f;
}

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  if (ws) {
    const c = ws;
    ws = null;
    void c.dispose();
  }
}

function authHeaders(): Record<string, string> {
  const k = apiKey();
  return k ? { Authorization: `Bearer ${k}` } : {};
}

function revoked(): void {
  signOut();
  onSignedOut("Your API key is no longer accepted (it was revoked or has expired). Sign in with a valid key.");
}

interface Envelope {
  success: boolean;
  data?: unknown;
  error?: { code: string; message: string; details?: { field: string; message: string }[] };
}

/** errorOf turns an error envelope (or a non-JSON answer) into an APIError. */
export function errorOf(status: number, text: string): APIError {
  try {
    const env = JSON.parse(text) as Envelope;
    if (env.error) return new APIError(env.error.message, status, env.error.code, env.error.details?.[0]?.field);
  } catch {
    // not JSON: fall through
  }
  return new APIError(`the server answered ${status}`, status, "HTTP_" + status);
}

/** rest calls the REST API and returns the envelope's data; 401 signs the user out. */
export async function rest<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { ...authHeaders(), ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  const res = await fetch(path, init);
  const text = await res.text();
  if (res.status === 401) {
    revoked();
    throw errorOf(res.status, text);
  }
  if (!res.ok) throw errorOf(res.status, text);
  return (JSON.parse(text) as Envelope).data as T;
}

/** blob fetches a binary resource of the API (a page image, the results file). */
export async function blob(path: string): Promise<Blob> {
  const res = await fetch(path, { headers: authHeaders() });
  if (res.status === 401) revoked();
  if (!res.ok) throw errorOf(res.status, await res.text());
  return res.blob();
}

/** check asks the server whether key is accepted, without storing it. */
export async function checkKey(key: string): Promise<void> {
  const res = await fetch("/api/v1/ocr-invoice-jobs?limit=1", { headers: { Authorization: `Bearer ${key}` } });
  if (!res.ok) throw errorOf(res.status, await res.text());
}

interface GQLError {
  message: string;
  extensions?: { code?: string; details?: { field: string }[] };
}

/** gql runs a query or mutation; an UNAUTHENTICATED answer signs the user out. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch("/graphql", {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) {
    revoked();
    throw new APIError("not signed in", 401, "UNAUTHENTICATED");
  }
  const out = (await res.json()) as { data?: T; errors?: GQLError[] };
  if (out.errors?.length) {
    const e = out.errors[0];
    const code = e.extensions?.code ?? "ERROR";
    if (code === "UNAUTHENTICATED") revoked();
    throw new APIError(e.message, res.status, code, e.extensions?.details?.[0]?.field);
  }
  return out.data as T;
}

let ws: Client | null = null;

function wsClient(): Client {
  if (ws) return ws;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const c = createClient({
    url,
    lazy: true,
    connectionParams: () => authHeaders(),
    retryAttempts: Infinity,
    shouldRetry: (e) => !(e instanceof CloseEvent && (e.code === 4401 || e.code === 4403)),
    on: {
      closed: (e) => {
        if (ws === c && e instanceof CloseEvent && (e.code === 4401 || e.code === 4403)) revoked();
      },
    },
  });
  ws = c;
  return c;
}

/** subscribe runs a subscription; next gets each event's data. It returns the unsubscriber. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, next: (data: T) => void, onError?: (e: unknown) => void): () => void {
  return wsClient().subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.data) next(v.data as T);
      },
      error: (e) => {
        // A subscription whose key was revoked ends with UNAUTHENTICATED.
        if (Array.isArray(e) && e.some((x: GQLError) => x.extensions?.code === "UNAUTHENTICATED")) revoked();
        onError?.(e);
      },
      complete: () => {},
    },
  );
}

/** upload sends one file to POST /api/v1/uploads, reporting progress (0..1). */
export function upload(file: File, progress: (f: number) => void): Promise<{ documentUrl: string; documentName: string }> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", "/api/v1/uploads");
    for (const [k, v] of Object.entries(authHeaders())) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total);
    };
    x.onload = () => {
      if (x.status === 401) revoked();
      if (x.status >= 200 && x.status < 300) {
        progress(1);
        resolve((JSON.parse(x.responseText) as Envelope).data as { documentUrl: string; documentName: string });
      } else {
        reject(errorOf(x.status, x.responseText));
      }
    };
    x.onerror = () => reject(new APIError("the upload was interrupted", 0, "NETWORK"));
    const fd = new FormData();
    fd.append("file", file, file.name);
    x.send(fd);
  });
}
