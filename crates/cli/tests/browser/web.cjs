// The web UI driven in Debian's Chromium through playwright-core, as a user would: sign in,
// MY RIDES and MY INCIDENTS, a filter, play and seek by an incident marker, share and open
// the link as a stranger, revoke it, download a ride's 2-minute segment, delete a clip, sign
// out, then open a deep link and sign in again (after "Use another number") to land on it;
// then add a camera on /cameras, copy its agent command, have it run against a simulated
// camera, and see its ride appear, on a desktop and on a phone screen. Times are checked in
// the browser's own zone (Asia/Tokyo, UTC+9).
// Saves a screenshot of every page; prints what it saw as one JSON line at the end.
// Asks on stdout ({"need": "code"}, {"need": "upload TOKEN"}, {"need": "camera"},
// {"need": "agent COMMAND"}) and reads each answer from stdin.
// Usage: node web.cjs BASE_URL PHONE SCREENSHOT_DIR DOWNLOAD_DIR   (NODE_PATH reaches playwright-core)
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');
const readline = require('readline');

const [base, phone, shots, downloads] = process.argv.slice(2);
const answers = readline.createInterface({ input: process.stdin });
const input = answers[Symbol.asyncIterator]();
const seen = { screenshots: [], errors: [] };

async function ask(what) {
  console.log(JSON.stringify({ need: what }));
  const { value } = await input.next();
  return value.trim();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  seen.screenshots.push(`${name}.png`);
}

function watch(page, who) {
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(`${who}: ${m.text()}`); });
  page.on('pageerror', (e) => seen.errors.push(`${who}: ${e}`));
}

const cards = (page) => page.$$eval('.card a.card-link', (as) => as.map((a) => a.getAttribute('href')));
const videoTime = (page) => page.evaluate(() => document.getElementById('video').currentTime);

async function play(page) {
  await page.waitForFunction(() => document.getElementById('video').readyState >= 1);
  await page.evaluate(() => { const v = document.getElementById('video'); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.getElementById('video').currentTime > 1, null, { timeout: 30000 });
  const t = await videoTime(page);
  await page.evaluate(() => document.getElementById('video').pause());
  return t;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 }, acceptDownloads: true, locale: 'en-GB', timezoneId: 'Asia/Tokyo',
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    watch(page, 'owner');

    // Sign in: phone, then the code the console sender printed.
    await page.goto(`${base}/`);
    await shot(page, '01-sign-in');
    await page.fill('#phone', phone);
    await page.click('#phone-form button[type=submit]');
    await page.waitForSelector('#code-form:not([hidden])');
    await page.fill('#code', await ask('code'));
    await Promise.all([page.waitForURL(`${base}/rides`), page.click('#code-form button[type=submit]')]);
    seen.empty = await page.textContent('.empty');
    await shot(page, '02-rides-empty');

    // The camera's files arrive (uploaded with the session the browser holds).
    const [session] = (await context.cookies()).filter((c) => c.name === 'dashvault_session');
    await ask(`upload ${session.value}`);
    await page.reload();
    seen.rides = await cards(page);
    await shot(page, '02-rides');
    await page.setViewportSize({ width: 390, height: 844 });
    seen.phoneFirstCard = await page.$eval('.card', (c) => c.getBoundingClientRect().top);
    await shot(page, '03-rides-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    // MY INCIDENTS, then filtered by incident type.
    await Promise.all([page.waitForURL(`${base}/incidents`), page.click('nav a[href="/incidents"]')]);
    seen.incidents = await cards(page);
    seen.cardTimes = await page.$$eval('.card-title time', (ts) => ts.map((t) => t.textContent));
    await shot(page, '04-incidents');
    // A page at a time: "Load more" follows the cursor and appends the next page.
    await page.goto(`${base}/incidents?limit=1`);
    seen.firstPage = await cards(page);
    await page.click('#load-more');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 2);
    seen.secondPage = (await cards(page)).slice(1);
    seen.afterLoadMore = { url: new URL(page.url()).search, more: await page.$('#load-more') !== null };
    await page.goto(`${base}/incidents`);
    await page.selectOption('#type', 'hard_brake');
    await Promise.all([page.waitForURL(/type=hard_brake/), page.click('.filters button[type=submit]')]);
    seen.filtered = await cards(page);
    await shot(page, '05-incidents-filtered');

    // The player: it plays, and an incident marker (pressed from the keyboard) seeks.
    await Promise.all([page.waitForURL(/\/clips\//), page.click('.card a.card-link')]);
    const clipPath = new URL(page.url()).pathname;
    seen.clip = clipPath;
    seen.played = await play(page);
    const marker = page.locator('.marker').first();
    seen.marker = Number(await marker.getAttribute('data-t'));
    await marker.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((t) => Math.abs(document.getElementById('video').currentTime - t) < 0.5,
      Math.max(0, seen.marker - 1));
    seen.seeked = await videoTime(page);
    await page.waitForSelector('body[data-telemetry="ready"]', { state: 'attached' });
    seen.route = await page.$eval('#route polyline', (p) => p.points.numberOfItems).catch(() => 0);
    seen.charts = await page.$$eval('.chart polyline', (ps) => ps.length);
    seen.chartLabels = await page.$$eval('.chart .tick', (ts) => ts.map((t) => t.textContent));
    seen.actionsInView = await page.$eval('#download', (a) => a.getBoundingClientRect().bottom + window.scrollY <= window.innerHeight);
    seen.playerTime = await page.textContent('.player-head .meta');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#map-tiles img')).every((i) => i.complete));
    seen.tiles = await page.$$eval('#map-tiles img', (imgs) => imgs.filter((i) => i.naturalWidth === 256).length);
    await shot(page, '06-clip');

    // Share, open the link in a fresh context (a stranger), revoke, open it again.
    await page.click('#share-open');
    seen.copyBeforeLink = await page.isVisible('#share-copy');
    await page.selectOption('#share-expiry', '86400');
    await page.check('#share-download');
    await page.click('#share-form button[type=submit]');
    await page.waitForSelector('#share-result:not([hidden])');
    const shareUrl = await page.inputValue('#share-url');
    seen.shareUrl = shareUrl;
    await shot(page, '07-share-dialog');
    const stranger = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const guest = await stranger.newPage();
    watch(guest, 'stranger');
    const opened = await guest.goto(shareUrl);
    seen.shared = {
      status: opened.status(),
      links: await guest.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href'))),
      text: await guest.textContent('body'),
      videos: await guest.$$eval('video', (vs) => vs.map((v) => v.getAttribute('src'))),
      played: await play(guest),
      download: await guest.$eval('#download', (a) => a.getAttribute('href')).catch(() => null),
    };
    await shot(guest, '08-shared');
    await page.click('#share-list .revoke');
    await page.waitForFunction(() => document.getElementById('share-status').textContent.includes('revoked'));
    await page.waitForFunction(() => document.querySelector('#share-list li').textContent.startsWith('Revoked'));
    seen.revokedEntry = await page.textContent('#share-list li');
    const gone = await guest.goto(shareUrl);
    seen.revoked = gone.status();
    await shot(guest, '09-shared-revoked');
    await stranger.close();
    await page.click('#share-close');

    // Evidence: the signed bundle downloads; the activity list shows it and the share.
    const [bundle] = await Promise.all([page.waitForEvent('download'), page.click('#evidence-download')]);
    seen.evidence = path.join(downloads, bundle.suggestedFilename());
    await bundle.saveAs(seen.evidence);
    await page.reload();
    await page.waitForSelector('#activity-list li[data-action="evidence_export"]');
    seen.activity = await page.$$eval('#activity-list li', (ls) => ls.map((l) => l.dataset.action));

    // A ride: its 2-minute segments; download the first.
    await page.goto(`${base}/rides`);
    await Promise.all([page.waitForURL(/\/rides\/./), page.click('.card a.card-link')]);
    await page.waitForSelector('#segment-list a.segment');
    seen.segments = await page.$$eval('#segment-list a.segment', (as) => as.map((a) => a.textContent));
    await shot(page, '10-ride');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#segment-list a.segment >> nth=0'),
    ]);
    seen.download = path.join(downloads, download.suggestedFilename());
    await download.saveAs(seen.download);

    // Delete the clip, confirmed in the dialog.
    await page.goto(`${base}${clipPath}`);
    await page.click('#delete-open');
    await shot(page, '11-delete-confirm');
    await Promise.all([page.waitForURL(`${base}/incidents`), page.click('#delete-confirm')]);
    seen.afterDelete = await cards(page);
    await shot(page, '12-incidents-after-delete');
    await page.goto(`${base}/rides`);
    seen.rideBadgesAfterDelete = await page.$$eval('.card .badge', (bs) => bs.map((b) => b.textContent));

    // Sign out: back to the sign-in form, and the library is closed.
    await Promise.all([page.waitForURL(`${base}/`), page.click('#sign-out')]);
    await page.waitForSelector('#phone-form');
    await page.goto(`${base}/incidents`);
    seen.signedOut = new URL(page.url()).pathname;

    // A deep link signed out: sign in (the code form stays after "Use another number", so
    // the code received is still entered), and the page asked for opens.
    const deep = '/incidents?type=hard_brake';
    await page.goto(`${base}${deep}`);
    await page.fill('#phone', phone);
    await page.click('#phone-form button[type=submit]');
    await page.waitForSelector('#code-form:not([hidden])');
    await page.click('#other-number');
    seen.otherNumber = await page.evaluate(() => ({
      phoneForm: !document.getElementById('phone-form').hidden,
      codeForm: !document.getElementById('code-form').hidden,
    }));
    await shot(page, '13-sign-in-another-number');
    await page.fill('#code', await ask('code'));
    await Promise.all([page.waitForURL(`${base}${deep}`), page.click('#code-form button[type=submit]')]);
    seen.returnedTo = new URL(page.url()).pathname + new URL(page.url()).search;

    // Add a camera, copy its command, and its agent's first round brings a ride.
    await page.goto(`${base}/rides`);
    const ridesBefore = (await cards(page)).length;
    await Promise.all([page.waitForURL(`${base}/cameras`), page.click('nav a[href="/cameras"]')]);
    await shot(page, '14-cameras-empty');
    await page.selectOption('#add-model', 'Simulated camera');
    await page.fill('#add-name', 'Test car');
    await page.fill('#add-serial', 'SIM-0001');
    await page.fill('#add-camera', await ask('camera'));
    await page.click('#add-form button[type=submit]');
    await page.waitForSelector('#token-panel:not([hidden])');
    await page.waitForSelector('#qr img');
    await page.click('#copy-command');
    await page.waitForFunction(() => document.getElementById('copy-status').textContent.startsWith('Copied'));
    seen.command = await page.evaluate(() => navigator.clipboard.readText());
    seen.qr = await page.$eval('#qr img', (i) => i.naturalWidth);
    await shot(page, '15-camera-added');
    await ask(`agent ${seen.command}`);
    await page.goto(`${base}/cameras`);
    const added = page.locator('.camera', { hasText: 'Test car' });
    seen.camera = await added.textContent();
    await added.locator('.camera-edit summary').click();
    await added.locator('.camera-form [name=timezone]').fill('Europe/Berlin');
    await added.locator('.camera-form button[type=submit]').click();
    await added.locator('.status', { hasText: 'Saved.' }).waitFor();
    seen.zone = await added.locator('.zone').textContent();
    await shot(page, '16-cameras');
    await page.goto(`${base}/rides`);
    seen.ridesAfterAgent = (await cards(page)).length - ridesBefore;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    seen.phoneFirstCardAfter = await page.$eval('.card', (c) => c.getBoundingClientRect().top);
    await shot(page, '17-rides-phone');
  } finally {
    await browser.close();
    answers.close();
  }
  console.log(JSON.stringify({ result: seen }));
}

main().catch((e) => { console.error(e); process.exit(1); });
