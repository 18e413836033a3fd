// The clip player's activity list and evidence downloads (owner only): what was done
// with the clip (plays, downloads, evidence exports, share links made, opened and
// revoked), newest first, from GET /api/v1/clips/{id}/activity.
"use strict";

(function () {
  const section = document.getElementById("activity");
  if (!section) return;
  const list = document.getElementById("activity-list");
  const status = document.getElementById("activity-status");
  const more = document.getElementById("activity-more");
  const ACTIONS = {
    play: "Played",
    download: "Downloaded",
    evidence_export: "Evidence bundle downloaded",
    share_create: "Share link made",
    share_open: "Share link opened",
    share_revoke: "Share link revoked",
  };
  const VIA = { session: "signed in", device: "by a camera", share: "through a share link" };
  let cursor = null;

  function item(a) {
    const li = document.createElement("li");
    li.dataset.action = a.action;
    const time = document.createElement("time");
    time.dateTime = a.at;
    time.textContent = new Date(a.at).toLocaleString();
    const what = document.createElement("span");
    what.className = "activity-action";
    what.textContent = (ACTIONS[a.action] || a.action) + " · " + (VIA[a.via] || a.via);
    li.append(time, " ", what);
    return li;
  }

  async function load(append) {
    const url = new URL(section.dataset.url, location.href);
    if (append && cursor) url.searchParams.set("cursor", cursor);
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      const page = await response.json();
      if (!append) list.replaceChildren();
      page.items.forEach((a) => list.append(item(a)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : "Nothing yet.";
    } catch (err) {
      status.textContent = "The activity can not be shown just now.";
    }
  }

  more.addEventListener("click", () => load(true));
  // A download is recorded when the server answers it: show it once it has.
  for (const id of ["evidence-download", "download"]) {
    const link = document.getElementById(id);
    if (link) link.addEventListener("click", () => setTimeout(() => load(false), 1500));
  }
  // The route may come from the camera's recordings when the clip's file has no GPS:
  // offer it whenever the server has one.
  const route = document.getElementById("route-download");
  if (route && route.hidden) {
    fetch(route.href, { method: "HEAD", credentials: "same-origin" })
      .then((r) => { route.hidden = !r.ok; })
      .catch(() => {});
  }
  window.addEventListener("focus", () => load(false));
  load(false);
})();
