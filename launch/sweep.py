"""Runs a config sweep: python launch/sweep.py --config=configs/demo.py --sweep=configs/sweeps/beta_alpha.py
--workdir=/tmp/sweep [--launcher=local|print|tpu_pod] [-- extra main flags]

Each override set of the sweep file's get_sweep() runs main in <workdir>/<overrides>/ (locally in
sequence, or printed as commands for a pod); <workdir>/sweep_summary.{md,json} tabulates the runs'
final metrics. See lightreasoner_jax/sweep.py.
"""

import sys

from absl import app, flags

from lightreasoner_jax import sweep

_CONFIG = flags.DEFINE_string('config', None, 'Base config file.')
_SWEEP = flags.DEFINE_string('sweep', None, 'Sweep file defining get_sweep().')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Root directory; each run gets a subdirectory.')
_LAUNCHER = flags.DEFINE_enum('launcher', 'local', list(sweep.LAUNCHERS), 'How to run each point.')
flags.mark_flags_as_required(['config', 'sweep', 'workdir'])


def main(argv):
    rows = sweep.run_sweep(_CONFIG.value, _SWEEP.value, _WORKDIR.value, _LAUNCHER.value, extra=argv[1:])
    if rows:
        print(open(f'{_WORKDIR.value}/sweep_summary.md').read())
        if any(row['status'] != 'ok' for row in rows):
            sys.exit(1)


if __name__ == '__main__':
    app.run(main)
