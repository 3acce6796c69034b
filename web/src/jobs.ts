// The jobs screen: the upload panel and the live, filtered, virtualised job list.
import { APIError, rest, upload } from "./api";
import { announce, clear, download, h } from "./dom";
import { store, type JobRow } from "./store";

const ROW_HEIGHT = 44; // px, the height of one list row (fixed, for virtualisation)
const OVERSCAN = 8;

export function jobsView(main: HTMLElement): () => void {
  document.title = "Jobs · ocrinvoice";
  main.append(h("h1", {}, "Jobs"), uploadPanel());

  const search = h("input", { id: "search", type: "search", placeholder: "number, file, supplier", autocomplete: "off" });
  const status = h("select", { id: "filter-status" },
    ...["", "created", "queued", "processing", "completed", "failed", "cancelled"].map((s) => h("option", { value: s }, s || "any status")));
  const review = h("select", { id: "filter-review" },
    ...["", "unreviewed", "corrected", "approved"].map((s) => h("option", { value: s }, s || "any review status")));
  const count = h("p", { id: "job-count", class: "hint", "aria-live": "polite" });
  const csv = h("button", { type: "button", id: "download-csv" }, "Download CSV");

  const spacer = h("div", { class: "spacer" });
  const viewport = h("div", { class: "rows", id: "job-list", role: "list", "aria-label": "Jobs", tabindex: "-1" }, spacer);
  main.append(
    h("section", { class: "filters", "aria-label": "Filter jobs" },
      h("div", { class: "field" }, h("label", { for: "search" }, "Search"), search),
      h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), status),
      h("div", { class: "field" }, h("label", { for: "filter-review" }, "Review"), review),
      csv,
    ),
    count,
    h("div", { class: "row head", "aria-hidden": "true" },
      h("span", {}, "Job"), h("span", {}, "Status"), h("span", { class: "wide" }, "Supplier"), h("span", { class: "num" }, "Total"), h("span", {}, "Review")),
    viewport,
  );

  let visible: JobRow[] = [];
  const recompute = () => {
    const q = search.value.trim().toLowerCase();
    const st = status.value;
    const rv = review.value;
    visible = [];
    for (const id of store.order) {
      const r = store.rows.get(id)!;
      if (st && r.status !== st) continue;
      if (rv && r.reviewStatus !== rv) continue;
      if (q && !`${r.jobNumber}\n${r.documentName}\n${supplier(r)}`.toLowerCase().includes(q)) continue;
      visible.push(r);
    }
    count.textContent = `${visible.length} of ${store.order.length} jobs${store.loading ? " (loading…)" : ""}`;
    draw();
  };

  const drawn = new Map<string, HTMLElement>();
  let frame = 0;
  const draw = () => {
    spacer.style.height = `${visible.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    const keep = new Set<string>();
    for (let i = first; i < last; i++) {
      const r = visible[i];
      const key = `${r.id}|${r.status}|${r.reviewStatus}|${r.progress.percentage}|${supplier(r)}|${total(r)}`;
      keep.add(key);
      let el = drawn.get(key);
      if (!el) {
        el = row(r);
        drawn.set(key, el);
        viewport.append(el);
      }
      const top = `${i * ROW_HEIGHT}px`;
      if (el.style.top !== top) el.style.top = top;
    }
    for (const [k, el] of drawn) {
      if (!keep.has(k)) {
        if (el.contains(document.activeElement)) continue; // keep the focused row while it is focused
        el.remove();
        drawn.delete(k);
      }
    }
  };
  viewport.addEventListener("scroll", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(draw);
  });
  search.addEventListener("input", recompute);
  status.addEventListener("change", recompute);
  review.addEventListener("change", recompute);
  csv.addEventListener("click", () => download("jobs.csv", new Blob([toCSV(visible)], { type: "text/csv" })));

  let pending = 0;
  const off = store.listen(() => {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      recompute();
    });
  });
  recompute();
  return () => {
    off();
    cancelAnimationFrame(pending);
    cancelAnimationFrame(frame);
  };
}

function supplier(r: JobRow): string {
  return r.extractedData?.invoice?.supplier?.name ?? "";
}

function total(r: JobRow): string {
  const a = r.extractedData?.invoice?.amounts;
  if (!a || a.total === null || a.total === undefined) return "";
  return `${a.total.toFixed(2)} ${a.currency}`.trim();
}

function row(r: JobRow): HTMLElement {
  const st = r.status === "processing" ? `processing ${r.progress.percentage}%` : r.status;
  return h("div", { class: "row", role: "listitem", "data-id": r.id },
    h("a", { href: `#/jobs/${r.id}`, title: r.documentName }, r.jobNumber),
    h("span", { class: `badge s-${r.status}` }, st),
    h("span", { class: "wide supplier" }, supplier(r)),
    h("span", { class: "num" }, total(r)),
    h("span", { class: `badge r-${r.reviewStatus}` }, r.reviewStatus),
  );
}

/**
 * csvCell writes v as one CSV cell. A cell that a spreadsheet would run as a formula
 * (starting with =, +, -, @, a tab or a carriage return) gets a leading ' so that it is
 * shown as text; a plain number such as -12.5 is left a number.
 */
function csvCell(v: string): string {
  if (/^[=+\-@\t\r]/.test(v) && !/^[+-]?\d+(\.\d+)?$/.test(v)) v = "'" + v;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCSV(rows: JobRow[]): string {
  const lines = [["id", "jobNumber", "documentName", "status", "reviewStatus", "supplier", "total", "currency", "createdAt", "group"].join(",")];
  for (const r of rows) {
    const a = r.extractedData?.invoice?.amounts;
    lines.push([r.id, r.jobNumber, r.documentName, r.status, r.reviewStatus, supplier(r), a?.total?.toString() ?? "", a?.currency ?? "", r.createdAt, r.groupID ?? ""].map(csvCell).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function uploadPanel(): HTMLElement {
  const picker = h("input", { id: "files", type: "file", multiple: true, accept: ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.bmp,.xml,application/pdf,image/*" });
  const list = h("ul", { class: "uploads", id: "upload-list", "aria-label": "Uploads" });
  const result = h("p", { id: "upload-result", role: "status" });
  const zone = h("section", { class: "drop card", id: "dropzone", "aria-labelledby": "upload-h" },
    h("h2", { id: "upload-h" }, "Upload invoices"),
    h("p", { class: "hint" }, "Drop PDF or image files here, or choose them. Several files make a job group."),
    h("label", { for: "files", class: "button" }, "Choose files"),
    picker,
    list,
    result,
  );
  const start = (files: File[]) => {
    if (files.length) void send(files, list, result);
  };
  picker.addEventListener("change", () => {
    start([...(picker.files ?? [])]);
    picker.value = "";
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    start([...(e.dataTransfer?.files ?? [])]);
  });
  return zone;
}

async function send(files: File[], list: HTMLElement, result: HTMLElement): Promise<void> {
  clear(list);
  clear(result);
  const done: { documentUrl: string; documentName: string }[] = [];
  await Promise.all(
    files.map(async (f, i) => {
      const bar = h("progress", { max: "100", value: "0", id: `upload-progress-${i}`, "aria-label": `Upload of ${f.name}` });
      const note = h("span", { class: "note", id: `upload-note-${i}` }, "uploading…");
      const item = h("li", { "data-file": f.name }, h("span", { class: "file" }, f.name), bar, note);
      list.append(item);
      try {
        const up = await upload(f, (p) => (bar.value = Math.round(p * 100)));
        note.textContent = "uploaded";
        done.push(up);
      } catch (e) {
        item.classList.add("failed");
        note.className = "note error";
        note.setAttribute("role", "alert");
        note.textContent = (e as Error).message;
      }
    }),
  );
  if (!done.length) return;
  try {
    if (done.length === 1) {
      const d = done[0];
      const job = await rest<{ _id: string; jobNumber: string }>("POST", "/api/v1/ocr-invoice-jobs", {
        jobNumber: `${d.documentName.replace(/\.[^.]*$/, "").slice(0, 60)}-${Date.now().toString(36)}`,
        documentName: d.documentName,
        documentUrl: d.documentUrl,
        template: "generic",
      });
      result.append("Job ", h("a", { href: `#/jobs/${job._id}`, id: "new-job" }, job.jobNumber), " created.");
    } else {
      const g = await rest<{ _id: string; name: string }>("POST", "/api/v1/ocr-job-groups", {
        name: `upload-${new Date().toISOString().replace(/[:.]/g, "-")}`,
        documents: done.map((d) => ({ documentUrl: d.documentUrl, documentName: d.documentName })),
      });
      result.append("Group ", h("a", { href: `#/groups/${g._id}`, id: "new-group" }, g.name), ` created with ${done.length} jobs.`);
    }
    announce(result.textContent ?? "");
  } catch (e) {
    result.className = "error";
    result.textContent = `Could not create the job: ${(e as APIError).message}`;
  }
}
