"""Upload one file with tuspy (the Python tus client).

    python3 upload.py ENDPOINT TOKEN FILE METADATA_JSON CHUNK_SIZE URL_FILE [STOP_AFTER]

Resumes the upload whose URL is in URL_FILE if that file exists; writes the upload URL
there once created. With STOP_AFTER, stops (exit code 3) once at least that many bytes
are stored. Exit 0 when the upload is done.
"""

import json
import os
import sys

from tusclient import client


def main() -> int:
    endpoint, token, path, metadata, chunk_size, url_file = sys.argv[1:7]
    stop_after = int(sys.argv[7]) if len(sys.argv) > 7 else None
    tus = client.TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
    url = None
    if os.path.exists(url_file):
        with open(url_file, encoding="utf-8") as f:
            url = f.read().strip()
    uploader = tus.uploader(
        path,
        url=url,
        chunk_size=int(chunk_size),
        metadata=json.loads(metadata),
        retries=0,
    )
    if uploader.url is None:
        uploader.set_url(uploader.create_url())
        uploader.offset = 0
    with open(url_file, "w", encoding="utf-8") as f:
        f.write(uploader.url)
    if stop_after is not None:
        uploader.upload(stop_at=stop_after)
        print(f"stopped at {uploader.offset}")
        return 3
    uploader.upload()
    print(f"done: {uploader.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
