// Upload one file with tus-js-client, as a browser or phone app would.
//
//   node upload.cjs ENDPOINT TOKEN FILE METADATA_JSON CHUNK_SIZE URL_FILE [STOP_AFTER]
//
// Resumes the upload whose URL is in URL_FILE if that file exists; writes the upload URL
// there once created. With STOP_AFTER, stops (exit code 3) once the server has accepted
// at least that many bytes, like an app killed mid-upload. Exit 0 when the upload is done.
"use strict";
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, token, file, metadataJson, chunkSize, urlFile, stopAfter] = process.argv.slice(2);
const data = fs.readFileSync(file);
const uploadUrl = fs.existsSync(urlFile) ? fs.readFileSync(urlFile, "utf8").trim() : null;

const upload = new tus.Upload(data, {
  endpoint,
  uploadUrl,
  chunkSize: Number(chunkSize),
  metadata: JSON.parse(metadataJson),
  headers: { Authorization: `Bearer ${token}` },
  retryDelays: [],
  onAfterResponse(_req, res) {
    if (upload.url && !fs.existsSync(urlFile)) {
      fs.writeFileSync(urlFile, upload.url);
    }
  },
  onChunkComplete(_size, accepted) {
    if (stopAfter && accepted >= Number(stopAfter)) {
      upload.abort().then(() => {
        fs.writeFileSync(urlFile, upload.url);
        console.log(`stopped at ${accepted}`);
        process.exit(3);
      });
    }
  },
  onError(err) {
    console.error(`upload failed: ${err}`);
    process.exit(1);
  },
  onSuccess() {
    console.log(`done: ${upload.url}`);
    process.exit(0);
  },
});
upload.start();
