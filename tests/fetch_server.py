"""A small HTTP file server on 127.0.0.1 for the fetch tests, and archives in the official layouts."""
import gzip
import hashlib
import http.server
import io
import re
import tarfile
import threading
import zipfile
from pathlib import Path


class FileServer(http.server.HTTPServer):
    """Serves `files` ({name: bytes}) at /<name> on 127.0.0.1 at a free port.

    Every GET is recorded in `requests` as (name, Range header or None). Names in `drop_once`
    are cut off half way the first time (the full Content-Length is announced, half the body
    sent, then the connection closed). honour_range=False answers every request with the whole
    file (status 200), as a server that ignores Range does."""

    def __init__(self, files):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files, self.requests, self.drop_once, self.honour_range = dict(files), [], set(), True

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def ranges(self, name):
        return [header for seen, header in self.requests if seen == name]


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # a stuck client cannot hold the server

    def do_GET(self):
        name = self.path.lstrip("/")
        header = self.headers.get("Range")
        self.server.requests.append((name, header))
        data = self.server.files.get(name)
        if data is None:
            self.send_error(404)
            return
        match = re.fullmatch(r"bytes=(\d+)-", header or "")
        start = int(match.group(1)) if match and self.server.honour_range else 0
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if name in self.server.drop_once:
            self.server.drop_once.discard(name)
            body = body[:len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(files):
    """(server, thread): the server answering in a daemon thread; stop it with `stop`."""
    server = FileServer(files)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_gz(folder, names):
    """The bytes of a .tar.gz holding folder/<name> for each name, stored as <name>/..."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in names:
            archive.add(Path(folder) / name, arcname=name)
    return buffer.getvalue()


def zip_folder(folder, name):
    """The bytes of a .zip holding folder/<name>/* as <name>/*."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((Path(folder) / name).rglob("*")):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def gzipped(path):
    """The file's bytes gzipped, or as they are when it already ends in .gz."""
    data = Path(path).read_bytes()
    return data if str(path).endswith(".gz") else gzip.compress(data, mtime=0)
