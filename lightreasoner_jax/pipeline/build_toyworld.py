"""Builds the toy world: problems, tokenizer, and the expert and amateur trained from scratch.

python -m lightreasoner_jax.pipeline.build_toyworld --config=configs/toyworld.py --workdir=DIR [--install]

DIR/data/<split>.jsonl        the world's splits (clean: train, test; habits: generic, train, dev, test)
DIR/init/{expert,amateur}     randomly initialised HF checkpoints with the tokenizer
DIR/{expert,amateur}[_k_<split>]/  each model's SFT phases (train + export stages; resumable); a phase
                              starts from the previous phase's export (habits: the expert reads the generic
                              corpus, then the reasoning train split)
DIR/world.json                what was built and each model's measured accuracy on `eval_split`
--install copies the exported models and world.json into the world's folder of lightreasoner_jax/toyworld/assets/.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import jax
from absl import app, flags, logging
from flax import nnx
from ml_collections import config_flags

from lightreasoner_jax import json_lines
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import ModelConfig, Transformer, save_hf
from lightreasoner_jax.pipeline import eval_stage, export_stage, train_stage
from lightreasoner_jax.pipeline.log_setup import quiet_library_logs
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.toyworld import habits, problems
from lightreasoner_jax.toyworld import tokenizer as tokenizer_lib
from lightreasoner_jax.toyworld import world as world_lib
from lightreasoner_jax.toyworld.assets import world_dir

_CONFIG = config_flags.DEFINE_config_file('config', None, 'configs/toyworld.py', lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Build directory.')
_INSTALL = flags.DEFINE_bool('install', False, 'Copy the built models into the package assets.')
flags.mark_flags_as_required(['config', 'workdir'])

MODEL_NAMES = ('expert', 'amateur')


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def world_name(cfg) -> str:
    return cfg.world.get('name', 'clean')


def write_world(cfg, out: Workdir) -> dict[str, list[problems.Problem]]:
    params = {k: v for k, v in cfg.world.to_dict().items() if k != 'name'}
    splits = world_lib.make_splits(world_name(cfg), params)
    for name, split in splits.items():
        problems.write_json_lines(split, Path(out.world_data(name)))
    return splits


def phases(model_cfg) -> list[tuple[str, int, float]]:
    """(split, steps, learning rate) of each SFT phase; one phase on 'train' unless `phases` is given."""
    if model_cfg.get('phases'):
        return [(split, int(steps), float(lr)) for split, steps, lr in model_cfg.phases]
    return [('train', model_cfg.steps, model_cfg.learning_rate)]


def model_config(model_cfg, tokenizer) -> ModelConfig:
    """A small Qwen2 (q/k/v bias, tied embeddings, GQA) over the tokenizer's vocabulary."""
    return ModelConfig(
        model_type='qwen2', vocab_size=len(tokenizer), hidden_size=model_cfg.hidden_size,
        intermediate_size=model_cfg.intermediate_size, num_layers=model_cfg.num_layers,
        num_heads=model_cfg.num_heads, num_kv_heads=model_cfg.num_kv_heads,
        head_dim=model_cfg.hidden_size // model_cfg.num_heads, max_position_embeddings=1024,
        tie_word_embeddings=True, qkv_bias=True, eos_token_ids=(tokenizer.eos_token_id,),
        pad_token_id=tokenizer.pad_token_id)


def write_initial_model(model_cfg, tokenizer, path: Path, mesh) -> None:
    config = model_config(model_cfg, tokenizer)
    with jax.set_mesh(mesh):
        model = Transformer(config, rngs=nnx.Rngs(model_cfg.init_seed))
    save_hf(model, config, path, tokenizer=tokenizer)


def sft_config(cfg, model_cfg, init_path: Path, train_path: Path, steps: int, learning_rate: float):
    config = cfg.sft.copy_and_resolve_references()
    config.expert.path = str(init_path)
    config.data.source = str(train_path)
    config.train.optim.update(dict(num_steps=steps, learning_rate=learning_rate,
                                   warmup_steps=model_cfg.warmup_steps))
    config.export.dtype = cfg.save_dtype
    return config


def build(cfg, out: Workdir, mesh) -> dict:
    splits = write_world(cfg, out)
    corpus = [p for name in ('generic', 'train') for p in splits.get(name, [])]
    texts = [cfg.system_prompt] + [p.question + '\n' + p.answer for p in corpus]
    shared = tokenizer_lib.train_chat_tokenizer(texts, cfg.tokenizer.vocab_size)
    world = {'world': cfg.world.to_dict(), **{f'{name}_sha256': file_sha256(Path(out.world_data(name)))
                                               for name in splits}, 'models': {}}
    eval_split = cfg.get('eval_split', 'test')
    names = tuple(cfg.get('models', MODEL_NAMES))  # a rebuild of one model (another tokenizer for the amateur)
    for name in names:
        model_cfg = cfg[name]
        # a model of its own tokenizer size (the cross-tokenizer contrast's amateur); the same corpus
        own_size = model_cfg.get('tokenizer_vocab_size', 0)
        tokenizer = tokenizer_lib.train_chat_tokenizer(texts, own_size) if own_size else shared
        path = Path(out.initial_model(name))
        if not (path / 'config.json').exists():
            write_initial_model(model_cfg, tokenizer, path, mesh)
        runs = []
        model_phases = phases(model_cfg)
        for k, (split, steps, learning_rate) in enumerate(model_phases):
            config = sft_config(cfg, model_cfg, path, Path(out.world_data(split)), steps, learning_rate)
            logging.info('toyworld: SFT of the %s on %s (%d layers, %d steps)', name, split, model_cfg.num_layers,
                         steps)
            child = out.child(name if len(model_phases) == 1 else f'{name}_{k}_{split}')
            runs.append({'split': split, **train_stage.run(config, child, mesh)})
            path = Path(export_stage.run(config, child, mesh)['merged'])
        world['models'][name] = {'architecture': model_cfg.to_dict(), 'train': runs[0] if len(runs) == 1 else runs,
                                 'path': str(path), 'eval_name': child.root.name}
    for name in names:
        # named by the last phase's run: a rebuild with other phases must not resume another model's answers
        eval_name = world['models'][name].pop('eval_name')
        result = eval_stage.evaluate_checkpoint(
            world['models'][name]['path'], str(out.world_data(eval_split)), mesh, out, eval_name,
            system_prompt=cfg.system_prompt, limit=cfg.eval_limit or None, id_field='id',
            **({'max_new_tokens': cfg.eval_max_new_tokens} if 'eval_max_new_tokens' in cfg else {}))
        world['models'][name][f'{eval_split}_accuracy'] = result['accuracy']
        world['models'][name][f'{eval_split}_evaluated'] = result['total']
        if world_name(cfg) == 'habits':
            predictions = json_lines.recover_all(out.all_eval_predictions(eval_name))
            world['models'][name][f'{eval_split}_errors'] = habits.error_breakdown(
                {p.id: p for p in splits[eval_split]}, predictions)
    out.world_file.write_text(json.dumps(world, indent=2))
    return world


def install(world: dict, world_name: str) -> None:
    directory = world_dir(world_name)
    for name in MODEL_NAMES:
        target = directory / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(world['models'][name]['path'], target)
    shipped = json.loads(json.dumps(world))
    for name in MODEL_NAMES:
        shipped['models'][name]['path'] = name
    (directory / 'world.json').write_text(json.dumps(shipped, indent=2) + '\n')


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f'unexpected arguments: {argv[1:]}')
    quiet_library_logs()
    cfg = _CONFIG.value
    out = Workdir(_WORKDIR.value).mkdir()
    mesh = shd.make_mesh(**cfg.sft.mesh.to_dict())
    world = build(cfg, out, mesh)
    print(json.dumps({name: {k: v for k, v in m.items() if k != 'architecture'}
                      for name, m in world['models'].items()}, indent=2))
    if _INSTALL.value:
        install(world, world_name(cfg))


if __name__ == '__main__':
    app.run(main)
