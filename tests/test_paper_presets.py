"""Every paper preset runs sample -> train -> export -> eval through `main`, on stand-ins of its expert and
Qwen2.5-0.5B with the real vocabulary sizes, special-token tables, chat templates and generation configs
(tests/paper_pairs.py). The DeepSeek pair samples with a warning listing the differing special ids and
records them, with their use, in samples/stats.json; a pair whose BPE vocabularies differ is refused."""

import json
import os
import subprocess
import sys

import pytest

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.models import load_tokenizer
from tests.paper_pairs import AMATEUR, PRESETS, make_tokenizer, write_checkpoint, write_preset_pair
from tests.pipeline_fixtures import QUESTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEEPSEEK_IDS = list(range(151643, 151650))
STAGES = ('sample', 'train', 'export', 'eval')


def write_data(root):
    """The sample stage's questions and a toolkit-layout gsm8k/test.jsonl for the eval stage."""
    rows = [{'question': q, 'answer': f'{q}\n#### {i}', 'id': f'q{i}'} for i, q in enumerate(QUESTIONS[:4])]
    (root / 'questions.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    (root / 'data' / 'gsm8k').mkdir(parents=True)
    (root / 'data' / 'gsm8k' / 'test.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))


def run_preset(preset, root, workdir, *extra):
    args = [f'--config=configs/{preset}.py', f'--workdir={workdir}', f'--config.stages={STAGES!r}',
            f'--config.expert.path={root / "expert"}', f'--config.amateur.path={root / "amateur"}',
            '--config.expert.dtype=float32', '--config.amateur.dtype=float32',
            f'--config.data.source={root / "questions.jsonl"}', '--config.data.id_field=id',
            '--config.generation.max_new_tokens=6', '--config.generation.batch_size=4', '--config.generation.bucket=16',
            '--config.contrast.beta=0.0', '--config.contrast.top_k=4',  # random models: keep every step
            '--config.train.positions_per_update=4', '--config.train.optim.num_steps=2',
            '--config.train.checkpoint.save_every=2', "--config.eval.benchmarks=('gsm8k',)",
            f'--config.eval.data_dir={root / "data"}', '--config.eval.max_new_tokens=6', '--config.eval.batch_size=4',
            '--config.eval.bucket=16', '--config.eval.drift_limit=0', *extra]
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1', HF_HUB_OFFLINE='1',
               HF_DATASETS_OFFLINE='1')
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def _prompts_end_with_the_templates_assistant_turn(preset, workdir, expert):
    tokenizer = load_tokenizer(expert)
    records = [json.loads(line) for line in (workdir / 'samples' / 'samples-00000-of-00001.jsonl').open()]
    assert len(records) == 4
    expected = data_lib.build_prompt_ids(tokenizer, QUESTIONS[0], system_prompt='Please reason step by step.')
    assert records[0]['prompt_ids'] == expected
    text = tokenizer.decode(expected)
    if preset.startswith('deepseek'):
        assert text.startswith('<｜begin▁of▁sentence｜>Please reason step by step.<｜User｜>')
        assert text.endswith('<｜Assistant｜><think>\n')
    else:
        assert text.startswith('<|im_start|>system\nPlease reason step by step.<|im_end|>')
        assert text.endswith('<|im_start|>assistant\n')
    return records


@pytest.mark.parametrize('preset', [
    'deepseek_r1_distill_qwen_1p5b', 'qwen25_math_7b',
    pytest.param('qwen25_math_1p5b', marks=pytest.mark.slow),
    pytest.param('qwen25_math_1p5b_instruct', marks=pytest.mark.slow),
    pytest.param('qwen25_math_7b_instruct', marks=pytest.mark.slow)])
def test_preset_runs_sample_train_export_eval(tmp_path, preset):
    expert, _ = write_preset_pair(tmp_path, preset)
    write_data(tmp_path)
    result = run_preset(preset, tmp_path, tmp_path / 'w')
    assert result.returncode == 0, result.stderr[-3000:]
    workdir = tmp_path / 'w'
    records = _prompts_end_with_the_templates_assistant_turn(preset, workdir, expert)
    stats = json.loads((workdir / 'samples' / 'stats.json').read_text())
    differences = stats['special_token_differences']
    warned = [line for line in result.stderr.splitlines() if 'different special tokens at' in line]
    if preset.startswith('deepseek'):
        assert [d['id'] for d in differences['ids']] == DEEPSEEK_IDS
        assert differences['ids'][1] == {'id': 151644, 'expert': '<｜User｜>', 'amateur': '<|im_start|>'}
        assert len(warned) == 1 and '151644' in warned[0] and '<|im_start|>' in warned[0]
        # every prompt holds BOS, <｜User｜>, <｜Assistant｜> and <think>: ids the amateur reads as other tokens
        assert differences['usage']['prompts_with_any'] == 4
        assert differences['usage']['prompt_tokens'] == 16
        assert all(sum(t in DEEPSEEK_IDS for t in r['prompt_ids']) == 4 for r in records)
    else:
        assert differences == {'ids': [], 'usage': {k: 0 for k in differences['usage']}}
        assert not warned
    merged = workdir / 'export' / 'merged'
    vocab_size = PRESETS[preset][1]
    assert json.loads((merged / 'config.json').read_text())['vocab_size'] == vocab_size
    assert json.loads((merged / 'config.json').read_text())['tie_word_embeddings'] == PRESETS[preset][2]
    assert load_tokenizer(merged).get_vocab() == load_tokenizer(expert).get_vocab()
    metrics = json.loads((workdir / 'eval' / 'tuned' / 'metrics.json').read_text())
    assert metrics['benchmarks']['gsm8k']['total'] == 4


def test_the_expert_stops_at_its_presets_stop_tokens(tmp_path):
    """A base Qwen2.5-Math expert answering in ChatML ends its turn with <|im_end|>, which is not its EOS: the
    Qwen presets stop there (expert.stop_tokens), as the toolkit's stop words do."""
    from lightreasoner_jax.models import ModelConfig
    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.settings import stop_ids
    write_preset_pair(tmp_path, 'qwen25_math_1p5b')
    write_checkpoint(tmp_path / 'deepseek', *PRESETS['deepseek_r1_distill_qwen_1p5b'])
    for preset, path, expected in (('qwen25_math_1p5b', 'expert', (151643, 151645)),
                                   ('deepseek_r1_distill_qwen_1p5b', 'deepseek', (151643,))):
        config = load_config_file(f'configs/{preset}.py')
        config.unlock()
        config.expert.path = str(tmp_path / path)
        assert stop_ids(config, load_tokenizer(config.expert.path), ModelConfig.from_hf(tmp_path / path)) == expected


def test_a_pair_whose_bpe_vocabularies_differ_is_refused_before_any_model_loads(tmp_path):
    write_checkpoint(tmp_path / 'expert', *PRESETS['deepseek_r1_distill_qwen_1p5b'])
    write_checkpoint(tmp_path / 'amateur', *AMATEUR, layers=1,
                     tokenizer=make_tokenizer('qwen25', ordinary_change=1234))
    (tmp_path / 'amateur' / 'model.safetensors').write_bytes(b'not loaded')  # the check reads no weights
    write_data(tmp_path)
    result = run_preset('deepseek_r1_distill_qwen_1p5b', tmp_path, tmp_path / 'w')
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert 'differ at id 1234' in last and "amateur '<changed1234>'" in last and '7 special' in last, last
    assert not (tmp_path / 'w' / 'samples').exists()


def test_refusing_special_differences_is_a_one_line_error(tmp_path):
    write_preset_pair(tmp_path, 'deepseek_r1_distill_qwen_1p5b')
    write_data(tmp_path)
    result = run_preset('deepseek_r1_distill_qwen_1p5b', tmp_path, tmp_path / 'w',
                        '--config.amateur.special_token_differences=refuse')
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert 'different special tokens at 7 ids: 151643' in last and 'special_token_differences=allow' in last, last
