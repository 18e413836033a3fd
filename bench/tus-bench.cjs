// Upload files in parallel with tus-js-client and print the throughput as JSON.
//
//   node tus-bench.cjs ENDPOINT TOKEN_OR_DASH CHUNK_BYTES FILE...
//
// Files are streamed from disk (fs.ReadStream), so the client's memory stays flat.
"use strict";
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, token, chunkSize, ...files] = process.argv.slice(2);
const headers = token === "-" ? {} : { Authorization: `Bearer ${token}` };

function upload(file, i) {
  return new Promise((resolve, reject) => {
    const start = new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + i * 3600 * 1000).toISOString();
    const u = new tus.Upload(fs.createReadStream(file), {
      endpoint,
      headers,
      chunkSize: Number(chunkSize),
      uploadSize: fs.statSync(file).size,
      metadata: { kind: "recording", start, filename: `bench-${i}.mp4` },
      retryDelays: [],
      onError: reject,
      onSuccess: resolve,
    });
    u.start();
  });
}

const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
const t0 = process.hrtime.bigint();
Promise.all(files.map(upload)).then(
  () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ bytes, seconds, mib_per_s: bytes / 1048576 / seconds }));
  },
  (err) => {
    console.error(`upload failed: ${err}`);
    process.exit(1);
  },
);
