// Plays an MP4 to its end in headless Chromium and prints what the browser saw, as JSON:
// {"ended", "duration", "maxTime", "width", "height", "frames", "error"}.
// Usage: node play.cjs FILE.mp4   (NODE_PATH must reach playwright-core)
const { chromium } = require('playwright-core');
const path = require('path');

async function main() {
  const file = path.resolve(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const page = await browser.newPage();
    // A page of the same origin as the file, so Chromium lets the video load it.
    await page.goto('file://' + path.dirname(file) + '/');
    const result = await page.evaluate(async (src) => {
      const v = document.createElement('video');
      v.muted = true;
      document.body.appendChild(v);
      let maxTime = 0;
      v.addEventListener('timeupdate', () => { maxTime = Math.max(maxTime, v.currentTime); });
      const done = new Promise((resolve) => {
        v.addEventListener('ended', () => resolve(null));
        v.addEventListener('error', () => resolve(v.error ? `${v.error.code} ${v.error.message}` : 'error'));
      });
      v.src = src;
      await v.play().catch((e) => e);
      const error = await done;
      const quality = v.getVideoPlaybackQuality();
      return { ended: v.ended, duration: v.duration, maxTime, width: v.videoWidth,
        height: v.videoHeight, frames: quality.totalVideoFrames, error };
    }, 'file://' + file);
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
