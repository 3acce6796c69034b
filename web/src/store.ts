// The job list: loaded page by page over GraphQL (newest first, up to MAX_JOBS) and kept
// current by the ocrInvoiceJobUpdated subscription.
import { gql, subscribe } from "./api";

export interface JobRow {
  id: string;
  jobNumber: string;
  documentName: string;
  status: string;
  reviewStatus: string;
  groupID: string | null;
  createdAt: string;
  progress: { percentage: number; currentStep: string };
  extractedData: { invoice: { supplier: { name: string }; amounts: { total: number | null; currency: string } } } | null;
}

export const MAX_JOBS = 10_000;

// Jobs followed step by step (ocrInvoiceJobProgress) at once: the server allows 50
// subscriptions per connection, and ocrInvoiceJobUpdated uses one.
const MAX_FOLLOWED = 20;

export const ROW_FIELDS = `id jobNumber documentName status reviewStatus groupID createdAt
  progress { percentage currentStep }
  extractedData { invoice { supplier { name } amounts { total currency } } }`;

type Listener = (changed: JobRow | null) => void;

class Store {
  rows = new Map<string, JobRow>();
  order: string[] = []; // ids, newest first
  loading = false;
  loaded = false;
  total = 0;
  private listeners = new Set<Listener>();
  private unsub: (() => void) | null = null;
  private followed = new Map<string, () => void>();

  listen(f: Listener): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private emit(changed: JobRow | null): void {
    for (const f of this.listeners) f(changed);
  }

  upsert(r: JobRow): void {
    if (!this.rows.has(r.id)) {
      this.order.unshift(r.id);
      this.total++;
    }
    this.rows.set(r.id, r);
    this.follow(r);
    this.emit(r);
  }

  /** follow subscribes to a running job's progress events, so the list shows its steps. */
  private follow(r: JobRow): void {
    const running = r.status === "queued" || r.status === "processing";
    if (!running || this.followed.has(r.id) || this.followed.size >= MAX_FOLLOWED || !this.unsub) return;
    const stop = subscribe<{ ocrInvoiceJobProgress: { status: string; progress: JobRow["progress"] } }>(
      `subscription P($id: ID!) { ocrInvoiceJobProgress(id: $id) { status progress { percentage currentStep } } }`,
      { id: r.id },
      (d) => {
        const cur = this.rows.get(r.id);
        if (!cur) return;
        const e = d.ocrInvoiceJobProgress;
        // The terminal state comes with the full row through ocrInvoiceJobUpdated.
        if (e.status !== "queued" && e.status !== "processing") return this.unfollow(r.id);
        this.rows.set(r.id, { ...cur, status: e.status, progress: e.progress });
        this.emit(this.rows.get(r.id)!);
      },
      () => this.unfollow(r.id),
    );
    this.followed.set(r.id, stop);
  }

  private unfollow(id: string): void {
    this.followed.get(id)?.();
    this.followed.delete(id);
  }

  /** start subscribes to job changes and loads the list; it is a no-op when started. */
  start(): void {
    if (this.unsub) return;
    this.unsub = subscribe<{ ocrInvoiceJobUpdated: JobRow }>(
      `subscription { ocrInvoiceJobUpdated { ${ROW_FIELDS} } }`,
      {},
      (d) => this.upsert(d.ocrInvoiceJobUpdated),
    );
    void this.load();
  }

  stop(): void {
    for (const id of [...this.followed.keys()]) this.unfollow(id);
    this.unsub?.();
    this.unsub = null;
    this.rows.clear();
    this.order = [];
    this.loaded = false;
    this.total = 0;
  }

  private async load(): Promise<void> {
    this.loading = true;
    let after: string | null = null;
    try {
      for (;;) {
        const d: { ocrInvoiceJobs: { totalCount: number; pageInfo: { endCursor: string | null; hasNextPage: boolean }; edges: { node: JobRow }[] } } =
          await gql(
            `query Jobs($after: Cursor) { ocrInvoiceJobs(first: 100, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
              totalCount pageInfo { endCursor hasNextPage } edges { node { ${ROW_FIELDS} } } } }`,
            { after },
          );
        if (!this.unsub) return; // signed out meanwhile
        const c = d.ocrInvoiceJobs;
        for (const e of c.edges) {
          if (!this.rows.has(e.node.id)) this.order.push(e.node.id);
          this.rows.set(e.node.id, e.node);
          this.follow(e.node);
        }
        this.total = Math.max(c.totalCount, this.order.length);
        this.emit(null);
        if (!c.pageInfo.hasNextPage || this.order.length >= MAX_JOBS) break;
        after = c.pageInfo.endCursor;
      }
    } finally {
      this.loading = false;
      this.loaded = true;
      this.emit(null);
    }
  }

  /** nextUnreviewed is the newest completed, unreviewed job other than id. */
  nextUnreviewed(id: string): string | null {
    for (const k of this.order) {
      const r = this.rows.get(k)!;
      if (k !== id && r.status === "completed" && r.reviewStatus === "unreviewed") return k;
    }
    return null;
  }
}

export const store = new Store();
