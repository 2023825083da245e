"""Test session setup: 8 simulated CPU devices and no network, before jax/transformers import."""

import os

os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8').strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
os.environ['HF_HUB_OFFLINE'] = '1'
os.environ['HF_DATASETS_OFFLINE'] = '1'
os.environ['TRANSFORMERS_OFFLINE'] = '1'
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
# gcsfs and fsspec read these when imported: anonymous access, and no gRPC bucket-type query (which hangs
# 60 s against the local GCS emulator of tests/gcs_fixtures.py).
os.environ['GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT'] = 'false'
os.environ.setdefault('FSSPEC_GCS_TOKEN', 'anon')

pytest_plugins = ['tests.gcs_fixtures']
