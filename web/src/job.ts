// A job's review page: the page images with a box per field, the fields in a form coloured by
// confidence with their validation findings, correct (Enter) and approve (Ctrl+Enter: approve
// and open the next unreviewed job).
import { APIError, blob, gql } from "./api";
import { announce, append, clear, download, h } from "./dom";
import { store } from "./store";

interface Box { x0: number; y0: number; x1: number; y1: number }
interface Field {
  path: string;
  value: unknown;
  machineValue: unknown;
  confidence: number;
  source: string;
  evidence: { page: number; box: Box | null; text: string } | null;
}
interface Finding { field: string; message: string; severity: string; rule: string }
interface Job {
  id: string;
  jobNumber: string;
  documentName: string;
  status: string;
  reviewStatus: string;
  dataVersion: number;
  groupID: string | null;
  errorLog: string | null;
  progress: { percentage: number; currentStep: string };
  documentInfo: { pages: number } | null;
  validationResults: { isValid: boolean; errors: Finding[] } | null;
  fields: Field[];
}

const JOB_FIELDS = `id jobNumber documentName status reviewStatus dataVersion groupID errorLog
  progress { percentage currentStep } documentInfo { pages }
  validationResults { isValid errors { field message severity rule } }
  fields { path value machineValue confidence source evidence { page box { x0 y0 x1 y1 } text } }`;

const MAX_PAGES = 20;

export function jobView(main: HTMLElement, id: string): () => void {
  let alive = true;
  let job: Job | null = null;
  const urls: string[] = [];
  const body = h("div", { class: "job" }, h("p", {}, "Loading the job…"));
  main.append(h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")), body);

  const load = async () => {
    try {
      const d = await gql<{ ocrInvoiceJob: Job }>(`query Job($id: ID!) { ocrInvoiceJob(id: $id) { ${JOB_FIELDS} } }`, { id });
      if (!alive) return;
      job = d.ocrInvoiceJob;
      render();
    } catch (e) {
      if (!alive) return;
      clear(body);
      body.append(h("p", { class: "error", role: "alert" }, `Could not load the job: ${(e as Error).message}`));
    }
  };

  // A change of the job (status, a correction elsewhere) reloads the page, unless the
  // reviewer has unsaved edits.
  const off = store.listen((r) => {
    if (!r || r.id !== id || !job) return;
    if (r.status !== job.status || (r.reviewStatus !== job.reviewStatus && !dirty())) void load();
    else if (r.status === "processing") {
      const p = body.querySelector("#job-progress");
      if (p) p.textContent = `${r.progress.percentage}% ${r.progress.currentStep}`;
    }
  });
  const dirty = () => [...body.querySelectorAll<HTMLInputElement>("input[data-path]")].some((i) => i.value !== i.defaultValue);

  const render = () => {
    if (!job) return;
    const j = job;
    document.title = `${j.jobNumber} · ocrinvoice`;
    clear(body);
    append(body, [
      h("h1", {}, `Job ${j.jobNumber}`),
      h("p", { class: "meta" },
        h("span", {}, j.documentName), " · ",
        h("span", { id: "job-status", class: `badge s-${j.status}` }, j.status), " · ",
        h("span", { id: "job-review", class: `badge r-${j.reviewStatus}` }, j.reviewStatus),
        j.status === "processing" || j.status === "queued" ? h("span", { id: "job-progress" }, ` ${j.progress.percentage}% ${j.progress.currentStep}`) : null,
        j.groupID ? [" · ", h("a", { href: `#/groups/${j.groupID}` }, "group")] : null,
      ),
      j.errorLog ? h("p", { class: "error" }, j.errorLog) : null,
    ]);
    if (j.status !== "completed") {
      body.append(h("p", { class: "hint" }, "The fields can be reviewed once the job has completed; this page follows it live."));
      return;
    }
    const findings = j.validationResults?.errors ?? [];
    const fieldPaths = new Set(j.fields.map((f) => f.path));
    const findingsOf = (path: string) => findings.filter((x) => x.field === path);
    const other = findings.filter((x) => !fieldPaths.has(x.field));

    const pages = h("section", { class: "pages", "aria-label": "Document pages" });
    const n = Math.min(j.documentInfo?.pages ?? 1, MAX_PAGES);
    const overlays: HTMLElement[] = [];
    for (let p = 1; p <= n; p++) {
      const img = h("img", { alt: `Page ${p} of ${j.documentName}` });
      const overlay = h("div", { class: "overlay", "aria-hidden": "true" });
      overlays[p] = overlay;
      pages.append(h("figure", { class: "page" }, h("div", { class: "sheet" }, img, overlay), h("figcaption", {}, `Page ${p}`)));
      blob(`/api/v1/ocr-invoice-jobs/${encodeURIComponent(j.id)}/pages/${p}?width=1000`)
        .then((b) => {
          if (!alive) return;
          const u = URL.createObjectURL(b);
          urls.push(u);
          img.src = u;
        })
        .catch((e: Error) => img.replaceWith(h("p", { class: "hint" }, `Page ${p} is not available: ${e.message}`)));
    }

    const form = h("form", { class: "fields", id: "fields", "aria-label": "Extracted fields" });
    const inputs: HTMLInputElement[] = [];
    for (const f of j.fields) {
      if (f.value !== null && typeof f.value === "object") continue; // lists and objects are edited through their leaves
      const fid = `f-${f.path.replace(/[^A-Za-z0-9]/g, "_")}`;
      const level = f.confidence >= 0.9 ? "high" : f.confidence >= 0.7 ? "medium" : "low";
      const mine = findingsOf(f.path);
      const notes = h("ul", { class: "findings", id: `${fid}-notes` },
        ...mine.map((x) => h("li", { class: x.severity }, `${x.severity}: ${x.message}${x.rule ? ` (${x.rule})` : ""}`)));
      const input = h("input", {
        id: fid,
        name: f.path,
        "data-path": f.path,
        "data-kind": typeof (f.value ?? f.machineValue),
        value: f.value === null || f.value === undefined ? "" : String(f.value),
        "aria-describedby": `${fid}-conf${mine.length ? ` ${fid}-notes` : ""}`,
        "aria-invalid": mine.some((x) => x.severity === "error") ? "true" : null,
        autocomplete: "off",
      });
      input.defaultValue = input.value;
      inputs.push(input);
      if (f.evidence?.box && f.evidence.page >= 1 && f.evidence.page <= n) {
        const b = f.evidence.box;
        const box = h("div", {
          class: `box c-${level}`,
          title: f.path,
          "data-path": f.path,
          style: `left:${b.x0 * 100}%;top:${b.y0 * 100}%;width:${(b.x1 - b.x0) * 100}%;height:${(b.y1 - b.y0) * 100}%`,
        });
        overlays[f.evidence.page].append(box);
        const on = () => {
          box.classList.add("active");
          box.scrollIntoView({ block: "nearest" });
        };
        input.addEventListener("focus", on);
        input.addEventListener("blur", () => box.classList.remove("active"));
      }
      form.append(
        h("div", { class: `fieldrow c-${level}`, "data-path": f.path },
          h("label", { for: fid }, f.path),
          input,
          h("span", { class: "conf", id: `${fid}-conf` }, `confidence ${Math.round(f.confidence * 100)}% (${level}), ${f.source}`),
          mine.length ? notes : null,
        ),
      );
    }
    const msg = h("p", { id: "review-msg", role: "status" });
    const save = h("button", { type: "submit", id: "save" }, "Save corrections");
    const approve = h("button", { type: "button", id: "approve" }, "Approve");
    const approveNext = h("button", { type: "button", id: "approve-next", "aria-keyshortcuts": "Control+Enter" }, "Approve and next (Ctrl+Enter)");
    const results = h("button", { type: "button", id: "download-results" }, "Download results JSON");
    const xml = h("button", { type: "button", id: "download-einvoice" }, "Download e-invoice XML");
    form.append(h("div", { class: "actions" }, save, approve, approveNext, results, xml), msg);

    const corrections = () => {
      const out: { path: string; value: unknown }[] = [];
      for (const i of inputs) {
        if (i.value === i.defaultValue) continue;
        const v = i.value.trim();
        let value: unknown = v;
        if (v === "") value = null;
        else if (i.dataset.kind === "number") {
          const num = Number(v.replace(/,/g, ""));
          if (!Number.isFinite(num)) throw new APIError(`${i.dataset.path}: "${v}" is not a number`, 400, "INVALID", i.dataset.path);
          value = num;
        } else if (i.dataset.kind === "boolean") value = v === "true";
        out.push({ path: i.dataset.path!, value });
      }
      return out;
    };
    const fail = (e: unknown) => {
      const err = e as APIError;
      msg.className = "error";
      msg.textContent = err.message;
      const bad = err.field ? inputs.find((i) => i.dataset.path === err.field) : undefined;
      bad?.focus();
    };
    const doSave = async (): Promise<boolean> => {
      const fields = corrections();
      if (!fields.length) return true;
      const d = await gql<{ correctOcrInvoiceJob: Job }>(
        `mutation Correct($id: ID!, $fields: [FieldValueInput!]!, $v: Int) { correctOcrInvoiceJob(id: $id, fields: $fields, ifVersion: $v) { ${JOB_FIELDS} } }`,
        { id: j.id, fields, v: j.dataVersion },
      );
      job = d.correctOcrInvoiceJob;
      return true;
    };
    const doApprove = async (next: boolean) => {
      try {
        await doSave();
        const d = await gql<{ approveOcrInvoiceJob: Job }>(
          `mutation Approve($id: ID!, $v: Int) { approveOcrInvoiceJob(id: $id, ifVersion: $v) { ${JOB_FIELDS} } }`,
          { id: j.id, v: job!.dataVersion },
        );
        job = d.approveOcrInvoiceJob;
        announce(`Job ${j.jobNumber} approved.`);
        if (next) {
          const n = store.nextUnreviewed(j.id);
          location.hash = n ? `#/jobs/${n}` : "#/jobs";
          return;
        }
        render();
        body.querySelector<HTMLElement>("#review-msg")!.textContent = "Approved.";
      } catch (e) {
        fail(e);
      }
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const had = corrections().length;
        await doSave();
        render();
        const m = body.querySelector<HTMLElement>("#review-msg")!;
        m.textContent = had ? `Saved ${had} correction${had > 1 ? "s" : ""}.` : "Nothing to save.";
        announce(m.textContent);
      } catch (err) {
        fail(err);
      }
    });
    approve.addEventListener("click", () => void doApprove(false));
    approveNext.addEventListener("click", () => void doApprove(true));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void doApprove(true);
      }
    });
    xml.addEventListener("click", async () => {
      try {
        download(`${j.jobNumber}-cii.xml`, await blob(`/api/v1/ocr-invoice-jobs/${encodeURIComponent(j.id)}/einvoice?syntax=cii`));
      } catch (e) {
        fail(e);
      }
    });
    results.addEventListener("click", async () => {
      try {
        download(`${j.jobNumber}-results.json`, await blob(`/api/v1/ocr-invoice-jobs/${encodeURIComponent(j.id)}/results`));
      } catch (e) {
        fail(e);
      }
    });

    append(body, [
      other.length
        ? h("section", { class: "card", "aria-label": "Other findings" }, h("h2", {}, "Findings"),
          h("ul", { class: "findings" }, ...other.map((x) => h("li", { class: x.severity }, `${x.field}: ${x.message}${x.rule ? ` (${x.rule})` : ""}`))))
        : null,
      h("div", { class: "review" }, pages, form),
    ]);
  };

  void load();
  return () => {
    alive = false;
    off();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
