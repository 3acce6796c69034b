// A job group's page: spec, live status with conditions and counts, suspend/resume/retry-failed.
import { gql, subscribe } from "./api";
import { announce, append, clear, h } from "./dom";

interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime: string }
interface Status {
  phase: string; total: number; active: number; succeeded: number; failed: number; cancelled: number; progress: number;
  conditions: Condition[]; startTime: string | null; completionTime: string | null;
}
interface Group {
  id: string; name: string; description: string | null; createdAt: string;
  spec: { parallelism: number; backoffLimit: number; activeDeadlineSeconds: number | null; ttlSecondsAfterFinished: number | null; suspend: boolean; template: string | null; priority: string | null };
  status: Status;
}

const STATUS = `phase total active succeeded failed cancelled progress startTime completionTime
  conditions { type status reason message lastTransitionTime }`;
const GROUP = `id name description createdAt
  spec { parallelism backoffLimit activeDeadlineSeconds ttlSecondsAfterFinished suspend template priority }
  status { ${STATUS} }`;

export function groupView(main: HTMLElement, id: string): () => void {
  let alive = true;
  let group: Group | null = null;
  const body = h("div", { class: "group" }, h("p", {}, "Loading the group…"));
  main.append(h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")), body);
  const msg = h("p", { id: "group-msg", role: "status" });

  const render = () => {
    if (!group) return;
    const g = group;
    document.title = `${g.name} · ocrinvoice`;
    clear(body);
    const s = g.status;
    const act = (label: string, mutation: string, elId: string) =>
      h("button", {
        type: "button",
        id: elId,
        onclick: async () => {
          try {
            const d = await gql<Record<string, Group>>(`mutation M($id: ID!) { ${mutation}(id: $id) { ${GROUP} } }`, { id: g.id });
            group = d[mutation];
            render();
            msg.textContent = `${label}: done.`;
            announce(msg.textContent);
          } catch (e) {
            msg.className = "error";
            msg.textContent = `${label}: ${(e as Error).message}`;
          }
        },
      }, label);
    append(body, [
      h("h1", {}, `Group ${g.name}`),
      g.description ? h("p", {}, g.description) : null,
      h("section", { class: "card", "aria-labelledby": "g-status" },
        h("h2", { id: "g-status" }, "Status"),
        h("p", {}, h("span", { id: "group-phase", class: `badge p-${s.phase}` }, s.phase), ` ${s.progress}% finished`),
        h("progress", { max: "100", value: String(s.progress), "aria-label": "Finished jobs" }),
        h("dl", { class: "counts", id: "group-counts" },
          ...(["total", "active", "succeeded", "failed", "cancelled"] as const).flatMap((k) => [h("dt", {}, k), h("dd", {}, String(s[k]))])),
        h("div", { class: "actions" },
          g.spec.suspend ? act("Resume", "resumeOcrJobGroup", "resume") : act("Suspend", "suspendOcrJobGroup", "suspend"),
          act("Retry failed", "retryFailedOcrJobGroup", "retry-failed"),
        ),
        msg,
      ),
      h("section", { class: "card", "aria-labelledby": "g-cond" },
        h("h2", { id: "g-cond" }, "Conditions"),
        s.conditions.length
          ? h("table", {},
            h("thead", {}, h("tr", {}, ...["Type", "Status", "Reason", "Message", "Since"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, ...s.conditions.map((c) => h("tr", {}, h("td", {}, c.type), h("td", {}, c.status), h("td", {}, c.reason), h("td", {}, c.message), h("td", {}, c.lastTransitionTime)))))
          : h("p", { class: "hint" }, "No conditions yet."),
      ),
      h("section", { class: "card", "aria-labelledby": "g-spec" },
        h("h2", { id: "g-spec" }, "Spec"),
        h("dl", { class: "counts" },
          ...Object.entries(g.spec).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null ? "—" : String(v))])),
      ),
    ]);
  };

  gql<{ ocrJobGroup: Group }>(`query G($id: ID!) { ocrJobGroup(id: $id) { ${GROUP} } }`, { id })
    .then((d) => {
      if (!alive) return;
      group = d.ocrJobGroup;
      render();
    })
    .catch((e: Error) => {
      clear(body);
      body.append(h("p", { class: "error", role: "alert" }, `Could not load the group: ${e.message}`));
    });
  const unsub = subscribe<{ ocrJobGroupProgress: Status }>(
    `subscription P($id: ID!) { ocrJobGroupProgress(id: $id) { ${STATUS} } }`,
    { id },
    (d) => {
      if (!alive || !group) return;
      group = { ...group, status: d.ocrJobGroupProgress };
      render();
    },
  );
  return () => {
    alive = false;
    unsub();
  };
}
