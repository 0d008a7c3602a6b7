// Mastery's pages work without this script; with it, answers go without a page load, the clock
// counts down (re-synced from the server's time left), and the teacher's view is live.
"use strict";

function text(id, value) {
  const element = document.getElementById(id);
  if (element) element.textContent = value;
}

function showVerdict(reply) {
  const names = { correct: "✓ correct", incorrect: "✗ incorrect", invalid: "? cannot read that" };
  let line = names[reply.verdict] + " · streak " + reply.streak;
  if (reply.reason) line += " · " + reply.reason;
  if (reply.mastered) line += " · ★ mastered " + reply.mastered;
  const verdict = document.getElementById("verdict");
  const p = document.createElement("p");
  p.className = "verdict " + reply.verdict;
  p.textContent = line;
  verdict.replaceChildren(p);
}

function learner() {
  const form = document.getElementById("answer");
  if (!form) return;
  const input = document.getElementById("answer-input");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new URLSearchParams({ answer: input.value });
    const response = await fetch("/answer", { method: "POST", body, headers: { Accept: "application/json" } });
    if (!response.ok) { window.location.reload(); return; }
    const reply = await response.json();
    showVerdict(reply);
    if (reply.mastered) {
      const mastered = document.getElementById("mastered");
      mastered.textContent = String(Number(mastered.textContent) + 1);
    }
    if (!reply.question) { window.location.reload(); return; }
    text("category", reply.question.category);
    text("instructions", reply.question.instructions);
    text("asked", reply.question.asked);
    input.value = "";
    input.focus();
  });
}

function countdown() {
  const clock = document.getElementById("clock");
  if (!clock) return;
  let deadline = Date.now() + Number(clock.dataset.timeLeftMs);
  const show = () => {
    const left = Math.max(0, deadline - Date.now());
    const seconds = Math.ceil(left / 1000);
    text("left", Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0"));
    if (left === 0) window.location.reload();
  };
  setInterval(show, 250);
  // The teacher's extra time, and the grace period, reach the clock at once.
  const own = new EventSource("/me/events");
  own.addEventListener("deadline", (event) => { deadline = Date.now() + JSON.parse(event.data).time_left_ms; });
  own.addEventListener("overdue", (event) => {
    deadline = Date.now() + JSON.parse(event.data).time_left_ms;
    clock.classList.add("overdue");
    text("left-label", "Overdue: answers are marked late. Closes in");
  });
  own.addEventListener("time_up", () => { own.close(); window.location.reload(); });
  // The server's time left is the truth: re-sync every 15 s.
  setInterval(async () => {
    const response = await fetch("/me");
    if (!response.ok) return;
    const view = await response.json();
    if (view.time_left_ms === null) { window.location.reload(); return; }
    deadline = Date.now() + view.time_left_ms;
  }, 15000);
}

function teacher() {
  const watch = document.getElementById("watch");
  if (!watch) return;
  let source = null;
  const rows = new Map();
  const body = document.querySelector("#live tbody");
  watch.addEventListener("change", () => {
    if (source) source.close();
    rows.clear();
    body.replaceChildren();
    if (!watch.value) return;
    source = new EventSource("/api/quizzes/" + encodeURIComponent(watch.value) + "/events");
    const row = (email) => {
      if (!rows.has(email)) {
        const tr = document.createElement("tr");
        tr.dataset.email = email;
        for (let i = 0; i < 8; i++) tr.appendChild(document.createElement("td"));
        tr.children[0].textContent = email;
        body.appendChild(tr);
        rows.set(email, tr);
      }
      return rows.get(email);
    };
    const state = (email, text) => { row(email).children[5].textContent = text; };
    // Sessions stored before the page was opened, with their states; events keep them current.
    fetch("/api/quizzes/" + encodeURIComponent(watch.value) + "/sessions").then((r) => r.ok ? r.json() : []).then((sessions) => {
      for (const s of sessions) {
        const tr = row(s.email);
        tr.children[4].textContent = s.mastered.length ? s.mastered.length + " mastered" : tr.children[4].textContent;
        tr.children[5].textContent = s.state.replace("_", " ");
        tr.children[6].textContent = s.due_at || "";
        tr.children[7].textContent = String(s.overdue);
      }
    });
    source.addEventListener("joined", (event) => { state(JSON.parse(event.data).email, "in progress"); });
    source.addEventListener("overdue", (event) => { state(JSON.parse(event.data).email, "overdue"); });
    source.addEventListener("abandoned", (event) => { state(JSON.parse(event.data).email, "abandoned"); });
    source.addEventListener("deadline", (event) => {
      const data = JSON.parse(event.data);
      row(data.email).children[6].textContent = data.due_at;
      state(data.email, data.overdue ? "overdue" : "in progress");
    });
    source.addEventListener("progress", (event) => {
      const data = JSON.parse(event.data);
      const tr = row(data.email);
      tr.children[1].textContent = data.template;
      tr.children[2].textContent = data.verdict;
      tr.children[3].textContent = String(data.streak);
      tr.children[4].textContent = data.mastered_count + "/" + data.templates + (data.finished ? " finished" : "");
      if (data.finished) tr.children[5].textContent = "finished";
      if (data.overdue) tr.children[7].textContent = String(Number(tr.children[7].textContent || 0) + 1);
    });
    source.addEventListener("time_up", (event) => {
      const data = JSON.parse(event.data);
      if (data.email) { state(data.email, "timed out"); return; }
      for (const tr of rows.values()) if (tr.children[5].textContent !== "finished") tr.children[5].textContent = "timed out";
    });
  });
}

learner();
countdown();
teacher();
