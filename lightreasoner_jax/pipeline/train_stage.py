"""Stage `train`: fine-tuning the expert on the workdir's samples (or, for the sft objective, on the
ground-truth answers of config.data), with Orbax checkpoints, metrics, and a checkpoint on SIGTERM or
preemption. The data position is the step (the update plan is a pure function of the records and
settings) and the PRNG is derived from (seed, step), so a restarted run continues exactly.
"""

from __future__ import annotations

import json
import signal
import time

import jax
from absl import logging
from etils import epath

from lightreasoner_jax.models import load_tokenizer
from lightreasoner_jax.pipeline import loading, settings
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.rejection_answers import rejection_records
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.sampling import store
from lightreasoner_jax.training import Trainer, update_plan
from lightreasoner_jax.training.checkpoints import checkpoint_manager
from lightreasoner_jax.training.metrics import MetricsLog
from lightreasoner_jax.training.objectives import objective as objective_named
from lightreasoner_jax.training.sft import sft_records


def training_records(config, workdir: Workdir, mesh):
    """The records the configured objective trains on: sample records (train.samples_dir, else the
    workdir's), for 'sft' the ground-truth answers of config.data's questions, for 'rs_sft' the expert's
    own correct sampled answers to them."""
    if config.train.objective == 'rs_sft':
        return rejection_records(config, workdir, mesh)
    if not objective_named(config.train.objective).uses_samples:
        questions, _ = settings.questions(config.data)
        return sft_records(load_tokenizer(config.expert.path), questions, system_prompt=config.data.system_prompt,
                           answer_field=config.data.answer_field)
    samples_dir = epath.Path(config.train.samples_dir) if config.train.samples_dir else workdir.samples_dir
    return store.read_samples(samples_dir)


def run(config, workdir: Workdir, mesh: jax.sharding.Mesh) -> dict:
    run_start = time.time()
    cfg = config.train
    optim, batching = settings.optim(config), settings.batching(config, mesh)
    records = training_records(config, workdir, mesh)
    plan = update_plan(records, objective_named(cfg.objective), cfg.min_kl if cfg.min_kl >= 0 else None, batching,
                       optim.num_steps)
    logging.info('train: batch shapes (rows, length) %s', list(plan.shapes))

    lora = settings.lora(config)
    trainer = Trainer(loading.model_to_train(config, mesh), mesh, method=cfg.method, optim=optim, seed=cfg.seed,
                      use_dropout=lora is not None and lora.dropout > 0)
    stage_fingerprint = fingerprint(config, 'train')
    manager = checkpoint_manager(workdir.checkpoints, settings.checkpointing(config))
    start = 0
    if manager.latest_step() is not None:
        start = manager.latest_step()
        trainer.restore(manager, start, stage_fingerprint)
        logging.info('train: resumed from step %d', start)
    process0 = jax.process_index() == 0
    log = MetricsLog(workdir.train_metrics, workdir.tensorboard, start, enabled=process0,
                     wandb=settings.wandb(config), workdir=workdir.root,
                     run_config=json.loads(config.to_json_best_effort()))

    stop = {'requested': False}
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))
    pending, last_log, tokens = [], time.time(), 0
    progress = Progress('train', optim.num_steps, 'step', enabled=process0, initial=start)
    step = start
    try:
        while step < optim.num_steps:
            batch = plan.batch(step, records, batching)
            metrics = trainer.step(batch, step)
            tokens += int(batch.attention_mask.sum())
            step += 1
            pending.append((step, metrics))
            preempted = manager.reached_preemption(step)  # asked once per step: it may sync hosts
            # rows are written before every checkpoint, so a resumed run never lacks one
            if (step % cfg.log_every == 0 or step == optim.num_steps or stop['requested'] or preempted
                    or manager.should_save(step)):
                now = time.time()
                rows = [{'step': s, **{k: float(v) for k, v in jax.device_get(m).items()}} for s, m in pending]
                for row in rows:
                    row['tokens_per_s'] = tokens / max(now - last_log, 1e-9)
                log.write(rows)
                progress.update(len(rows), loss=rows[-1]['loss'])
                pending, last_log, tokens = [], now, 0
            meta = {'step': step, 'seed': cfg.seed, 'fingerprint': stage_fingerprint}
            if stop['requested'] or preempted:
                trainer.save(manager, step, meta, force=True)
                manager.wait_until_finished()
                logging.warning('train: stopped at step %d by %s; checkpoint saved', step,
                                'SIGTERM' if stop['requested'] else 'preemption')
                raise SystemExit(143 if stop['requested'] else 0)
            trainer.save(manager, step, meta, force=step == optim.num_steps)
        manager.wait_until_finished()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        progress.close()
        log.close()
    return {'steps': step, 'resumed_from': start, 'training_positions': plan.schedule.total,
            'records_with_positions': sum(bool(p) for p in plan.per_record),
            'positions_trained': step * batching.positions_per_update,  # every update has exactly that many
            'epochs': step / plan.schedule.updates_per_epoch, 'seconds_this_run': time.time() - run_start,
            'compiled_batch_shapes': len(trainer.compiled_shapes), 'batch_shapes': [list(x) for x in plan.shapes]}
