"""Default configuration: every field, commented. Presets and the demo override parts of it.

python -m lightreasoner_jax.main --config=configs/default.py --workdir=DIR \
    --config.expert.path=/ckpt/Qwen2.5-Math-7B --config.amateur.path=/ckpt/Qwen2.5-0.5B
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    # Stages to run, in order: model_check, eval_base, sample, diagnose, train, export, eval, report, and
    # 'stage:variant' for the variants below. Finished stages are skipped when rerun.
    c.stages = ('eval_base', 'sample', 'train', 'export', 'eval', 'report')
    c.coordinator_address = ''      # multi-host: coordinator 'host:port'; empty = auto-detect / single host
    # Iterated rounds: sample -> train -> export -> eval with the expert as loaded, then again with each round's
    # tuned expert (round r >= 2 in workdir/variants/round<r>/). round_amateur: 'same' (config.amateur every
    # round) or 'previous' (round r contrasts with round r-1's expert, as amateur.kind='checkpoint').
    c.rounds = 1
    c.round_amateur = 'same'
    c.compilation_cache_dir = ''    # JAX's persistent compilation cache: '' = ~/.cache/lightreasoner_jax/... (a
                                    # gs:// workdir: <workdir>/jax_compilation_cache), a path, or 'off'

    # Device mesh ('data', 'fsdp', 'tensor'); one axis may be -1 to take the remaining devices.
    c.mesh = ml_collections.ConfigDict(dict(data=1, fsdp=-1, tensor=1))

    # Models: HF checkpoint directories (config.json + safetensors + tokenizer files).
    c.expert = ml_collections.ConfigDict(dict(
        path='',                    # the model that answers and is tuned, e.g. Qwen2.5-Math-7B
        dtype='bfloat16',           # compute and weight dtype ('float32' for exact CPU runs)
        # tokens that end an answer besides the EOS ids of the tokenizer, generation_config.json and
        # config.json: a base model answering in ChatML ends its turn with '<|im_end|>', which is not its EOS
        stop_tokens=(),
    ))
    c.amateur = ml_collections.ConfigDict(dict(
        # 'model': a separate small model at `path` (the paper's pairs); 'early_exit': the expert's own first
        # `layers` layers, then its final norm and LM head (no second model; computed in the expert's own
        # pass); 'checkpoint': an earlier checkpoint of the expert at `path` (its architecture is checked);
        # 'cross_tokenizer' (experimental): a model with a tokenizer of its own at `path`, compared through the
        # text of the expert's top `top_m` tokens at each step (README: the cross-tokenizer contrast)
        kind='model',
        layers=0,                   # early_exit: how many of the expert's layers the amateur has
        top_m=16,                   # cross_tokenizer: expert tokens per step scored by the amateur (>= contrast.top_k)
        max_continuation=8,         # cross_tokenizer: amateur tokens kept of one expert token's text
        path='',                    # the small contrast model, e.g. Qwen2.5-0.5B (same BPE vocabulary)
        dtype='bfloat16',
        # special/added tokens at the same id that differ between the tokenizers (DeepSeek-R1-Distill-Qwen vs
        # Qwen2.5 at 151643-151649): 'allow' compares the models there by id, as the reference does, with a
        # warning and the ids in samples/stats.json; 'refuse' stops. Ordinary (BPE) tokens must always agree.
        special_token_differences='allow',
    ))

    # Questions: a hub id (openai/gsm8k) or local .jsonl/.json/.parquet files (path or glob).
    c.data = ml_collections.ConfigDict(dict(
        source='openai/gsm8k',
        config_name='main',         # hub dataset configuration (GSM8K: 'main')
        split='train',              # hub split
        question_field='question',  # MATH: 'problem'
        answer_field='answer',      # MATH: 'solution' (not used by sampling; by SFT and eval)
        id_field='',                # a field with stable ids; empty = hash of the question text
        limit=0,                    # use only the first N questions; 0 = all
        on_bad_row='error',         # 'error' stops at a bad row (naming file:line); 'skip' counts it
        system_prompt='Please reason step by step.',  # empty = no system turn
    ))

    # The contrast diagnostic (stage diagnose): on the gold answers of the first `limit` questions of
    # `data`, how often the contrast's argmax is right where the expert's is wrong, and the reverse.
    c.diagnose = ml_collections.ConfigDict(dict(limit=200))

    # Expert answers (sampling stage).
    c.generation = ml_collections.ConfigDict(dict(
        max_new_tokens=128,         # the reference's answer length
        temperature=0.0,            # 0 = greedy, as the reference
        top_k=0,                    # 0 = off
        top_p=1.0,                  # 1 = off
        batch_size=64,              # global rows per generate/score call (a multiple of processes)
        bucket=64,                  # prompt lengths are padded to multiples of this (fewer compiles)
        max_prompt_shapes=2,        # distinct padded prompt lengths (compiles) per run, planned up front
        # prefill each batch in this many blocks of rows (batches are sorted longest first), each padded to its
        # own longest prompt instead of the batch's: less prefill padding, one more compile per distinct set of
        # block lengths (paper presets: 4). With more processes than blocks, one block per process. 1 = one prefill
        prefill_groups=1,
        seed=0,                     # PRNG seed for non-greedy decoding
    ))

    # The contrast: which steps are kept and their targets.
    c.contrast = ml_collections.ConfigDict(dict(
        alpha=0.2,                  # plausible set: p_E >= alpha * max p_E
        beta=0.4,                   # keep a step when KL(p_E || p_A) >= beta
        top_k=32,                   # at most this many plausible tokens stored per step
        first_step=1,               # first candidate step (1: the first answer token is never kept)
        chunk=32,                   # steps whose [B, chunk, V] logits exist at once while re-scoring
        rescore=False,              # False: the contrast is computed inside the decode loop (the amateur
                                    # decodes in lockstep); True: both models re-score each finished answer
                                    # teacher-forced (the records agree to float rounding, ~1e-6)
        # The reference's own procedure: sample as the expert's generation_config.json says (generation's
        # temperature/top_k/top_p are then ignored), p_E from the processed scores (after temperature, top-k,
        # top-p), KL and weights with 1e-12 smoothing. Raise top_k to keep every plausible token (the
        # reference has no cap; samples/stats.json counts the truncations).
        reference_compatible=False,
        generation_config='',       # reference_compatible: '' = the expert's own generation_config.json; a
                                    # path to one (local or gs://) samples as that file says instead
    ))

    # Fine-tuning (train stage) on workdir/samples.
    c.train = ml_collections.ConfigDict(dict(
        samples_dir='',             # where the records are; empty = workdir/samples
        objective='contrast',       # 'contrast' | 'expert_only' (w/o contrast) | 'all_steps' (w/o selection,
                                    # needs samples taken with contrast.beta=-1) | 'all_steps_expert' (w/o both)
                                    # | 'random_steps' (beta=-1 samples, as many random steps as min_kl keeps)
                                    # | 'sft' (ground-truth answers) | 'rs_sft' (rejection-sampled answers)
        min_kl=-1.0,                # >= 0: train only on stored steps with KL >= this (-1: all stored steps)
        method='lora',              # 'lora' or 'full'
        mode='packed',              # 'packed' (one forward per answer) or 'per_position' (the reference's)
        positions_per_update=16,    # kept positions per optimizer update (reference: 8 x 2 accumulation)
        grad_accum=1,               # microbatches per update
        length_bucket=64,           # rows padded to multiples of this
        max_batch_shapes=2,         # distinct batch shapes (compiles) per run; updates pad to the nearest
        compute_dtype='float32',    # activations; the LoRA factors are float32, the base keeps expert.dtype
        seed=0,                     # LoRA init, data order, dropout
        log_every=10,               # steps between metric writes (JSON Lines + TensorBoard)
    ))
    # objective='rs_sft' (rejection-sampling SFT, the paper's SFT baseline): sample this many answers per
    # question of `data` with the expert as loaded, keep those whose final answer is right (eval.kind).
    c.train.rejection = ml_collections.ConfigDict(dict(
        samples_per_question=4,
        temperature=0.7,
        seed=0,
    ))
    c.train.lora = ml_collections.ConfigDict(dict(
        targets=('q_proj', 'v_proj'),  # any of q/k/v/o_proj, gate/up/down_proj
        rank=8,
        alpha=16.0,
        dropout=0.05,
    ))
    c.train.optim = ml_collections.ConfigDict(dict(
        learning_rate=5e-5,
        schedule='linear',          # 'linear' to 0 (HF Trainer default), 'cosine', 'constant'
        warmup_steps=0,
        num_steps=1000,             # optimizer updates
        b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
        clip_norm=1.0,              # global-norm gradient clipping
    ))
    c.train.checkpoint = ml_collections.ConfigDict(dict(
        save_every=100,             # steps between (async) Orbax checkpoints
        max_to_keep=2,
        async_save=True,
    ))

    # Evaluation (stages eval_base: the expert as loaded; eval: the tuned expert): greedy pass@1.
    c.eval = ml_collections.ConfigDict(dict(
        kind='gsm8k',               # how eval.data's answers are graded: a benchmark preset (gsm8k, math, ...)
        system_prompt='Please reason step by step, and put your final answer within \\boxed{}.',  # the paper's
        template='',                # a plain prompt with '{question}' instead of the chat template
        max_new_tokens=512,
        batch_size=64,              # global rows per generate call
        bucket=64,                  # prompt lengths padded to multiples of this
        max_prompt_shapes=2,        # distinct padded prompt lengths (compiles) per run, planned up front
        dtype='',                   # compute dtype; empty = expert.dtype
        # A suite instead of eval.data: preset names (gsm8k, math, svamp, asdiv, minerva_math, olympiadbench,
        # mmlu_stem) or 'paper' (all seven), each in eval/<run>/<benchmark>/, graded as the Qwen2.5-Math toolkit.
        benchmarks=(),
        data_dir='',                # the toolkit's evaluation/data folder (<data_dir>/<name>/test.jsonl); '' = hub
        limit=0,                    # rows per benchmark (0: all)
        benchmark_options=ml_collections.ConfigDict(),  # <name>: overrides of its preset (source, shots, fields)
        samples=0,                  # sampled answers per question for pass@k and maj@k (0: greedy pass@1 only)
        sample_temperature=0.6,
        pass_k=(1,),                # the k of pass@k and maj@k (each <= samples)
        drift_limit=200,            # perplexity of this many gold solutions and base answers (0: off)
    ))
    c.eval.data = ml_collections.ConfigDict(dict(  # the evaluation questions, fields as in `data`
        source='openai/gsm8k', config_name='main', split='test', question_field='question',
        answer_field='answer', id_field='', limit=0, on_bad_row='error',
    ))

    # Variants: name -> overrides of this config, run by stages named 'stage:name' (e.g. 'train:sft',
    # 'export:sft', 'eval:sft') in workdir/variants/<name>/, reading the main samples unless the
    # stages also include 'sample:name'. The report puts every variant beside the main run.
    c.variants = ml_collections.ConfigDict()

    # Export of the tuned expert (export stage).
    c.export = ml_collections.ConfigDict(dict(
        dtype='',                   # saved weight dtype; empty = expert.dtype
        shard_size=5 * 2**30,       # bytes per safetensors file
    ))

    # Where scalars go besides W/train/metrics.jsonl: TensorBoard events always (train/, samples/ and
    # eval/<name>/ tensorboard folders); Weights & Biases when enabled (pip install wandb), one W&B run per
    # workdir that every stage and every resumed start logs into.
    c.logging = ml_collections.ConfigDict(dict(
        wandb=ml_collections.ConfigDict(dict(
            enabled=False,
            project='lightreasoner_jax',
            entity='',              # empty: the account's default
            mode='online',          # 'offline': files only (upload later with `wandb sync`)
            run_id='',              # empty: derived from the workdir path
            dir='',                 # empty: the workdir when local, else a temporary directory
        )),
    ))
    return c
