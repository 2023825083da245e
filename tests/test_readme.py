"""README's Python API example runs as written (on the shipped toy models) and does what it says."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_python_api_example_runs(tmp_path):
    readme = open(os.path.join(ROOT, 'README.md')).read()
    section = readme[readme.index('## Python API'):]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 25
    script = tmp_path / 'example.py'
    script.write_text(code.replace('/tmp/lr_api_export', str(tmp_path / 'export')))
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    kept = re.search(r'(\d+) steps kept from 128 answers', result.stdout)
    assert kept and int(kept.group(1)) > 0, result.stdout
    first, last = map(float, re.search(r'loss ([\d.e-]+) -> ([\d.e-]+)', result.stdout).groups())
    assert 0 < first < 10 and 0 < last < 10  # KL to the targets, one value per update
    assert re.search(r'accuracy 0\.\d+ -> 0\.\d+', result.stdout), result.stdout
    assert (tmp_path / 'export' / 'merged' / 'config.json').exists()
    assert (tmp_path / 'export' / 'adapter' / 'adapter_config.json').exists()
