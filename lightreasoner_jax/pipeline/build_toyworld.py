"""Builds the toy world: problems, tokenizer, and the expert and amateur trained from scratch.

python -m lightreasoner_jax.pipeline.build_toyworld --config=configs/toyworld.py --workdir=DIR [--install]

DIR/data/{train,test}.jsonl   the splits
DIR/init/{expert,amateur}     randomly initialised HF checkpoints with the tokenizer
DIR/{expert,amateur}/         each model's SFT run (train + export stages; resumable)
DIR/world.json                what was built and each model's measured test accuracy
--install copies the exported models and world.json into lightreasoner_jax/toyworld/assets/.
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

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import ModelConfig, Transformer, save_hf
from lightreasoner_jax.pipeline import eval_stage, export_stage, train_stage
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.toyworld import problems
from lightreasoner_jax.toyworld import tokenizer as tokenizer_lib
from lightreasoner_jax.toyworld.assets import ASSETS_DIR

_CONFIG = config_flags.DEFINE_config_file('config', None, 'configs/toyworld.py', lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Build directory.')
_INSTALL = flags.DEFINE_bool('install', False, 'Copy the built models into the package assets.')
flags.mark_flags_as_required(['config', 'workdir'])

MODEL_NAMES = ('expert', 'amateur')


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_world(cfg, out: Workdir) -> tuple[Path, Path, list[problems.Problem]]:
    train_split, test_split = problems.make_splits(cfg.world.train_size, cfg.world.test_size, cfg.world.seed)
    paths = Path(out.world_data('train')), Path(out.world_data('test'))
    problems.write_json_lines(train_split, paths[0])
    problems.write_json_lines(test_split, paths[1])
    return paths[0], paths[1], train_split


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


def sft_config(cfg, model_cfg, init_path: Path, train_path: Path):
    config = cfg.sft.copy_and_resolve_references()
    config.expert.path = str(init_path)
    config.data.source = str(train_path)
    config.train.optim.update(dict(num_steps=model_cfg.steps, learning_rate=model_cfg.learning_rate,
                                   warmup_steps=model_cfg.warmup_steps))
    config.export.dtype = cfg.save_dtype
    return config


def build(cfg, out: Workdir, mesh) -> dict:
    train_path, test_path, train_split = write_world(cfg, out)
    tokenizer = tokenizer_lib.train_chat_tokenizer(
        [cfg.system_prompt] + [p.question + '\n' + p.answer for p in train_split], cfg.tokenizer.vocab_size)
    world = {'world': cfg.world.to_dict(), 'train_sha256': file_sha256(train_path),
             'test_sha256': file_sha256(test_path), 'models': {}}
    for name in MODEL_NAMES:
        model_cfg = cfg[name]
        init_path = Path(out.initial_model(name))
        if not (init_path / 'config.json').exists():
            write_initial_model(model_cfg, tokenizer, init_path, mesh)
        config = sft_config(cfg, model_cfg, init_path, train_path)
        logging.info('toyworld: SFT of the %s (%d layers, %d steps)', name, model_cfg.num_layers, model_cfg.steps)
        trained = train_stage.run(config, out.child(name), mesh)
        exported = export_stage.run(config, out.child(name), mesh)
        world['models'][name] = {'architecture': model_cfg.to_dict(), 'train': trained, 'path': exported['merged']}
    for name in MODEL_NAMES:
        result = eval_stage.evaluate_checkpoint(
            world['models'][name]['path'], str(test_path), mesh, out, name, system_prompt=cfg.system_prompt,
            limit=cfg.eval_limit or None)
        world['models'][name]['test_accuracy'] = result['accuracy']
        world['models'][name]['test_evaluated'] = result['total']
    out.world_file.write_text(json.dumps(world, indent=2))
    return world


def install(world: dict) -> None:
    for name in MODEL_NAMES:
        target = ASSETS_DIR / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(world['models'][name]['path'], target)
    shipped = json.loads(json.dumps(world))
    for name in MODEL_NAMES:
        shipped['models'][name]['path'] = name
    (ASSETS_DIR / 'world.json').write_text(json.dumps(shipped, indent=2) + '\n')


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f'unexpected arguments: {argv[1:]}')
    cfg = _CONFIG.value
    out = Workdir(_WORKDIR.value).mkdir()
    mesh = shd.make_mesh(**cfg.sft.mesh.to_dict())
    world = build(cfg, out, mesh)
    print(json.dumps({name: {k: v for k, v in m.items() if k != 'architecture'}
                      for name, m in world['models'].items()}, indent=2))
    if _INSTALL.value:
        install(world)


if __name__ == '__main__':
    app.run(main)
