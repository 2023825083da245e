"""Two JAX processes (a simulated Slurm job on localhost, gloo collectives) run one `main` command:
each samples and evaluates its share, process 0 alone writes the shared files, and the result is the
same as one process's."""

import json
import os
import random
import subprocess
import sys

import pytest

from lightreasoner_jax.sampling import store as samples_lib
from tests.pipeline_fixtures import write_pair
from tests.test_pipeline import ROOT, flags

STAGES = ('--config.stages=("eval_base","sample","train","eval","report")', '--config.mesh.data=-1')


def launch(args, processes):
    job_id = str(random.randint(1, 10**6))
    procs = []
    for rank in range(processes):
        env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=2',
                   JAX_CPU_COLLECTIVES_IMPLEMENTATION='gloo')
        if processes > 1:
            env.update(SLURM_JOB_ID=job_id, SLURM_STEP_NODELIST='localhost', SLURM_NTASKS=str(processes),
                       SLURM_PROCID=str(rank), SLURM_LOCALID=str(rank))
        procs.append(subprocess.Popen([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=open(os.devnull, 'w') if rank else None,
                                      text=True))
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    return [p.returncode for p in procs], outputs


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    write_pair(tmp_path)
    codes, outputs = launch(flags(tmp_path, tmp_path / "two", *STAGES), 2)
    assert codes == [0, 0]
    # gloo's C++ connection messages share stdout (and may be split mid-line); ours are 'stage: {...}' lines
    ours = [[line for line in out.splitlines() if 'Gloo' not in line and 'peer ranks' not in line and line.strip()]
            for out in outputs]
    assert any(line.startswith('report: ') for line in ours[0]) and ours[1] == []  # only process 0 prints
    files = sorted(p.name for p in (tmp_path / 'two' / 'samples').iterdir() if p.suffix == '.jsonl')
    assert files == ['samples-00000-of-00002.jsonl', 'samples-00001-of-00002.jsonl']
    assert len(list((tmp_path / 'two' / 'eval' / 'base').glob('predictions-*-of-00002.jsonl'))) == 2

    codes, _ = launch(flags(tmp_path, tmp_path / "one", *STAGES), 1)
    assert codes == [0]
    two = {r.id: r for r in samples_lib.read_samples(tmp_path / 'two' / 'samples')}
    one = {r.id: r for r in samples_lib.read_samples(tmp_path / 'one' / 'samples')}
    assert two.keys() == one.keys() and len(one) == 10
    assert [two[k].completion_ids for k in one] == [one[k].completion_ids for k in one]
    for name in ('base', 'tuned'):
        metrics = [json.loads((tmp_path / run / 'eval' / name / 'metrics.json').read_text()) for run in ('one', 'two')]
        assert metrics[0]['total'] == metrics[1]['total'] == 10
        assert metrics[0]['correct'] == metrics[1]['correct']
