"""The workdir layout: every path a run reads or writes, in one place (local or gs://).

    W/config.json, W/runs.jsonl                    the accepted config; one line per accepted (re)start
    W/stages/<stage>[.started].json                stage records (':' of 'name:variant' written '@')
    W/samples/samples-XXXXX-of-XXXXX.jsonl         sample records, one file per process; stats.json, tensorboard/
    W/rejection/answers-XXXXX-of-XXXXX.jsonl       rejection-sampling SFT's sampled answers; stats.json
    W/checkpoints/                                 Orbax checkpoints of the train stage
    W/train/metrics.jsonl, W/train/tensorboard/    training metrics
    W/export/{merged,adapter}                      the tuned expert as HF checkpoint and PEFT adapter
    W/eval/<name>/predictions-XXXXX-of-XXXXX.jsonl per-process predictions; metrics.json, tensorboard/
    W/diagnostics/contrast.json                    the diagnose stage (does the contrast know better?)
    W/report.md, W/report/*.png, W/metrics.json    the report
    W/model_check.json, W/model_check/hf           the model_check stage
    W/variants/<name>/                             a variant's own workdir (the same layout)
"""

from __future__ import annotations

import dataclasses

from etils import epath

from lightreasoner_jax.json_lines import process_file_name, process_files


@dataclasses.dataclass(frozen=True)
class Workdir:
    root: epath.Path

    def __init__(self, root):
        object.__setattr__(self, 'root', epath.Path(root))

    def __str__(self) -> str:
        return str(self.root)

    def mkdir(self) -> Workdir:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    # ---- the run --------------------------------------------------------------------------------------------
    @property
    def config_file(self) -> epath.Path:
        return self.root / 'config.json'

    @property
    def run_history(self) -> epath.Path:
        """One JSON line per accepted (re)start: time, command line, config hash, processes."""
        return self.root / 'runs.jsonl'

    def stage_record(self, stage: str, started: bool = False) -> epath.Path:
        return self.root / 'stages' / f'{stage.replace(":", "@")}{".started" if started else ""}.json'

    def variant(self, name: str) -> Workdir:
        return Workdir(self.root / 'variants' / name)

    def child(self, name: str) -> Workdir:
        """A workdir nested in this one (the toy world build's per-model runs)."""
        return Workdir(self.root / name)

    # ---- stage outputs --------------------------------------------------------------------------------------
    @property
    def samples_dir(self) -> epath.Path:
        return self.root / 'samples'

    def sample_file(self, process: int, processes: int) -> epath.Path:
        return self.samples_dir / process_file_name('samples', process, processes)

    @property
    def sample_stats(self) -> epath.Path:
        return self.samples_dir / 'stats.json'

    @property
    def samples_tensorboard(self) -> epath.Path:
        return self.samples_dir / 'tensorboard'

    @property
    def contrast_diagnostic(self) -> epath.Path:
        return self.root / 'diagnostics' / 'contrast.json'

    @property
    def checkpoints(self) -> epath.Path:
        return self.root / 'checkpoints'

    @property
    def train_metrics(self) -> epath.Path:
        return self.root / 'train' / 'metrics.jsonl'

    @property
    def tensorboard(self) -> epath.Path:
        return self.root / 'train' / 'tensorboard'

    @property
    def export_dir(self) -> epath.Path:
        return self.root / 'export'

    @property
    def export_merged(self) -> epath.Path:
        return self.export_dir / 'merged'

    def eval_dir(self, name: str) -> epath.Path:
        return self.root / 'eval' / name

    def eval_predictions(self, name: str, process: int, processes: int) -> epath.Path:
        return self.eval_dir(name) / process_file_name('predictions', process, processes)

    def all_eval_predictions(self, name: str) -> list[epath.Path]:
        """A single question set's prediction files, or every benchmark's of a suite (their ids are
        '<benchmark>/<row>', so a suite's records can be pooled and paired by id)."""
        root = self.eval_dir(name)
        own = process_files(root, 'predictions')
        if own or not root.exists():
            return own
        return [p for bench in sorted(root.iterdir()) if bench.is_dir() for p in process_files(bench, 'predictions')]

    def eval_benchmark_dir(self, name: str, benchmark: str) -> epath.Path:
        """One benchmark's predictions (predictions-*.jsonl), sampled answers (samples-*.jsonl) and
        metrics.json in the evaluation `name` of a suite."""
        return self.eval_dir(name) / benchmark

    def eval_metrics(self, name: str) -> epath.Path:
        return self.eval_dir(name) / 'metrics.json'

    def rejection_answers(self, process: int, processes: int) -> epath.Path:
        return self.root / 'rejection' / process_file_name('answers', process, processes)

    def all_rejection_answers(self) -> list[epath.Path]:
        return process_files(self.root / 'rejection', 'answers')

    @property
    def rejection_stats(self) -> epath.Path:
        return self.root / 'rejection' / 'stats.json'

    def eval_tensorboard(self, name: str) -> epath.Path:
        return self.eval_dir(name) / 'tensorboard'

    @property
    def report_md(self) -> epath.Path:
        return self.root / 'report.md'

    @property
    def report_dir(self) -> epath.Path:
        return self.root / 'report'

    @property
    def metrics(self) -> epath.Path:
        return self.root / 'metrics.json'

    @property
    def model_check(self) -> epath.Path:
        return self.root / 'model_check.json'

    @property
    def model_check_hf(self) -> epath.Path:
        return self.root / 'model_check' / 'hf'

    @property
    def sweep_log(self) -> epath.Path:
        return self.root / 'sweep.log'

    # ---- the toy world build ----------------------------------------------------------------------------------
    def world_data(self, split: str) -> epath.Path:
        return self.root / 'data' / f'{split}.jsonl'

    def initial_model(self, name: str) -> epath.Path:
        return self.root / 'init' / name

    @property
    def world_file(self) -> epath.Path:
        return self.root / 'world.json'
