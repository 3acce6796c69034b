// The review app: sign in, upload, the live job list, a job's review page and a group's page.
// Screens are chosen by the location hash: #/jobs, #/jobs/ID, #/groups/ID.
import { apiKey, checkKey, setSignedOutHandler, signIn, signOut } from "./api";
import { announce, clear, h } from "./dom";
import { jobsView } from "./jobs";
import { jobView } from "./job";
import { groupView } from "./group";
import { store } from "./store";

const main = document.getElementById("main")!;
const top = document.getElementById("top")!;
let leave: (() => void) | null = null;
let signInMessage = "";

setSignedOutHandler((message) => {
  signInMessage = message;
  store.stop();
  if (location.hash !== "#/signin") location.hash = "#/signin";
  else route();
});

function header(): void {
  clear(top);
  top.hidden = false;
  top.append(
    h("nav", { "aria-label": "Main" },
      h("a", { class: "brand", href: "#/jobs" }, "ocrinvoice"),
      h("a", { href: "#/jobs" }, "Jobs"),
    ),
    h("button", {
      type: "button",
      id: "signout",
      onclick: () => {
        signOut();
        store.stop();
        signInMessage = "You are signed out.";
        location.hash = "#/signin";
      },
    }, "Sign out"),
  );
}

function signInView(): void {
  top.hidden = true;
  clear(top);
  const input = h("input", { id: "apikey", name: "apikey", type: "password", autocomplete: "off", required: true, "aria-describedby": "signin-msg", spellcheck: "false" });
  const msg = h("p", { id: "signin-msg", class: signInMessage ? "error" : "hint", role: "alert" },
    signInMessage || "Paste an API key (ocrinvoice apikey create). It is kept in this browser tab only, until you sign out.");
  const form = h("form", {
    class: "signin card",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      msg.className = "hint";
      msg.textContent = "Checking the key…";
      try {
        await checkKey(key);
      } catch (err) {
        msg.className = "error";
        msg.textContent = `The key was not accepted: ${(err as Error).message}`;
        input.focus();
        return;
      }
      signIn(key);
      signInMessage = "";
      location.hash = "#/jobs";
    },
  },
    h("h1", {}, "Sign in"),
    h("label", { for: "apikey" }, "API key"),
    input,
    msg,
    h("button", { type: "submit" }, "Sign in"),
  );
  main.append(form);
  input.focus();
}

function route(): void {
  leave?.();
  leave = null;
  clear(main);
  const hash = location.hash || "#/jobs";
  if (!apiKey()) {
    if (hash !== "#/signin") {
      location.hash = "#/signin";
      return;
    }
    signInView();
    return;
  }
  if (hash === "#/signin") {
    location.hash = "#/jobs";
    return;
  }
  header();
  store.start();
  let m: RegExpMatchArray | null;
  if ((m = hash.match(/^#\/jobs\/([A-Za-z0-9_-]+)$/))) {
    leave = jobView(main, m[1]);
  } else if ((m = hash.match(/^#\/groups\/([A-Za-z0-9_-]+)$/))) {
    leave = groupView(main, m[1]);
  } else {
    leave = jobsView(main);
  }
  announce(document.title);
}

window.addEventListener("hashchange", route);
route();
