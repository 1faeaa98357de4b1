// The emulator's browser view: the server renders everything; this only
//  1. polls /_web/changes and, when the emulator changed, fetches this page again and swaps
//     in its fresh pane and sidebars (polling, not server-sent events: an open event stream
//     would keep Ctrl-C from stopping the server),
//  2. sends the page's forms with fetch, so a click does not reload the page,
//  3. sends a select, checkbox, date or overflow as soon as it changes, as Slack does.
// Every form also works without it (the server then redirects back to the page).
(function () {
  "use strict";

  const POLL_MS = 700;
  const HIDDEN_POLL_MS = 3000;
  const LIVE_SIDEBARS = ["sidebar", "menu-sidebar"];
  let version = null;

  function pane() {
    return document.getElementById("pane");
  }

  // A modal the person is typing in survives refreshes while the server shows the same one
  // (same view, same errors): replacing it would drop what they typed.
  function keepModal(oldPane, newPane) {
    const before = oldPane.querySelector(".modal-backdrop");
    const after = newPane.querySelector(".modal-backdrop");
    if (before && after && before.dataset.key === after.dataset.key) {
      after.replaceWith(before);
    }
  }

  function nearBottom() {
    const doc = document.scrollingElement || document.documentElement;
    return doc.scrollHeight - doc.scrollTop - window.innerHeight < 80;
  }

  async function refresh() {
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) {
      return;
    }
    // The page is the server's renderer output, where every piece of message text was
    // escaped; it is parsed as an inert document and its nodes moved in, never run as script.
    const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = parsed.getElementById("pane");
    const current = pane();
    if (!fresh || !current) {
      return;
    }
    const stick = nearBottom();
    keepModal(current, fresh);
    current.replaceWith(document.adoptNode(fresh));
    for (const id of LIVE_SIDEBARS) {
      const old = document.getElementById(id);
      const now = parsed.getElementById(id);
      if (old && now) {
        old.replaceWith(document.adoptNode(now));
      }
    }
    version = fresh.dataset.version;
    if (stick) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  }

  async function poll() {
    try {
      const response = await fetch("/_web/changes", { cache: "no-store" });
      const answer = await response.json();
      if (answer.v !== version) {
        await refresh();
      }
    } catch (error) {
      // The emulator is restarting or gone: try again at the next tick.
    }
    window.setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  async function send(form, submitter, extra) {
    const data = new FormData(form, submitter || undefined);
    for (const [key, value] of Object.entries(extra || {})) {
      data.set(key, value);
    }
    const action = submitter && submitter.hasAttribute("formaction")
      ? submitter.getAttribute("formaction")
      : form.getAttribute("action");
    form.classList.add("busy");
    try {
      await fetch(action, {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { Accept: "application/json" },
      });
      if (form.classList.contains("composer")) {
        form.querySelector('input[name="text"]').value = "";
      }
    } finally {
      form.classList.remove("busy");
    }
    await refresh();
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.method.toLowerCase() !== "post") {
      return; // the "You are" picker navigates
    }
    event.preventDefault();
    const submitter = event.submitter;
    const question = submitter && submitter.dataset.confirm;
    if (question && !window.confirm(question)) {
      return;
    }
    send(form, submitter, null);
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("select[data-autosubmit]")) {
      target.form.submit();
      return;
    }
    const control = target.closest("[data-el]");
    if (control && control.form && !control.disabled) {
      if (control.tagName === "SELECT" && control.value === "" && !control.multiple) {
        return; // back to the placeholder: nothing picked
      }
      send(control.form, null, { el: control.dataset.el });
    }
  });

  // A link button opens its page (the browser does that) and tells the app, like Slack.
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-el]");
    if (link && link.closest("form")) {
      send(link.closest("form"), null, { el: link.dataset.el });
    }
  });

  const start = pane();
  version = start ? start.dataset.version : null;
  window.setTimeout(poll, POLL_MS);
})();
