"""config.rounds: each round samples with the expert the round before tuned, in its own folder, resumable,
with a row per round in the report."""

import json
import shutil

import pytest

from lightreasoner_jax.pipeline import rounds
from lightreasoner_jax.pipeline.validation import ConfigError
from lightreasoner_jax.pipeline.workdir import Workdir
from tests.pipeline_fixtures import pipeline_config, write_pair
from tests.test_pipeline import flags, run_main

ROUND_FLAGS = ('--config.rounds=3', '--config.round_amateur=previous', '--config.eval.drift_limit=4',
               '--config.train.optim.learning_rate=0.01', '--config.contrast.beta=0.0001')  # a tuned expert is close to its base


def test_three_rounds_chain_their_experts_resume_after_a_kill_and_report_each_round(tmp_path):
    write_pair(tmp_path)
    workdir = tmp_path / 'run'
    result = run_main(flags(tmp_path, workdir, *ROUND_FLAGS))
    assert result.returncode == 0, result.stderr[-3000:]
    for r in (2, 3):
        for stage in rounds.ROUND_STAGES:
            assert f'\n{stage}:round{r}: ' in '\n' + result.stdout, (stage, r)
    assert result.stdout.rstrip().splitlines()[-2].startswith('report: ')  # the report runs after every round

    def recorded(stage):
        return json.loads((workdir / 'stages' / f'{stage}.json').read_text())['config']
    assert recorded('sample@round2')['expert']['path'] == str(workdir / 'export' / 'merged')
    assert recorded('sample@round2')['amateur'] == {'kind': 'checkpoint', 'path': str(tmp_path / 'expert'),
                                                    'dtype': 'float32'}
    assert recorded('sample@round3')['expert']['path'] == str(workdir / 'variants' / 'round2' / 'export' / 'merged')
    assert recorded('sample@round3')['amateur']['path'] == str(workdir / 'export' / 'merged')
    samples = {r: (Workdir(workdir) if r == 1 else Workdir(workdir).variant(f'round{r}')).sample_file(0, 1)
               for r in (1, 2, 3)}
    texts = {r: p.read_text() for r, p in samples.items()}
    assert texts[1] != texts[2] != texts[3]  # each round's expert answers differently (lr 0.01)

    metrics = json.loads((workdir / 'metrics.json').read_text())
    assert [r['round'] for r in metrics['rounds']] == [0, 1, 2, 3]
    assert all(r['accuracy'] is not None and r['gold_perplexity'] is not None for r in metrics['rounds'])
    assert all(r['kept_steps'] is not None for r in metrics['rounds'][1:])
    report = (workdir / 'report.md').read_text()
    assert '## Rounds' in report and '| LightReasoner, round 3 |' in report

    # A kill during round 3's sampling: its records cut mid-line, the stages from there on not finished.
    eval3 = (workdir / 'variants' / 'round3' / 'eval' / 'tuned' / 'metrics.json').read_text()
    for stage in rounds.ROUND_STAGES:
        (workdir / 'stages' / f'{stage}@round3.json').unlink()
    for folder in ('checkpoints', 'export', 'eval', 'train'):
        shutil.rmtree(workdir / 'variants' / 'round3' / folder, ignore_errors=True)
    lines = texts[3].splitlines(keepends=True)
    samples[3].write_text(''.join(lines[:3]) + lines[3][:30])
    again = run_main(flags(tmp_path, workdir, *ROUND_FLAGS))
    assert again.returncode == 0, again.stderr[-3000:]
    for stage in ('eval_base', 'sample', 'train', 'sample:round2', 'eval:round2'):
        assert f'{stage}: complete, skipped' in again.stdout, stage
    assert 'sample:round3: complete' not in again.stdout
    assert samples[3].read_text() == texts[3]
    timing = ('seconds_this_run', 'questions_per_second')
    after = json.loads((workdir / 'variants' / 'round3' / 'eval' / 'tuned' / 'metrics.json').read_text())
    assert {k: v for k, v in after.items() if k not in timing} == \
        {k: v for k, v in json.loads(eval3).items() if k not in timing}


def test_rounds_are_written_out_as_variants_and_checked(tmp_path):
    write_pair(tmp_path)
    config = pipeline_config(tmp_path, stages=('eval_base', 'sample', 'train', 'export', 'eval', 'report'),
                             rounds=2)
    expanded = rounds.expand(config, Workdir(tmp_path / 'w'))
    assert expanded.stages == ('eval_base', 'sample', 'train', 'export', 'eval', 'sample:round2', 'train:round2',
                               'export:round2', 'eval:round2', 'report')
    assert expanded.variants.round2.expert.path == str(tmp_path / 'w' / 'export' / 'merged')
    assert 'amateur' not in expanded.variants.round2  # round_amateur='same'
    assert rounds.expand(pipeline_config(tmp_path), Workdir(tmp_path)).stages == ('sample',)  # rounds=1: as given
    with pytest.raises(ConfigError, match=r"config.rounds = 2: .* config.stages lacks \['train', 'export', 'eval'\]"):
        rounds.expand(pipeline_config(tmp_path, rounds=2), Workdir(tmp_path))
    with pytest.raises(ConfigError, match='config.rounds = 0: must be an integer >= 1'):
        rounds.expand(pipeline_config(tmp_path, rounds=0), Workdir(tmp_path))
    with pytest.raises(ConfigError, match="config.round_amateur = 'last'"):
        rounds.expand(pipeline_config(tmp_path, round_amateur='last'), Workdir(tmp_path))
