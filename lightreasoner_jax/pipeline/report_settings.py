"""The report's settings: runs that share an expert and an evaluation set share a baseline.

The main config's `eval_base` is one setting. A variant with its own `eval_base:<v>` stage (another
expert or another evaluation set; configs/demo_full.py's clean toy world beside the habit world) is
another, and its runs are the variants evaluated with the same expert on the same set, named `<v>` (its
LightReasoner run) or `<v>_<method>[_s<seed>]`. Methods are compared within a setting, never across.
"""

from __future__ import annotations

import dataclasses

from lightreasoner_jax.pipeline.variants import split_name, stage_context
from lightreasoner_jax.pipeline.workdir import Workdir


@dataclasses.dataclass(frozen=True)
class Setting:
    baseline: str      # the baseline's run name: 'base' or 'base:<variant>'
    prefix: str        # '' (main) or the variant whose eval_base this is
    expert: str
    eval_source: str

    @property
    def label(self) -> str:
        return f"{self.prefix or 'main'} ({self.eval_source})"

    def run_in_setting(self, run: str) -> str:
        """A run's name within this setting: 'clean' -> 'main', 'clean_main_s1' -> 'main_s1'."""
        if self.prefix and run == self.prefix:
            return 'main'
        if self.prefix and run.startswith(self.prefix + '_'):
            return run[len(self.prefix) + 1:]
        return run


def _key(config) -> tuple[str, str]:
    return str(config.expert.path), str(config.eval.data.source)


def settings(config, workdir: Workdir) -> list[Setting]:
    """The main setting, then one per `eval_base:<variant>` stage."""
    out = [Setting('base', '', *_key(config))]
    for stage in config.stages:
        name, variant = split_name(stage)
        if name == 'eval_base' and variant:
            out.append(Setting(f'base:{variant}', variant, *_key(stage_context(config, workdir, stage)[0])))
    return out


def setting_of(all_settings: list[Setting], run: str, run_config) -> Setting:
    """The setting a run belongs to: the one named by its prefix if expert and evaluation set match, else
    the first with the same expert and evaluation set, else the main one."""
    key = _key(run_config)
    matching = [s for s in all_settings if (s.expert, s.eval_source) == key]
    named = [s for s in matching if s.prefix and (run == s.prefix or run.startswith(s.prefix + '_'))]
    return (named or matching or all_settings)[0]


def baseline_dir(workdir: Workdir, setting: Setting) -> Workdir:
    return workdir.variant(setting.prefix) if setting.prefix else workdir
