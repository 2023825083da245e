"""Fine-tuning the expert on sample records: batches (packed or per position), objectives, the KL loss,
the optimizer, the Trainer (jitted step, Orbax save/restore), metrics, and the in-memory `train`."""

from lightreasoner_jax.training.batches import BatchConfig, TrainBatch
from lightreasoner_jax.training.checkpoints import CheckpointConfig, CheckpointMismatchError, CheckpointUnreadableError
from lightreasoner_jax.training.objectives import OBJECTIVES, Objective
from lightreasoner_jax.training.optimizer import OptimConfig
from lightreasoner_jax.training.plan import UpdatePlan, update_plan
from lightreasoner_jax.training.train_loop import train
from lightreasoner_jax.training.trainer import Trainer

__all__ = ['BatchConfig', 'TrainBatch', 'CheckpointConfig', 'CheckpointMismatchError', 'CheckpointUnreadableError',
           'OBJECTIVES', 'Objective', 'OptimConfig', 'UpdatePlan', 'update_plan', 'train', 'Trainer']
